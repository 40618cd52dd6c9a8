"""Evidence: conform --record, trend, and the audit pack over a real repository with two releases,
signed and unsigned commits, and runs recorded at several dates."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.history.release import release
from test_git import _ssh_keys
from test_history import ANA, BEN, FIXTURE, PB, Repo, business_changes, cli
from test_history_release import bump, contribution_builder


def run_cli(repo: Repo, *argv: str) -> tuple[int, str, str]:
    """The CLI in-process for a module-scoped fixture (no capsys there)."""
    import contextlib
    import io
    import os

    from generator.cli import run

    out, err, cwd = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(repo.root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(list(argv))
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


def conform(repo: Repo, data: Path, results: Path, as_of: str) -> int:
    code, _, err = run_cli(repo, "conform", "--source", str(data), "--playbook", PB, "--as-of", as_of,
                           "--record", str(results))
    assert "recorded the run in" in err, err
    return code


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> dict:
    """v1.0 (signed, effective 2026-01-01) with two runs; v1.1 (effective 2026-03-01) with one run."""
    tmp = tmp_path_factory.mktemp("evidence")
    repo = Repo(tmp / "repo")
    key, pub = _ssh_keys(tmp)
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", key)
    (tmp / "allowed_signers").write_text(f"ana@example.org {pub}\n")
    repo.git("config", "gpg.ssh.allowedSignersFile", str(tmp / "allowed_signers"))
    shutil.copytree(FIXTURE, repo.root / PB)
    # conformance needs the leads' record id, which the history fixture does without
    repo.edit("fields.yaml", "fields:\n", "fields:\n  - {id: lead-id, label: Lead id, description: CRM record id., "
              "type: string, semantic: record_id}\n")
    repo.commit("Create the clinic playbook", reason="First written version", approved=[BEN], sign=True)
    release(repo.root / PB, "1.0", builder=contribution_builder)
    data, results = tmp / "data", tmp / "results"
    code, _, err = run_cli(repo, "demo-data", "--out", str(data), "--leads", "300", "--seed", "7", "--playbook", PB)
    assert code == 0, err
    codes = [conform(repo, data, results, "2026-01-20T12:00:00Z"), conform(repo, data, results, "2026-02-10T12:00:00Z")]
    repo.edit("stages.yaml", "guidance: Check the form is complete.",
              "guidance: Check the form is complete, that the phone number has enough digits to be dialled, "
              "and that the person ticked the consent box.")
    repo.commit("Say what a complete form is", reason="Staff asked", approved=[BEN], sign=True)
    business_changes(repo)  # unsigned, self-approved
    bump(repo, "2026-03-01")
    repo.edit("playbook.yaml", "  approvers:", "  require_signed_commits: true\n  approvers:")
    repo.commit("Effective in March", reason="Schedule", approved=[BEN])  # unsigned, though it asks for signing
    release(repo.root / PB, "1.1", builder=contribution_builder)
    codes.append(conform(repo, data, results, "2026-03-10T12:00:00Z"))
    return {"repo": repo, "results": results, "tmp": tmp, "codes": codes}


class Parsed(HTMLParser):
    def __init__(self, text: str):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def _pack(released, monkeypatch, capsys, day: str, name: str, *extra: str) -> tuple[int, str, str, Path]:
    out = released["tmp"] / f"{name}.html"
    code, stdout, err = cli(released["repo"], monkeypatch, capsys, "audit-pack", "--date", day, "--results",
                            str(released["results"]), "--out", str(out), "--process", PB, *extra)
    return code, stdout, err, out


def test_record_writes_counts_only(released):
    files = sorted(released["results"].glob("*.run.json"))
    assert len(files) == 3
    data = json.loads(files[0].read_text())
    assert data["source"] == "files" and str(released["tmp"]) not in files[0].read_text()
    assert data["version"] == "1.0" and len(data["tree"]) == 40 and data["dirty"] is False
    assert set(data["rules"][0]) == {"id", "section", "table", "checked", "violations", "status"}
    later = json.loads(files[2].read_text())
    assert later["effective"] == "2026-03-01" and later["tree"] != data["tree"]
    # demo data breaks rules on purpose, so conform exits 1 and still records
    assert released["codes"] == [1, 1, 1]


def test_trend_prints_the_series(released, monkeypatch, capsys):
    code, out, err = cli(released["repo"], monkeypatch, capsys, "trend", str(released["results"]))
    assert code == 0, err
    assert out.startswith("3 run(s) from 2026-01-20T12:00:00Z to 2026-03-10T12:00:00Z")
    rule = json.loads(sorted(released["results"].glob("*.run.json"))[0].read_text())["rules"][0]
    code, out, err = cli(released["repo"], monkeypatch, capsys, "trend", str(released["results"]), "--rule",
                         rule["id"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{rule['id']}: 3 run(s)"
    assert lines[2].split()[:4] == ["2026-01-20T12:00:00Z", "1.0", str(rule["checked"]), str(rule["violations"])]
    code, _, err = cli(released["repo"], monkeypatch, capsys, "trend", str(released["results"]), "--rule", "nope")
    assert code == 2 and "no recorded run has this rule" in err


def test_audit_pack_for_the_first_version(released, monkeypatch, capsys):
    code, out, err, path = _pack(released, monkeypatch, capsys, "2026-02-15", "pack-1.0")
    assert code == 0, err
    html = path.read_text()
    page = Parsed(html)
    assert "script" not in page.tags
    refs = [v for k, v in page.attrs if k in ("href", "src") and v]
    assert refs == []  # nothing outside the file, not even a link
    words = page.words
    assert "Version 1.0" in words and "Effective 2026-01-01 until 2026-03-01" in words
    assert "good signature (verified)" in words
    assert "2 of 3 recorded run(s) of this playbook fall in the period" in words
    assert "2026-01-20T12:00:00Z" in words and "2026-03-10T12:00:00Z" not in words
    assert "playbook clinic created" in words
    assert "process/clinic/stages.yaml" in words


def test_audit_pack_for_the_second_version_names_flags_and_approvals(released, monkeypatch, capsys, tmp_path):
    code, out, err, path = _pack(released, monkeypatch, capsys, "2026-03-15", "pack-1.1", "--pdf",
                                 str(released["tmp"] / "pack-1.1.pdf"))
    assert code == 0, err
    assert "version 1.1 (effective 2026-03-01), 3 change(s), 1 conformance run(s)" in out
    words = Parsed(path.read_text()).words
    assert "Previous version 1.0 (tag v1.0, effective 2026-01-01)" in words
    assert "Flag self-approval: approver Ana Ops is the author" in words
    assert "@example.org" not in path.read_text()  # staff are named, their addresses stay out
    assert "Flag unsigned: the playbook requires signed commits" in words
    assert words.count("Flag unsigned") == 1  # signing was not required before that commit
    assert "the playbook requires signed commits" in words.split("Previous version")[0]
    assert "stage new: guidance changed: Check the form is complete" in words
    assert "the CRM must be redeployed" in words
    assert "slas Ana Ops [ana]" in words  # section approvers in force
    html = path.read_text()
    assert "<ins>" in html and "<del>" in html
    # approvals per section: the self-approved commit lacks them
    assert html.count('<span class="flag">no</span>') >= 1 and html.count('<span class="ok">yes</span>') >= 1
    text = subprocess.run(["pdftotext", "-layout", str(released["tmp"] / "pack-1.1.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Audit pack: Clinic lead playbook" in text
    assert "v1.1" in text and "self-approval" in text and "Manifest" in text


def test_audit_pack_is_byte_identical(released, monkeypatch, capsys):
    _, _, _, a = _pack(released, monkeypatch, capsys, "2026-03-15", "same-a")
    _, _, _, b = _pack(released, monkeypatch, capsys, "2026-03-15", "same-b")
    assert a.read_bytes() == b.read_bytes()
    import hashlib

    code, out, _, _ = _pack(released, monkeypatch, capsys, "2026-03-15", "same-c")
    assert code == 0 and f"sha256 of the HTML {hashlib.sha256(a.read_bytes()).hexdigest()}" in out


def test_pack_holds_no_lead_data(released, monkeypatch, capsys):
    _, _, _, path = _pack(released, monkeypatch, capsys, "2026-03-15", "phi")
    html = path.read_text()
    leads = (released["tmp"] / "data" / "leads.csv")
    if leads.exists():
        import csv

        with leads.open() as fh:
            row = next(csv.DictReader(fh))
        for key in ("email", "phone", "last_name", "first_name"):
            if row.get(key):
                assert row[key] not in html


def test_date_before_the_first_release_and_no_tags(released, monkeypatch, capsys, tmp_path):
    code, _, err, path = _pack(released, monkeypatch, capsys, "2025-12-01", "early")
    assert code == 2 and "no release was in effect on 2025-12-01" in err and not path.exists()
    code, _, err, _ = _pack(released, monkeypatch, capsys, "2026-13-01", "bad")
    assert code == 2 and "is not YYYY-MM-DD" in err
    bare = Repo(tmp_path / "bare")
    shutil.copytree(FIXTURE, bare.root / PB)
    bare.commit("Create", reason="First", approved=[BEN])
    code, _, err = cli(bare, monkeypatch, capsys, "audit-pack", "--date", "2026-02-01", "--out",
                       str(tmp_path / "x.html"), "--process", PB)
    assert code == 2 and "no release tags" in err and not (tmp_path / "x.html").exists()


def test_site_shows_recorded_runs_with_trends(released, tmp_path):
    """A real build (mkdocs --strict: every link resolves) with --results."""
    repo = released["repo"]
    site = tmp_path / "site"
    docs = tmp_path / "docs"
    code, out, err = run_cli(repo, "build", PB, "--site-dir", str(site), "--docs-dir", str(docs), "--results",
                             str(released["results"]))
    assert code == 0, err
    page = (docs / "evidence" / "conformance-over-time.md").read_text()
    assert "as of 2026\\-03\\-10T12\\:00\\:00Z" in page and "3 recorded run(s)" in page
    assert page.count("<svg ") >= 2 and "currentColor" in page
    assert "example data" not in page
    # with recorded results, no demo figure sits beside them on stage entries
    assert "(demo data)" not in (docs / "stages.md").read_text()
    html = (site / "evidence" / "conformance-over-time" / "index.html").read_text()
    assert "<svg " in html
    stages = "\n".join(p.read_text() for p in docs.rglob("*.md") if "stage" in p.name)
    assert "recorded run of 2026-03-10" in stages and "holds for 97.3% of leads" in stages
    roles = "\n".join(p.read_text() for p in (docs / "roles").glob("*.md"))
    assert "## Conformance of what you own" in roles and "holds for 97.3% of leads" in roles
    log = (docs / "history" / "changelog.md").read_text()
    assert "\n* stage new\\: guidance changed: Check the form is <del>complete\\.</del> <ins>complete, that" in log
    assert "&lt;del&gt;" not in log
    html = (site / "history" / "changelog" / "index.html").read_text()
    assert "<del>complete.</del>" in html


def test_site_without_results_says_example_data(released, tmp_path):
    from generator.evidence.pages import contribute
    from generator.validate import load_playbook

    model = load_playbook(released["repo"].root / PB)
    c = contribute(model, released["repo"].root / PB)
    (page,) = c.pages.values()
    assert "demo run: example data" in page and "<svg " in page
    assert not c.stage_sections  # the Conformance part's demo lines are there already, labelled demo data


def test_chart_is_deterministic_and_readable_in_both_schemes():
    from generator.evidence.svg import chart
    from generator.evidence.trend import Point

    pts = [Point("2026-01-01T00:00:00Z", "1", 10, 1, "fail", 0.9), Point("2026-02-01T00:00:00Z", "1", 10, 0, "pass", 1.0)]
    a, b = chart("x <y>", [("r", pts)]), chart("x <y>", [("r", pts)])
    assert a == b and "x &lt;y&gt;" in a and "<script" not in a
    assert 'fill="currentColor"' in a  # labels follow the page's text colour in light and dark
    assert "<polyline" in a and a.count("<circle") == 2


def _luminance(rgb: str) -> float:
    import re

    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_trend_charts_read_in_light_and_dark(released, tmp_path, scheme):
    """In Chromium, chart labels take the page's text colour and lines keep 3:1 against the page."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from generator.site.build import build_site
    from generator.site.serve import start_server

    site = tmp_path / "site"
    build_site(released["repo"].root / PB, site, cache_dir=None,
               contributors=("generator.evidence.pages",), options={"results": released["results"]})
    server = start_server(site, 0)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(color_scheme=scheme)
                page.goto(f"http://127.0.0.1:{server.server_port}/evidence/conformance-over-time/")
                svg = page.locator("svg[role=img]").first
                assert svg.is_visible()
                bg = page.evaluate("getComputedStyle(document.querySelector('.md-main') || document.body)"
                                   ".backgroundColor")
                if "0, 0, 0, 0" in bg:  # transparent: the scheme's colour sits on body
                    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
                fg = page.evaluate("getComputedStyle(document.querySelector('article')).color")
                label = page.evaluate("getComputedStyle(document.querySelector('svg[role=img] text')).fill")
                assert label == fg and _contrast(label, bg) >= 4.5, (label, fg, bg)
                stroke = page.evaluate("getComputedStyle(document.querySelector('svg[role=img] circle')).fill")
                assert _contrast(stroke, bg) >= 3, (stroke, bg)
                page.screenshot(path=str(tmp_path / f"trend-{scheme}.png"), full_page=False)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()



def test_source_kind_never_keeps_a_location_or_secret():
    from generator.evidence.results import source_kind

    assert source_kind("postgresql://ana:s3cret@db.internal:5432/crm?sslmode=require") == "postgresql"
    assert source_kind("/srv/exports/2026-03-01") == "files"
    assert source_kind("salesforce") == "salesforce" and source_kind(" HubSpot ") == "hubspot"
    assert source_kind("https://user:pw@example.org/x") == "https"


def test_unreadable_run_file_is_a_clear_error(released, tmp_path, monkeypatch, capsys):
    broken = tmp_path / "results"
    shutil.copytree(released["results"], broken)
    (broken / "20260401T000000Z-bad.run.json").write_text('{"format": 1, "rules": [')
    code, _, err = cli(released["repo"], monkeypatch, capsys, "trend", str(broken))
    assert code == 2 and "20260401T000000Z-bad.run.json: not a readable run file" in err
    assert "Traceback" not in err
    code, _, err = cli(released["repo"], monkeypatch, capsys, "trend", str(tmp_path / "nowhere"))
    assert code == 2 and "no such results folder" in err
