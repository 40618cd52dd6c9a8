"""Malformed exports end in one clear, located message (exit 2) that never shows a value.

Canary values that look like personal data are planted in the bad cells; they
must never reach stdout, stderr or a report, and no raw engine error (DuckDB's
"Conversion Error", "Binder Error", a CSV's "Original Line") may show through.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from generator.cli import run

FIXTURE = Path(__file__).parent / "fixtures" / "conformance" / "playbook"
AS_OF = "2026-01-31T12:00:00Z"
CANARIES = ("canary.patient@example.org", "Zzyzx-Canary", "555-0199-CANARY", "canary42x")
RAW_ENGINE = ("Conversion Error", "Binder Error", "Invalid Input Error", "Original Line", "Traceback",
              "Catalog Error", "Parser Error")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "data"
    assert run(["demo-data", "--playbook", str(FIXTURE), "--out", str(out), "--leads", "12", "--as-of", AS_OF]) == 0
    return out


def _copy(demo: Path, tmp_path: Path) -> Path:
    d = tmp_path / "export"
    d.mkdir()
    for name in ("leads", "activities", "stage_history", "appointments"):
        shutil.copy(demo / f"{name}.csv", d / f"{name}.csv")
    return d


def _set(d: Path, table: str, column: str, data_row: int, value: str) -> None:
    rows = list(csv.reader((d / f"{table}.csv").open(newline="")))
    rows[data_row][rows[0].index(column)] = value
    with (d / f"{table}.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)


def _lines(d: Path, table: str) -> list[str]:
    return (d / f"{table}.csv").read_text().splitlines()


def _write_lines(d: Path, table: str, lines: list[str]) -> None:
    (d / f"{table}.csv").write_text("\n".join(lines) + "\n")


def _to_parquet(d: Path, mutate_sql: str | None = None) -> None:
    import duckdb

    con = duckdb.connect()
    for name in ("leads", "activities", "stage_history", "appointments"):
        src = d / f"{name}.csv"
        select = f"SELECT * FROM read_csv('{src}', all_varchar = true)" if name == "leads" and mutate_sql else \
            f"SELECT * FROM read_csv('{src}')"
        if name == "leads" and mutate_sql:
            select = mutate_sql.format(src=f"read_csv('{src}', all_varchar = true)")
        con.execute(f"COPY ({select}) TO '{d / f'{name}.parquet'}' (FORMAT parquet)")
        src.unlink()


def case_bad_timestamp(d):
    _set(d, "leads", "created_at", 3, CANARIES[0])


def case_bad_boolean(d):
    _set(d, "leads", "consent", 4, CANARIES[1])


def case_bad_integer(d):
    _set(d, "leads", "score", 5, CANARIES[3])


def case_bad_activity_time(d):
    _set(d, "activities", "occurred_at", 2, CANARIES[0])


def case_missing_column(d):
    rows = list(csv.reader((d / "leads.csv").open(newline="")))
    i = rows[0].index("stage")
    with (d / "leads.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([r[:i] + r[i + 1:] for r in rows])


def case_zero_byte_file(d):
    (d / "activities.csv").write_bytes(b"")


def case_ragged_row(d):
    lines = _lines(d, "leads")
    lines[3] += f',"{CANARIES[0]}","{CANARIES[2]}"'
    _write_lines(d, "leads", lines)


def case_unterminated_quote(d):
    lines = _lines(d, "leads")
    first, rest = lines[3].split(",", 1)
    lines[3] = f'{first},"{CANARIES[1]} {CANARIES[0]},{rest}'
    _write_lines(d, "leads", lines)


def case_header_only(d):
    _write_lines(d, "leads", _lines(d, "leads")[:1])


def case_parquet_text_timestamp(d):
    _to_parquet(d, "SELECT * REPLACE (CASE WHEN lead_id = (SELECT lead_id FROM {src} ORDER BY lead_id LIMIT 1 OFFSET 2) "
                   f"THEN '{CANARIES[0]}' ELSE created_at END AS created_at) FROM {{src}}")


def case_parquet_wrong_schema(d):
    _to_parquet(d, "SELECT * REPLACE (CAST(consent = 'true' AS INTEGER) AS consent) FROM {src}")


CASES = {
    "bad timestamp": (case_bad_timestamp, ["table 'leads', column 'created_at'", "data row 3 of leads.csv", "date-time"]),
    "bad boolean": (case_bad_boolean, ["table 'leads', column 'consent'", "data row 4 of leads.csv", "true or false"]),
    "bad integer": (case_bad_integer, ["table 'leads', column 'score'", "data row 5 of leads.csv", "whole number"]),
    "bad activity time": (case_bad_activity_time, ["table 'activities', column 'occurred_at'", "data row 2"]),
    "missing column": (case_missing_column, ["table 'leads' has no column 'stage'"]),
    "0-byte file": (case_zero_byte_file, ["table 'activities'", "activities.csv is empty (0 bytes)"]),
    "ragged CSV": (case_ragged_row, ["table 'leads'", "leads.csv line 4 has", "ragged"]),
    "unterminated quote": (case_unterminated_quote, ["table 'leads'", "leads.csv line 4", "unterminated quote"]),
    "header-only table": (case_header_only, ["table 'leads' has a header but no rows"]),
    "parquet text timestamp": (case_parquet_text_timestamp,
                               ["table 'leads', column 'created_at'", "data row 3 of leads.parquet"]),
    "wrong-schema parquet": (case_parquet_wrong_schema,
                             ["table 'leads'", "wrong Parquet schema", "column 'consent' is INTEGER"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_export_gets_one_located_message_and_exit_2(case, demo, tmp_path, capsys):
    mutate, expected = CASES[case]
    d = _copy(demo, tmp_path)
    mutate(d)
    reports = tmp_path / "reports"
    code = run(["conform", "--source", str(d), "--playbook", str(FIXTURE), "--as-of", AS_OF,
                "--json", str(reports / "r.json"), "--markdown", str(reports / "r.md")])
    out = capsys.readouterr()
    text = out.out + out.err
    written = "".join(p.read_text() for p in reports.glob("*")) if reports.exists() else ""
    assert code == 2, text
    for fragment in expected:
        assert fragment in out.err, out.err
    for canary in CANARIES:
        assert canary.lower() not in (text + written).lower()
    for raw in RAW_ENGINE:
        assert raw not in text
    assert len(out.err.strip().splitlines()) == 1, out.err  # one message


def test_header_only_side_table_is_empty_not_an_error(demo, tmp_path, capsys):
    d = _copy(demo, tmp_path)
    _write_lines(d, "appointments", _lines(d, "appointments")[:1])
    code = run(["conform", "--source", str(d), "--playbook", str(FIXTURE), "--as-of", AS_OF])
    assert code in (0, 1), capsys.readouterr().err


def test_clean_export_still_reads_with_contract_types(demo, tmp_path):
    from generator.conformance.sources import open_source
    from generator.validate import load_playbook

    with open_source(str(_copy(demo, tmp_path)), model=load_playbook(FIXTURE)) as src:
        types = dict(src.con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                     "WHERE table_name = 'leads'").fetchall())
        assert types["created_at"] == "TIMESTAMP" and types["consent"] == "BOOLEAN"
        assert types["lead_id"] == "VARCHAR" and types["phone"] == "VARCHAR"
        assert src.query("SELECT COUNT(*) FROM leads")[0][0] == 12


def _arrow_tables(d: Path, text_leads: bool = True) -> dict:
    import duckdb

    con = duckdb.connect()
    out = {}
    for name in ("leads", "activities", "stage_history", "appointments"):
        opts = ", all_varchar = true" if name == "leads" and text_leads else ""
        out[name] = con.sql(f"SELECT * FROM read_csv('{d / f'{name}.csv'}'{opts})").to_arrow_table()
    return out


def test_postgres_text_columns_are_checked_by_table_and_column(demo, tmp_path, postgres_server, capsys):
    from generator.conformance.sources.postgres import write_tables

    # Every leads column stored as text: the good ones are cast, the bad one is named.
    d = _copy(demo, tmp_path)
    write_tables(f"{postgres_server}?schema=malformed_ok", _arrow_tables(d))
    assert run(["conform", "--source", f"{postgres_server}?schema=malformed_ok", "--playbook", str(FIXTURE),
                "--as-of", AS_OF]) in (0, 1), capsys.readouterr().err
    case_bad_timestamp(d)
    case_bad_boolean(d)
    url = f"{postgres_server}?schema=malformed_ts"
    write_tables(url, _arrow_tables(d))
    code = run(["conform", "--source", url, "--playbook", str(FIXTURE), "--as-of", AS_OF])
    out = capsys.readouterr()
    assert code == 2, out.err
    assert "table 'leads', column 'created_at': 1 value is not a date-time" in out.err
    assert "column 'consent': 1 value is not true or false" in out.err
    assert not any(c.lower() in (out.out + out.err).lower() for c in CANARIES)
    assert not any(raw in out.err for raw in RAW_ENGINE) and "pg-test-secret" not in out.err


def test_postgres_wrong_column_type_is_refused(demo, tmp_path, postgres_server, capsys):
    import pyarrow as pa

    from generator.conformance.sources.postgres import write_tables

    tables = _arrow_tables(_copy(demo, tmp_path), text_leads=False)
    leads = tables["leads"]
    i = leads.schema.get_field_index("consent")
    tables["leads"] = leads.set_column(i, "consent", pa.array([7] * leads.num_rows, pa.int64()))
    url = f"{postgres_server}?schema=malformed_type"
    write_tables(url, tables)
    assert run(["conform", "--source", url, "--playbook", str(FIXTURE), "--as-of", AS_OF]) == 2
    assert "table 'leads': wrong column type: column 'consent' is bigint" in capsys.readouterr().err


@pytest.mark.slow
def test_spark_text_columns_are_checked_by_table_and_column(demo, tmp_path, spark_session):
    from generator.conformance.source import SourceError
    from generator.conformance.sources import open_source
    from generator.conformance.sources.spark import dir_table_map
    from generator.validate import load_playbook

    d = _copy(demo, tmp_path)
    case_bad_timestamp(d)
    with pytest.raises(SourceError) as exc:
        open_source("spark", tables=dir_table_map(d), model=load_playbook(FIXTURE))
    text = str(exc.value)
    assert "table 'leads', column 'created_at': 1 value is not a date-time" in text
    assert not any(c.lower() in text.lower() for c in CANARIES)


def test_engine_errors_from_every_engine_map_through_one_function():
    import duckdb

    from generator.conformance.sources.engine_errors import engine_message

    con = duckdb.connect()
    with pytest.raises(duckdb.Error) as conv:
        con.execute(f"SELECT CAST('{CANARIES[0]}' AS TIMESTAMP)")
    with pytest.raises(duckdb.Error) as binder:
        con.execute('SELECT "no_such_col" FROM (SELECT 1 AS a)')
    assert CANARIES[0] not in engine_message(conv.value) and "…" in engine_message(conv.value)
    assert '"no_such_col"' in engine_message(binder.value)  # identifiers stay in binder errors

    class FakeSparkError(Exception):  # Spark (Py4J) errors have no common base class
        pass

    spark = FakeSparkError(f"[CAST_INVALID_INPUT] The value '{CANARIES[1]}' of the type \"STRING\" cannot be cast\nmore")
    assert CANARIES[1] not in engine_message(spark) and "more" not in engine_message(spark)
