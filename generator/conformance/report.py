"""Conformance results for people (a table, Markdown) and for CI (JUnit XML, JSON).

Reports carry rule ids, counts and rates; record ids only when the run was
asked for them (`--ids`); never a field value of a lead.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from ..text import md_code as code
from ..text import md_text
from .run import NO_DATA, NOT_CHECKABLE, RuleResult, RunResult

STATUS_STYLE = {"pass": "green", "fail": "bold red", "incomplete": "yellow", NO_DATA: "magenta",
                NOT_CHECKABLE: "dim"}


def status_text(r: RuleResult) -> str:
    """`pass`, `fail`, `incomplete`, `no data (0 rows checked)` or `not checkable (why)`."""
    if r.status == NOT_CHECKABLE:
        return f"not checkable ({r.reason})"
    if r.status == NO_DATA:
        return "no data (0 rows checked)"
    return r.status


def summary_text(result: RunResult) -> str:
    """`12 of 14 rules within threshold` (plus how many had no data and how many could not be checked)."""
    ran = [r for r in result.checked_rules if r.status != NO_DATA]
    ok = sum(r.status == "pass" for r in ran)
    text = f"{ok} of {len(ran)} rules within threshold"
    empty = len(result.no_data_rules)
    if empty:
        text += (f"; {empty} had no data (0 rows to check, so not passed"
                 + ("; fails the run" if result.fail_on_no_data else "") + ")")
    skipped = len(result.rules) - len(result.checked_rules)
    if skipped:
        text += f"; {skipped} not checkable (the data dictionary has no data for them)"
    return text


def rate_text(r: RuleResult) -> str:
    """The share of checked rows that hold, e.g. `98.7%`."""
    if not r.checked or r.status in (NOT_CHECKABLE, NO_DATA):
        return "n/a"
    return f"{100 * (1 - r.violations / r.checked):.1f}%"


def threshold_text(r: RuleResult) -> str:
    t = r.threshold
    parts = []
    if t.get("max_violations") is not None:
        parts.append(f"≤ {t['max_violations']}")
    if t.get("max_rate") is not None:
        parts.append(f"≤ {t['max_rate']:.2%}")
    return " and ".join(parts) or "none"


def to_json(result: RunResult) -> str:
    """`{playbook, source, generated_at, as_of, complete, rules: [...]}`, stable key order."""
    return json.dumps(result.as_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _seconds(value: float) -> str:
    """JUnit `time`: seconds with three decimals (the schema's SUREFIRE_TIME has no exponent)."""
    return f"{max(0.0, value):.3f}"


def to_junit(result: RunResult) -> str:
    """JUnit XML valid under pytest's junit-10.xsd: one testcase per rule; failures carry counts, never values.

    `time` is on the suites and on every testcase (a rule's share of the fused query that counted it);
    `timestamp` is on the suite, the only element whose schema allows it. `skipped` is allowed on
    `<testsuite>` but not on `<testsuites>`, so the outer element carries tests, failures and errors only.
    """
    failures = sum(r.status == "fail" for r in result.rules)
    errors = sum(r.status == "incomplete" for r in result.rules)
    skipped = sum(r.status in (NOT_CHECKABLE, NO_DATA) for r in result.rules)
    suite = ET.Element("testsuite", {
        "name": f"conformance.{result.playbook}",
        "tests": str(len(result.rules)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
        "time": _seconds(result.seconds),
        "timestamp": result.generated_at,
    })
    props = ET.SubElement(suite, "properties")
    for k in ("playbook", "source", "as_of"):
        ET.SubElement(props, "property", {"name": k, "value": str(getattr(result, k))})
    ET.SubElement(props, "property", {"name": "complete", "value": str(result.complete).lower()})
    for r in result.rules:
        case = ET.SubElement(suite, "testcase", {"classname": f"conformance.{r.table or 'none'}", "name": r.id,
                                                 "time": _seconds(r.seconds)})
        if r.status == NOT_CHECKABLE:
            ET.SubElement(case, "skipped", {"message": f"{status_text(r)}: {r.title}"})
            continue
        if r.status == NO_DATA:
            why = f"no data: 0 {r.table} rows to check, so the rule is not passed: {r.title} (section {r.section})"
            ET.SubElement(case, "skipped", {"message": why}).text = why
            continue
        summary = (f"{r.violations} of {r.checked} {r.table} rows break the rule: {r.title} "
                   f"(holds for {rate_text(r)}; threshold {threshold_text(r)}; section {r.section})")
        if r.status == "fail":
            ET.SubElement(case, "failure", {"message": summary, "type": "threshold"}).text = summary
        elif r.status == "incomplete":
            ET.SubElement(case, "error", {"message": "the source was read incompletely; no pass is reported",
                                          "type": "incomplete"}).text = summary
        else:
            ET.SubElement(case, "system-out").text = summary
        if r.ids:
            ET.SubElement(case, "system-err").text = "violating record ids: " + ", ".join(r.ids)
    suites = ET.Element("testsuites", {"name": f"conformance.{result.playbook}", "tests": str(len(result.rules)),
                                       "failures": str(failures), "errors": str(errors),
                                       "time": _seconds(result.seconds)})
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def to_markdown(result: RunResult, heading: str = "#") -> str:
    """A Markdown summary table (process text escaped)."""
    lines = [
        f"{heading} Conformance: {md_text(result.playbook)}",
        "",
        f"Source: {md_text(result.source)} · as of {md_text(result.as_of)} · "
        f"{'complete' if result.complete else '**incomplete read: no rule is reported as passing**'} · "
        f"{md_text(summary_text(result))}",
        "",
        "| rule | title | checked | violations | holds for | threshold | status |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in result.rules:
        if r.status == NOT_CHECKABLE:
            lines.append(f"| {code(r.id)} | {md_text(r.title)} | - | - | n/a | - | {md_text(status_text(r))} |")
            continue
        lines.append(f"| {code(r.id)} | {md_text(r.title)} | {r.checked} | {r.violations} | {rate_text(r)} | "
                     f"{md_text(threshold_text(r))} | {md_text(status_text(r))} |")
    if any(r.ids for r in result.rules):
        lines += ["", f"{heading}# Violating record ids", ""]
        for r in result.rules:
            if r.ids:
                lines.append(f"- {code(r.id)}: " + ", ".join(code(i) for i in r.ids))
    return "\n".join(lines) + "\n"


def print_table(result: RunResult, console=None) -> None:
    """The rich table on stdout."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    t = Table(title=f"Conformance of {result.playbook} · {result.source} · as of {result.as_of}",
              title_justify="left")
    for col, just in (("rule", "left"), ("checked", "right"), ("violations", "right"), ("holds for", "right"),
                      ("threshold", "left"), ("status", "left")):
        t.add_column(col, justify=just, no_wrap=True, overflow="fold" if col == "rule" else "ellipsis")
    for r in result.rules:
        skip = r.status == NOT_CHECKABLE
        t.add_row(Text(r.id), "-" if skip else str(r.checked), "-" if skip else str(r.violations), rate_text(r),
                  "-" if skip else threshold_text(r),
                  Text(status_text(r), style=STATUS_STYLE[r.status]))
    console.print(t)
    if not result.complete:
        console.print(Text("The source was read incompletely: no rule is reported as passing.", style="yellow"))
    console.print(Text(summary_text(result) + "."))
    if any(r.ids for r in result.rules):
        for r in result.rules:
            if r.ids:
                console.print(Text(f"{r.id}: " + ", ".join(r.ids)))
