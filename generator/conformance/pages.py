"""Pages: the latest conformance results (on demo data) and the data contract (site and export).

The site has no CRM to read, so it runs the checks on demo data generated from
the playbook itself (fixed seed, fixed clock: 30 days after the playbook took
effect): every page build is byte-identical, and every rule shows a real result
computed by the same SQL `playbook conform` runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..model import Playbook
from ..text import md_code as code
from ..text import md_text
from .checks import build_checks, not_checkable, unmeasurable_slas
from .contract import build_contract

DEMO_LEADS = 2000
DEMO_SEED = 2026
PAGE = "conformance.md"
CONTRACT_PAGE = "data-contract.md"


def anchor(rule_id: str) -> str:
    """The HTML id of a rule's entry on the conformance page."""
    return "rule-" + rule_id.replace(".", "-")


_DEMO_MEMO: dict[str, tuple] = {}


def demo_results(model: Playbook):
    """Run every check on freshly generated demo data; returns (RunResult, truth).

    Kept for the last model seen, so the evidence part's page reuses this build's run."""
    key = model.model_dump_json()
    if key not in _DEMO_MEMO:
        _DEMO_MEMO.clear()
        _DEMO_MEMO[key] = _demo_results(model)
    return _DEMO_MEMO[key]


def _demo_results(model: Playbook):
    from .demo import default_as_of, write_demo
    from .run import run_checks
    from .sources.duckdb_dir import DuckDBSource

    as_of = default_as_of(model)
    with tempfile.TemporaryDirectory(prefix="playbook-demo-") as tmp:
        truth = write_demo(model, tmp, leads=DEMO_LEADS, seed=DEMO_SEED, as_of=as_of, fmt="parquet")
        src = DuckDBSource(Path(tmp), description="demo data")
        try:
            result = run_checks(model, src, as_of=as_of, generated_at=as_of)
        finally:
            src.close()
    return result, truth


def _holds(r) -> str:
    from .report import rate_text

    return rate_text(r)


def conformance_page(model: Playbook, result, truth: dict[str, int]) -> str:
    """Markdown of the Conformance page."""
    from .report import status_text, summary_text, threshold_text

    checks = {c.id: c for c in build_checks(model)}
    out = [
        "# Conformance",
        "",
        "Each rule below is compiled from the playbook into SQL and checked against CRM data with "
        "`playbook conform --source ...`. The figures on this page come from **demo data** generated "
        f"from this playbook ({DEMO_LEADS:,} leads, seed {DEMO_SEED}, as of {md_text(result.as_of)}) "
        "with a known number of violations injected per rule, so they show what the checks find, "
        "not how your CRM is doing. The tables and columns the checks read are described in the "
        f"[data contract]({CONTRACT_PAGE}).",
        "",
        md_text(summary_text(result)) + ".",
        "",
        "| rule | holds for | violations | checked | threshold | status |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in result.rules:
        if r.status == "not_checkable":
            out.append(f"| [{md_text(r.title)}](#{anchor(r.id)}) | n/a | - | - | - | {md_text(status_text(r))} |")
            continue
        out.append(f"| [{md_text(r.title)}](#{anchor(r.id)}) | {_holds(r)} | {r.violations} | {r.checked} | "
                   f"{md_text(threshold_text(r))} | {md_text(status_text(r))} |")
    out.append("")
    for r in result.rules:
        c = checks.get(r.id)
        if c is None:  # not checkable: the data dictionary has no data for it
            out += [
                f"## {md_text(r.title)} {{#{anchor(r.id)}}}",
                "",
                f"- Rule id: {code(r.id)} · playbook section {code(r.section)}",
                f"- Status: **{md_text(status_text(r))}**; add the fields to the data dictionary to check it",
                "",
            ]
            continue
        out += [
            f"## {md_text(r.title)} {{#{anchor(r.id)}}}",
            "",
            f"- Rule id: {code(r.id)} · table {code(r.table)} · playbook section {code(r.section)}",
            f"- Holds for {_holds(r)} ({r.violations} of {r.checked} {md_text(r.table)} rows violate it); "
            f"threshold {md_text(threshold_text(r))}; status **{md_text(status_text(r))}**",
            f"- Counts: {md_text(c.counts)}",
            f"- Violations the demo data holds by construction (truth.json): {truth.get(r.id, 0)}",
        ]
        if c.threshold.note:
            out.append(f"- Threshold note: {md_text(c.threshold.note)}")
        out.append("")
    return "\n".join(out)


def _section_md(results) -> str:
    from ..site.contrib import example_data

    lines = ["**Conformance checks:**", ""]
    for r in results:
        unit = "breaches" if r.id.startswith("sla-escalated.") else "leads"
        if r.status == "not_checkable":
            lines.append(f"- [{md_text(r.title)}]({PAGE}#{anchor(r.id)}): not checkable "
                         f"({md_text(r.reason or '')})")
            continue
        if r.status == "no_data":
            lines.append(f"- [{md_text(r.title)}]({PAGE}#{anchor(r.id)}): no data to check (0 {unit})")
            continue
        # No pass/fail beside a demo figure: "99.8% (fail)" reads as a verdict on the team.
        lines.append(f"- [{md_text(r.title)}]({PAGE}#{anchor(r.id)}): holds for {_holds(r)} of {unit} "
                     "in the demo data")
    return example_data(lines)


def contribute(model: Playbook, process_dir: Path, options: dict | None = None):
    """The Conformance and Data contract pages, plus result lines on stage and SLA entries.

    With recorded results (`build --results DIR`) stage and SLA entries show those instead
    (the evidence part's lines), so demo figures never sit beside real ones."""
    from ..site.contrib import Contribution

    result, truth = demo_results(model)
    checks = build_checks(model)
    pages = {PAGE: conformance_page(model, result, truth),
             CONTRACT_PAGE: contract_page(model, checks=checks)}
    stage_sections, sla_sections = {}, {}
    if (options or {}).get("results"):
        pages[PAGE] += ("\n\nResults recorded from your CRM are on [Conformance over time]"
                        "(evidence/conformance-over-time.md).\n")
        return Contribution(pages=pages, nav=[("Conformance", PAGE), ("Data contract", CONTRACT_PAGE)])
    for s in model.stages:
        mine = [r for r in result.rules if r.section == f"stages.{s.id}"]
        if mine:
            stage_sections[s.id] = _section_md(mine)
    for sla in model.slas:
        mine = [r for r in result.rules if r.section == f"slas.{sla.id}"]
        if mine:
            sla_sections[sla.id] = _section_md(mine)
    return Contribution(pages=pages, nav=[("Conformance", PAGE), ("Data contract", CONTRACT_PAGE)],
                        stage_sections=stage_sections, sla_sections=sla_sections)


def contract_page(model: Playbook, heading: str = "#", checks=None) -> str:
    """The contract as Markdown: one table per logical table, then how each check counts."""
    contract = build_contract(model)
    out = [
        f"{heading} Data contract",
        "",
        "Conformance checks read four tables. Produce them from your CRM export with exactly these "
        "table and column names (CSV or Parquet files named `<table>.csv` / `<table>.parquet` in one "
        "folder, or tables of these names in PostgreSQL or Spark). Every time is a UTC timestamp "
        "without a time zone; `--as-of` fixes the clock of a run. Stage columns hold each stage's CRM "
        "value (or its id when it has none); activity types hold the playbook's activity kinds "
        "(`call`, `email`, `sms`, ...). Columns the checks do not use may be left out or empty.",
        "",
    ]
    for t in contract.tables:
        out += [f"{heading}# `{t.name}`", "", md_text(t.description), ""]
        if not t.columns:
            out += ["_No fields of this record kind in the data dictionary._", ""]
            continue
        out += ["| column | type | meaning | field | tag |", "| --- | --- | --- | --- | --- |"]
        for c in t.columns:
            flags = ", ".join(x for x, on in (("PII", c.pii), ("PHI", c.phi)) if on)
            tag = md_text(c.semantic or "") + (f" ({flags})" if flags else "")
            out.append(
                f"| {code(c.name)} | {md_text(c.sql_type)} | {md_text(c.meaning)} | "
                f"{md_text(c.label)} | {tag} |"
            )
        out.append("")
    skipped = unmeasurable_slas(model)
    if skipped:
        names = {s.id: s.name for s in model.slas}
        out += [f"{heading}# SLAs these tables cannot time", ""]
        out += [f"- {md_text(names[sid])} ({code(sid)}): {md_text(why)}" for sid, why in skipped]
        out.append("")
    timed = {f"sla.{sid}" for sid, _ in skipped}
    missing = [u for u in not_checkable(model) if u.id not in timed]
    if missing:
        out += [f"{heading}# Rules these tables cannot check", "",
                "The playbook asks for these rules, but its data dictionary has no fields to check them "
                "with; reports list them as not checkable until the fields are added.", ""]
        out += [f"- {code(u.id)} ({md_text(u.title)}): not checkable ({md_text(u.reason)})" for u in missing]
        out.append("")
    if checks:
        out += [f"{heading}# How each check counts", "", "| rule | table | counts |", "| --- | --- | --- |"]
        for ch in checks:
            out.append(f"| {code(ch.id)} | {code(ch.table)} | {md_text(ch.counts)} |")
        out.append("")
    return "\n".join(out)
