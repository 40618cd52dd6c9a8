"""The model's own parsing: durations, dates, slugs, strictness."""

from datetime import date

import pytest
from pydantic import ValidationError

from generator.model import Duration, Holiday, Lane, Stage


@pytest.mark.parametrize(
    ("text", "amount", "unit", "business", "shown"),
    [
        ("4 business hours", 4, "hours", True, "4 business hours"),
        ("1 business day", 1, "days", True, "1 business day"),
        ("30 minutes", 30, "minutes", False, "30 minutes"),
        ("2 days", 2, "days", False, "2 days"),
    ],
)
def test_duration_parses_text(text, amount, unit, business, shown):
    d = Duration.model_validate(text)
    assert (d.amount, d.unit, d.business) == (amount, unit, business)
    assert str(d) == shown


@pytest.mark.parametrize("text", ["four hours", "4 fortnights", "-1 hours", "4"])
def test_duration_rejects_nonsense(text):
    with pytest.raises(ValidationError, match="expected a duration like '4 business hours'"):
        Duration.model_validate(text)


def test_business_days_use_the_business_day_length():
    assert Duration.model_validate("2 business days").seconds(business_day_hours=10) == 2 * 10 * 3600
    assert Duration.model_validate("2 days").seconds(business_day_hours=10) == 2 * 24 * 3600


def test_dates_accept_iso_text_only():
    assert Holiday.model_validate({"date": "2026-12-24", "name": "Closure"}).date == date(2026, 12, 24)
    with pytest.raises(ValidationError, match="expected a date as YYYY-MM-DD, got '24/12/2026'"):
        Holiday.model_validate({"date": "24/12/2026", "name": "Closure"})


@pytest.mark.parametrize("bad", ["Call Team", "call--team", "-call", "call_", "1call"])
def test_ids_are_slugs(bad):
    with pytest.raises(ValidationError, match=r"(?s)\bid\n.*String should match pattern"):
        Lane.model_validate({"id": bad, "name": "x"})


def test_strict_types_do_not_coerce():
    # "yes" must not become True: YAML 1.2 keeps it text, and the model refuses it.
    with pytest.raises(ValidationError, match=r"(?s)terminal\n.*Input should be a valid boolean"):
        Stage.model_validate({"id": "new", "name": "New", "entry_event": "created", "terminal": "yes"})


def test_unknown_keys_are_refused():
    with pytest.raises(ValidationError) as exc:
        Lane.model_validate({"id": "call-team", "name": "Call team", "colour": "red"})
    assert exc.value.errors()[0]["type"] == "extra_forbidden"
