"""Validation: the schema first, then semantic rules; all problems at once.

`check()` never raises for bad process files: it returns every problem found.
`load_playbook()` is what the other commands call: it returns a trusted model
or raises ProcessErrors carrying the same located problems `validate` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem, ProcessErrors
from ..load import Loaded, ParseCache, load_data
from ..model import Playbook
from .rules import run_rules
from .schema_errors import schema_problems


@dataclass
class Result:
    loaded: Loaded | None
    model: Playbook | None
    problems: list[Problem] = field(default_factory=list)

    def errors(self, strict: bool = False) -> list[Problem]:
        return [p for p in self.problems if strict or p.level == "error"]


def check(root: Path, display_root: Path | None = None, overlay: dict[Path, str] | None = None,
          cache: ParseCache | None = None) -> Result:
    """Load, check the schema, then run every semantic rule (`overlay`, `cache`: see load_data)."""
    try:
        loaded = load_data(root, display_root, overlay, cache)
    except ProcessErrors as exc:
        return Result(None, None, list(exc.problems))
    model, problems = schema_problems(loaded)
    if model is None:
        return Result(loaded, None, problems)
    return Result(loaded, model, problems + run_rules(model, loaded.source_map))


def load_playbook(root: Path, strict: bool = False, display_root: Path | None = None,
                  cache: ParseCache | None = None) -> Playbook:
    """A validated playbook, or ProcessErrors with every located problem (`cache`: see load_data)."""
    result = check(Path(root), display_root, cache=cache)
    errors = result.errors(strict)
    if errors or result.model is None:
        raise ProcessErrors(errors or result.problems)
    return result.model
