"""The issue's report requirements end to end through the CLI: JSON shape, exit code 2 on an
incomplete read, `--ids` in every report (and only with it), connection strings redacted
in every output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator.cli import run as cli_run
from generator.conformance.demo import default_as_of, write_demo
from generator.conformance.run import iso
from generator.validate import load_playbook

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "conformance" / "playbook"
RULE_KEYS = {"id", "title", "section", "table", "checked", "violations", "rate", "threshold", "status"}


@pytest.fixture(scope="module")
def model():
    return load_playbook(FIXTURE)


@pytest.fixture(scope="module")
def data(model, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "data"
    truth = write_demo(model, str(out), leads=400, seed=17, fmt="parquet")
    return out, truth


def _conform(capsys, tmp_path, source, *extra, as_of=None):
    j, x, md = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.md"
    for p in (j, x, md):
        p.unlink(missing_ok=True)
    args = ["conform", "--playbook", str(FIXTURE), "--source", source, "--json", str(j), "--junit", str(x),
            "--markdown", str(md), *extra]
    if as_of:
        args += ["--as-of", as_of]
    code = cli_run(args)
    cap = capsys.readouterr()
    files = {p.suffix: p.read_text() for p in (j, x, md) if p.exists()}
    return code, cap.out + cap.err, files


def test_json_shape(model, data, tmp_path, capsys):
    folder, truth = data
    code, _, files = _conform(capsys, tmp_path, str(folder), as_of=iso(default_as_of(model)))
    assert code == 1
    doc = json.loads(files[".json"])
    assert list(doc) == sorted(["playbook", "source", "generated_at", "as_of", "complete", "rules"])
    assert doc["playbook"] == model.playbook.id and doc["complete"] is True
    assert doc["as_of"] == iso(default_as_of(model)) and doc["generated_at"].endswith("Z")
    assert [r["id"] for r in doc["rules"]] == sorted(truth)
    for r in doc["rules"]:
        assert set(r) == RULE_KEYS
        assert isinstance(r["checked"], int) and isinstance(r["violations"], int)
        assert r["rate"] == round(r["violations"] / r["checked"], 6) if r["checked"] else r["rate"] == 0.0
        assert set(r["threshold"]) == {"max_violations", "max_rate"}
        assert r["status"] in ("pass", "fail")


def test_ids_in_every_report_only_when_asked(model, data, tmp_path, capsys):
    folder, _ = data
    as_of = iso(default_as_of(model))
    code, console, files = _conform(capsys, tmp_path, str(folder), as_of=as_of)
    doc = json.loads(files[".json"])
    some = next(r for r in doc["rules"] if r["id"] == "transition-allowed")
    assert "ids" not in some and "system-err" not in files[".xml"] and "record ids" not in files[".md"]

    code, console, files = _conform(capsys, tmp_path, str(folder), "--ids", as_of=as_of)
    assert code == 1
    doc = json.loads(files[".json"])
    for r in doc["rules"]:
        assert len(r["ids"]) == r["violations"] == len(set(r["ids"])), r["id"]
    ids = next(r for r in doc["rules"] if r["id"] == "transition-allowed")["ids"]
    assert ids
    case = next(c for c in ET.fromstring(files[".xml"]).iter("testcase") if c.get("name") == "transition-allowed")
    assert all(i in case.find("system-err").text for i in ids)
    assert "Violating record ids" in files[".md"] and all(f"`{i}`" in files[".md"] for i in ids)
    assert all(i in console for i in ids)


def test_incomplete_source_exits_2_and_never_passes(model, data, tmp_path, capsys, monkeypatch):
    from generator.conformance import sources
    from generator.conformance.sources.duckdb_dir import DuckDBSource

    folder, _ = data
    clean = tmp_path / "clean"
    write_demo(model, str(clean), leads=200, seed=3, inject=False)
    # a pull that lost a page: the data that did arrive is clean, but the run must not pass
    monkeypatch.setattr(sources, "open_source",
                        lambda spec, **kw: DuckDBSource(Path(spec), complete=False, description="partial pull"))
    code, console, files = _conform(capsys, tmp_path, str(clean), as_of=iso(default_as_of(model)))
    assert code == 2, console
    doc = json.loads(files[".json"])
    assert doc["complete"] is False
    assert {r["status"] for r in doc["rules"]} == {"incomplete"}
    suite = ET.fromstring(files[".xml"]).find("testsuite")
    assert suite.get("errors") == str(len(doc["rules"])) and suite.get("failures") == "0"
    assert "incomplete" in files[".md"] and "incomplete" in console
    # violations found on a partial read still fail, and the exit code still says "incomplete"
    code, _, files = _conform(capsys, tmp_path, str(folder), as_of=iso(default_as_of(model)))
    assert code == 2
    assert {r["status"] for r in json.loads(files[".json"])["rules"]} <= {"incomplete", "fail"}


@pytest.mark.slow
def test_connection_string_redacted_in_every_output(model, data, tmp_path, capsys, postgres_server):
    from generator.conformance.sources.postgres import load_dir

    folder, truth = data
    password = postgres_server.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    url = f"{postgres_server}?schema=redaction"
    load_dir(folder, url)
    code, console, files = _conform(capsys, tmp_path, url, "--ids", as_of=iso(default_as_of(model)))
    assert code == 1, console
    doc = json.loads(files[".json"])
    assert {r["id"]: r["violations"] for r in doc["rules"]} == truth
    assert "***" in doc["source"] and "127.0.0.1" in doc["source"]
    for text in (console, *files.values()):
        assert password not in text

    # a wrong password: exit 2, neither password anywhere
    wrong = url.replace(password, "wrong-pw-5150")
    code, console, files = _conform(capsys, tmp_path, wrong)
    assert code == 2 and not files
    assert "wrong-pw-5150" not in console and password not in console

    # demo-data straight into PostgreSQL prints the URL redacted
    code = cli_run(["demo-data", "--playbook", str(FIXTURE), "--out", f"{postgres_server}?schema=redaction_demo",
                    "--leads", "50", "--seed", "1"])
    out = capsys.readouterr()
    assert code == 0 and password not in out.out + out.err and "***" in out.out
