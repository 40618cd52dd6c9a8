"""Every problem code `validate` can print, with its documentation.

Loader (Y) and schema (S) codes are documented here; rule (R) codes take their
documentation from the rule's docstring, so `playbook rules` never drifts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    level: str
    doc: str

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""


LOADER_CODES = [
    Code("Y001", "yaml-syntax", "error", "The file is not valid YAML (or holds more than one document)."),
    Code("Y002", "duplicate-key", "error",
         "A key appears twice in one mapping, or a mapping section is defined in two files."),
    Code("Y003", "unsafe-tag", "error",
         "A YAML tag such as `!!python/object/apply` was used; process files hold plain data, and no tag is ever run."),
    Code("Y004", "alias-bomb", "error",
         "Aliases expand to too many nodes ('billion laughs'), refer to themselves, or nesting is too deep."),
    Code("Y005", "not-utf8", "error", "The file is not valid UTF-8."),
    Code("Y006", "file-too-large", "error", "The file is larger than the 1 MB limit; split it."),
    Code("Y007", "bad-structure", "error",
         "The file is not a mapping of sections, uses merge keys (`<<`) or non-text keys."),
    Code("S001", "wrong-type", "error", "A value has the wrong type (text where a list is expected, ...)."),
    Code("S002", "missing-key", "error", "A required key is missing."),
    Code("S003", "unknown-key", "error", "A key or section the model does not know; the hint suggests the closest."),
    Code("S004", "invalid-value", "error",
         "A value is not allowed: not one of the listed choices, not a slug id, not a duration or date."),
]


def all_codes() -> list[Code]:
    """Loader, schema and rule codes, in code order."""
    from .rules import discover

    out = list(LOADER_CODES)
    for code, r in sorted(discover().items()):
        out.append(Code(code, r.name, r.level, r.doc))
    return out
