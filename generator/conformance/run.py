"""Run the compiled checks on a Source and turn the counts into rule results.

Python only reads one row of counts per table (and record ids when asked);
every row-level decision happens in the engine.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from ..model import Playbook
from .checks import Check, build_checks, not_checkable
from .clock import iso, parse_time  # noqa: F401  (re-exported: callers read times through run)
from .compile import Compiler
from .source import BUSINESS_HOURS_TABLE, Source

DAY = 86400
NOT_CHECKABLE = "not_checkable"
NO_DATA = "no_data"  # the rule could run but 0 rows were there to check: never reported as a pass


@dataclass
class RuleResult:
    id: str
    title: str
    section: str
    table: str
    checked: int
    violations: int
    rate: float | None
    threshold: dict
    status: str  # "pass" | "fail" | "incomplete" | "no_data" | "not_checkable"
    ids: list[str] | None = None
    reason: str | None = None  # why a rule is not checkable
    # Wall time of the fused query that counted this rule, shared equally by the rules it counted;
    # for the JUnit report only (JSON stays byte-stable between runs).
    seconds: float = 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("seconds")
        for k in ("ids", "reason"):
            if d[k] is None:
                d.pop(k)
        return d


@dataclass(frozen=True)
class RuleCount:
    """What one rule counted in one run: the stable unit what-if and evidence compare by rule id."""

    checked: int
    violations: int
    status: str


@dataclass
class RunResult:
    playbook: str
    source: str
    generated_at: str
    as_of: str
    complete: bool
    rules: list[RuleResult] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the whole run (JUnit only)

    fail_on_no_data: bool = False  # `conform --fail-on-no-data`: a rule with 0 rows checked fails the run

    @property
    def checked_rules(self) -> list[RuleResult]:
        """The rules that ran (not the ones the data dictionary gives no data for)."""
        return [r for r in self.rules if r.status != NOT_CHECKABLE]

    @property
    def no_data_rules(self) -> list[RuleResult]:
        """Rules the data dictionary supports that found 0 rows to check in this source."""
        return [r for r in self.rules if r.status == NO_DATA]

    def counts(self) -> dict[str, "RuleCount"]:
        """Rule id -> (checked, violations, status) for every rule, not-checkable ones included."""
        return {r.id: RuleCount(r.checked, r.violations, r.status) for r in self.rules}

    @property
    def exit_code(self) -> int:
        """0 all within threshold, 1 any fails (or, with fail_on_no_data, any had no data), 2 the source
        was read incompletely. By default a rule with no data does not fail the run: it is reported as
        `no_data` everywhere (JUnit: skipped), never as a pass."""
        if not self.complete:
            return 2
        if self.fail_on_no_data and self.no_data_rules:
            return 1
        return 1 if any(r.status == "fail" for r in self.rules) else 0

    def as_dict(self) -> dict:
        return {
            "playbook": self.playbook,
            "source": self.source,
            "generated_at": self.generated_at,
            "as_of": self.as_of,
            "complete": self.complete,
            "rules": [r.as_dict() for r in self.rules],
        }


def _register_calendar(model: Playbook, source: Source, comp: Compiler, compiled, as_of: int) -> None:
    from .calendar import business_hours_table

    lo = hi = as_of
    if compiled.time_columns:
        rows = source.query(comp.range_sql(compiled.time_columns))
        if rows and rows[0][0] is not None:
            lo, hi = min(lo, int(rows[0][0])), max(hi, int(rows[0][1]))
    source.register_table(BUSINESS_HOURS_TABLE,
                          business_hours_table(model.playbook.calendar, lo - DAY, hi + DAY))


def run_checks(
    model: Playbook,
    source: Source,
    *,
    as_of: int,
    generated_at: int | None = None,
    with_ids: bool = False,
    checks: list[Check] | None = None,
    progress=None,
) -> RunResult:
    """Run every check of the model on `source`, one fused query per table."""
    started = time.perf_counter()
    checks = checks if checks is not None else build_checks(model)
    by_id = {c.id: c for c in checks}
    comp = Compiler(model, source.dialect)
    compiled = comp.compile(checks, as_of=as_of, with_ids=with_ids)
    if compiled.needs_calendar:
        _register_calendar(model, source, comp, compiled, as_of)
    counts: dict[str, tuple[int, int]] = {}
    seconds: dict[str, float] = {}
    for i, q in enumerate(compiled.queries):
        if progress:
            progress(f"checking {q.table}", i, len(compiled.queries))
        t0 = time.perf_counter()
        row = source.query(q.sql)[0]
        share = (time.perf_counter() - t0) / max(1, len(q.check_ids))
        for j, cid in enumerate(q.check_ids):
            counts[cid] = (int(row[2 * j] or 0), int(row[2 * j + 1] or 0))
            seconds[cid] = share
    if progress:
        progress("checks done", len(compiled.queries), len(compiled.queries))
    complete = bool(getattr(source, "complete", True))
    rules = []
    for c in checks:
        checked, violations = counts.get(c.id, (0, 0))
        ok = c.threshold.passes(violations, checked)
        status = "fail" if not ok else ("incomplete" if not complete else (NO_DATA if not checked else "pass"))
        ids = None
        if with_ids and comp.has_record_id(c.table):  # rows without any id column cannot be listed
            ids = [str(r[0]) for r in source.query(compiled.ids_sql[c.id])] if violations else []
        rules.append(RuleResult(
            id=c.id,
            title=c.title,
            section=c.section,
            table=c.table,
            checked=checked,
            violations=violations,
            rate=round(violations / checked, 6) if checked else None,
            threshold={"max_violations": c.threshold.max_violations, "max_rate": c.threshold.max_rate},
            status=status,
            ids=ids,
            seconds=seconds.get(c.id, 0.0),
        ))
    assert set(by_id) == {r.id for r in rules}
    # Rules the data dictionary gives no data for are reported, never silently dropped.
    for u in not_checkable(model):
        if u.id not in by_id:
            rules.append(RuleResult(id=u.id, title=u.title, section=u.section, table="", checked=0, violations=0,
                                    rate=None, threshold={"max_violations": None, "max_rate": None},
                                    status=NOT_CHECKABLE, reason=u.reason))
    rules.sort(key=lambda r: r.id)
    return RunResult(
        playbook=model.playbook.id,
        source=source.description,
        generated_at=iso(generated_at if generated_at is not None else int(datetime.now(timezone.utc).timestamp())),
        as_of=iso(as_of),
        complete=complete,
        rules=rules,
        seconds=time.perf_counter() - started,
    )


def count_rules(model: Playbook, source: Source, *, as_of: int, checks: list[Check] | None = None) -> dict[str, RuleCount]:
    """Rule id -> RuleCount of every rule of `model` (or of `checks`) over an opened `source`."""
    return run_checks(model, source, as_of=as_of, generated_at=as_of, checks=checks).counts()
