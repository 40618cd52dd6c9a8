"""`playbook export conformance`: the checks as plain SQL per dialect.

Exports read the warehouse's own clock (CURRENT_TIMESTAMP, in a UTC session)
instead of a fixed `--as-of`, and ship the business-hours table as a CSV so
business-time SLAs work in any warehouse. A runnable dbt project with the same
checks is `playbook export dbt` (generator/export/dbt.py).
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from ..model import Playbook
from .checks import build_checks
from .compile import EXPORT_DIALECTS, Compiler
from .pages import contract_page
from .source import BUSINESS_HOURS_TABLE, LOGICAL_TABLES

CALENDAR_YEARS_BEFORE = 1
CALENDAR_YEARS_AFTER = 3


def calendar_csv(model: Playbook) -> str:
    from .calendar import business_hours_table

    eff = model.playbook.effective
    start = datetime.combine(date(eff.year - CALENDAR_YEARS_BEFORE, 1, 1), time(0), tzinfo=timezone.utc)
    end = datetime.combine(date(eff.year + CALENDAR_YEARS_AFTER, 12, 31), time(23), tzinfo=timezone.utc)
    cols = business_hours_table(model.playbook.calendar, start, end).to_pydict()
    names = list(cols)
    lines = [",".join(names)] + [",".join(str(v) for v in row) for row in zip(*(cols[n] for n in names))]
    return "\n".join(lines) + "\n"


PLACEHOLDERS = {t: f"__pb_table_{t}__" for t in LOGICAL_TABLES + (BUSINESS_HOURS_TABLE,)}


def _plain(sql_text: str) -> str:
    for t, ph in PLACEHOLDERS.items():
        sql_text = sql_text.replace(ph, t)
    return sql_text


def render_export(model: Playbook) -> dict[str, str]:
    """Relative path -> file text for the whole export (deterministic)."""
    checks = build_checks(model)
    by_id = {c.id: c for c in checks}
    files: dict[str, str] = {}
    files["business_hours.csv"] = calendar_csv(model)
    files["DATA-CONTRACT.md"] = contract_page(model, checks=checks)
    for dialect in EXPORT_DIALECTS:
        comp = Compiler(model, dialect, table_names=PLACEHOLDERS).compile(checks, as_of=None, with_ids=True)
        for q in comp.queries:
            header = [f"-- Conformance checks on `{q.table}` for playbook {model.playbook.id} ({dialect}).",
                      "-- Needs the business_hours table (business_hours.csv) next to the data tables.",
                      "-- Columns checked_<n>/violations_<n> belong to these rules:"]
            header += [f"--   {i}: {cid}" for i, cid in enumerate(q.check_ids)]
            files[f"sql/{dialect}/{q.table}.sql"] = "\n".join(header) + "\n" + _plain(q.sql) + ";\n"
        for cid, sql_text in sorted(comp.ids_sql.items()):
            c = by_id[cid]
            files[f"sql/{dialect}/ids/{cid}.sql"] = f"-- {c.title}\n-- Lists violating record ids.\n{_plain(sql_text)};\n"
    files["README.md"] = (
        f"# Conformance checks for {model.playbook.id}\n\n"
        "- `sql/<dialect>/<table>.sql`: one fused query per table returning checked/violation counts per rule.\n"
        "- `sql/<dialect>/ids/<rule>.sql`: the record ids violating one rule.\n"
        "- dbt: `playbook export dbt --out DIR` writes a runnable dbt project with the same checks.\n"
        "- `business_hours.csv`: the playbook calendar as a UTC hour table (load it as `business_hours`).\n"
        "- `DATA-CONTRACT.md`: the tables and columns the checks read.\n\n"
        "Run in a UTC session: times are UTC timestamps without a time zone.\n"
    )
    return files
