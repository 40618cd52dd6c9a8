"""The Salesforce export as Salesforce's own tooling reads it, offline.

For both exports (the test fixture and the default playbook):

- source-deploy-retrieve (SDR, the library under `sf project deploy|convert`) resolves every file of
  the project to a component; its component set is exactly our manifest/package.xml; its converter
  writes the metadata-format tree the Metadata API deploys;
- every element of every file, in source and in converted form, is checked against the Metadata
  API's types as `@salesforce/types` carries them from the WSDL: a known element of its type, in
  `xsd:sequence` order, every required element present, enumerations within their values.

Both packages are pinned in tests/node/package.json (+ package-lock.json) and installed by
scripts/node-deps.sh, which `make test` runs (with a node 22 from npm where the system's is older).
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import sf_shapes
from nodetools import run_script

from generator.export import salesforce
from generator.export.mapping import SF_API_VERSION, build_spec
from generator.validate import load_playbook

HERE = Path(__file__).resolve().parent
PLAYBOOKS = {"clinic": HERE / "fixtures" / "export" / "clinic",
             "lead-management": HERE.parent / "process" / "lead-management"}
NS = "{http://soap.sforce.com/2006/04/metadata}"


@pytest.fixture(scope="module")
def shapes() -> sf_shapes.Shapes:
    if not sf_shapes.TYPES.exists():
        pytest.fail("@salesforce/types is not installed: run scripts/node-deps.sh (make test does)")
    return sf_shapes.load()


@pytest.fixture(scope="module", params=sorted(PLAYBOOKS))
def sdr(request, tmp_path_factory):
    """(rendered files, SDR's report, converted folder) for one playbook."""
    files = salesforce.render(build_spec(load_playbook(PLAYBOOKS[request.param])))
    root = tmp_path_factory.mktemp(f"sfdx-{request.param}")
    project, converted = root / "project", root / "mdapi"
    for rel, data in files.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_bytes(data)
    return files, run_script("check_sfdx.js", str(project), str(converted)), converted


def _problems(shapes: sf_shapes.Shapes, el: ET.Element, kind: str, where: str) -> list[str]:
    """Every way `el` (of Metadata API type `kind`) breaks its type's shape."""
    elements = shapes.elements(kind)
    index = {e.name: i for i, e in enumerate(elements)}
    out: list[str] = []
    last = -1
    seen = set()
    for child in el:
        tag = child.tag.replace(NS, "")
        here = f"{where}/{tag}"
        if tag not in index:
            out.append(f"{here}: not an element of {kind}")
            continue
        if index[tag] < last:
            out.append(f"{here}: out of xsd:sequence order in {kind}")
        last = max(last, index[tag])
        seen.add(tag)
        spec = elements[index[tag]]
        if shapes.is_complex(spec.type):
            out += _problems(shapes, child, spec.type, here)
        elif len(child):
            out.append(f"{here}: {spec.type} is a simple type but has child elements")
        elif spec.type in shapes.enums and (child.text or "") not in shapes.enums[spec.type]:
            out.append(f"{here}: {child.text!r} is not a value of {spec.type}")
        elif spec.type == "boolean" and child.text not in ("true", "false"):
            out.append(f"{here}: {child.text!r} is not a boolean")
        elif spec.type == "number" and not (child.text or "").lstrip("-").replace(".", "", 1).isdigit():
            out.append(f"{here}: {child.text!r} is not a number")
    for e in elements:
        if e.required and e.name not in seen:
            out.append(f"{where}: required element <{e.name}> of {kind} is missing")
    return out


def _check_file(shapes, path: str, data: bytes) -> list[str]:
    root = ET.fromstring(data)
    assert root.tag.startswith(NS), path
    kind = root.tag.replace(NS, "")
    if not shapes.is_complex(kind):
        return [f"{path}: root <{kind}> is no Metadata API type"]
    return _problems(shapes, root, kind, path)


def test_order_table_matches_salesforce_types(shapes):
    """generator/export/sf_order.json is what `python -m tests.sf_shapes` extracts from @salesforce/types."""
    assert sf_shapes.ORDER_FILE.read_text(encoding="utf-8") == sf_shapes.dump(sf_shapes.order_table(shapes)), (
        "sf_order.json is stale: run `python -m tests.sf_shapes` and review the diff")


def test_shape_check_catches_what_it_should(shapes):
    """The checker is not vacuous: wrong order, unknown names, missing required elements and bad enums fail."""
    good = (b'<StandardValueSet xmlns="http://soap.sforce.com/2006/04/metadata"><sorted>false</sorted>'
            b"<standardValue><fullName>new</fullName><default>true</default><label>New</label>"
            b"<converted>false</converted></standardValue></StandardValueSet>")
    assert _check_file(shapes, "ok", good) == []
    swapped = good.replace(b"<default>true</default><label>New</label><converted>false</converted>",
                           b"<converted>false</converted><default>true</default><label>New</label>")
    assert any("out of xsd:sequence order" in p for p in _check_file(shapes, "x", swapped))
    assert any("not an element" in p for p in _check_file(shapes, "x", good.replace(b"sorted>", b"sortd>")))
    assert any("required element <default>" in p for p in _check_file(
        shapes, "x", good.replace(b"<default>true</default>", b"")))
    flow = (b'<Flow xmlns="http://soap.sforce.com/2006/04/metadata"><start><locationX>1</locationX>'
            b"<locationY>0</locationY><triggerType>Sometimes</triggerType></start></Flow>")
    assert any("'Sometimes' is not a value" in p for p in _check_file(shapes, "x", flow))


def test_sdr_resolves_every_file_to_a_component(sdr):
    files, report, _ = sdr
    assert report["sdr_version"] and report["node_version"].startswith("v2")
    assert report["unresolved"] == []
    assert sorted(report["resolved"]) == sorted(p for p in files if p.startswith("force-app/"))


def test_package_xml_is_the_component_set(sdr):
    files, report, _ = sdr
    manifest = ET.fromstring(files["manifest/package.xml"])
    ours = sorted(f"{t.findtext(f'{NS}name')}:{m.text}" for t in manifest.findall(f"{NS}types")
                  for m in t.findall(f"{NS}members"))
    assert ours == report["component_set_members"]
    assert manifest.findtext(f"{NS}version") == SF_API_VERSION


def test_sdr_converts_to_metadata_format(sdr):
    files, report, converted = sdr
    assert "package.xml" in report["converted"]
    kinds = {p.split("/")[0] for p in report["converted"] if "/" in p}
    ours = {p.split("/")[3] for p in files if p.startswith("force-app/")}
    assert kinds == ours


def test_every_element_matches_the_metadata_api_shapes(sdr, shapes):
    files, report, converted = sdr
    problems: list[str] = []
    for rel, data in files.items():
        if rel.endswith(".xml"):
            problems += _check_file(shapes, rel, data)
    for rel in report["converted"]:
        problems += _check_file(shapes, f"mdapi:{rel}", (converted / rel).read_bytes())
    assert problems == []
