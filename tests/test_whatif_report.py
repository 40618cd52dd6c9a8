"""What-if reports: the Markdown comment and the JSON, as golden files over a fixed result that
has every section (regenerate with `make golden`), and process text escaped in the comment."""

from __future__ import annotations

import json
from pathlib import Path

from golden_files import check_tree

from generator.whatif import report
from generator.whatif.run import Cell, NotAnswerable, RequirementDelta, RuleDelta, SlaDelta, WhatIf

GOLDEN = Path(__file__).parent / "golden" / "whatif"


def _result(with_ids: bool) -> WhatIf:
    r = WhatIf(
        playbook="base", base={"rev": "main", "commit": "a" * 40}, head={"rev": "feature/*hot*|cardio", "commit": "b" * 40},
        source="postgresql://reader:***@warehouse/crm", as_of="2026-02-01T12:00:00Z",
        generated_at="2026-02-01T12:00:05Z", complete=True,
        routing={"changed": True, "routed": 120, "moved": 7, "matrix": [
            {"base": "cardiology-queue", "head": "cardiology-queue", "leads": 30},
            {"base": "cardiology-queue", "head": "general-queue", "leads": 7},
            {"base": "general-queue", "head": "general-queue", "leads": 83}]},
        scoring={"changed": 12, "leads": 200, "method": "stored score", "bands_changed": True,
                 "matrix": [{"base": "warm", "head": "cold", "leads": 12}],
                 "statuses": [{"base": "open", "head": "(no status)", "leads": 12}]},
        requirements=[RequirementDelta("required-fields.qualified", "required-fields", "qualified", "leads", 90, 5, 2,
                                       10, 13, ["L1", "L2", "L3", "L4", "L5"] if with_ids else None,
                                       ["L9", "L8"] if with_ids else None)],
        slas=[SlaDelta("first-call", "4 business hours → 2 business hours", 3, 9, 80, 80),
              SlaDelta("call-after-consent", "added", None, None, None, None)],
        rules=[RuleDelta("routing-consistent", "changed", 0, 7, 120, 120),
               RuleDelta("sla.first-call", "changed", 3, 9, 80, 80),
               RuleDelta("transition-allowed", "same", 4, 4, 300, 300)],
        not_answerable=[NotAnswerable("sla.call-after-consent under HEAD",
                                      "its start event “consent-given” has no time in the data")],
    )
    if with_ids:
        r.routing["ids"] = ["L3", "L7"]
        r.scoring["ids"] = []
    return r


def test_markdown_and_json_golden():
    # The folder holds exactly these three (check_tree): a stale or unreviewed golden fails too.
    check_tree(GOLDEN, {"comment.md": report.to_markdown(_result(False)),
                        "comment-ids.md": report.to_markdown(_result(True)),
                        "result.json": report.to_json(_result(True))})


def test_summary_comes_first_and_text_is_escaped():
    md = report.to_markdown(_result(False))
    lines = md.splitlines()
    assert lines[2] == "- **7 routed leads would move queue** (of 120 routed)"
    assert "feature/\\*hot\\*\\|cardio" in lines[0]  # a branch name cannot break the table or the heading
    assert md.index("- **7 routed") < md.index("#### Routing") < md.index("#### Conformance rules")
    assert "Record ids" not in md and "L3" not in md
    data = json.loads(report.to_json(_result(True)))
    assert data["routing"]["moved"] == 7 and data["routing"]["ids"] == ["L3", "L7"]
    incomplete = _result(False)
    incomplete.complete = False
    assert "Incomplete read" in report.to_markdown(incomplete)
