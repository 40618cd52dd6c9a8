"""Semantic-diff cases mutation testing found unexercised (issue 18).

Each pins a branch of history/diff.py that a one-character change could break
unnoticed: removal from a position-compared list, a nested sub-model's change,
"cleared (was ...)", "order of ... changed", whole sections added and removed,
a partial routing reorder, and the JSON form of dates, lists and mappings.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from generator.history.diff import diff
from generator.load import load_data
from generator.model import Duration, Playbook

FIXTURE = Path(__file__).parent / "fixtures" / "history" / "playbook"


@pytest.fixture(scope="module")
def base() -> Playbook:
    return Playbook.model_validate(load_data(FIXTURE).data)


def _with(model: Playbook, section: str, index: int, **update) -> Playbook:
    items = list(getattr(model, section))
    items[index] = items[index].model_copy(update=update)
    return model.model_copy(update={section: items})


def _routing(model: Playbook, rules) -> Playbook:
    return model.model_copy(update={"routing": model.routing.model_copy(update={"rules": rules})})


def texts(a, b) -> list[str]:
    return [c.text for c in diff(a, b)]


def test_removing_the_first_of_two_positional_items(base):
    sla = base.slas[0]
    later = sla.escalations[0].model_copy(update={"after": Duration.model_validate("3 business days")})
    two = _with(base, "slas", 0, escalations=[*sla.escalations, later])
    # Escalations have no identity: they are compared by position, so the second moves up.
    assert texts(two, _with(base, "slas", 0, escalations=[later])) == [
        "SLA first-call: escalation 1 after changed from 1 business hour to 3 business days",
        "SLA first-call: escalation 2 removed (after 3 business days, notify ops-lead, action Reassign the lead.)",
    ]
    assert texts(two, _with(base, "slas", 0, escalations=[])) == [
        "SLA first-call: escalation 1 removed (after 1 business hour, notify ops-lead, action Reassign the lead.)",
        "SLA first-call: escalation 2 removed (after 3 business days, notify ops-lead, action Reassign the lead.)",
    ]


def test_a_routing_rules_condition_changes_inside_the_sub_model(base):
    rule = base.routing.rules[0]
    when = rule.when.model_copy(update={"region": ["north"], "min_score": 30})
    changed = _routing(base, [rule.model_copy(update={"when": when}), *base.routing.rules[1:]])
    changes = diff(base, changed)
    assert [c.text for c in changes] == ["routing rule cardiology: region north added",
                                         "routing rule cardiology: condition min score set to 30"]
    assert [(c.attribute, c.old, c.new) for c in changes] == [("when.region", None, "north"),
                                                              ("when.min_score", None, 30)]
    assert texts(changed, base) == ["routing rule cardiology: region north removed",
                                    "routing rule cardiology: condition min score cleared (was 30)"]


def test_a_text_cleared_shows_what_it_was(base):
    assert texts(base, _with(base, "stages", 0, guidance="")) == [
        "stage new: guidance cleared (was Check the form is complete.)"]


def test_reordered_list_is_an_order_change_not_adds_and_removes(base):
    fields = ["region", "specialty", "consent-to-contact"]
    (change,) = diff(base, _with(base, "stages", 1, required_fields=fields))
    assert change.text == "stage qualified: order of required fields changed"
    assert change.as_dict()["old"] == ["specialty", "region", "consent-to-contact"]
    assert change.as_dict()["new"] == fields


def test_sections_added_and_removed(base):
    without = base.model_copy(update={"scoring": None})
    assert texts(base, without) == ["scoring section removed"]
    assert texts(without, base) == ["scoring section added"]
    (change,) = diff(base, base.model_copy(update={"consent": None}))
    d = change.as_dict()
    assert (d["section"], d["new"], change.text) == ("consent", None, "consent section removed")
    assert d["old"]["channels_requiring_consent"] == ["sms", "email"]  # the removed section, whole


def test_partial_routing_reorder_names_only_the_moved_stretch(base):
    r = base.routing.rules
    a, b, c = (r[0].model_copy(update={"id": x}) for x in "abc")
    before = _routing(base, [a, b, c, r[1]])
    assert texts(before, _routing(base, [a, c, b, r[1]])) == [
        "routing rules: evaluation order at positions 2-3 changed from b, c to c, b"]
    assert texts(before, _routing(base, [b, c, a, r[1]])) == [
        "routing rules: evaluation order at positions 1-3 changed from a, b, c to b, c, a"]
    assert texts(before, _routing(base, [a, b, c, r[1]])) == []


def test_json_of_dates_lists_and_mappings(base):
    meta = base.playbook.model_copy(update={"effective": datetime.date(2026, 3, 1)})
    (dated,) = diff(base, base.model_copy(update={"playbook": meta}))
    assert (dated.as_dict()["old"], dated.as_dict()["new"]) == ("2026-01-01", "2026-03-01")
    (removed,) = diff(base, base.model_copy(update={"consent": None}))
    every = [dated.as_dict(), removed.as_dict()]
    assert json.loads(json.dumps(every)) == every  # plain JSON: no dates, models or tuples left inside
    assert isinstance(removed.as_dict()["old"], dict)
