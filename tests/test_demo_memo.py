"""The site's demo conformance run is reused across prose edits, and only across those.

`serve` rebuilds after every save; generating the demo leads and running every check is most of
that. The memo is keyed on the model without its prose, which is safe only if prose never changes
a count: the last test checks that on the default playbook with every name, label and description
rewritten.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from generator.conformance import pages
from generator.conformance.run import RunResult
from generator.model import _is_prose
from generator.validate import load_playbook

DEFAULT = Path(__file__).resolve().parent.parent / "process" / "lead-management"


def _counting(monkeypatch):
    calls = []
    real = pages._demo_results

    def counted(model):
        calls.append(model)
        return real(model)

    monkeypatch.setattr(pages, "_demo_results", counted)
    pages._DEMO_MEMO.clear()
    return calls


def _reworded(value, n=[0]):
    """A copy of the model with every Text and Name field rewritten (unique text each)."""
    if isinstance(value, BaseModel):
        update = {}
        for k, info in type(value).model_fields.items():
            v = getattr(value, k)
            if _is_prose(info.annotation, info.metadata):
                n[0] += 1
                if isinstance(v, str):
                    update[k] = f"Reworded {n[0]}"
                elif isinstance(v, list):
                    update[k] = [f"Reworded {n[0]}.{i}" for i in range(len(v))]
            else:
                update[k] = _reworded(v)
        return value.model_copy(update=update)
    if isinstance(value, list):
        return [_reworded(v) for v in value]
    if isinstance(value, dict):
        return {k: _reworded(v) for k, v in value.items()}
    return value


def test_a_prose_edit_reuses_the_run_and_shows_the_new_words(monkeypatch):
    calls = _counting(monkeypatch)
    model = load_playbook(DEFAULT)
    first, truth = pages.demo_results(model)
    sla = model.slas[0]
    edited = model.model_copy(update={"slas": [sla.model_copy(update={"name": "Call back fast", "description": "New."})]
                                      + model.slas[1:]})
    again, truth2 = pages.demo_results(edited)
    assert len(calls) == 1 and truth2 == truth
    assert again.counts() == first.counts()
    # Titles come from the edited model, not from the run that was kept.
    fresh = {c.id: c.title for c in pages.build_checks(edited)}
    assert {r.id: r.title for r in again.rules if r.id in fresh} == fresh
    assert any("Call back fast" in t for t in fresh.values())
    assert not any("Call back fast" in r.title for r in first.rules)


def test_a_semantic_edit_runs_again(monkeypatch):
    calls = []
    # Only whether it runs again matters here: an empty run stands in for the real one.
    monkeypatch.setattr(pages, "_demo_results", lambda m: calls.append(m) or (RunResult("p", "demo", "", "", True), {}))
    pages._DEMO_MEMO.clear()
    model = load_playbook(DEFAULT)
    pages.demo_results(model)
    sla = model.slas[0]
    within = sla.within.model_copy(update={"amount": sla.within.amount + 1})
    edited = model.model_copy(update={"slas": [sla.model_copy(update={"within": within})] + model.slas[1:]})
    pages.demo_results(edited)
    pages.demo_results(edited)
    assert len(calls) == 2


def test_prose_never_changes_a_demo_count(monkeypatch):
    # The memo's premise, checked without the memo: every name, label and description rewritten.
    model = load_playbook(DEFAULT)
    reworded = _reworded(model)
    assert reworded.slas[0].name != model.slas[0].name and reworded.fields[0].label != model.fields[0].label
    a, truth_a = pages._demo_results(model)
    b, truth_b = pages._demo_results(reworded)
    assert truth_a == truth_b
    assert a.counts() == b.counts()
