"""Make a playbook N times larger, for benchmarks and performance tests.

Every entity of every top-level list section is copied N-1 times with its id
suffixed, and references between copied entities follow the copy, so the
larger playbook is as valid as the original. References to fields and to
entities inside mapping sections keep pointing at the originals (consent,
routing and PHI rules look fields up by id).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ..load import MAPPING_SECTIONS, load_data
from ..model import Playbook
from .refs import REFS, walk_refs

KEEP = frozenset({"fields"})


def scaled_data(root: Path, factor: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(original merged data, one dict of list sections per extra copy)."""
    loaded = load_data(root, display_root=root)
    model = Playbook.model_validate(loaded.data)
    data = loaded.data
    lists = [s for s, v in data.items() if isinstance(v, list) and s not in MAPPING_SECTIONS]
    follow = set(lists) - KEEP
    # Paths (inside list sections) of references that point into another copied list section.
    moving: list[tuple] = []
    for cls, name, path, ref, is_key in walk_refs(model):
        if is_key or path[0] not in lists:
            continue
        targets = REFS[(cls, name)]
        if targets[0] in follow and all(t in follow for t in targets):
            moving.append(path)
    copies = []
    for k in range(1, factor):
        suffix = f"-x{k}"
        out: dict[str, Any] = {s: copy.deepcopy(data[s]) for s in lists}
        for s in lists:
            for item in out[s]:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    item["id"] += suffix
                    if s == "fields":
                        item.pop("semantic", None)  # one field per semantic tag
        for path in moving:
            parent = out[path[0]]
            for part in path[1:-1]:
                parent = parent[part]
            parent[path[-1]] = parent[path[-1]] + suffix
        copies.append(out)
    return data, copies


def write_scaled(root: Path, dest: Path, factor: int) -> list[Path]:
    """Write the original files plus one file per extra copy into `dest`."""
    import shutil

    from ruamel.yaml import YAML

    from ..load import playbook_files

    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in playbook_files(root):
        target = dest / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written.append(target)
    _, copies = scaled_data(root, factor)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    for k, sections in enumerate(copies, start=1):
        target = dest / f"zz-copy-{k:03d}.yaml"
        with target.open("w", encoding="utf-8") as fh:
            yaml.dump(sections, fh)
        written.append(target)
    return written
