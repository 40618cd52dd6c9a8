"""A row-at-a-time reading of the check IR, used only to count what demo data injected.

The demo generator builds clean leads and then breaks a few on purpose; this
interpreter tells it exactly which rules each broken lead (and its activities,
stage history and appointments) now violates, including knock-on effects such
as an SLA breach that also lacks an escalation. It follows SQL's three-valued
logic (None is unknown) so it counts the way the compiled SQL counts. Checks
never run through it against real data: that is the engine's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import checks as ir


@dataclass
class LeadContext:
    """Everything the IR can ask about one lead (values keyed by field id, times as epoch)."""

    lead: dict
    entered: set[str] = field(default_factory=set)  # stage values with a history row into them
    event_times: dict[str, int] = field(default_factory=dict)  # event id -> first epoch
    occurrences: dict[str, list[int]] = field(default_factory=dict)  # event id -> every epoch it shows
    happened: set[str] = field(default_factory=set)  # events the data shows, with or without a time
    appointments: set[str] = field(default_factory=set)  # appointment stage ids present
    dup_ranks: dict[str, int] = field(default_factory=dict)  # matching rule id -> rank in its group


class Interpreter:
    """Evaluate checks for one lead's rows."""

    def __init__(self, model, as_of: int, stage_field: str | None, business_seconds, closes_between=None):
        self.model = model
        self.as_of = as_of
        self.stage_field = stage_field
        self.business_seconds = business_seconds  # (a, b) -> business seconds between epochs
        self.closes_between = closes_between  # (a, b) -> business-day closes c with a < c < b
        self.stage_values = {s.id: ir.stage_value(model, s.id) for s in model.stages}

    def count(self, check: ir.Check, ctx: LeadContext, row: dict | None = None) -> tuple[int, int]:
        """(checked, violating) for one row: the lead itself, or one of its activity/history/appointment rows."""
        env = (ctx, row)
        if self.ev(check.applies, env) is not True:
            return 0, 0
        return 1, int(self.ev(check.violates, env) is True)

    # -------------------------------------------------------------- values
    def ev(self, e, env):
        return getattr(self, "_" + type(e).__name__)(e, env)

    def _val(self, field_id, lead, env):
        ctx, row = env
        if row is None or lead:
            return ctx.lead.get(field_id)
        return row.get(field_id)

    def _Col(self, e, env):
        return self._val(e.field, e.lead, env)

    def _Lit(self, e, env):
        return e.value

    def _Epoch(self, e, env):
        return self._val(e.field, e.lead, env)

    def _AsOf(self, e, env):
        return self.as_of

    def _Entered(self, e, env):
        ctx, _ = env
        v = self.stage_values[e.stage]
        return v in ctx.entered or (self.stage_field is not None and ctx.lead.get(self.stage_field) == v)

    def _EventTime(self, e, env):
        if e.after is None:
            return env[0].event_times.get(e.event)
        after = self.ev(e.after, env)
        if after is None:
            return None
        later = [t for t in env[0].occurrences.get(e.event, ()) if t >= after]
        return min(later) if later else None

    def _EventHappened(self, e, env):
        return e.event in env[0].happened

    def _HasAppointment(self, e, env):
        return e.stage in env[0].appointments

    def _DupRank(self, e, env):
        return env[0].dup_ranks.get(e.rule)

    def _Elapsed(self, e, env):
        a, b = self.ev(e.start, env), self.ev(e.end, env)
        if a is None or b is None:
            return None
        return self.business_seconds(a, b) if e.business else b - a

    def _PastDeadline(self, e, env):
        a, b = self.ev(e.start, env), self.ev(e.end, env)
        if a is None or b is None:
            return None
        return self.closes_between(a, b) > e.days

    def _Coalesce(self, e, env):
        for i in e.items:
            v = self.ev(i, env)
            if v is not None:
                return v
        return None

    # -------------------------------------------------------------- predicates
    def _Blank(self, e, env):
        v = self.ev(e.of, env)
        if v is None:
            return True
        return e.text and str(v).strip() == ""

    def _IsNull(self, e, env):
        return self.ev(e.of, env) is None

    def _IsTrue(self, e, env):
        return self.ev(e.of, env) is True

    def _InValues(self, e, env):
        v = self.ev(e.of, env)
        if not e.values:
            return False
        if v is None:
            return None
        return v in e.values

    def _Cmp(self, e, env):
        a, b = self.ev(e.left, env), self.ev(e.right, env)
        if a is None or b is None:
            return None
        return {"=": a == b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[e.op]

    def _And(self, e, env):
        vals = [self.ev(i, env) for i in e.items]
        if any(v is False for v in vals):
            return False
        return None if any(v is None for v in vals) else True

    def _Or(self, e, env):
        vals = [self.ev(i, env) for i in e.items]
        if any(v is True for v in vals):
            return True
        return None if any(v is None for v in vals) else False

    def _Not(self, e, env):
        v = self.ev(e.of, env)
        return None if v is None else not v
