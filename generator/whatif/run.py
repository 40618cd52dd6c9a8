"""Run both versions of the playbook over one data snapshot and collect the differences as counts.

Everything row-level happens in the engine: HEAD's checks, BASE's changed checks and the
"newly violating / newly passing" deltas are fused into HEAD's per-table queries (one run
of the conformance runner), and queue and score band under each version come from one
GROUP BY over the leads. Python reads counts (and record ids with `--ids`), never a value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from sqlglot import exp

from ..conformance import checks as ir
from ..conformance.contract import build_contract
from ..conformance.run import NOT_CHECKABLE, iso, run_checks
from ..conformance.source import LOGICAL_TABLES, Source
from ..model import Playbook
from . import sql
from .plan import Plan, make_plan, union_model
from .revisions import Revision

BASE_PREFIX = "base::"
NEW_V = "newly-violating::"
NEW_P = "newly-passing::"
NO_BAND = "(no band)"
NO_STATUS = "(no status)"


@dataclass
class Cell:
    base: str
    head: str
    leads: int


@dataclass
class NotAnswerable:
    subject: str
    reason: str


@dataclass
class RequirementDelta:
    rule: str
    kind: str  # "required-fields" | "allowed-values"
    subject: str  # stage or field id
    table: str
    checked: int
    newly_violating: int
    newly_passing: int
    base_violations: int
    head_violations: int
    ids_newly_violating: list[str] | None = None
    ids_newly_passing: list[str] | None = None


@dataclass
class SlaDelta:
    sla: str
    change: str
    base_breaches: int | None
    head_breaches: int | None
    base_checked: int | None
    head_checked: int | None


@dataclass
class RuleDelta:
    id: str
    status: str  # "same" | "changed" | "added" | "removed"
    base: int | None
    head: int | None
    base_checked: int | None = None
    head_checked: int | None = None


@dataclass
class WhatIf:
    playbook: str
    base: dict
    head: dict
    source: str
    as_of: str
    generated_at: str
    complete: bool
    routing: dict | None = None
    scoring: dict | None = None
    requirements: list[RequirementDelta] = field(default_factory=list)
    slas: list[SlaDelta] = field(default_factory=list)
    rules: list[RuleDelta] = field(default_factory=list)
    not_answerable: list[NotAnswerable] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        for r in d["requirements"]:
            for k in ("ids_newly_violating", "ids_newly_passing"):
                if r[k] is None:
                    r.pop(k)
        return d

    def metric(self, name: str) -> int:
        """A total `--fail-on` can limit."""
        if name == "moved":
            return (self.routing or {}).get("moved", 0)
        if name == "band-changes":
            return (self.scoring or {}).get("changed", 0)
        if name == "newly-violating":
            return sum(r.newly_violating for r in self.requirements)
        if name == "sla-breaches-added":
            return sum(max(0, (s.head_breaches or 0) - (s.base_breaches or 0)) for s in self.slas)
        if name == "violations-added":
            return sum(max(0, (r.head or 0) - (r.base or 0)) for r in self.rules)
        raise KeyError(name)


METRICS = ("moved", "band-changes", "newly-violating", "sla-breaches-added", "violations-added")


def data_columns(source: Source) -> dict[str, set[str] | None]:
    """Lower-cased column names of every logical table the source has (None: no such table)."""
    out: dict[str, set[str] | None] = {}
    for t in LOGICAL_TABLES:
        cols = source.columns(t) if hasattr(source, "columns") else None
        out[t] = {c.lower() for c in cols} if cols else None
    return out


# ------------------------------------------------------------------ requirement deltas


def _delta_checks(plan: Plan) -> list[tuple[ir.Check | None, ir.Check | None]]:
    """(BASE check, HEAD check) per requirement rule that changed and can be compared row by row in
    one query; a side is None when that version has no such rule (nothing violates it there)."""
    if not plan.fusable:
        return []
    by_b, by_h = {c.id: c for c in plan.base}, {c.id: c for c in plan.head}
    fused = {c.id for c in plan.fused_base}
    out = []
    for cid in sorted(set(by_b) | set(by_h)):
        if not cid.startswith(("required-fields.", "allowed-values.")) or cid in plan.same:
            continue
        b, h = by_b.get(cid), by_h.get(cid)
        if ("head", cid) in plan.missing or ("base", cid) in plan.missing or (b is not None and cid not in fused):
            continue
        out.append((b, h))
    return out


def _synthetic(b: ir.Check | None, h: ir.Check | None) -> list[ir.Check]:
    """The newly-violating and newly-passing checks of one rule: rows counted where either version
    applies the rule, violating under one version and not the other."""
    never = ir.Not(ir.TRUE)
    in_b = ir.IsTrue(ir.all_of(b.applies, b.violates)) if b else never
    in_h = ir.IsTrue(ir.all_of(h.applies, h.violates)) if h else never
    applies = ir.any_of(*(ir.IsTrue(c.applies) for c in (b, h) if c))
    one = h or b
    common = dict(section=one.section, table=one.table, counts="what-if delta")
    return [
        ir.Check(id=NEW_V + one.id, title=one.title, applies=applies, violates=ir.all_of(in_h, ir.Not(in_b)), **common),
        ir.Check(id=NEW_P + one.id, title=one.title, applies=applies, violates=ir.all_of(in_b, ir.Not(in_h)), **common),
    ]


def _renamed(c: ir.Check) -> ir.Check:
    return ir.Check(**{**c.__dict__, "id": BASE_PREFIX + c.id})


# ------------------------------------------------------------------ routing and bands


def _assignments(base: Playbook, head: Playbook, have: dict, out: WhatIf) -> tuple[list, dict]:
    """The SELECT list of the GROUP BY over leads: (alias, expression) pairs, and what each answers."""
    leads = have.get("leads") or set()
    cb, ch = build_contract(base), build_contract(head)
    cols_b, cols_h = sql.LeadColumns.of(base, cb), sql.LeadColumns.of(head, ch)
    items: list[tuple[str, exp.Expression]] = []
    asks: dict = {}

    def absent(model_cols: sql.LeadColumns, fields: list[str]) -> list[str]:
        return [model_cols.by_field.get(f, f) for f in fields
                if f not in model_cols.by_field or model_cols.by_field[f].lower() not in leads]

    # Routing: only leads that have been routed (queue set) count as moved.
    queue_c = ch.by_semantic("leads", "queue") or cb.by_semantic("leads", "queue")
    if base.routing or head.routing:
        gone = absent(cols_b, sql.routing_fields(base)) + absent(cols_h, sql.routing_fields(head))
        if queue_c is None or queue_c.name.lower() not in leads:
            gone.append(queue_c.name if queue_c else "a queue field")
        qb, qh = None, None
        if not gone:
            qb, qh = sql.routing_case(base, cols_b), sql.routing_case(head, cols_h)
        if gone:
            out.not_answerable.append(NotAnswerable(
                "routing", "the data has no column " + ", ".join(dict.fromkeys(gone)) + " in leads"))
        elif qb is None or qh is None or qb.sql() != qh.sql():
            items += [("q_base", qb if qb is not None else exp.Null()), ("q_head", qh if qh is not None else exp.Null()),
                      ("routed", exp.Not(this=sql._blank(sql._col(queue_c.name), True)))]
            asks["routing"] = True
        else:
            asks["routing"] = False  # the same CASE: nobody moves
    # Scoring: the stored score when the rules that produce it did not change, else recomputed.
    if base.scoring or head.scoring:
        same_rules = (base.scoring and head.scoring and base.scoring.rules == head.scoring.rules
                      and cols_b.by_field.get(base.scoring.score_field) == cols_h.by_field.get(head.scoring.score_field))
        if same_rules:
            need = absent(cols_h, [head.scoring.score_field])
            method = "stored score"
        else:
            need = (absent(cols_b, sql.score_fields(base) if base.scoring else [])
                    + absent(cols_h, sql.score_fields(head) if head.scoring else []))
            method = "score recomputed from each version's scoring rules"
        if need:
            out.not_answerable.append(NotAnswerable(
                "scoring", "the data has no column " + ", ".join(dict.fromkeys(need)) + " in leads"))
        else:
            if same_rules:
                sb = sh = sql._col(cols_h.by_field[head.scoring.score_field])
            else:
                sb = sql.computed_score(base, cols_b) if base.scoring else exp.Null()
                sh = sql.computed_score(head, cols_h) if head.scoring else exp.Null()
            bb, bh = sql.band_case(base, sb), sql.band_case(head, sh)
            if bb is None and bh is None:
                pass
            elif bb is not None and bh is not None and bb.sql() == bh.sql():
                asks["scoring"] = (False, method)
            else:
                items += [("band_base", bb if bb is not None else exp.Null()),
                          ("band_head", bh if bh is not None else exp.Null())]
                asks["scoring"] = (True, method)
    return items, asks


def _group_sql(items: list[tuple[str, exp.Expression]], dialect: str) -> str:
    inner = exp.select(*(exp.alias_(e, a) for a, e in items)).from_(exp.to_table("leads"))
    aliases = [exp.column(a) for a, _ in items]
    q = exp.select(*aliases, exp.alias_(exp.Count(this=exp.Star()), "n")).from_(
        exp.alias_(exp.Subquery(this=inner), "w", table=True)).group_by(*(a.copy() for a in aliases))
    return q.sql(dialect=dialect)


def _ids_sql(items, where: exp.Expression, id_col: str, dialect: str) -> str:
    inner = exp.select(exp.alias_(exp.Cast(this=sql._col(id_col), to=exp.DataType.build("text")), "record_id"),
                       *(exp.alias_(e, a) for a, e in items)).from_(exp.to_table("leads"))
    return exp.select(exp.column("record_id")).from_(exp.alias_(exp.Subquery(this=inner), "w", table=True)).where(
        where).order_by(exp.column("record_id")).sql(dialect=dialect)


def _differs(a: str, b: str) -> exp.Expression:
    e = lambda n: exp.Coalesce(this=exp.column(n), expressions=[exp.Literal.string("")])  # noqa: E731
    return exp.NEQ(this=e(a), expression=e(b))


def _status_of(model: Playbook, band: str) -> str:
    if band == NO_BAND or not model.scoring:
        return NO_STATUS
    b = next((x for x in model.scoring.bands if x.id == band), None)
    return (b.status if b and b.status else NO_STATUS)


def _matrices(base: Playbook, head: Playbook, source: Source, items, asks, with_ids: bool, out: WhatIf) -> None:
    rows = source.query(_group_sql(items, source.dialect)) if items else []
    names = [a for a, _ in items]
    if "routing" in asks:
        routed = moved = 0
        cells: dict[tuple[str, str], int] = {}
        if asks["routing"]:
            iq, ih, ir_ = names.index("q_base"), names.index("q_head"), names.index("routed")
            for r in rows:
                if not r[ir_]:
                    continue
                n = int(r[-1])
                routed += n
                key = (r[iq] or "(no routing)", r[ih] or "(no routing)")
                cells[key] = cells.get(key, 0) + n
                if key[0] != key[1]:
                    moved += n
        out.routing = {"changed": bool(asks["routing"]), "routed": routed, "moved": moved,
                       "matrix": [asdict(Cell(b, h, n)) for (b, h), n in sorted(cells.items())]}
        if with_ids and asks["routing"]:
            lead_id = build_contract(head).by_semantic("leads", "record_id")
            if lead_id:
                where = exp.and_(exp.column("routed"), _differs("q_base", "q_head"))
                out.routing["ids"] = [str(r[0]) for r in source.query(_ids_sql(items, where, lead_id.name, source.dialect))]
    if "scoring" in asks:
        changed_q, method = asks["scoring"]
        cells, statuses = {}, {}
        scored = changed = 0
        if changed_q:
            ib, ih = names.index("band_base"), names.index("band_head")
            agg: dict[tuple[str, str], int] = {}
            for r in rows:
                key = (r[ib] or NO_BAND, r[ih] or NO_BAND)
                agg[key] = agg.get(key, 0) + int(r[-1])
            for (b, h), n in agg.items():
                scored += n
                if b != h:
                    changed += n
                    cells[(b, h)] = n
                    sk = (_status_of(base, b), _status_of(head, h))
                    statuses[sk] = statuses.get(sk, 0) + n
        out.scoring = {"changed": changed, "leads": scored, "method": method, "bands_changed": bool(changed_q),
                       "matrix": [asdict(Cell(b, h, n)) for (b, h), n in sorted(cells.items())],
                       "statuses": [asdict(Cell(b, h, n)) for (b, h), n in sorted(statuses.items())]}
        if with_ids and changed_q:
            lead_id = build_contract(head).by_semantic("leads", "record_id")
            if lead_id:
                out.scoring["ids"] = [str(r[0]) for r in source.query(
                    _ids_sql(items, _differs("band_base", "band_head"), lead_id.name, source.dialect))]


# ------------------------------------------------------------------ SLAs


def _sla_change(base: Playbook, head: Playbook, sla_id: str) -> str | None:
    a = {s.id: s for s in base.slas}.get(sla_id)
    b = {s.id: s for s in head.slas}.get(sla_id)
    if a is None:
        return "added"
    if b is None:
        return "removed"
    parts = []
    if str(a.within) != str(b.within):
        parts.append(f"{a.within} → {b.within}")
    if (a.start_event, a.stop_event) != (b.start_event, b.stop_event):
        parts.append("start or stop event")
    if a.applies_to_stages != b.applies_to_stages:
        parts.append("stages it applies to")
    if a.within.business and base.playbook.calendar != head.playbook.calendar:
        parts.append("business calendar")
    return ", ".join(parts) or None


# ------------------------------------------------------------------ the run


@dataclass
class _Counts:
    """(checked, violations) by run id, read per version: a BASE check that is the same as HEAD's
    was run once, under HEAD's id."""

    plan: Plan
    by_id: dict[str, tuple[int, int]] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)
    complete: bool = True

    def add(self, res) -> None:
        self.complete &= res.complete
        self.by_id.update({k: (c.checked, c.violations) for k, c in res.counts().items() if c.status != NOT_CHECKABLE})

    def base(self, cid: str) -> tuple[int, int] | None:
        if not any(c.id == cid for c in self.plan.base):
            return None
        return self.by_id.get(cid if cid in self.plan.same else BASE_PREFIX + cid)

    def head(self, cid: str) -> tuple[int, int] | None:
        return self.by_id.get(cid) if any(c.id == cid for c in self.plan.head) else None


def _run_checks(base: Revision, head: Revision, source: Source, plan: Plan, deltas, as_of: int,
                with_ids: bool, progress) -> _Counts:
    """HEAD's checks, BASE's changed ones and the requirement deltas in one fused run; BASE checks
    that read the data differently in a run of their own."""
    union = union_model(base.model, head.model)
    synthetic = [s for b, h in deltas for s in _synthetic(b, h)]
    head_checks = [c for c in plan.head if ("head", c.id) not in plan.missing]
    fused = head_checks + [_renamed(c) for c in plan.fused_base] + synthetic
    counts = _Counts(plan)
    if fused:
        counts.add(run_checks(union, source, as_of=as_of, checks=fused, progress=progress))
    if plan.alone_base:
        counts.add(run_checks(base.model, source, as_of=as_of, checks=[_renamed(c) for c in plan.alone_base],
                              progress=progress))
    if with_ids and synthetic:
        res = run_checks(union, source, as_of=as_of, checks=synthetic, with_ids=True)
        counts.ids = {r.id: r.ids or [] for r in res.rules if r.ids is not None}
    return counts


def _rule_deltas(plan: Plan, counts: _Counts, out: WhatIf) -> None:
    ids_b, ids_h = {c.id for c in plan.base}, {c.id for c in plan.head}
    for cid in sorted(ids_b | ids_h):
        b, h = counts.base(cid), counts.head(cid)
        if cid in ids_b and cid in ids_h:
            status = "same" if cid in plan.same else "changed"
        else:
            status = "added" if cid in ids_h else "removed"
        out.rules.append(RuleDelta(cid, status, b[1] if b else None, h[1] if h else None,
                                   b[0] if b else None, h[0] if h else None))
    for (side, cid), why in sorted(plan.missing.items()):
        out.not_answerable.append(NotAnswerable(f"{cid} under {'BASE' if side == 'base' else 'HEAD'}", why))


def _requirement_deltas(plan: Plan, deltas, counts: _Counts, with_ids: bool, out: WhatIf) -> None:
    for b, h in deltas:
        cid = (h or b).id
        nv, np_ = counts.by_id.get(NEW_V + cid, (0, 0)), counts.by_id.get(NEW_P + cid, (0, 0))
        kind, _, subject = cid.partition(".")
        bc, hc = counts.base(cid) or (0, 0), counts.head(cid) or (0, 0)
        out.requirements.append(RequirementDelta(
            rule=cid, kind=kind, subject=subject, table=(h or b).table, checked=nv[0], newly_violating=nv[1],
            newly_passing=np_[1], base_violations=bc[1], head_violations=hc[1],
            ids_newly_violating=counts.ids.get(NEW_V + cid) if with_ids else None,
            ids_newly_passing=counts.ids.get(NEW_P + cid) if with_ids else None))
    changed = [c.id for c in plan.base if c.id.startswith(("required-fields.", "allowed-values."))
               and c.id not in plan.same]
    if not plan.fusable and changed:
        out.not_answerable.append(NotAnswerable(
            "newly violating / newly passing", "the two versions read the data differently (a semantic column, "
            "stage value, event or matching rule changed), so per-lead deltas are not compared; the rule "
            "counts below still are"))


def _sla_deltas(base: Playbook, head: Playbook, counts: _Counts, out: WhatIf) -> None:
    for sid in dict.fromkeys([s.id for s in base.slas] + [s.id for s in head.slas]):
        change = _sla_change(base, head, sid)
        if not change:
            continue
        cid = f"sla.{sid}"
        b, h = counts.base(cid), counts.head(cid)
        out.slas.append(SlaDelta(sid, change, b[1] if b else None, h[1] if h else None,
                                 b[0] if b else None, h[0] if h else None))
        for side, model, got in (("BASE", base, b), ("HEAD", head, h)):
            if got is None and any(s.id == sid for s in model.slas):
                why = next((u.reason for u in ir.not_checkable(model) if u.id == cid), None)
                if why:
                    out.not_answerable.append(NotAnswerable(f"{cid} under {side}", why))


def run_whatif(base: Revision, head: Revision, source: Source, *, as_of: int, with_ids: bool = False,
               generated_at: int | None = None, progress=None) -> WhatIf:
    """Every difference between BASE and HEAD the data can show, as counts."""
    have = data_columns(source)
    plan = make_plan(base.model, head.model, have)
    out = WhatIf(
        playbook=head.model.playbook.id,
        base={"rev": base.rev, "commit": base.commit},
        head={"rev": head.rev, "commit": head.commit},
        source=source.description,
        as_of=iso(as_of),
        generated_at=iso(generated_at if generated_at is not None else int(datetime.now(timezone.utc).timestamp())),
        complete=True,
    )
    deltas = _delta_checks(plan)
    counts = _run_checks(base, head, source, plan, deltas, as_of, with_ids, progress)
    # Queues and score bands under each version, one GROUP BY over the leads.
    items, asks = _assignments(base.model, head.model, have, out)
    _matrices(base.model, head.model, source, items, asks, with_ids, out)
    out.complete = counts.complete and bool(getattr(source, "complete", True))
    _rule_deltas(plan, counts, out)
    _requirement_deltas(plan, deltas, counts, with_ids, out)
    _sla_deltas(base.model, head.model, counts, out)
    return out
