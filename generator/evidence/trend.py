"""Series over a results history: per rule, and per stage or SLA (the rules of its section). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from .results import RuleCount, Run


@dataclass(frozen=True)
class Point:
    as_of: str
    version: str
    checked: int
    violations: int
    status: str
    holds: float | None


def rule_series(runs: list[Run], rule_id: str) -> list[Point]:
    """The rule's result in every run that has it, oldest first."""
    out = []
    for run in runs:
        r = run.rule(rule_id)
        if r is not None:
            out.append(_point(run, r))
    return out


def _point(run: Run, r: RuleCount) -> Point:
    return Point(run.as_of, run.version, r.checked, r.violations, r.status, r.holds)


def rule_ids(runs: list[Run]) -> list[str]:
    """Every rule id in the history: those of the latest run first in its order, then older ones."""
    seen: list[str] = []
    for run in reversed(runs):
        for r in run.rules:
            if r.id not in seen:
                seen.append(r.id)
    return seen


def section_rules(runs: list[Run], section: str) -> list[str]:
    """Rule ids whose section is `section` (e.g. `stages.qualified`, `slas.first-call`)."""
    return [rid for rid in rule_ids(runs) if any((r := run.rule(rid)) and r.section == section for run in runs)]


def percent(value: float | None) -> str:
    """`98.7%`, or `n/a` when nothing was checked."""
    return "n/a" if value is None else f"{100 * value:.1f}%"


def trend_text(runs: list[Run], rule: str | None = None) -> str:
    """The terminal form of `playbook trend`: one rule's runs, or every rule from first to latest run."""
    if not runs:
        return "no recorded runs"
    if rule is not None:
        series = rule_series(runs, rule)
        lines = [f"{rule}: {len(series)} run(s)", f"{'as of':<21} {'version':<10} {'checked':>8} {'violations':>10} "
                 f"{'holds for':>9}  status"]
        for p in series:
            lines.append(f"{p.as_of:<21} {p.version:<10} {p.checked:>8} {p.violations:>10} {percent(p.holds):>9}  "
                         f"{p.status}")
        return "\n".join(lines)
    width = max(len(r) for r in rule_ids(runs))
    lines = [f"{len(runs)} run(s) from {runs[0].as_of} to {runs[-1].as_of}",
             f"{'rule':<{width}} {'runs':>4} {'first':>7} {'latest':>7}  latest status  holds for, oldest to latest"]
    for rid in rule_ids(runs):
        s = rule_series(runs, rid)
        lines.append(f"{rid:<{width}} {len(s):>4} {percent(s[0].holds):>7} {percent(s[-1].holds):>7}  "
                     f"{s[-1].status:<13}  {' '.join(percent(p.holds) for p in s)}")
    return "\n".join(lines)
