"""Sources: embedded DuckDB over exports, a real PostgreSQL server, a local Spark session."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from generator.conformance.calendar import business_hours_table, business_seconds_between, to_epoch
from generator.conformance.source import Source, SourceError
from generator.conformance.sources import open_source, parse_table_map, require_columns
from generator.redact import redact, redact_url
from generator.conformance.sources.postgres import PostgresError, load_dir, write_tables
from generator.conformance.sources.spark import dir_table_map
from generator.errors import EXIT_USAGE
from generator.model import Calendar

SECRET_EMAIL = "jane.secret@example.org"  # a field value: must never reach a message

CAL = Calendar.model_validate(
    {
        "time_zone": "America/Chicago",
        "hours": [{"days": ["mon", "tue", "wed", "thu", "fri"], "open": "08:30", "close": "17:00"}],
        "holidays": {"country": "US", "observed": ["Independence Day"]},
    }
)
T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)


def _leads() -> pa.Table:
    n = 40
    return pa.table(
        {
            "lead_id": [f"L{i:03d}" for i in range(n)],
            "created_at": pa.array([T0 + timedelta(hours=13 * i) for i in range(n)], pa.timestamp("us", tz="UTC")),
            "email": [SECRET_EMAIL if i == 0 else (None if i % 7 == 0 else f"p{i}@x.test") for i in range(n)],
            "stage": ["new" if i % 3 else "qualified" for i in range(n)],
            "score": pa.array([i * 2 for i in range(n)], pa.int64()),
            "consent": [i % 2 == 0 for i in range(n)],
        }
    )


def _activities() -> pa.Table:
    rows = [(f"A{i:03d}", f"L{i % 40:03d}", T0 + timedelta(hours=13 * (i % 40), minutes=30 + 97 * i)) for i in range(90)]
    return pa.table(
        {
            "activity_id": [r[0] for r in rows],
            "lead_id": [r[1] for r in rows],
            "occurred_at": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
            "activity_type": ["call" if i % 2 else "email" for i in range(90)],
        }
    )


EXPECTED = {"leads": 40, "activities": 90, "qualified": 14, "no_email": 5, "first_touch_leads": 40}

COUNTS_SQL = (
    "SELECT (SELECT COUNT(*) FROM leads), (SELECT COUNT(*) FROM activities), "
    "(SELECT COUNT(*) FROM leads WHERE stage = 'qualified'), (SELECT COUNT(*) FROM leads WHERE email IS NULL), "
    "(SELECT COUNT(DISTINCT lead_id) FROM activities)"
)

# Business seconds from creation to first activity per lead, by the hour table (portable SQL).
BUSINESS_SQL = """
WITH firsts AS (
  SELECT a.lead_id, MIN(a.occurred_at) AS first_at FROM activities a GROUP BY a.lead_id
), pts AS (
  SELECT l.lead_id,
         CAST(EXTRACT(EPOCH FROM l.created_at) AS BIGINT) AS s,
         CAST(EXTRACT(EPOCH FROM f.first_at) AS BIGINT) AS e
  FROM leads l JOIN firsts f ON f.lead_id = l.lead_id
)
SELECT p.lead_id,
  (he.cum_business_seconds + LEAST(GREATEST(p.e - he.hour_start, he.open_offset), he.close_offset) - he.open_offset)
  - (hs.cum_business_seconds + LEAST(GREATEST(p.s - hs.hour_start, hs.open_offset), hs.close_offset) - hs.open_offset)
FROM pts p
JOIN business_hours hs ON hs.hour_start = p.s - p.s % 3600
JOIN business_hours he ON he.hour_start = p.e - p.e % 3600
ORDER BY p.lead_id
"""
SPARK_BUSINESS_SQL = BUSINESS_SQL.replace("CAST(EXTRACT(EPOCH FROM l.created_at) AS BIGINT)", "unix_timestamp(l.created_at)").replace(
    "CAST(EXTRACT(EPOCH FROM f.first_at) AS BIGINT)", "unix_timestamp(f.first_at)"
)


def _expected_business() -> list[tuple[str, int]]:
    leads = {r["lead_id"]: r["created_at"] for r in _leads().to_pylist()}
    firsts: dict[str, datetime] = {}
    for r in _activities().to_pylist():
        firsts[r["lead_id"]] = min(firsts.get(r["lead_id"], r["occurred_at"]), r["occurred_at"])
    return [(k, business_seconds_between(CAL, leads[k], firsts[k])) for k in sorted(firsts)]


def _hours() -> pa.Table:
    return business_hours_table(CAL, T0 - timedelta(days=1), T0 + timedelta(days=60))


@pytest.fixture(scope="module")
def export_dirs(tmp_path_factory):
    """The same two tables as a Parquet folder and as a CSV folder."""
    base = tmp_path_factory.mktemp("exports")
    pdir, cdir = base / "parquet", base / "csv"
    pdir.mkdir()
    cdir.mkdir()
    for name, t in {"leads": _leads(), "activities": _activities()}.items():
        pq.write_table(t, pdir / f"{name}.parquet")
        pacsv.write_csv(t, cdir / f"{name}.csv")
    return {"parquet": pdir, "csv": cdir}


def _check_engine(src: Source, business_sql: str = BUSINESS_SQL) -> None:
    assert isinstance(src, Source)
    assert src.complete is True
    assert list(src.query(COUNTS_SQL)[0]) == [
        EXPECTED["leads"], EXPECTED["activities"], EXPECTED["qualified"], EXPECTED["no_email"], EXPECTED["first_touch_leads"]
    ]
    src.register_table("business_hours", _hours())
    got = [(r[0], int(r[1])) for r in src.query(business_sql)]
    assert got == _expected_business()
    assert any(v > 0 for _, v in got) and any(v == 0 for _, v in got)


# ------------------------------------------------------------------ helpers


def test_redaction_of_urls_and_messages():
    assert redact_url("postgresql://u:hunter22@db:5432/crm?schema=s&password=x") == (
        "postgresql://u:***@db:5432/crm?schema=s&password=***"
    )
    assert "hunter22" not in redact("could not connect to postgresql://u:hunter22@db/crm: Bearer abc.def token=zz9")
    assert "abc.def" not in redact("Authorization: Bearer abc.def")
    assert "s3cr3t" not in redact("failed for key s3cr3t", "s3cr3t")


def test_parse_table_map():
    assert parse_table_map("leads=/d/l.parquet, activities=a.csv") == {"leads": "/d/l.parquet", "activities": "a.csv"}
    with pytest.raises(SourceError, match="name=path"):
        parse_table_map("leads")


# ------------------------------------------------------------------ DuckDB


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_duckdb_folder(export_dirs, fmt):
    src = open_source(str(export_dirs[fmt]))
    try:
        assert src.dialect == "duckdb"
        _check_engine(src)
        assert src.missing_tables == ["stage_history", "appointments"]
        assert src.columns("leads")[:2] == ["lead_id", "created_at"]
        require_columns(src, {"leads": ["lead_id", "created_at"]})
    finally:
        src.close()
        src.close()


def test_duckdb_missing_column_and_table_are_named_without_values(export_dirs):
    with open_source(str(export_dirs["parquet"])) as src:
        with pytest.raises(SourceError) as err:
            require_columns(src, {"leads": ["lead_id", "owner_id", "queue"], "appointments": ["appointment_id"]})
        msg = err.value.message()
        assert "'owner_id'" in msg and "'queue'" in msg and "'appointments' is missing" in msg
        with pytest.raises(SourceError, match="table 'appointments' is missing"):
            src.query("SELECT COUNT(*) FROM appointments")
        with pytest.raises(SourceError) as err:
            src.query("SELECT CAST(email AS INTEGER) FROM leads WHERE lead_id = 'L000'")
        assert SECRET_EMAIL not in err.value.message()
        assert err.value.exit_code == EXIT_USAGE


def test_duckdb_folder_errors(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        open_source(str(tmp_path / "nope"))
    (tmp_path / "activities.csv").write_text("activity_id\nA1\n")
    with pytest.raises(SourceError, match="no leads table"):
        open_source(str(tmp_path))
    with pytest.raises(SourceError, match="unsupported source"):
        open_source("mysql://root:pw1234@h/db")
    try:
        open_source("mysql://root:pw1234@h/db")
    except SourceError as exc:
        assert "pw1234" not in exc.message()


def test_duckdb_tables_option_and_duckdb_file(export_dirs, tmp_path):
    import duckdb

    with open_source(str(tmp_path), tables={"leads": str(export_dirs["parquet"] / "leads.parquet"),
                                            "activities": str(export_dirs["csv"] / "activities.csv")}) as src:
        _check_engine(src)
    db = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE leads AS SELECT * FROM read_parquet('{export_dirs['parquet']}/leads.parquet')")
    con.execute(f"CREATE TABLE activities AS SELECT * FROM read_parquet('{export_dirs['parquet']}/activities.parquet')")
    con.close()
    with open_source(str(db)) as src:
        _check_engine(src)
        with pytest.raises(SourceError, match="read-only"):
            src.query("DELETE FROM leads")  # opened read-only
    assert duckdb.connect(str(db), read_only=True).execute("SELECT COUNT(*) FROM leads").fetchone()[0] == 40


# ------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="module")
def pg_url(postgres_server, export_dirs):
    counts = load_dir(export_dirs["parquet"], postgres_server)
    assert counts == {"leads": 40, "activities": 90}
    write_tables(postgres_server + "?schema=crm_export", {"leads": _leads(), "activities": _activities()})
    return postgres_server


@pytest.mark.slow
def test_postgres_read_only_session(pg_url):
    src = open_source(pg_url)
    try:
        assert src.dialect == "postgres"
        assert "pg-test-secret" not in src.description and "***" in src.description
        _check_engine(src)
        with pytest.raises(PostgresError, match="read-only") as err:
            src.query("DELETE FROM leads")
        assert "pg-test-secret" not in err.value.message()
        assert src.query("SELECT COUNT(*) FROM leads") == [(40,)]
        assert src.query("SHOW default_transaction_read_only") == [("on",)]
        assert "business_hours" not in src._inline  # a real TEMP table, not the VALUES fallback
        assert src.query("SELECT COUNT(*) FROM pg_temp.business_hours")[0][0] > 0
        assert src.columns("leads")[:2] == ["lead_id", "created_at"] and src.columns("nope") is None
    finally:
        src.close()
        src.close()


@pytest.mark.slow
def test_postgres_schema_parameter_and_table_map(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("DELETE FROM public.leads WHERE stage = 'qualified'")  # public now differs from crm_export
    try:
        with open_source(pg_url + "?schema=crm_export") as src:
            _check_engine(src)
        with open_source(pg_url, tables={"leads": "crm_export.leads", "activities": "crm_export.activities"}) as src:
            _check_engine(src)
            assert src.columns("leads")[0] == "lead_id"
    finally:
        write_tables(pg_url, {"leads": _leads()})


@pytest.mark.slow
def test_postgres_helper_table_falls_back_to_values_without_temp_privilege(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("DROP ROLE IF EXISTS reader")
        c.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-pw-99'")
        c.execute("REVOKE TEMPORARY ON DATABASE postgres FROM PUBLIC")
        c.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    url = pg_url.replace("playbook:pg-test-secret-7d1c@", "reader:reader-pw-99@")
    try:
        with open_source(url) as src:
            _check_engine(src)
            assert "business_hours" in src._inline  # really took the fallback path
    finally:
        with psycopg.connect(pg_url, autocommit=True) as c:
            c.execute("GRANT TEMPORARY ON DATABASE postgres TO PUBLIC")


@pytest.mark.slow
def test_postgres_errors_are_redacted(pg_url):
    bad = pg_url.replace("pg-test-secret-7d1c", "wrong-password-123")
    with pytest.raises(PostgresError) as err:
        open_source(bad)
    msg = err.value.message()
    assert "wrong-password-123" not in msg and "pg-test-secret" not in msg
    assert "***" in msg and err.value.exit_code == EXIT_USAGE
    port = int(pg_url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(PostgresError, match="cannot connect") as err:
        open_source(pg_url.replace(f":{port}/", ":1/"))
    assert "pg-test-secret" not in err.value.message()
    with open_source(pg_url) as src:
        with pytest.raises(PostgresError) as err:
            src.query("SELECT CAST(email AS INTEGER) FROM leads WHERE lead_id = 'L000'")
        assert SECRET_EMAIL not in err.value.message() and "22P02" in err.value.message()
        with pytest.raises(PostgresError, match='column "nope" does not exist'):
            src.query("SELECT nope FROM leads")


# ------------------------------------------------------------------ Spark


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_spark_tables(spark_session, export_dirs, fmt):
    src = open_source("spark", tables=dir_table_map(export_dirs[fmt]))
    try:
        assert src.dialect == "spark" and src.spark is spark_session
        _check_engine(src, SPARK_BUSINESS_SQL)
        assert src.columns("leads")[0] == "lead_id"
    finally:
        src.close()
    assert not spark_session.catalog.tableExists("leads")  # our views are gone, the session lives on
    assert spark_session.sql("SELECT 1").collect()[0][0] == 1


@pytest.mark.slow
def test_spark_catalog_and_errors(spark_session, export_dirs, tmp_path):
    spark_session.read.parquet(str(export_dirs["parquet"] / "leads.parquet")).createOrReplaceTempView("crm_leads")
    spark_session.read.parquet(str(export_dirs["parquet"] / "activities.parquet")).createOrReplaceTempView("crm_acts")
    with open_source("spark", tables={"leads": "crm_leads", "activities": "crm_acts"}) as src:
        _check_engine(src, SPARK_BUSINESS_SQL)
        with pytest.raises(SourceError) as err:
            src.query("SELECT CAST(email AS INT) FROM leads WHERE lead_id = 'L000'")
        assert SECRET_EMAIL not in err.value.message()
    with pytest.raises(SourceError, match="does not exist"):
        open_source("spark", tables={"leads": str(tmp_path / "missing.parquet")})
    with pytest.raises(SourceError, match="no leads table"):
        open_source("spark", tables={"activities": "crm_acts"})


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["duckdb", "postgres", "spark"])
def test_open_folder_on_every_engine(engine, export_dirs, request):
    from generator.conformance.sources import open_folder_on

    url = request.getfixturevalue("postgres_server") + "?schema=folder_copy" if engine == "postgres" else None
    if engine == "spark":
        request.getfixturevalue("spark_session")
    src = open_folder_on(engine, export_dirs["parquet"], postgres_url=url)
    try:
        assert src.dialect == {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark"}[engine]
        _check_engine(src, SPARK_BUSINESS_SQL if engine == "spark" else BUSINESS_SQL)
    finally:
        src.close()


def test_csv_columns_take_contract_types_when_the_model_is_given(tmp_path):
    from generator.validate import load_playbook

    model = load_playbook(Path(__file__).parent / "fixtures" / "conformance" / "playbook")
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,phone,consent,extra\n1001,2024-03-04 15:00:00,5551234567,true,1\n1002,2024-03-05 09:00:00,,false,2\n"
    )
    with open_source(str(tmp_path)) as sniffed:  # ids and phones that look numeric are sniffed as numbers
        assert sniffed.query("SELECT typeof(lead_id), typeof(phone) FROM leads LIMIT 1") == [("BIGINT", "BIGINT")]
    with open_source(str(tmp_path), model=model) as typed:
        assert typed.query("SELECT lead_id, phone, consent, created_at FROM leads ORDER BY 1") == [
            ("1001", "5551234567", True, datetime(2024, 3, 4, 15, 0)), ("1002", None, False, datetime(2024, 3, 5, 9, 0))]
        assert typed.query("SELECT typeof(extra) FROM leads LIMIT 1") == [("BIGINT",)]  # not in the contract: sniffed
