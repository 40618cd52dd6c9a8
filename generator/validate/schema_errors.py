"""Map pydantic validation errors back to `file:line:col` with a hint."""

from __future__ import annotations

import difflib
import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem
from ..load import Loaded
from ..model import SLUG_PATTERN, Playbook

# pydantic error type -> our stable code
CODES = {
    "missing": "S002",
    "extra_forbidden": "S003",
}


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the value at `path`, if any."""
    cls: Any = Playbook
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            return None
        info = cls.model_fields.get(part)
        if info is None:
            return None
        cls = _unwrap(info.annotation)
    return cls if isinstance(cls, type) and issubclass(cls, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """The model class inside list[X], X | None, dict[str, X] annotations."""
    for _ in range(4):
        args = typing.get_args(annotation)
        if not args:
            return annotation
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if models:
            return models[0]
        annotation = args[-1]
    return annotation


_UNION_TAGS = ("str", "int", "float", "bool", "list[", "dict[", "none", "function-", "tagged-union", "literal[")


def schema_problems(loaded: Loaded) -> tuple[Playbook | None, list[Problem]]:
    """Validate merged data against the model; problems carry locations."""
    try:
        return Playbook.model_validate(loaded.data), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    # Union members add their own names to loc; drop those that are not data keys,
    # then report a failed union once instead of once per member.
    grouped: dict[tuple, list[dict]] = {}
    for err in errors:
        grouped.setdefault(_data_path(loaded.data, tuple(err["loc"])), []).append(err)
    problems = []
    for loc, errs in grouped.items():
        kinds = {e["type"] for e in errs}
        if len(errs) > 1 and not kinds & {"missing", "extra_forbidden"}:
            where = loaded.source_map.locate(loc)
            expected = sorted({_expected(e) for e in errs})
            msg = f"{_dotted(loc)}: expected {' or '.join(expected)}, got {_kind(errs[0].get('input'))}"
            problems.append(Problem(where.file, where.line, where.column, "S001", msg))
            continue
        for err in errs:
            problems.append(_problem(loaded, loc, err))
    return None, problems


def _problem(loaded: Loaded, loc: tuple, err: dict) -> Problem:
    kind = err["type"]
    code = CODES.get(kind, "S001")
    hint = ""
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        key = str(loc[-1])
        shown = key if len(key) <= 60 else key[:57] + "..."
        msg = f"{_owner(loaded.data, loc[:-1])}unknown key {shown!r}"
        if parent is not None:
            close = difflib.get_close_matches(key, list(parent.model_fields), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(parent.model_fields)
        where = loaded.source_map.locate(loc, key=True)
    elif kind == "missing":
        msg = f"{_owner(loaded.data, loc[:-1])}missing required key {str(loc[-1])!r}"
        where = loaded.source_map.locate(loc[:-1])
        hint = f"add `{loc[-1]}:` here"
    else:
        where = loaded.source_map.locate(loc)
        msg = f"{_dotted(loc)}: {_message(err)}"
        if kind.startswith("literal_error") or kind == "value_error" or kind.startswith(("greater", "less", "too_")):
            code = "S004"
        elif kind == "string_pattern_mismatch":
            code = "S004"
            hint = "ids are lowercase slugs such as 'attempting-contact' or 'specialty_interest'"
            inp = err.get("input")
            if isinstance(inp, str) and len(inp) <= 64:
                slug = re.sub(r"[^a-z0-9_]+", "-", inp.strip().lower()).strip("-_")
                if re.match(SLUG_PATTERN, slug):
                    hint = f"ids are lowercase slugs: try {slug!r}"
        elif kind == "bool_type" and isinstance(err.get("input"), str):
            hint = "write true or false (yes/no/on/off are text in YAML 1.2)"
        elif kind == "string_type" and isinstance(err.get("input"), (int, float, bool)):
            hint = f"put the value in quotes: \"{_yaml_text(err['input'])}\""
    return Problem(where.file, where.line, where.column, code, msg, hint=hint)


def _yaml_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _owner(data: Any, path: tuple) -> str:
    """'stages[1] (qualified): ' for messages about an entity, or ''."""
    if not path:
        return ""
    cur = data
    for part in path:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            cur = None
            break
    ident = cur.get("id") if isinstance(cur, dict) else None
    label = f" ({ident})" if isinstance(ident, str) and len(ident) <= 64 else ""
    return f"{_dotted(path)}{label}: "


_EXPECTED = {
    "string_type": "text", "int_type": "an integer", "float_type": "a number", "bool_type": "true or false",
    "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping", "none_required": "nothing",
    "int_from_float": "an integer", "date_type": "a date",
}


def _expected(err: dict) -> str:
    return _EXPECTED.get(err["type"], err["msg"])


def _kind(value: Any) -> str:
    names = {str: "text", int: "an integer", float: "a number", bool: "true/false", list: "a list",
             dict: "a mapping", type(None): "nothing"}
    return names.get(type(value), type(value).__name__)


def _message(err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "value_error":
        # Our own validators already say what they got.
        return str(err.get("ctx", {}).get("error", msg))
    inp = err.get("input")
    # Say what was given, but never echo long text: it may be hostile or large.
    if isinstance(inp, (int, float, bool)) or (isinstance(inp, str) and len(inp) <= 40):
        return f"{msg}, got {inp!r}"
    return f"{msg}, got {type(inp).__name__}"


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out


def _data_path(data: Any, loc: tuple) -> tuple:
    """Keep only the parts of a pydantic loc that walk the actual data."""
    out = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and not part.startswith(_UNION_TAGS):
            # a missing or unknown key: keep it as the last part
            out.append(part)
            cur = None
    return tuple(out)
