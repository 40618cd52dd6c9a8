"""The evidence part's site pages: conformance over time from a results history.

With `playbook build --results DIR` the latest recorded run is the current state
(its date and age), every rule and every stage and SLA gets a trend chart drawn
at build time, and stage, SLA and role entries say "holds for X% of leads" from
that run. Without a history the page says so and points to the Conformance page,
whose figures come from demo data (example data, not a CRM).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..model import Playbook
from ..text import md_text
from .results import Run, age_text, load
from .svg import chart
from .trend import percent, rule_ids, rule_series, section_rules

PAGE = "evidence/conformance-over-time.md"
TITLE = "Conformance over time"


def _now() -> datetime:
    """Build time, or SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)


def _anchor(rule_id: str) -> str:
    return "trend-" + rule_id.replace(".", "-")


def example_run(model: Playbook, result: Any) -> Run:
    """The demo RunResult as a Run marked as example data."""
    from .results import RuleCount

    rules = tuple(RuleCount(r.id, r.section, r.table or "", int(r.checked or 0), int(r.violations or 0), r.status)
                  for r in result.rules)
    return Run(playbook=model.playbook.id, version=str(model.playbook.version),
               effective=model.playbook.effective.isoformat(), tree=None, dirty=False, content_sha256="",
               as_of=result.as_of, source="demo data", complete=bool(result.complete), rules=rules, example=True)


def _no_history(reason: str) -> str:
    return (f"# {TITLE}\n\n{md_text(reason)}\n\nThe [Conformance](../conformance.md) page shows the checks run on "
            "**demo data generated from the playbook: example data**, not results from your CRM. Record real runs "
            "with `playbook conform --source ... --record DIR` and build with `playbook build --results DIR`.\n")


def _unit(rule_id: str) -> str:
    return "breaches" if rule_id.startswith("sla-escalated.") else "leads"


def _section_md(latest: Run, rule_list: list[str], age: str, prefix: str = "") -> str:
    lines = [f"**Conformance** (recorded run of {latest.day}, {age}):", ""]
    for rid in rule_list:
        r = latest.rule(rid)
        if r is None:
            continue
        if r.holds is None:
            lines.append(f"- [{md_text(rid)}]({prefix}{PAGE}#{_anchor(rid)}): {md_text(r.status.replace('_', ' '))}")
        else:
            lines.append(f"- [{md_text(rid)}]({prefix}{PAGE}#{_anchor(rid)}): holds for {percent(r.holds)} of "
                         f"{_unit(rid)} ({md_text(r.status)})")
    return "\n".join(lines) + "\n"


def history_page(model: Playbook, runs: list[Run], now: datetime) -> tuple[str, dict[str, list[str]]]:
    """Markdown of the page, and the rule ids of each `stages.<id>` / `slas.<id>` section."""
    latest = runs[-1]
    age = age_text(latest.as_of, now)
    ran = [r for r in latest.rules if r.holds is not None]
    ok = sum(r.status == "pass" for r in ran)
    state = (f"{ok} of {len(ran)} checked rules within threshold"
             + ("" if latest.complete else "; **the source was read incompletely**") + ".")
    if latest.example:
        out = [f"# {TITLE}", "",
               "!!! warning \"Example data\"",
               "    No results history was given to this build, so this page shows the **demo run: example data** "
               "generated from the playbook, not results from your CRM. Record real runs with "
               "`playbook conform --source ... --record DIR` and build with `playbook build --results DIR`.",
               "", f"Demo run as of {md_text(latest.as_of)}, on {md_text(latest.source)}: {state}", ""]
    else:
        out = [f"# {TITLE}", "",
               f"Current state: the latest recorded run, **as of {md_text(latest.as_of)}** ({md_text(age)} when this "
               f"site was built), checked against playbook version {md_text(latest.version)} "
               f"(effective {md_text(latest.effective)}) on a {md_text(latest.source)} source: {state}",
               "", f"{len(runs)} recorded run(s) from {md_text(runs[0].day)} to {md_text(latest.day)}.", ""]
    sections: dict[str, list[str]] = {}
    for kind, items in (("stages", model.stages), ("slas", model.slas)):
        for item in items:
            ids = section_rules(runs, f"{kind}.{item.id}")
            if ids:
                sections[f"{kind}.{item.id}"] = ids
    if sections:
        out += ["## By stage and SLA", ""]
        for key, ids in sections.items():
            kind, eid = key.split(".", 1)
            entity = model.stage(eid) if kind == "stages" else next(s for s in model.slas if s.id == eid)
            out += [f"### {'Stage' if kind == 'stages' else 'SLA'} {md_text(entity.name)}", "",
                    chart(f"{entity.name}: holds for, per rule", [(rid, rule_series(runs, rid)) for rid in ids]), ""]
    out += ["## By rule", "", "| rule | runs | first | latest | latest status |", "| --- | ---: | ---: | ---: | --- |"]
    for rid in rule_ids(runs):
        s = rule_series(runs, rid)
        out.append(f"| [{md_text(rid)}](#{_anchor(rid)}) | {len(s)} | {percent(s[0].holds)} | {percent(s[-1].holds)} | "
                   f"{md_text(s[-1].status)} |")
    out.append("")
    for rid in rule_ids(runs):
        s = rule_series(runs, rid)
        out += [f"### {md_text(rid)} {{#{_anchor(rid)}}}", "", chart(f"{rid}: holds for", [(rid, s)]), "",
                "| as of | playbook version | checked | violations | holds for | status |",
                "| --- | --- | ---: | ---: | ---: | --- |"]
        out += [f"| {md_text(p.as_of)} | {md_text(p.version)} | {p.checked} | {p.violations} | {percent(p.holds)} | "
                f"{md_text(p.status)} |" for p in s]
        out.append("")
    return "\n".join(out), sections


def contribute(model: Playbook, process_dir: Path, options: dict[str, Any] | None = None):
    """The Conformance-over-time page, and recorded "holds for" lines on stage, SLA and role entries."""
    from ..site.contrib import Contribution

    results = (options or {}).get("results")
    if results is None:
        # The Conformance page runs the demo in this build; the same run (kept by the conformance
        # part) is shown here, labelled example data. Stage and SLA entries already carry its lines.
        from ..conformance.pages import demo_results

        page, _ = history_page(model, [example_run(model, demo_results(model)[0])], _now())
        return Contribution(pages={PAGE: page}, nav=[(TITLE, PAGE)])
    runs = load(Path(results), model.playbook.id)
    if not runs:
        return Contribution(pages={PAGE: _no_history(f"The results history holds no run of playbook "
                                                     f"{model.playbook.id} yet.")}, nav=[(TITLE, PAGE)])
    now = _now()
    page, sections = history_page(model, runs, now)
    latest, age = runs[-1], age_text(runs[-1].as_of, now)
    stage_sections = {k.split(".", 1)[1]: _section_md(latest, ids, age) for k, ids in sections.items()
                      if k.startswith("stages.")}
    sla_sections = {k.split(".", 1)[1]: _section_md(latest, ids, age) for k, ids in sections.items()
                    if k.startswith("slas.")}
    role_sections = {}
    for role in model.roles:
        mine = [rid for key, ids in sections.items() for rid in ids
                if _owner(model, key) == role.id]
        if mine:
            role_sections[role.id] = "## Conformance of what you own\n\n" + _section_md(latest, mine, age, "../")
    return Contribution(pages={PAGE: page}, nav=[(TITLE, PAGE)], stage_sections=stage_sections,
                        sla_sections=sla_sections, role_sections=role_sections)


def _owner(model: Playbook, key: str) -> str | None:
    kind, eid = key.split(".", 1)
    if kind == "stages":
        return model.stage(eid).owner
    sla = next((s for s in model.slas if s.id == eid), None)
    return sla.owner if sla else None
