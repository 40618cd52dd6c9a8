"""Pages: the latest conformance results (on demo data) and the data contract (site and export).

The site has no CRM to read, so it runs the checks on demo data generated from
the playbook itself (fixed seed, fixed clock: 30 days after the playbook took
effect): every page build is byte-identical, and every rule shows a real result
computed by the same SQL `playbook conform` runs.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

from ..model import Playbook, without_prose
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

    Kept for the last model seen, so the evidence part's page reuses this build's run. The memo
    is keyed on the model without its prose (`model.without_prose`): demo data and counts are
    computed from ids, values, numbers and flags only, so a `serve` session whose edit changes a
    description or a name reuses the run (generating 2,000 leads and checking them is most of
    a rebuild) and only the titles are taken from the edited model."""
    key = json.dumps(without_prose(model), sort_keys=True)
    if key not in _DEMO_MEMO:
        _DEMO_MEMO.clear()
        _DEMO_MEMO[key] = _demo_results(model)
    result, truth = _DEMO_MEMO[key]
    return _retitled(model, result), truth


def _retitled(model: Playbook, result):
    """`result` with each rule's title, section and reason as the current model words them."""
    words = {c.id: (c.title, c.section, None) for c in build_checks(model)}
    words.update({u.id: (u.title, u.section, u.reason) for u in not_checkable(model)})
    rules = []
    for r in result.rules:
        title, section, reason = words.get(r.id, (r.title, r.section, r.reason))
        rules.append(dataclasses.replace(r, title=title, section=section, reason=reason))
    return dataclasses.replace(result, rules=rules)


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
    out += [f"{heading}# How the checks read these tables", ""] + [f"- **{term}** {text}" for term, text in DEFINITIONS]
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


# What DATA-CONTRACT.md promises about every count (issue 10): one definition per question a data
# team asks when it implements the tables from this page alone. tests/test_conformance_contract.py
# and tests/contract_oracle.py (a separate reading of this text) hold the worked examples.
DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("Empty values.", "A value is empty when it is NULL or, in a text column (string, text, email, phone, "
     "enum, url, reference), when it is the empty string or only spaces (U+0020; a tab or newline is a "
     "value). `false`, `0` and a date are values: a required boolean field holding `false` is filled. "
     "A flag (consent, do-not-contact, duplicate flag) counts as set only when it is TRUE; NULL counts "
     "as not set. An enum value is compared exactly (case and spaces matter): `Cardiology` is not "
     "`cardiology`; an empty value is not checked against the allowed values."),
    ("Stage entry.", "A lead entered a stage when a `stage_history` row of that lead has it as "
     "`to_stage`, or when it is the lead's current stage."),
    ("When an event happened.", "An event's time is, in this order: its own timestamp field; the first "
     "activity of its signal's activity types; the first `stage_history` entry into the stage its signal "
     "names or it is the entry event of (appointment events too: an `appointments` row keeps only its "
     "current status, so a booking is timed by the entry into the appointment-scheduled stage); the first "
     "`appointments` row in its signal's status. An appointment row's `appointment_at` stands for the "
     "time of the status that row holds: export the time the row took its status (for a `confirmed` row, "
     "when it was confirmed), since the checks cannot tell it from the visit time."),
    ("SLA clocks.", "The clock starts at the start event's time. It stops at the first stop event at or "
     "after the start, of the stop's own kind (an activity of its types, an entry into its stage, an "
     "appointment in its status, its timestamp field): an inbound call logged before the lead was "
     "routed does not stop a first-attempt clock. A lead still open without a stop is judged at "
     "`--as-of`; a closed lead without a stop is not checked. `applies_to_stages` limits an SLA to "
     "leads that entered one of those stages (stage history or current stage), at any time; a lead "
     "that has since left them is still checked, and leaving the stage does not stop its clock."),
    ("Business hours and minutes.", "Elapsed business time counts only the calendar's opening hours "
     "in its time zone (DST included), skipping holidays; \"within 4 business hours\" is breached "
     "when more than 4 h of opening time lie between start and stop. Plain hours, minutes and days "
     "are wall-clock time."),
    ("Business days.", "\"Within N business days\" means by the close of the Nth business day after "
     "the day the clock started; a clock started outside opening hours belongs to the next business "
     "day; a stop exactly at the close is on time. With Mon-Fri 07:30-18:00, Sat 08:00-12:00 "
     "(America/Chicago) and 1 business day: created Mon 07:30, decided Mon 17:00 or Tue 18:00: met; "
     "Tue 18:00:01: late. Created Fri 16:00: due Sat 12:00 (a Saturday with hours is a business day). "
     "Created Sat 10:00 before a Monday holiday: due Tue 18:00. Created Sat 11:00 CST before the DST "
     "change: due Mon 18:00 CDT (23:00 UTC, not 00:00 UTC). Created Sun 19:00: due Tue 18:00."),
    ("Consent and do-not-contact.", "When the consent field is a boolean, an outreach activity on a "
     "channel that needs consent breaks the rule unless the lead's consent is TRUE now. When it is a "
     "timestamp, each activity is judged at its own time: it breaks the rule when consent is empty or "
     "later than the activity (the activity in which consent was given is fine). A do-not-contact "
     "boolean blocks every activity of the lead when TRUE; a do-not-contact timestamp blocks activities "
     "strictly after it (the call in which the person asked to stop is not a violation)."),
    ("Routing.", "`routing-consistent` checks leads whose queue is not empty; a lead with an empty queue "
     "is not routed yet and is not checked by it. Routing rules are tried in order and the first whose "
     "conditions all hold chooses the queue (its `crm_name`, else its id); the fallback queue is always "
     "accepted. A NULL specialty, region or score never satisfies a condition, and a `min_score` rule "
     "never matches without a score field."),
    ("Duplicates.", "Records are grouped by every match field of the rule after its normalisation; a "
     "record with any match field empty is in no group. `lowercase_trim`: leading/trailing spaces "
     "removed, then lower case (`  Ana@Example.org ` is `ana@example.org`). `digits_only`: every "
     "character but 0-9 removed (`+1 (555) 010-2000` is `15550102000`). `e164`: the same as "
     "`digits_only` (no country code is added, so `555 010 2000` and `+1 555 010 2000` differ). "
     "`none`: the text as stored. In each group the earliest `created_at` (ties: the lowest record id "
     "as text) is the original; every other record counts unless its duplicate flag is TRUE or its "
     "duplicate-of field is set."),
    ("No data.", "A rule whose table has rows but none it applies to checked 0 rows: its status is "
     "`no_data` (JSON `rate: null`, JUnit `<skipped>`), never `pass`. It does not fail the run unless "
     "`conform --fail-on-no-data` is given."),
)
