"""The semantic diff as a pure function of two models: one case per kind of change."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.history.diff import diff, sections
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


def texts(a: Playbook | None, b: Playbook | None) -> list[str]:
    return [c.text for c in diff(a, b)]


def test_identical_models_have_no_changes(base):
    assert diff(base, base.model_copy()) == []


def test_created_and_deleted(base):
    assert texts(None, base) == ["playbook clinic created"]
    assert texts(base, None) == ["playbook clinic deleted"]


def test_entity_removed_and_list_items(base):
    changed = base.model_copy(update={"closure_reasons": []})
    assert texts(base, changed) == ["closure reason no-response removed"]
    stage = _with(base, "stages", 1, required_fields=["specialty", "consent-to-contact"])
    assert texts(base, stage) == ["stage qualified: required field region removed"]


def test_escalation_by_position_and_duration_text(base):
    sla = base.slas[0]
    esc = [sla.escalations[0].model_copy(update={"after": Duration.model_validate("2 business hours")})]
    changed = _with(base, "slas", 0, escalations=esc, within=Duration.model_validate("1 business day"))
    assert texts(base, changed) == [
        "SLA first-call: 4 business hours -> 1 business day",
        "SLA first-call: escalation 1 after changed from 1 business hour to 2 business hours",
    ]


def test_routing_rule_order_is_a_change_but_stage_order_is_not(base):
    routing = base.routing.model_copy(update={"rules": list(reversed(base.routing.rules))})
    assert texts(base, base.model_copy(update={"routing": routing})) == [
        "routing rules: evaluation order at positions 1-2 changed from cardiology, everything-else "
        "to everything-else, cardiology"]
    assert texts(base, base.model_copy(update={"stages": list(reversed(base.stages))})) == []


def test_transition_keyed_by_target(base):
    new = base.stages[0].transitions[0].model_copy(update={"owner": "agent"})
    changed = _with(base, "stages", 0, transitions=[new, base.stages[0].transitions[1]])
    assert texts(base, changed) == ["stage new: transition to qualified owner set to agent"]


def test_approvers_per_section_and_sections_in_document_order(base):
    meta = base.playbook.model_copy(update={"approvers": {**base.playbook.approvers, "routing": ["ben"]}})
    changed = _with(base.model_copy(update={"playbook": meta}), "slas", 0, owner="ops-lead")
    changes = diff(base, changed)
    assert [c.text for c in changes] == [
        "playbook clinic: approvers for routing set to ben",
        "SLA first-call: owner changed from agent to ops-lead",
    ]
    assert sections(changes) == ["playbook", "slas"]
    assert changes[1].as_dict() == {"entity_kind": "SLA", "entity_id": "first-call", "attribute": "owner",
                                    "old": "agent", "new": "ops-lead", "section": "slas",
                                    "text": "SLA first-call: owner changed from agent to ops-lead"}


LONG_A = ("A representative saved the qualification review with a decision and a reason noting the "
          "specialty, the region and whether the person consented to be contacted by phone.")
LONG_B = ("A representative saved the qualification review with a decision and a reason noting the "
          "specialty, the region and whether the person consented to be contacted by phone or text.")


def test_long_text_change_shows_the_words_that_changed(base):
    """The issue's case: two long texts equal for their first 80 characters must not read alike."""
    a = _with(base, "stages", 0, guidance=LONG_A)
    b = _with(base, "stages", 0, guidance=LONG_B)
    (change,) = diff(a, b)
    assert change.text == ("stage new: guidance changed: … consented to be contacted by "
                           "[-phone.-] {+phone or text.+}")
    d = change.as_dict()
    assert (d["old"], d["new"]) == (LONG_A, LONG_B)  # both in full in JSON
    assert d["word_diff"] == [{"op": "…", "text": ""},
                              {"op": "=", "text": "consented to be contacted by"},
                              {"op": "-", "text": "phone."}, {"op": "+", "text": "phone or text."}]
    from generator.history.changelog import change_markdown

    assert change_markdown(change) == ("stage new\\: guidance changed: … consented to be contacted by "
                                       "<del>phone\\.</del> <ins>phone or text\\.</ins>")


def test_word_diff_keeps_context_around_each_change():
    from generator.history.words import as_text, word_diff

    old = " ".join(f"w{i}" for i in range(30))
    new = old.replace("w3 ", "x3 ").replace("w25", "x25")
    assert as_text(word_diff(old, new)) == ("w0 w1 w2 [-w3-] {+x3+} w4 w5 w6 w7 w8 … w20 w21 w22 w23 w24 "
                                            "[-w25-] {+x25+} w26 w27 w28 w29")
    # a rewrite that keeps a word here and there reads as one change, not a word salad
    assert as_text(word_diff("Check the form is complete.", "Call the person and the form.")) == \
        "[-Check the form is complete.-] {+Call the person and the form.+}"


def test_short_text_reads_from_to_and_values_are_never_cut(base):
    changed = _with(base, "stages", 0, guidance="Call within the hour.")
    assert texts(base, changed) == ["stage new: guidance changed from Check the form is complete. "
                                    "to Call within the hour."]
    long = "word " * 40
    added = base.model_copy(update={"closure_reasons": [*base.closure_reasons,
                                                        base.closure_reasons[0].model_copy(
                                                            update={"id": "other", "description": long})]})
    (change,) = diff(base, added)
    assert change.new.description == long


def test_items_without_identity_read_as_the_playbook_writes_them(base):
    sla = base.slas[0]
    extra = sla.escalations[0].model_copy(update={"after": Duration.model_validate("3 business days"),
                                                  "action": "Tell the clinic manager."})
    changed = _with(base, "slas", 0, escalations=[*sla.escalations, extra])
    assert texts(base, changed) == ["SLA first-call: escalation 2 added (after 3 business days, notify ops-lead, "
                                    "action Tell the clinic manager.)"]
    assert "{" not in texts(changed, base)[0] and "'" not in texts(changed, base)[0]


def test_items_keyed_by_their_natural_key(base):
    from generator.model import ConformanceSettings, Matching, MergeFieldRule, RuleThreshold

    def with_thresholds(*rates):
        return base.model_copy(update={"conformance": ConformanceSettings(
            thresholds=[RuleThreshold(rule=f"rule.{i}", max_rate=r) for i, r in enumerate(rates)])})

    assert texts(with_thresholds(0.1, 0.2), with_thresholds(0.1, 0.3)) == [
        "threshold rule.1: max rate changed from 0.2 to 0.3"]
    assert texts(with_thresholds(0.1), with_thresholds(0.1, 0.3)) == ["threshold rule.1 added"]

    def with_merge(*rules):
        return base.model_copy(update={"matching": Matching(
            merge_fields=[MergeFieldRule(field=f, rule=r) for f, r in rules])})

    # Two fields share a rule: keyed by field, never by the (repeated) rule name.
    a = with_merge(("phone", "newest_wins"), ("first-name", "newest_wins"))
    b = with_merge(("phone", "newest_wins"), ("first-name", "never_overwrite"))
    assert texts(a, b) == ["matching: merge field first-name rule changed from newest_wins to never_overwrite"]
