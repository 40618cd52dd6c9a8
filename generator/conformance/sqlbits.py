"""SQL building blocks shared by the check compiler and what-if (sqlglot expressions)."""

from __future__ import annotations

from sqlglot import exp


def literal(value) -> exp.Expression:
    """A Python value as a SQL literal: booleans, numbers, else text."""
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))
