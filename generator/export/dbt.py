"""`playbook export dbt --out DIR`: a complete dbt project that runs the conformance checks as it is.

    cd DIR && PLAYBOOK_CRM_DIR=../crm dbt build --profiles-dir .

- `dbt_project.yml`, and `profiles.yml` whose default target is dbt-duckdb reading the data contract's
  tables as `$PLAYBOOK_CRM_DIR/<table>.parquet` in a UTC session (PostgreSQL, Snowflake and BigQuery
  targets are there, commented);
- `models/sources.yml`: the `crm` source, one table per contract table;
- `seeds/business_hours.csv`: the playbook calendar as a UTC hour table (business-time SLAs);
- `tests/conformance/<rule>.sql`: one singular test per rule, the same fused SQL `playbook conform` runs,
  compiled for the target's dialect. Its clock is `var('as_of')` (an ISO time; default: when the run
  started), so `dbt build --vars "{as_of: '2027-03-01T00:00:00Z'}"` counts what
  `playbook conform --as-of 2027-03-01T00:00:00Z` counts;
- each rule's threshold as dbt test config: `fail_calc` makes dbt's failure count the rule's violation
  count, and `error_if` is the threshold (count and rate budget), so a test fails exactly when conform
  fails the rule and its `failures` equals conform's `violations`; a rule within its budget that still
  has violations warns (`warn_if != 0`, which also makes dbt report the count).

Rules the data dictionary gives no data for have no test (conform reports them as not checkable).
"""

from __future__ import annotations

import re

from ..conformance.checks import build_checks
from ..conformance.compile import Compiler
from ..conformance.contract import build_contract
from ..conformance.export import calendar_csv
from ..conformance.source import BUSINESS_HOURS_TABLE, LOGICAL_TABLES
from ..model import Playbook

DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery")
"""dbt adapter type -> our SQL dialect (the same names)."""
CLOCK = 4102444799
"""A stand-in clock (2099-12-31T23:59:59Z) compiled into the SQL and replaced by the dbt clock macro."""
PLACEHOLDERS = {t: f"__pb_table_{t}__" for t in LOGICAL_TABLES + (BUSINESS_HOURS_TABLE,)}
ENV_DIR = "PLAYBOOK_CRM_DIR"


def _project_name(model: Playbook) -> str:
    return "playbook_" + re.sub(r"[^a-z0-9_]", "_", model.playbook.id.lower())


def _jinja(sql: str) -> str:
    """Logical tables as source()/ref() and the stand-in clock as the clock macro."""
    if "{" in sql or "}" in sql:
        raise ValueError("compiled SQL contains a brace; it would be read as Jinja")
    for t, ph in PLACEHOLDERS.items():
        call = "{{ ref('" + t + "') }}" if t == BUSINESS_HOURS_TABLE else "{{ source('crm', '" + t + "') }}"
        sql = sql.replace(ph, call)
    return sql.replace(str(CLOCK), "{{ playbook_as_of_epoch(var('as_of', none)) }}")


def _threshold_config(threshold) -> str:
    """dbt config: failures = violations; error exactly when `Threshold.passes` is false, else warn on any."""
    parts = []
    if threshold.max_violations is not None:
        parts.append(f"> {int(threshold.max_violations)}")
    if threshold.max_rate is not None:
        # A decimal literal, so the comparison is exact like conform's (violations > rate * checked).
        rate = f"{threshold.max_rate:.10f}".rstrip("0").rstrip(".") or "0"
        parts.append(f"> {rate} * sum(checked)")
    # error_if is appended to fail_calc by dbt: "sum(violations) > 3 or sum(violations) > 0.05 * sum(checked)".
    error_if = " or sum(violations) ".join(parts) if parts else "< 0"
    return ("{{ config(severity='error', fail_calc='sum(violations)', "
            f"error_if=\"{error_if}\", warn_if='!= 0') }}}}")


def _tests(model: Playbook) -> dict[str, str]:
    checks = build_checks(model)
    per_dialect: dict[str, dict[str, str]] = {}
    for dialect in DIALECTS:
        comp = Compiler(model, dialect, table_names=PLACEHOLDERS).compile(checks, as_of=CLOCK)
        out = per_dialect[dialect] = {}
        for q in comp.queries:
            for i, cid in enumerate(q.check_ids):
                out[cid] = (f"select checked_{i} as checked, violations_{i} as violations\n"
                            f"from (\n{_jinja(q.sql)}\n) as fused")
    files = {}
    for c in checks:
        branches = []
        for j, dialect in enumerate(DIALECTS):
            kw = "if" if j == 0 else "elif"
            branches.append(f"{{% {kw} target.type == '{dialect}' %}}\n{per_dialect[dialect][c.id]}")
        body = "\n".join(branches) + (
            "\n{% else %}\n{{ exceptions.raise_compiler_error('no conformance SQL for adapter ' ~ target.type) }}"
            "\n{% endif %}\n")
        files[f"tests/conformance/{c.id}.sql"] = (
            f"{_threshold_config(c.threshold)}\n"
            f"-- {c.title} (playbook section {c.section}); threshold: {c.threshold.text()}\n"
            f"-- Counts: {c.counts}\n"
            "-- One row: the rows the rule applies to (checked) and those that break it (violations).\n"
            + body)
    return files


_MACRO = """{#- The conformance clock in epoch seconds: var('as_of') as an ISO time (UTC when it has no
    offset), or when this dbt run started. A number, so every adapter reads the same clock. -#}
{% macro playbook_as_of_epoch(as_of) -%}
  {%- if as_of -%}
    {%- set text = (as_of | string).strip().replace('Z', '+00:00') -%}
    {%- set t = modules.datetime.datetime.fromisoformat(text) -%}
    {%- if t.tzinfo is none -%}{%- set t = t.replace(tzinfo=modules.datetime.timezone.utc) -%}{%- endif -%}
    {{ t.timestamp() | int }}
  {%- else -%}
    {{ run_started_at.timestamp() | int }}
  {%- endif -%}
{%- endmacro %}
"""


def _project_yml(model: Playbook) -> str:
    name = _project_name(model)
    return f"""# The conformance checks of playbook {model.playbook.id} as a dbt project (`playbook export dbt`).
name: {name}
version: "1.0.0"
config-version: 2
profile: playbook

model-paths: ["models"]
seed-paths: ["seeds"]
test-paths: ["tests"]
macro-paths: ["macros"]
target-path: target
clean-targets: [target, logs]

vars:
  # The clock the checks count at, an ISO time such as '2027-03-01T00:00:00Z'; empty: when the run starts.
  as_of:

seeds:
  {name}:
    {BUSINESS_HOURS_TABLE}:
      +column_types:
        hour_start: bigint
        cum_business_seconds: bigint
        open_offset: bigint
        close_offset: bigint
"""


_PROFILES = f"""# Connection profiles (dbt --profiles-dir .). The default reads the CRM export folder with DuckDB.
playbook:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: ":memory:"
      threads: 1
      settings:
        TimeZone: UTC   # the data contract's times are UTC; never the machine's zone
    # PostgreSQL: the contract's tables in one schema, a UTC session.
    # postgres:
    #   type: postgres
    #   host: "{{{{ env_var('PGHOST', 'localhost') }}}}"
    #   port: 5432
    #   user: "{{{{ env_var('PGUSER') }}}}"
    #   password: "{{{{ env_var('PGPASSWORD') }}}}"
    #   dbname: "{{{{ env_var('PGDATABASE') }}}}"
    #   schema: crm
    #   threads: 4
    #   # set the session to UTC on the role: ALTER ROLE <user> SET timezone = 'UTC'
    # snowflake:
    #   type: snowflake
    #   account: "{{{{ env_var('SNOWFLAKE_ACCOUNT') }}}}"
    #   user: "{{{{ env_var('SNOWFLAKE_USER') }}}}"
    #   password: "{{{{ env_var('SNOWFLAKE_PASSWORD') }}}}"
    #   role: "{{{{ env_var('SNOWFLAKE_ROLE') }}}}"
    #   warehouse: "{{{{ env_var('SNOWFLAKE_WAREHOUSE') }}}}"
    #   database: "{{{{ env_var('SNOWFLAKE_DATABASE') }}}}"
    #   schema: CRM
    #   threads: 4
    #   query_tag: playbook-conformance   # and ALTER USER ... SET TIMEZONE = 'UTC'
    # bigquery:
    #   type: bigquery
    #   method: oauth
    #   project: "{{{{ env_var('BIGQUERY_PROJECT') }}}}"
    #   dataset: crm
    #   threads: 4
    #   location: US   # BigQuery timestamps are UTC
"""


def _sources_yml(model: Playbook) -> str:
    contract = {t.name: t for t in build_contract(model).tables}
    lines = ["version: 2", "", "sources:", "  - name: crm",
             "    description: The CRM export in the playbook's data contract (DATA-CONTRACT.md).",
             "    # dbt-duckdb reads each table from the export folder; other adapters read schema `crm`.",
             "    schema: crm",
             "    meta:",
             f"      external_location: \"{{{{ env_var('{ENV_DIR}') }}}}/{{name}}.parquet\"",
             "    tables:"]
    for t in LOGICAL_TABLES:
        lines.append(f"      - name: {t}")
        if t in contract:
            desc = " ".join(contract[t].description.split()).replace('"', "'")
            lines.append(f"        description: \"{desc}\"")
    return "\n".join(lines) + "\n"


def _readme(model: Playbook, n_tests: int) -> str:
    return f"""# dbt conformance project for {model.playbook.id}

Runs the playbook's {n_tests} conformance rules as dbt singular tests, with the same SQL and the same
counts as `playbook conform`.

    cd {_project_name(model)}  # this folder
    PLAYBOOK_CRM_DIR=../crm dbt build --profiles-dir .
    PLAYBOOK_CRM_DIR=../crm dbt build --profiles-dir . --vars "{{as_of: '2027-03-01T00:00:00Z'}}"

- `$PLAYBOOK_CRM_DIR` holds the contract's tables as `<table>.parquet` (`playbook demo-data --format parquet`
  writes such a folder). Times are UTC.
- A test's `failures` is the rule's violation count; it fails when the rule's threshold (count and rate)
  is exceeded, exactly as `playbook conform` fails it.
- Other warehouses: uncomment a target in `profiles.yml` and run with `--target`; each test carries the
  SQL for duckdb, postgres, snowflake and bigquery and picks the target's.
"""


def render(model: Playbook) -> dict[str, str]:
    """Relative path -> text of the whole dbt project (deterministic)."""
    tests = _tests(model)
    files = {
        "dbt_project.yml": _project_yml(model),
        "profiles.yml": _PROFILES,
        "models/sources.yml": _sources_yml(model),
        f"seeds/{BUSINESS_HOURS_TABLE}.csv": calendar_csv(model),
        "macros/playbook_as_of_epoch.sql": _MACRO,
        "README.md": _readme(model, len(tests)),
        **tests,
    }
    return dict(sorted(files.items()))


__all__ = ["render", "DIALECTS"]
