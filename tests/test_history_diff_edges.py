"""Semantic-diff cases mutation testing found unexercised (issue 18).

Each pins a branch of history/diff.py that a one-character change could break
unnoticed: removal from a position-compared list, a nested sub-model's change,
"cleared (was ...)", "order of ... changed", whole sections added and removed,
a partial routing reorder, and the JSON form of dates, lists and mappings.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

import pytest

from generator.history.diff import Change, diff, entity_key, format_text, show
from generator.load import load_data
from generator.model import Duration, Holiday, Matching, OutreachStep, Playbook, RoutingMatch

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


# -- second pass: the survivors of `scripts/mutate.py --module history/diff`


def _with_calendar(model: Playbook, **update) -> Playbook:
    calendar = model.playbook.calendar.model_copy(update=update)
    return model.model_copy(update={"playbook": model.playbook.model_copy(update={"calendar": calendar})})


def _with_extra_holidays(model: Playbook, extra) -> Playbook:
    holidays = model.playbook.calendar.holidays.model_copy(update={"extra": extra})
    return _with_calendar(model, holidays=holidays)


def test_a_keyed_item_added_to_an_empty_list_is_named_by_its_key(base):
    eve = Holiday(date=datetime.date(2026, 12, 24), name="Christmas Eve")
    (change,) = diff(base, _with_extra_holidays(base, [eve]))
    assert change.text == "playbook clinic: extra holiday 2026-12-24 added"
    assert (change.attribute, change.old, change.new) == ("calendar.holidays.extra", None, eve)


def test_changes_inside_items_of_nested_lists_keep_the_whole_path(base):
    eve = Holiday(date=datetime.date(2026, 12, 24), name="Christmas Eve")
    one = _with_extra_holidays(base, [eve])
    (renamed,) = diff(one, _with_extra_holidays(base, [eve.model_copy(update={"name": "Staff day"})]))
    assert renamed.attribute == "calendar.holidays.extra holiday 2026-12-24.name"
    assert renamed.text == ("playbook clinic: calendar holidays extra holiday 2026-12-24 name "
                            "changed from Christmas Eve to Staff day")
    hours = base.playbook.calendar.hours[0].model_copy(update={"close": "17:30"})
    (closes,) = diff(base, _with_calendar(base, hours=[hours]))
    assert closes.attribute == "calendar.opening hours 1.close"  # positional items keep the path too
    assert closes.text == "playbook clinic: calendar opening hours 1 close changed from 18:00 to 17:30"


def test_a_positional_item_added_is_shown_by_its_set_attributes(base):
    seq = base.outreach[0]
    last = OutreachStep(day=2, activity="email", note="Last try before closing")
    (change,) = diff(base, _with(base, "outreach", 0, steps=[*seq.steps, last]))
    # template (None) comes before note and is left out; note is still shown.
    assert change.text == "outreach sequence qualified-sequence: step 3 added (day 2, activity email, note Last try before closing)"


def test_show_leaves_out_defaults_and_empty_values():
    assert show(RoutingMatch(region=["north"])) == "region north"  # specialty [] and min_score None left out
    assert show(Matching()) == ""  # merge_default at its default is not shown
    assert show(Matching(merge_default="oldest_wins")) == "merge default oldest_wins"
    assert show({"north": 2, "south": [1, 2]}) == "north 2; south 1, 2"
    assert show({}) == "(none)" and show([]) == "(none)"


@pytest.mark.parametrize("length, word_level", [(80, False), (81, True)])
def test_texts_longer_than_80_characters_are_shown_as_a_word_diff(base, length, word_level):
    old = ("a" * (length - 6)) + " first"
    new = ("a" * (length - 6)) + " final"
    (change,) = diff(_with(base, "stages", 0, guidance=old), _with(base, "stages", 0, guidance=new))
    assert bool(change.words) is word_level
    if word_level:
        assert change.text.startswith("stage new: guidance changed: ")
    else:
        assert change.text == f"stage new: guidance changed from {old} to {new}"


def test_a_playbook_created_or_deleted(base):
    (created,) = diff(None, base)
    assert (created.text, created.old, created.new) == ("playbook clinic created", None, "clinic")
    (deleted,) = diff(base, None)
    assert (deleted.text, deleted.old, deleted.new) == ("playbook clinic deleted", "clinic", None)
    assert diff(None, None) == []


def test_format_text_is_one_line_per_change(base):
    changes = diff(base, _with(base, "stages", 0, guidance=""))
    changes += diff(base, base.model_copy(update={"scoring": None}))
    assert format_text(changes) == "stage new: guidance cleared (was Check the form is complete.)\nscoring section removed"
    assert format_text([]) == ""


def test_changes_are_immutable_and_hashable(base):
    (change,) = diff(base, _with(base, "stages", 0, guidance=""))
    assert change in {change}  # usable as a set member or dict key, e.g. to drop duplicates
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.text = "edited"  # type: ignore[misc]


def test_as_dict_makes_mappings_inside_values_json():
    change = Change("playbook", "clinic", "approvers", {"scoring": [datetime.date(2026, 1, 2)]}, {}, "playbook", "t")
    assert change.as_dict()["old"] == {"scoring": ["2026-01-02"]}
    assert change.as_dict()["new"] == {}


def test_entity_key_is_the_id_or_the_natural_key(base):
    assert entity_key(base.stages[0]) == "new"
    assert entity_key(Holiday(date=datetime.date(2026, 12, 24), name="Christmas Eve")) == datetime.date(2026, 12, 24)
    assert entity_key(base.playbook.calendar.hours[0]) is None  # no id, no natural key: compared by position
    assert entity_key("new") is None
