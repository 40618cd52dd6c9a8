"""`playbook whatif`: table-driven cases, one per kind of change, each checked against counts
computed here directly over the test data (and against two plain conformance runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.cli import run
from generator.conformance.checks import build_checks, queue_value, stage_value
from generator.conformance.contract import build_contract
from generator.conformance.demo import default_as_of
from generator.conformance.run import iso, run_checks
from generator.conformance.sources import open_source
from generator.whatif.revisions import load_pair

from whatif_data import CANARY, PB, Repo, rows, write_snapshot

# (case id, [(file, old, new)], what the case must change)
CASES = [
    ("routing-queue", [("routing.yaml", "      when: {specialty: [cardiology]}\n      queue: cardiology-queue",
                        "      when: {specialty: [cardiology]}\n      queue: general-queue")], "routing"),
    ("routing-min-score", [("routing.yaml", "when: {specialty: [cardiology]}",
                            "when: {specialty: [cardiology], min_score: 50}")], "routing"),
    ("routing-region", [("routing.yaml", "when: {specialty: [cardiology]}",
                         "when: {specialty: [cardiology], region: [north]}")], "routing"),
    ("band-edges", [("routing.yaml", "{id: warm, name: Warm, min: 10, max: 49, status: open}",
                     "{id: warm, name: Warm, min: 30, max: 59, status: open}"),
                    ("routing.yaml", "{id: hot, name: Hot, min: 50, max: 100}", "{id: hot, name: Hot, min: 60, max: 100}"),
                    ("routing.yaml", "{id: cold, name: Cold, min: 0, max: 9}", "{id: cold, name: Cold, min: 0, max: 29}")],
     "scoring"),
    ("scoring-points", [("routing.yaml", "points: 10", "points: 60")], "scoring"),
    ("required-fields", [("stages.yaml", "required_fields: [specialty, region, consent-to-contact]",
                          "required_fields: [specialty, consent-to-contact, closure-reason]")], "requirements"),
    ("required-fields-dropped", [("stages.yaml", "    required_fields: [phone]\n", "")], "requirements"),
    ("allowed-values", [("fields.yaml", "      - {value: orthopedics, label: Orthopedics}\n", "")], "requirements"),
    ("sla-duration", [("routing.yaml", "within: 4 business hours", "within: 2 business hours")], "sla"),
    ("calendar", [("playbook.yaml", 'close: "18:00"', 'close: "09:00"')], "sla"),
    ("new-field-without-column", [
        ("fields.yaml", "  - {id: score,", "  - {id: insurance, label: Insurance, description: Plan., type: string}\n"
                                           "  - {id: score,"),
        ("stages.yaml", "required_fields: [phone]", "required_fields: [phone, insurance]")], "unanswerable"),
    ("sla-start-without-time", [
        ("events.yaml", "      stage: closed-lost\n", "      stage: closed-lost\n  - id: consent-given\n"
                                                   "    name: Consent given\n    signal: {kind: field_set, field: consent-to-contact}\n"),
        ("routing.yaml", "        action: Reassign the lead.\n", "        action: Reassign the lead.\n"
                                                               "  - id: call-after-consent\n    name: Call after consent\n"
                                                               "    start_event: consent-given\n    stop_event: first-call\n"
                                                               "    within: 1 business days\n    owner: agent\n")],
     "unanswerable-sla"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One repository and one snapshot; each case commits on its own branch from `base`."""
    from generator.validate import load_playbook

    root = tmp_path_factory.mktemp("whatif")
    repo = Repo(root / "repo")
    model = load_playbook(repo.root / PB)
    data = root / "data"
    write_snapshot(model, data)
    return repo, data, default_as_of(model)


def _case(repo: Repo, name: str, edits) -> str:
    repo.git("checkout", "-q", "-B", name, "base")
    for f, old, new in edits:
        repo.edit(f, old, new)
    repo.commit(f"What-if case {name}")
    return name


def _whatif(repo: Repo, monkeypatch, capsys, *argv: str) -> tuple[int, str, str]:
    monkeypatch.chdir(repo.root)
    capsys.readouterr()
    code = run(["whatif", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ a plain reading of the data


def _blank(v, text=True) -> bool:
    return v is None or (text and isinstance(v, str) and v.strip() == "")


def _values(model, lead: dict) -> dict:
    """field id -> value of a lead row."""
    c = build_contract(model)
    return {col.field_id: lead.get(col.name) for col in c.table("leads").columns}


def _queue(model, lead) -> str:
    return queue_value(model, model.resolve_queue(_values(model, lead)))


def _band(model, score) -> str | None:
    if score is None:
        return None
    return next((b.id for b in model.scoring.bands if b.min <= score <= b.max), None)


def _score(model, lead) -> int | None:
    v = _values(model, lead)
    total = 0
    for r in model.scoring.rules:
        assert r.when.op == "equals"  # the only op the cases use
        total += r.points if v.get(r.when.field) == r.when.value else 0
    return total


def _entered(model, lead, history, stage_id) -> bool:
    sv = stage_value(model, stage_id)
    return lead.get("stage") == sv or any(h["to_stage"] == sv for h in history.get(lead["lead_id"], []))


def _violates_required(model, lead, stage_id) -> bool:
    fields = model.stage(stage_id).required_fields
    v = _values(model, lead)
    return any(_blank(v.get(f), model.field(f).type not in ("boolean", "integer", "datetime", "date")) for f in fields)


def _violates_allowed(model, lead, field_id) -> bool:
    v = _values(model, lead).get(field_id)
    return not _blank(v) and v not in model.field(field_id).values


# ------------------------------------------------------------------ the cases


@pytest.mark.parametrize("name,edits,kind", CASES, ids=[c[0] for c in CASES])
def test_whatif_case(world, monkeypatch, capsys, tmp_path, name, edits, kind):
    repo, data, as_of = world
    head = _case(repo, name, edits)
    out_json, out_md = tmp_path / "w.json", tmp_path / "w.md"
    code, out, err = _whatif(repo, monkeypatch, capsys, "base", head, "--source", str(data), "--as-of", iso(as_of),
                             "--json", str(out_json), "--markdown", str(out_md), "--ids")
    assert code == 0, err
    result = json.loads(out_json.read_text())
    md = out_md.read_text()
    for text in (out, err, md, out_json.read_text()):
        assert CANARY not in text  # no field value ever reaches an output

    base_rev, head_rev = load_pair(repo.root / PB, "base", head)
    bm, hm = base_rev.model, head_rev.model
    leads = rows(data, "leads")
    history: dict[str, list[dict]] = {}
    for h in rows(data, "stage_history"):
        history.setdefault(h["lead_id"], []).append(h)

    # Routing: routed leads whose queue differs, by the model's one resolver, lead by lead.
    routed = [ld for ld in leads if not _blank(ld.get("queue"))]
    moved = [ld for ld in routed if _queue(bm, ld) != _queue(hm, ld)]
    assert result["routing"]["moved"] == len(moved)
    assert result["routing"]["routed"] == (len(routed) if result["routing"]["changed"] else 0)
    if result["routing"]["changed"]:
        assert sorted(result["routing"]["ids"]) == sorted(str(ld["lead_id"]) for ld in moved)
        cells = {}
        for ld in routed:
            k = (_queue(bm, ld), _queue(hm, ld))
            cells[k] = cells.get(k, 0) + 1
        assert {(c["base"], c["head"]): c["leads"] for c in result["routing"]["matrix"]} == cells
    if kind == "routing":
        assert len(moved) > 0 and f"**{len(moved)} routed lead" in md

    # Score bands (stored score, or recomputed when the scoring rules changed).
    recompute = bm.scoring.rules != hm.scoring.rules
    changed = {}
    for ld in leads:
        sb = _score(bm, ld) if recompute else ld.get("score")
        sh = _score(hm, ld) if recompute else ld.get("score")
        k = (_band(bm, sb) or "(no band)", _band(hm, sh) or "(no band)")
        if k[0] != k[1]:
            changed[k] = changed.get(k, 0) + 1
    assert result["scoring"]["changed"] == sum(changed.values())
    assert {(c["base"], c["head"]): c["leads"] for c in result["scoring"]["matrix"]} == changed
    if kind == "scoring":
        assert changed and "Score bands" in md
        assert result["scoring"]["method"].startswith("score recomputed" if recompute else "stored score")
        statuses = {}
        for (b, h), n in changed.items():
            st = lambda m, band: next((x.status for x in m.scoring.bands if x.id == band), None) or "(no status)"  # noqa: E731
            k = (st(bm, b), st(hm, h))
            statuses[k] = statuses.get(k, 0) + n
        assert {(c["base"], c["head"]): c["leads"] for c in result["scoring"]["statuses"]} == statuses

    # Required fields and allowed values: newly violating / newly passing, lead by lead.
    for req in result["requirements"]:
        if req["kind"] == "required-fields":
            applies = [ld for ld in leads if _entered(hm, ld, history, req["subject"])]
            assert req["rule"] in {r["id"] for r in result["rules"]}
            vb = {ld["lead_id"] for ld in applies if _violates_required(bm, ld, req["subject"])}
            vh = {ld["lead_id"] for ld in applies if _violates_required(hm, ld, req["subject"])}
        else:
            fid = next(f.id for f in hm.fields if f.id == req["subject"])
            applies = [ld for ld in leads if not _blank(_values(hm, ld).get(fid))]
            vb = {ld["lead_id"] for ld in applies if _violates_allowed(bm, ld, fid)}
            vh = {ld["lead_id"] for ld in applies if _violates_allowed(hm, ld, fid)}
        assert req["newly_violating"] == len(vh - vb), req["rule"]
        assert req["newly_passing"] == len(vb - vh), req["rule"]
        assert sorted(req["ids_newly_violating"]) == sorted(map(str, vh - vb))
        assert req["checked"] == len(applies)
    if kind == "requirements":
        assert result["requirements"] and sum(r["newly_violating"] + r["newly_passing"] for r in result["requirements"])

    # Every rule side by side equals two plain conformance runs, one per version.
    plain = {}
    gone = {tuple(x["subject"].split(" under ")) for x in result["not_answerable"] if " under " in x["subject"]}
    for side, label, model in (("base", "BASE", bm), ("head", "HEAD", hm)):
        checks = [c for c in build_checks(model) if (c.id, label) not in gone]
        src = open_source(str(data))
        try:
            plain[side] = {r.id: r.violations for r in run_checks(model, src, as_of=as_of, checks=checks).checked_rules}
        finally:
            src.close()
    for r in result["rules"]:
        if r["base"] is not None:
            assert r["base"] == plain["base"][r["id"]], r["id"]
        if r["head"] is not None:
            assert r["head"] == plain["head"][r["id"]], r["id"]
    answered_h = {r["id"] for r in result["rules"] if r["head"] is not None}
    assert answered_h == set(plain["head"])
    for s in result["slas"]:
        assert s["base_breaches"] == plain["base"].get(f"sla.{s['sla']}")
        assert s["head_breaches"] == plain["head"].get(f"sla.{s['sla']}")
    if kind == "sla":
        assert result["slas"] and any(s["base_breaches"] != s["head_breaches"] for s in result["slas"])

    if kind == "unanswerable-sla":
        subjects = {x["subject"]: x["reason"] for x in result["not_answerable"]}
        assert "no time in the data" in subjects["sla.call-after-consent under HEAD"]
        assert [s["change"] for s in result["slas"]] == ["added"]
    if kind == "unanswerable":
        subjects = {x["subject"]: x["reason"] for x in result["not_answerable"]}
        assert "no column insurance in leads" in subjects["required-fields.scheduled under HEAD"]
        assert "Not answerable from this data" in md


def test_no_change_moves_nothing_and_counts_equal(world, monkeypatch, capsys, tmp_path):
    repo, data, as_of = world
    out = tmp_path / "w.json"
    code, _, err = _whatif(repo, monkeypatch, capsys, "base", "base", "--source", str(data), "--as-of", iso(as_of),
                           "--json", str(out))
    assert code == 0, err
    r = json.loads(out.read_text())
    assert r["routing"] == {"changed": False, "moved": 0, "routed": 0, "matrix": []}
    assert all(x["status"] == "same" and x["base"] == x["head"] for x in r["rules"])


def test_fail_on_limits_and_bad_values(world, monkeypatch, capsys):
    repo, data, as_of = world
    head = _case(repo, "fail-on", CASES[0][1])
    code, _, err = _whatif(repo, monkeypatch, capsys, "base", head, "--source", str(data), "--as-of", iso(as_of),
                           "--fail-on", "moved>0")
    assert code == 1 and "moved = " in err and "> 0" in err
    code, _, err = _whatif(repo, monkeypatch, capsys, "base", head, "--source", str(data), "--as-of", iso(as_of),
                           "--fail-on", "moved>100000")
    assert code == 0, err
    code, _, err = _whatif(repo, monkeypatch, capsys, "base", head, "--source", str(data), "--fail-on", "moved=3")
    assert code == 2 and "METRIC>N" in err and "Traceback" not in err
    code, _, err = _whatif(repo, monkeypatch, capsys, "--bad", head, "--source", str(data))
    assert code == 2 and "Traceback" not in err
    code, _, err = _whatif(repo, monkeypatch, capsys, "base", "no-such-rev", "--source", str(data))
    assert code == 2 and "no-such-rev" in err and "Traceback" not in err
    code, _, err = _whatif(repo, monkeypatch, capsys, "base", head, "--source", str(data / "missing"))
    assert code == 2 and "Traceback" not in err


def test_incomplete_source_exits_2(world, monkeypatch, capsys, tmp_path):
    """A partial read is never a result: exit 2, and the comment says so."""
    import generator.conformance.sources as sources

    repo, data, as_of = world
    head = _case(repo, "incomplete", CASES[0][1])
    real = sources.open_source

    def partial(spec, **kw):
        src = real(spec, **kw)
        src.complete = False
        return src

    monkeypatch.setattr(sources, "open_source", partial)
    md = tmp_path / "w.md"
    code, _, err = _whatif(repo, monkeypatch, capsys, "base", head, "--source", str(data), "--as-of", iso(as_of),
                           "--markdown", str(md))
    assert code == 2 and "incompletely" in err
    assert "Incomplete read" in md.read_text()


@pytest.mark.slow
def test_parity_duckdb_postgres_spark(world, postgres_server, spark_session, monkeypatch, capsys, tmp_path):
    """The same what-if on every engine: identical JSON apart from the source's name."""
    from generator.conformance.sources.postgres import load_dir
    from generator.conformance.sources.spark import dir_table_map

    repo, data, as_of = world
    head = _case(repo, "parity", CASES[0][1] + CASES[3][1] + CASES[5][1] + CASES[7][1])
    url = f"{postgres_server}?schema=whatif_parity"
    load_dir(Path(data), url)
    spark_tables = ",".join(f"{k}={v}" for k, v in dir_table_map(data).items())
    found = {}
    for name, argv in (("duckdb", ["--source", str(data)]), ("postgres", ["--source", url]),
                       ("spark", ["--source", "spark", "--spark-tables", spark_tables])):
        out = tmp_path / f"{name}.json"
        code, text, err = _whatif(repo, monkeypatch, capsys, "base", head, *argv, "--as-of", iso(as_of),
                                  "--json", str(out), "--ids")
        assert code == 0, err
        assert "pg-test-secret" not in text + err + out.read_text() and CANARY not in text + err + out.read_text()
        d = json.loads(out.read_text())
        d.pop("source"), d.pop("generated_at")
        found[name] = d
    assert found["duckdb"]["routing"]["moved"] > 0
    assert found["postgres"] == found["duckdb"]
    assert found["spark"] == found["duckdb"]


def test_whatif_on_a_salesforce_pull(tmp_path):
    """CRM pulls are a source like any other: both versions' fields are pulled once, and every count
    equals a plain conformance run of each version over the same pulled data."""
    from fake_crm_data import salesforce_tables
    from fakecrm import FakeCRM

    from generator.conformance.checks import build_checks
    from generator.validate import load_playbook
    from generator.whatif.plan import union_model
    from generator.whatif.revisions import Revision
    from generator.whatif.run import run_whatif

    from whatif_data import FIXTURE

    base = load_playbook(FIXTURE)
    fields = [f.model_copy(update={"names": f.names.model_copy(update={"salesforce": n})})
              if (n := {"consent-to-contact": "Consent__c", "specialty": "Specialty__c",
                            "appointment-stage": "Appointment__c.Stage__c", "appointment-lead": "Lead__c",
                            "appointment-at": "Scheduled_At__c"}.get(f.id)) else f
              for f in base.fields]
    # the fake org's Status values are Salesforce's labels
    labels = {"new": "New", "qualified": "Qualified"}
    base = base.model_copy(update={"fields": fields, "stages": [
        s.model_copy(update={"crm_value": labels[s.id]}) if s.id in labels else s for s in base.stages]})
    stages = [s.model_copy(update={"required_fields": ["specialty", "consent-to-contact"]}) if s.id == "qualified" else s
              for s in base.stages]
    head = base.model_copy(update={"stages": stages})
    as_of = default_as_of(head)
    with FakeCRM(token="fake-token-5ecret-value", page_size=2) as crm:
        crm.sf.tables.update(salesforce_tables())
        src = open_source("salesforce", model=union_model(base, head), env=crm.sf_env(), cache_dir=tmp_path,
                          sleep=lambda s: None, max_attempts=2)
        try:
            result = run_whatif(Revision("base", "0" * 40, base), Revision("head", "1" * 40, head), src, as_of=as_of)
            plain = {name: {r.id: r.violations for r in run_checks(m, src, as_of=as_of, checks=build_checks(m)).rules}
                     for name, m in (("base", base), ("head", head))}
        finally:
            src.close()
    assert result.complete and "Salesforce" in result.source and "5ecret" not in result.source
    for r in result.rules:
        assert (r.base, r.head) == (plain["base"].get(r.id), plain["head"].get(r.id)), r.id
    (req,) = [x for x in result.requirements if x.rule == "required-fields.qualified"]
    assert req.head_violations == req.base_violations + req.newly_violating - req.newly_passing
    assert req.newly_passing > 0  # region has no Salesforce name (pulled empty): no longer required


def test_a_revision_that_does_not_validate_is_refused_with_located_errors(world, monkeypatch, capsys):
    repo, data, _ = world
    head = _case(repo, "broken", [("routing.yaml", "queue: cardiology-queue", "queue: cardiology-queu")])
    code, out, err = _whatif(repo, monkeypatch, capsys, "base", head, "--source", str(data))
    assert code == 1 and "Traceback" not in err
    assert f"{head}:{PB}/routing.yaml:" in err and "R001" in err and "cardiology-queu" in err
    assert out == ""
