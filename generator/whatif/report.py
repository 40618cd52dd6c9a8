"""What-if results as JSON (for tools) and Markdown (a pull-request comment).

Counts, rule ids and the model's own names (queues, bands, statuses) only; record ids
only when asked for with `--ids`; never a field value of a lead.
"""

from __future__ import annotations

import json

from ..conformance.contract import code
from ..text import md_text
from .run import WhatIf


def to_json(result: WhatIf) -> str:
    """The whole result, stable key order."""
    return json.dumps(result.as_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _n(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def summary(result: WhatIf) -> list[str]:
    """The sentences the comment opens with, most important first."""
    out = []
    r = result.routing
    if r is not None:
        out.append(f"**{_plural(r['moved'], 'routed lead')} would move queue** (of {r['routed']:,} routed)"
                   if r["changed"] else "Routing unchanged: no lead moves queue")
    s = result.scoring
    if s is not None:
        out.append(f"**{_plural(s['changed'], 'lead')} would change score band** (of {s['leads']:,})"
                   if s["bands_changed"] else "Score bands unchanged")
    if result.requirements:
        nv = sum(x.newly_violating for x in result.requirements)
        np_ = sum(x.newly_passing for x in result.requirements)
        out.append(f"required fields and allowed values: **{nv:,} newly violating**, {np_:,} newly passing")
    for x in result.slas:
        if x.base_breaches is None and x.head_breaches is None:
            out.append(f"SLA {code(x.sla)} ({md_text(x.change)}): not answerable from this data")
        else:
            out.append(f"SLA {code(x.sla)} ({md_text(x.change)}): breaches {_n(x.base_breaches)} → "
                       f"{_n(x.head_breaches)}")
    moved = [x for x in result.rules if x.status != "same" and x.base != x.head]
    added = [x for x in result.rules if x.status == "added"]
    removed = [x for x in result.rules if x.status == "removed"]
    parts = [f"{_plural(len(moved), 'rule')} change violation count"]
    if added:
        parts.append(f"{_plural(len(added), 'rule')} added")
    if removed:
        parts.append(f"{_plural(len(removed), 'rule')} removed")
    out.append(", ".join(parts))
    if result.not_answerable:
        out.append(f"{_plural(len(result.not_answerable), 'question')} the data cannot answer")
    return out


def _matrix(cells: list[dict], row_title: str) -> list[str]:
    rows = sorted({c["base"] for c in cells})
    cols = sorted({c["head"] for c in cells})
    at = {(c["base"], c["head"]): c["leads"] for c in cells}
    lines = ["| " + md_text(row_title) + " | " + " | ".join(code(c) for c in cols) + " |",
             "| --- |" + " ---: |" * len(cols)]
    for r in rows:
        cells_txt = []
        for c in cols:
            n = at.get((r, c))
            text = "" if n is None else f"{n:,}"
            cells_txt.append(f"**{text}**" if text and r != c else text)
        lines.append(f"| {code(r)} | " + " | ".join(cells_txt) + " |")
    return lines


def _ids(label: str, ids: list[str]) -> str:
    return f"- {label}: " + (", ".join(code(i) for i in ids) if ids else "none")


def to_markdown(result: WhatIf, heading: str = "###") -> str:
    """A pull-request comment: summary first, then one table per kind of change."""
    h = heading
    b, hd = result.base, result.head
    lines = [f"{h} What-if: {md_text(b['rev'])} → {md_text(hd['rev'])} on {md_text(result.playbook)}", ""]
    if not result.complete:
        lines += ["> **Incomplete read of the source: counts are lower bounds, not a result.**", ""]
    lines += [f"- {s}" for s in summary(result)]
    lines += ["", f"Data: {md_text(result.source)} · clock (as of) {md_text(result.as_of)} · "
              f"BASE {code(b['commit'][:12])} → HEAD {code(hd['commit'][:12])} · "
              f"{'complete read' if result.complete else 'incomplete read'}", ""]
    r = result.routing
    if r is not None and r["changed"]:
        lines += [f"{h}# Routing", "",
                  f"Routed leads whose queue under HEAD's rules differs from BASE's ({r['moved']:,} in all).", ""]
        moves = [c for c in r["matrix"] if c["base"] != c["head"]]
        if moves:
            lines += ["| queue under BASE | queue under HEAD | leads |", "| --- | --- | ---: |"]
            lines += [f"| {code(c['base'])} | {code(c['head'])} | {c['leads']:,} |" for c in moves]
            lines += [""]
        if r["matrix"]:
            lines += ["<details><summary>Every routed lead: queue under BASE (rows) x HEAD (columns)</summary>", ""]
            lines += _matrix(r["matrix"], "BASE \\ HEAD") + ["", "</details>"]
        else:
            lines.append("No routed leads in the data.")
        lines.append("")
    s = result.scoring
    if s is not None and s["bands_changed"]:
        lines += [f"{h}# Score bands", "", f"Leads whose band changes ({md_text(s['method'])}).", ""]
        if s["matrix"]:
            lines += ["| band under BASE | band under HEAD | leads |", "| --- | --- | ---: |"]
            lines += [f"| {code(c['base'])} | {code(c['head'])} | {c['leads']:,} |" for c in s["matrix"]]
            lines += ["", "Statuses that follow from the new bands:", "",
                      "| status under BASE | status under HEAD | leads |", "| --- | --- | ---: |"]
            lines += [f"| {code(c['base'])} | {code(c['head'])} | {c['leads']:,} |" for c in s["statuses"]]
        else:
            lines.append("No lead changes band.")
        lines.append("")
    if result.requirements:
        lines += [f"{h}# Required fields and allowed values", "",
                  "| rule | rows checked | newly violating | newly passing | violations BASE | violations HEAD |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for x in result.requirements:
            lines.append(f"| {code(x.rule)} | {x.checked:,} | {x.newly_violating:,} | {x.newly_passing:,} | "
                         f"{x.base_violations:,} | {x.head_violations:,} |")
        lines.append("")
    if result.slas:
        lines += [f"{h}# SLAs", "", "| SLA | change | breaches BASE | breaches HEAD | leads checked BASE | "
                  "leads checked HEAD |", "| --- | --- | ---: | ---: | ---: | ---: |"]
        for x in result.slas:
            lines.append(f"| {code(x.sla)} | {md_text(x.change)} | {_n(x.base_breaches)} | {_n(x.head_breaches)} | "
                         f"{_n(x.base_checked)} | {_n(x.head_checked)} |")
        lines.append("")
    if result.not_answerable:
        lines += [f"{h}# Not answerable from this data", ""]
        lines += [f"- {md_text(x.subject)}: {md_text(x.reason)}" for x in result.not_answerable]
        lines.append("")
    differ = [x for x in result.rules if x.status != "same" or x.base != x.head]
    lines += [f"{h}# Conformance rules", ""]
    if differ:
        lines += ["| rule | change | violations BASE | violations HEAD |", "| --- | --- | ---: | ---: |"]
        lines += [f"| {code(x.id)} | {x.status} | {_n(x.base)} | {_n(x.head)} |" for x in differ]
    else:
        lines.append("No rule changes its violation count.")
    same = [x for x in result.rules if x not in differ]
    if same:
        lines += ["", f"<details><summary>{_plural(len(same), 'rule')} with the same count under both</summary>", "",
                  "| rule | violations |", "| --- | ---: |"]
        lines += [f"| {code(x.id)} | {_n(x.head)} |" for x in same]
        lines += ["", "</details>"]
    id_lines = []
    if r is not None and r.get("ids") is not None:
        id_lines.append(_ids("moved queue", r["ids"]))
    if s is not None and s.get("ids") is not None:
        id_lines.append(_ids("changed score band", s["ids"]))
    for x in result.requirements:
        if x.ids_newly_violating is not None:
            id_lines.append(_ids(f"{x.rule} newly violating", x.ids_newly_violating))
            id_lines.append(_ids(f"{x.rule} newly passing", x.ids_newly_passing or []))
    if id_lines:
        lines += ["", f"{h}# Record ids", ""] + id_lines
    return "\n".join(lines) + "\n"


def to_text(result: WhatIf) -> str:
    """A few plain lines for the terminal."""
    head = f"what-if {result.base['rev']} -> {result.head['rev']} on {result.playbook} ({result.source}, as of {result.as_of})"
    body = [s.replace("**", "").replace("`", "") for s in summary(result)]
    return "\n".join([head, *("  " + x for x in body)]) + "\n"
