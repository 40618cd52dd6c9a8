"""The Metadata API's type shapes, read from Salesforce's own `@salesforce/types` (lib/metadata.d.ts).

That file is generated from the Metadata WSDL: each complex type is `export type T = Base & { ... }`
with its own elements in `xsd:sequence` order, an optional element written `name?:`, a repeated one
`name: T[]` (minOccurs 0), and every enumeration a union of string literals. So a type's elements in
WSDL order are its base's (recursively) followed by its own, and an element is required when it is
neither optional nor repeated.

`python -m tests.sf_shapes` rewrites generator/export/sf_order.json, the element order the export
writes with (for every type reachable from the metadata types we export); tests/test_sfdx.py fails
when that table and the installed `@salesforce/types` disagree.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TYPES = HERE / "node" / "node_modules" / "@salesforce" / "types" / "lib" / "metadata.d.ts"
ORDER_FILE = HERE.parent / "generator" / "export" / "sf_order.json"
# The root of every metadata file the Salesforce export writes (plus package.xml's Package).
ROOTS = ("AssignmentRules", "CustomField", "CustomObject", "DuplicateRule", "Flow", "MatchingRules", "Package",
         "PathAssistant", "Queue", "StandardValueSet", "ValidationRule")
PRIMITIVES = {"string", "number", "boolean", "Date", "any"}

_DECL = re.compile(r"^export type (\w+) = (.*?);?$")
_FIELD = re.compile(r"^\s+(\w+)(\??): ([\w'| ]+?)(\[\])?;$")


@dataclass(frozen=True)
class Element:
    name: str
    type: str  # a type name, a primitive, or "enum:<Type>"
    optional: bool
    repeated: bool

    @property
    def required(self) -> bool:
        return not self.optional and not self.repeated


@dataclass
class Shapes:
    own: dict[str, list[Element]]
    bases: dict[str, list[str]]
    enums: dict[str, list[str]]
    aliases: dict[str, str]

    def elements(self, type_name: str) -> list[Element]:
        """Every element of a complex type in WSDL order: inherited first, then its own."""
        type_name = self.aliases.get(type_name, type_name)
        out: list[Element] = []
        for base in self.bases.get(type_name, []):
            out += self.elements(base)
        return out + self.own.get(type_name, [])

    def is_complex(self, type_name: str) -> bool:
        type_name = self.aliases.get(type_name, type_name)
        return type_name in self.own or type_name in self.bases


def parse(text: str) -> Shapes:
    own: dict[str, list[Element]] = {}
    bases: dict[str, list[str]] = {}
    enums: dict[str, list[str]] = {}
    aliases: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        if current is not None:
            if line.startswith("}"):
                current = None
                continue
            m = _FIELD.match(line)
            if not m:
                raise ValueError(f"metadata.d.ts: unexpected member line: {line!r}")
            name, opt, typ, arr = m.groups()
            own[current].append(Element(name, typ.strip(), bool(opt), bool(arr)))
            continue
        m = _DECL.match(line)
        if not m:
            continue
        name, rhs = m.groups()
        rhs = rhs.strip()
        if rhs.endswith("{"):
            parts = [p.strip() for p in rhs[:-1].split("&")]
            bases[name] = [p for p in parts if p]
            own[name] = []
            current = name
        elif rhs.startswith("'"):
            enums[name] = [v.strip().strip("'") for v in rhs.split("|")]
        elif rhs in PRIMITIVES:
            aliases[name] = rhs
        elif re.fullmatch(r"\w+", rhs):  # `type FlowEnd = FlowNode`: the same elements as its base
            bases[name] = [rhs]
            own[name] = []
    return Shapes(own, bases, enums, aliases)


def load(path: Path = TYPES) -> Shapes:
    return parse(path.read_text(encoding="utf-8"))


def order_table(shapes: Shapes) -> dict[str, list[list[str]]]:
    """`{type: [[element, element type or ""], ...]}` in WSDL order, for every type the export can reach."""
    seen: set[str] = set()
    todo = list(ROOTS)
    table: dict[str, list[list[str]]] = {}
    while todo:
        t = todo.pop()
        if t in seen or not shapes.is_complex(t):
            continue
        seen.add(t)
        els = shapes.elements(t)
        table[t] = [[e.name, e.type if shapes.is_complex(e.type) else ""] for e in els]
        todo += [e.type for e in els if shapes.is_complex(e.type)]
    return dict(sorted(table.items()))


def dump(table: dict) -> str:
    """One type a line, so a change of Salesforce's types shows as a readable diff."""
    lines = [f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in sorted(table.items())]
    return "{\n" + ",\n".join(lines) + "\n}\n"


if __name__ == "__main__":
    ORDER_FILE.write_text(dump(order_table(load())), encoding="utf-8")
    print(f"wrote {ORDER_FILE} ({len(order_table(load()))} types)", file=sys.stderr)
