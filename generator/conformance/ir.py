"""The check IR: what the playbook says about CRM data, as small dataclasses.

Each check counts rows of one logical table: `applies` picks the rows the rule
is about (the denominator), `violates` the rows that break it (counted only
where `applies` holds). Predicates are a tiny expression language with no SQL
in it; `compile.py` turns them into sqlglot expressions per dialect and
`reference.py` evaluates them row by row for the demo's truth. Values compared
against come from the model (stage values, allowed values, routing rules),
never from data. Which checks a model implies is decided by the check families
in `families/`; `checks.py` is the entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Expr:
    """Base of every IR expression."""


@dataclass(frozen=True)
class Col(Expr):
    """A data-dictionary field; on activity checks `lead=True` reads the activity's lead."""

    field: str
    lead: bool = False


@dataclass(frozen=True)
class Lit(Expr):
    value: object


@dataclass(frozen=True)
class Epoch(Expr):
    """A datetime field as integer epoch seconds UTC."""

    field: str
    lead: bool = False


@dataclass(frozen=True)
class AsOf(Expr):
    """The run's clock, epoch seconds (`--as-of`)."""


@dataclass(frozen=True)
class Entered(Expr):
    """True when the lead entered `stage` (a stage-history row into it, or it is the current stage)."""

    stage: str


@dataclass(frozen=True)
class EventTime(Expr):
    """Epoch of the first time the lead's data shows `event` (by its signal); with `after`, the
    first time at or after that instant (an SLA's stop never counts before its start)."""

    event: str
    after: Expr | None = None


@dataclass(frozen=True)
class EventHappened(Expr):
    """True when the lead's data shows `event`, even if only as a field value without a time."""

    event: str


@dataclass(frozen=True)
class HasAppointment(Expr):
    """True when the lead has an appointment record in appointment stage `stage`."""

    stage: str


@dataclass(frozen=True)
class DupRank(Expr):
    """1 for the earliest-created record of a matching-rule group, 2.. for the others."""

    rule: str


@dataclass(frozen=True)
class Elapsed(Expr):
    """Seconds from start to end, on the business calendar or the wall clock."""

    start: Expr
    end: Expr
    business: bool


@dataclass(frozen=True)
class Coalesce(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Pred(Expr):
    """Base of boolean expressions."""


@dataclass(frozen=True)
class PastDeadline(Pred):
    """True when `end` is after the close of the `days`th business day after the day `start` falls
    in (a start outside opening hours belongs to the next business day)."""

    start: Expr
    end: Expr
    days: int


@dataclass(frozen=True)
class Blank(Pred):
    """NULL, or empty/whitespace text."""

    of: Expr
    text: bool = True


@dataclass(frozen=True)
class IsNull(Pred):
    of: Expr


@dataclass(frozen=True)
class IsTrue(Pred):
    """True only when the value is TRUE (NULL counts as false)."""

    of: Expr


@dataclass(frozen=True)
class InValues(Pred):
    of: Expr
    values: tuple


@dataclass(frozen=True)
class Cmp(Pred):
    op: str  # "=", ">", ">=", "<", "<="
    left: Expr
    right: Expr


@dataclass(frozen=True)
class And(Pred):
    items: tuple[Pred, ...]


@dataclass(frozen=True)
class Or(Pred):
    items: tuple[Pred, ...]


@dataclass(frozen=True)
class Not(Pred):
    of: Pred


TRUE = Cmp("=", Lit(1), Lit(1))


def all_of(*items: Pred) -> Pred:
    """AND of the items (TRUE when empty)."""
    items = tuple(i for i in items if i is not TRUE)
    return items[0] if len(items) == 1 else (And(items) if items else TRUE)


def any_of(*items: Pred) -> Pred:
    """OR of the items (never true when empty)."""
    return items[0] if len(items) == 1 else (Or(tuple(items)) if items else Not(TRUE))


# ------------------------------------------------------------------ checks


@dataclass(frozen=True)
class Threshold:
    """Error budget: the rule passes when both limits hold (default: zero violations)."""

    max_violations: int | None = 0
    max_rate: float | None = None
    note: str = ""

    def passes(self, violations: int, checked: int) -> bool:
        """Whether `violations` out of `checked` stays within the budget."""
        if self.max_violations is not None and violations > self.max_violations:
            return False
        rate = violations / checked if checked else 0.0
        return not (self.max_rate is not None and rate > self.max_rate)

    def text(self) -> str:
        parts = []
        if self.max_violations is not None:
            parts.append(f"at most {self.max_violations}")
        if self.max_rate is not None:
            parts.append(f"at most {self.max_rate:.2%}")
        return " and ".join(parts) or "none"


@dataclass(frozen=True)
class Check:
    """One conformance rule: a stable id, business wording, and what it counts."""

    id: str
    title: str
    section: str  # playbook section it enforces, as "<section>" or "<section>.<entity id>"
    table: str  # logical table whose rows are counted
    applies: Pred
    violates: Pred
    counts: str  # how the rule counts, for the data contract
    threshold: Threshold = field(default_factory=Threshold)


@dataclass(frozen=True)
class Unchecked:
    """A rule the playbook asks for that its data dictionary gives no data for."""

    id: str
    title: str
    section: str
    reason: str  # e.g. "no stage_history fields in the data dictionary"
