"""Benchmark: every conformance check on 1M leads / 10M activities in DuckDB, against references.

In one run, on the same Parquet files:

1. `playbook`'s compiled checks (`run_checks`: calendar range, hour table, one fused query per table);
2. one hand-written fused SQL statement computing the same 32 (checked, violations) pairs for the
   benchmark playbook (`tests/fixtures/sources/bench-playbook`); the run fails loudly if any count differs;
3. Soda Core v4 (`soda-core` + `soda-duckdb`, telemetry off) on the checks it can express exactly,
   with its counts compared to ours.

Each phase runs in its own process so its peak RSS is its own. The data is generated with
vectorised DuckDB SQL from the data contract of the model (no Python row loops).

    .venv/bin/python -m benchmarks.conformance [--leads 1000000] [--activities-per-lead 10] [--repeat 3]

Soda needs `ruamel.yaml<0.19` while the project pins 0.19.1, so it lives in its own virtualenv
(`.cache/soda-venv`, created from `benchmarks/requirements-soda.txt` by `make bench` or on first use).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "sources" / "bench-playbook"  # a frozen copy: the hand-written SQL matches it
SODA_VENV = ROOT / ".cache" / "soda-venv"
SODA_REQUIREMENTS = Path(__file__).resolve().parent / "requirements-soda.txt"
AS_OF = 1767225600  # 2026-01-01T00:00:00Z: fixed so every phase sees the same clock
DAY = 86400
SODA_ENV = {"SODA_CORE_TELEMETRY_ENABLED": "false", "OTEL_SDK_DISABLED": "true"}


def _rss_mb() -> float:
    """This process's own peak RSS in MB.

    Not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's RSS at fork (execve folds
    the forked copy's high-water mark in), so under `python -m benchmarks`, whose process has grown
    to ~500 MB by then, every phase reported at least that. VmHWM belongs to the exec'd image alone.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---------------------------------------------------------------- data generation


def _model():
    sys.path.insert(0, str(ROOT))
    from generator.validate import load_playbook

    return load_playbook(FIXTURE)


def _column_sql(model, f, table: str, n_leads: int) -> str:
    """A vectorised SQL expression producing realistic values (and a few violations) for one column."""
    from generator.conformance.checks import implied_values

    h = f"hash(i, {sum(map(ord, f.id)) * 31 % 9973})"  # deterministic per column
    u = f"(({h} % 1000000) / 1000000.0)"
    sem, typ = f.semantic, f.type
    if table == "leads":
        if sem == "record_id":
            return "printf('L%09d', i)"
        if sem == "created_at":
            return f"TIMESTAMP '2025-01-01' + to_seconds(CAST({h} % (330 * 86400) AS BIGINT))"
        if sem == "email":
            return f"CASE WHEN {u} < 0.02 THEN NULL ELSE printf('p%d@example.test', i % {max(1, int(n_leads * 0.985))}) END"
        if sem == "phone":
            return f"CASE WHEN {u} < 0.03 THEN NULL ELSE printf('+1 (555) %07d', (i * 7919) % {max(1, int(n_leads * 0.99))}) END"
        if sem == "first_name":
            return f"'F' || ({h} % 3000)"
        if sem == "last_name":
            return f"'L' || ({h} % 9000)"
        if sem == "consent":
            return f"CASE WHEN {u} < 0.01 THEN NULL ELSE {u} < 0.92 END"
        if sem == "do_not_contact":
            return f"{u} < 0.02"
        if sem == "duplicate_flag":
            return f"{u} < 0.01"
        if sem == "duplicate_of":
            return f"CASE WHEN {u} < 0.005 THEN printf('L%09d', {h} % {n_leads}) END"
        if sem == "escalated_at":
            return f"CASE WHEN {u} < 0.3 THEN TIMESTAMP '2025-01-01' + to_seconds(CAST({h} % (330 * 86400) AS BIGINT)) END"
        if sem == "reason_note":
            return f"CASE WHEN {u} < 0.9 THEN 'note ' || ({h} % 50) END"
        if sem in ("utm_source", "utm_campaign"):
            return f"CASE WHEN {u} < 0.95 THEN 'utm' || ({h} % 20) END"
    values = implied_values(model, f)
    if values:
        lst = "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"
        return (f"CASE WHEN {u} < 0.03 THEN NULL WHEN {u} < 0.035 THEN 'bogus' "
                f"ELSE {lst}[1 + CAST({h} % {len(values)} AS INTEGER)] END")
    if typ == "boolean":
        return f"{u} < 0.5"
    if typ == "integer":
        return f"CAST({h} % 100 AS BIGINT)"
    if typ == "number":
        return f"{u} * 100"
    if typ == "date":
        return f"CASE WHEN {u} < 0.1 THEN NULL ELSE DATE '2025-01-01' + CAST({h} % 365 AS INTEGER) END"
    if typ == "datetime":
        return f"TIMESTAMP '2025-01-01' + to_seconds(CAST({h} % (330 * 86400) AS BIGINT))"
    return f"CASE WHEN {u} < 0.05 THEN NULL ELSE 'v' || ({h} % 1000) END"


def generate(out: Path, n_leads: int, per_lead: int, threads: int | None = None) -> dict:
    """Write leads/activities/stage_history/appointments Parquet files shaped by the data contract."""
    import duckdb

    from generator.conformance.checks import stage_value
    from generator.conformance.contract import build_contract

    model = _model()
    contract = build_contract(model)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    if threads:
        con.execute(f"SET threads = {threads}")
    fields = {f.id: f for f in model.fields}

    def cols(table: str, override: dict[str, str]) -> str:
        t = contract.table(table)
        return ",\n  ".join(
            f'{override.get(c.semantic or "", _column_sql(model, fields[c.field_id], table, n_leads))} AS "{c.name}"'
            for c in t.columns
        )

    lead_created = contract.by_semantic("leads", "created_at").name
    lead_id = contract.by_semantic("leads", "record_id").name
    stage_col = contract.by_semantic("leads", "stage").name
    stages = [stage_value(model, s) for s in model.stage_order()]
    stage_list = "[" + ", ".join("'" + s.replace("'", "''") + "'" for s in stages) + "]"
    counts: dict[str, int] = {}

    def copy(table: str, select: str) -> None:
        path = out / f"{table}.parquet"
        con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)")
        counts[table] = con.execute(f"SELECT COUNT(*) FROM read_parquet('{path}')").fetchone()[0]

    # Leads: the stage column leans to the early stages, as a real funnel does.
    copy("leads", f"SELECT {cols('leads', {'stage': f'CASE WHEN hash(i, 17) % 1000 < 3 THEN {chr(39)}bogus{chr(39)} ELSE {stage_list}[1 + CAST(LEAST(hash(i, 18) % 7, hash(i, 19) % 7) % {len(stages)} AS INTEGER)] END'})} FROM range({n_leads}) t(i)")
    leads = f"read_parquet('{out / 'leads.parquet'}')"
    # Activities: `per_lead` per lead, after the lead was created.
    act_override = {
        "record_id": "printf('A%09d_%02d', l.n, j)",
        "lead_ref": f'l."{lead_id}"',
        "occurred_at": f'l."{lead_created}" + to_seconds(CAST(hash(l.n, j, 3) % (6 * 86400) AS BIGINT))',
    }
    act_cols = cols("activities", act_override).replace("hash(i,", "hash(l.n * 64 + j,")
    copy("activities", f"SELECT {act_cols} FROM (SELECT *, row_number() OVER () - 1 AS n FROM {leads}) l, range({per_lead}) r(j)")
    # Stage history: a walk along the stage order (creation row first), with a few odd jumps.
    sh_override = {
        "record_id": "printf('H%09d_%d', l.n, j)",
        "lead_ref": f'l."{lead_id}"',
        "from_stage": f"CASE WHEN j = 0 THEN NULL ELSE {stage_list}[j] END",
        "to_stage": f"CASE WHEN hash(l.n, j, 5) % 500 = 0 THEN {stage_list}[1 + CAST(hash(l.n, j, 6) % {len(stages)} AS INTEGER)] ELSE {stage_list}[j + 1] END",
        # Qualification (j = 1) up to 85 hours after creation: some leads are qualified late on the 2nd
        # business day after, where "2 business days" (a deadline at that day's close) and 20 business
        # hours disagree, so the counts tell the two readings apart.
        "changed_at": f'l."{lead_created}" + to_seconds(CAST(j * 5 * 3600 + hash(l.n, j, 7) % '
                      f'((CASE WHEN j = 1 THEN 80 ELSE 30 END) * 3600) AS BIGINT))',
    }
    sh_cols = cols("stage_history", sh_override).replace("hash(i,", "hash(l.n * 64 + j,")
    copy("stage_history", f"SELECT {sh_cols} FROM (SELECT *, row_number() OVER () - 1 AS n FROM {leads}) l, "
                          f"range({len(stages)}) r(j) WHERE j <= CAST(list_position({stage_list}, l.\"{stage_col}\") AS BIGINT) - 1 "
                          f"AND j < {len(stages)} - 1 OR j = 0")
    # Appointments: about a third of leads.
    ap_override = {
        "record_id": "printf('P%09d', l.n)",
        "lead_ref": f'l."{lead_id}"',
        "appointment_at": f'l."{lead_created}" + to_seconds(CAST(hash(l.n, 9) % (20 * 86400) AS BIGINT))',
    }
    ap_cols = cols("appointments", ap_override).replace("hash(i,", "hash(l.n * 64,")
    copy("appointments", f"SELECT {ap_cols} FROM (SELECT *, row_number() OVER () - 1 AS n FROM {leads}) l WHERE hash(l.n, 8) % 3 = 0")
    con.close()
    return counts


# ---------------------------------------------------------------- the compiled checks


def phase_checks(data: Path, repeat: int, only: list[str] | None = None) -> dict:
    """Time `run_checks` on the folder (best of `repeat`), with per-table query times, counts, peak RSS."""
    from generator.conformance.checks import build_checks
    from generator.conformance.run import run_checks
    from generator.conformance.sources import open_source

    model = _model()
    checks = build_checks(model)
    if only is not None:
        checks = [c for c in checks if c.id in set(only)]
    times, counts, tables = [], {}, {}
    for _ in range(repeat):
        marks: list[tuple[str, float]] = []
        src = open_source(str(data))
        try:
            t0 = time.perf_counter()
            result = run_checks(model, src, as_of=AS_OF, generated_at=AS_OF, checks=checks,
                                progress=lambda msg, done, total: marks.append((msg, time.perf_counter())))
            times.append(time.perf_counter() - t0)
        finally:
            src.close()
        counts = {r.id: [r.checked, r.violations] for r in result.rules}
        if times[-1] == min(times):
            # run_checks reports before each fused query and once at the end: the gaps are query times.
            tables = {m.removeprefix("checking "): round(t2 - t1, 2) for (m, t1), (_, t2) in zip(marks, marks[1:])}
            tables["calendar + range"] = round(marks[0][1] - t0, 2) if marks else 0.0
    return {"seconds": min(times), "all_seconds": times, "rss_mb": _rss_mb(), "counts": counts, "tables": tables}


# ---------------------------------------------------------------- the hand-written reference

# Hand-written for the benchmark playbook: one statement, each table scanned once for its own
# checks (leads three more times for the duplicate groups, which GROUP BY instead of ranking).
# Business time joins the same hour table. SLA clocks follow DATA-CONTRACT.md ("SLA clocks"): the
# clock starts at the start event's time (the first entry into `qualified` for first-call, created_at
# for qualify-fast) and stops at the first stop event AT OR AFTER the start, of the stop's own kind: a
# call logged before the lead was qualified does not stop the first-call clock, so `act` takes the
# first call at or after the lead's first `qualified` entry, and `qual_stop` the first `qualified`
# entry at or after created_at. "Within 4 business hours" is business seconds (B(stop) - B(start));
# "within 2 business days" is a deadline, the close of the 2nd business day after the day the clock
# started, a clock started outside opening hours belonging to the next business day (DATA-CONTRACT.md,
# "Business days"), found here by numbering the calendar's closes (ASOF JOIN), not by the compiled
# checks' counts of closes before an hour.
HAND_SQL = """
WITH
sh AS (
  SELECT lead_id,
    bool_or(to_stage = 'scheduled') AS ent_sched, bool_or(to_stage = 'in-treatment') AS ent_treat,
    bool_or(to_stage = 'Closed - Lost') AS ent_lost, bool_or(to_stage = 'qualified') AS ent_qual,
    epoch(min(changed_at) FILTER (WHERE to_stage = 'qualified'))::BIGINT AS qual_at,
    min(changed_at) FILTER (WHERE to_stage = 'qualified') AS qual_ts,
    count(*) FILTER (WHERE NOT (from_stage IS NULL OR trim(from_stage) = '')) AS from_checked,
    count(*) FILTER (WHERE NOT (from_stage IS NULL OR trim(from_stage) = '') AND from_stage NOT IN ({stages})) AS from_bad,
    count(*) FILTER (WHERE NOT (to_stage IS NULL OR trim(to_stage) = '')) AS to_checked,
    count(*) FILTER (WHERE NOT (to_stage IS NULL OR trim(to_stage) = '') AND to_stage NOT IN ({stages})) AS to_bad,
    count(*) AS rows_,
    count(*) FILTER (WHERE NOT coalesce(
        (from_stage, to_stage) IN (('new', 'qualified'), ('new', 'Closed - Lost'), ('qualified', 'scheduled'),
                                   ('qualified', 'Closed - Lost'), ('scheduled', 'in-treatment'), ('scheduled', 'Closed - Lost'))
        OR ((from_stage IS NULL OR trim(from_stage) = '') AND to_stage = 'new'), false)) AS trans_bad
  FROM stage_history GROUP BY lead_id
),
act AS (
  SELECT lead_id,
    epoch(min(occurred_at) FILTER (WHERE activity_type = 'call' AND occurred_at >= sh.qual_ts))::BIGINT AS first_call,
    count(*) AS n,
    count(*) FILTER (WHERE activity_type IN ('sms', 'email')) AS outreach,
    count(*) FILTER (WHERE NOT (activity_type IS NULL OR trim(activity_type) = '')) AS type_checked,
    count(*) FILTER (WHERE NOT (activity_type IS NULL OR trim(activity_type) = '') AND activity_type NOT IN ('call', 'email', 'sms')) AS type_bad,
    count(*) FILTER (WHERE NOT (call_outcome IS NULL OR trim(call_outcome) = '')) AS outcome_checked,
    count(*) FILTER (WHERE NOT (call_outcome IS NULL OR trim(call_outcome) = '') AND call_outcome NOT IN ('reached', 'voicemail', 'no-answer')) AS outcome_bad,
    count(*) FILTER (WHERE activity_type = 'call') AS calls,
    count(*) FILTER (WHERE activity_type = 'call' AND ((call_outcome IS NULL OR trim(call_outcome) = '') OR next_follow_up IS NULL)) AS calls_bad
  FROM activities LEFT JOIN sh USING (lead_id) GROUP BY lead_id
),
qual_stop AS (  -- qualify-fast stop: the first entry into qualified at or after the lead was created
  SELECT h.lead_id, epoch(min(h.changed_at))::BIGINT AS qual_stop
  FROM stage_history h JOIN leads l ON l.lead_id = h.lead_id
  WHERE h.to_stage = 'qualified' AND h.changed_at >= l.created_at GROUP BY h.lead_id
),
ap AS (
  SELECT lead_id, bool_or(appointment_stage = 'booked') AS booked, bool_or(appointment_stage = 'completed') AS completed,
    count(*) FILTER (WHERE NOT (appointment_stage IS NULL OR trim(appointment_stage) = '')) AS ap_checked,
    count(*) FILTER (WHERE NOT (appointment_stage IS NULL OR trim(appointment_stage) = '') AND appointment_stage NOT IN ('booked', 'completed')) AS ap_bad
  FROM appointments GROUP BY lead_id
),
act_leads AS (  -- activity counts that need the lead's consent flags (orphan activities count as not consented)
  SELECT sum(a.n) AS n, sum(a.outreach) AS outreach,
    sum(a.outreach) FILTER (WHERE NOT coalesce(l.consent, false)) AS outreach_bad,
    sum(a.n) FILTER (WHERE coalesce(l.do_not_contact, false)) AS dnc_bad,
    sum(a.type_checked) AS type_checked, sum(a.type_bad) AS type_bad,
    sum(a.outcome_checked) AS outcome_checked, sum(a.outcome_bad) AS outcome_bad,
    sum(a.calls) AS calls, sum(a.calls_bad) AS calls_bad
  FROM act a LEFT JOIN leads l ON l.lead_id = a.lead_id
),
sh_tot AS (
  SELECT sum(from_checked) AS from_checked, sum(from_bad) AS from_bad, sum(to_checked) AS to_checked,
    sum(to_bad) AS to_bad, sum(rows_) AS rows_, sum(trans_bad) AS trans_bad FROM sh
),
ap_tot AS (SELECT sum(ap_checked) AS ap_checked, sum(ap_bad) AS ap_bad FROM ap),
dup_email AS (
  SELECT sum(unflagged) - sum(first_unflagged) AS bad, sum(n) AS checked FROM (
    SELECT count(*) AS n, sum(unflagged::INT) AS unflagged,
      arg_min(unflagged::INT, (epoch(created_at)::BIGINT, lead_id)) AS first_unflagged
    FROM (SELECT lower(trim(email)) AS k, created_at, lead_id,
            NOT coalesce(is_duplicate, false) AND (merged_into IS NULL OR trim(merged_into) = '') AS unflagged
          FROM leads WHERE NOT (email IS NULL OR trim(email) = '')) GROUP BY k)
),
dup_name AS (
  SELECT sum(unflagged) - sum(first_unflagged) AS bad, sum(n) AS checked FROM (
    SELECT count(*) AS n, sum(unflagged::INT) AS unflagged,
      arg_min(unflagged::INT, (epoch(created_at)::BIGINT, lead_id)) AS first_unflagged
    FROM (SELECT lower(trim(first_name)) AS k1, lower(trim(last_name)) AS k2, location AS k3, created_at, lead_id,
            NOT coalesce(is_duplicate, false) AND (merged_into IS NULL OR trim(merged_into) = '') AS unflagged
          FROM leads WHERE NOT (first_name IS NULL OR trim(first_name) = '') AND NOT (last_name IS NULL OR trim(last_name) = '')
            AND NOT (location IS NULL OR trim(location) = '')) GROUP BY k1, k2, k3)
),
dup_phone AS (
  SELECT sum(unflagged) - sum(first_unflagged) AS bad, sum(n) AS checked FROM (
    SELECT count(*) AS n, sum(unflagged::INT) AS unflagged,
      arg_min(unflagged::INT, (epoch(created_at)::BIGINT, lead_id)) AS first_unflagged
    FROM (SELECT regexp_replace(phone, '[^0-9]', '', 'g') AS k, created_at, lead_id,
            NOT coalesce(is_duplicate, false) AND (merged_into IS NULL OR trim(merged_into) = '') AS unflagged
          FROM leads WHERE NOT (phone IS NULL OR trim(phone) = '')) GROUP BY k)
),
x AS (
  SELECT l.*, coalesce(sh.ent_sched, false) AS ent_sched, coalesce(sh.ent_treat, false) AS ent_treat,
    coalesce(sh.ent_lost, false) AS ent_lost, coalesce(sh.ent_qual, false) AS ent_qual, sh.qual_at,
    act.first_call, qs.qual_stop, coalesce(ap.booked, false) AS booked, coalesce(ap.completed, false) AS completed,
    epoch(l.created_at)::BIGINT AS t_created,
    coalesce(sh.qual_at, {as_of}) AS t_qual, coalesce(act.first_call, {as_of}) AS t_call,
    coalesce(qs.qual_stop, {as_of}) AS t_qual_stop
  FROM leads l LEFT JOIN sh USING (lead_id) LEFT JOIN act USING (lead_id) LEFT JOIN ap USING (lead_id)
    LEFT JOIN qual_stop qs USING (lead_id)
),
closes AS (  -- every business day's close, numbered in time order
  SELECT hour_start + day_close_offset AS close_at, row_number() OVER (ORDER BY hour_start) AS k
  FROM business_hours WHERE day_close_offset >= 0
),
qf_deadline AS (  -- qualify-fast: by the close of the 2nd business day after the clock's day. A clock
  -- started before a day's close belongs to that day, one started at or after it (or on a closed day)
  -- to the next business day: either way the first close after the start closes the clock's day.
  SELECT x.lead_id, d.close_at AS deadline
  FROM x ASOF JOIN closes c ON x.t_created < c.close_at
  JOIN closes d ON d.k = c.k + 2
),
b AS (
  SELECT x.*, qd.deadline AS qf_deadline,
    bc.cum_business_seconds + least(greatest(x.t_created - bc.hour_start, bc.open_offset), bc.close_offset) - bc.open_offset AS b_created,
    bq.cum_business_seconds + least(greatest(x.t_qual - bq.hour_start, bq.open_offset), bq.close_offset) - bq.open_offset AS b_qual,
    bk.cum_business_seconds + least(greatest(x.t_call - bk.hour_start, bk.open_offset), bk.close_offset) - bk.open_offset AS b_call
  FROM x
  LEFT JOIN business_hours bc ON bc.hour_start = x.t_created - x.t_created % 3600
  LEFT JOIN business_hours bq ON bq.hour_start = x.t_qual - x.t_qual % 3600
  LEFT JOIN business_hours bk ON bk.hour_start = x.t_call - x.t_call % 3600
  LEFT JOIN qf_deadline qd USING (lead_id)
),
lead_tot AS (
  SELECT
    {allowed_leads},
    count(*) FILTER (WHERE booked OR completed) AS apc_checked,
    count(*) FILTER (WHERE (booked AND NOT (ent_sched OR coalesce(stage = 'scheduled', false)))
                        OR (completed AND NOT (ent_treat OR coalesce(stage = 'in-treatment', false)))) AS apc_bad,
    count(*) AS attr_checked,
    count(*) FILTER (WHERE (attribution_channel IS NULL OR trim(attribution_channel) = '')
                        OR attribution_channel NOT IN ('paid-search', 'organic', 'referral', 'unattributed')
                        OR (utm_source IS NULL OR trim(utm_source) = '') OR (utm_campaign IS NULL OR trim(utm_campaign) = '')) AS attr_bad,
    count(*) FILTER (WHERE stage = 'Closed - Lost') AS closed_checked,
    count(*) FILTER (WHERE stage = 'Closed - Lost' AND (closure_reason IS NULL OR trim(closure_reason) = '')) AS closed_bad,
    count(*) FILTER (WHERE ent_lost OR coalesce(stage = 'Closed - Lost', false)) AS note_lost_checked,
    count(*) FILTER (WHERE (ent_lost OR coalesce(stage = 'Closed - Lost', false)) AND (reason_note IS NULL OR trim(reason_note) = '')) AS note_lost_bad,
    count(*) FILTER (WHERE closure_reason = 'not-a-fit') AS note_reason_checked,
    count(*) FILTER (WHERE closure_reason = 'not-a-fit' AND (reason_note IS NULL OR trim(reason_note) = '')) AS note_reason_bad,
    count(*) FILTER (WHERE ent_qual OR coalesce(stage = 'qualified', false)) AS qual_checked,
    count(*) FILTER (WHERE (ent_qual OR coalesce(stage = 'qualified', false)) AND (reason_note IS NULL OR trim(reason_note) = '')) AS note_qual_bad,
    count(*) FILTER (WHERE (ent_qual OR coalesce(stage = 'qualified', false))
                       AND ((specialty IS NULL OR trim(specialty) = '') OR (region IS NULL OR trim(region) = '') OR consent IS NULL)) AS req_qual_bad,
    count(*) FILTER (WHERE ent_sched OR coalesce(stage = 'scheduled', false)) AS sched_checked,
    count(*) FILTER (WHERE (ent_sched OR coalesce(stage = 'scheduled', false)) AND (phone IS NULL OR trim(phone) = '')) AS req_sched_bad,
    count(*) FILTER (WHERE NOT (queue IS NULL OR trim(queue) = '')) AS route_checked,
    count(*) FILTER (WHERE NOT (queue IS NULL OR trim(queue) = '')
                       AND NOT (queue = 'general-queue' OR (coalesce(specialty = 'cardiology', false) AND queue = 'cardiology-queue'))) AS route_bad,
    count(*) FILTER (WHERE qual_at IS NOT NULL AND (first_call IS NOT NULL OR stage <> 'Closed - Lost')) AS fc_checked,
    count(*) FILTER (WHERE qual_at IS NOT NULL AND (first_call IS NOT NULL OR stage <> 'Closed - Lost') AND b_call - b_qual > 14400) AS fc_bad,
    count(*) FILTER (WHERE qual_at IS NOT NULL AND (first_call IS NOT NULL OR stage <> 'Closed - Lost') AND b_call - b_qual > 14400
                       AND escalated_at IS NULL) AS esc_bad,
    count(*) FILTER (WHERE t_created IS NOT NULL AND (qual_stop IS NOT NULL OR stage <> 'Closed - Lost')) AS qf_checked,
    count(*) FILTER (WHERE t_created IS NOT NULL AND (qual_stop IS NOT NULL OR stage <> 'Closed - Lost') AND t_qual_stop > qf_deadline) AS qf_bad
  FROM b
)
SELECT * FROM lead_tot, act_leads, sh_tot, ap_tot,
  (SELECT bad AS de_bad, checked AS de_checked FROM dup_email),
  (SELECT bad AS dn_bad, checked AS dn_checked FROM dup_name),
  (SELECT bad AS dp_bad, checked AS dp_checked FROM dup_phone)
"""

LEAD_ENUMS = {
    "attribution-channel": ("attribution_channel", ["paid-search", "organic", "referral", "unattributed"]),
    "closure-reason": ("closure_reason", ["no-response", "not-a-fit", "duplicate"]),
    "lead-source": ("lead_source", ["web", "referral", "event"]),
    "lead-stage": ("stage", ["new", "qualified", "scheduled", "in-treatment", "Closed - Lost"]),
    "location": ("location", ["uptown", "riverside", "harbor"]),
    "queue": ("queue", ["cardiology-queue", "general-queue"]),
    "region": ("region", ["north", "south"]),
    "specialty": ("specialty", ["cardiology", "orthopedics"]),
}


def _lst(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def hand_sql() -> str:
    """The hand-written statement with its value lists filled in."""
    allowed = []
    for fid, (col, values) in LEAD_ENUMS.items():
        n = fid.replace("-", "_")
        blank = f"({col} IS NULL OR trim({col}) = '')"
        allowed.append(f"count(*) FILTER (WHERE NOT {blank}) AS av_{n}_checked")
        allowed.append(f"count(*) FILTER (WHERE NOT {blank} AND {col} NOT IN ({_lst(values)})) AS av_{n}_bad")
    return HAND_SQL.format(stages=_lst(LEAD_ENUMS["lead-stage"][1]), as_of=AS_OF, allowed_leads=",\n    ".join(allowed))


def hand_counts(row: dict) -> dict[str, list[int]]:
    """Map the statement's columns onto rule ids."""
    out = {f"allowed-values.{fid}": [row[f"av_{fid.replace('-', '_')}_checked"], row[f"av_{fid.replace('-', '_')}_bad"]]
           for fid in LEAD_ENUMS}
    out.update({
        "allowed-values.activity-type": [row["type_checked"], row["type_bad"]],
        "allowed-values.call-outcome": [row["outcome_checked"], row["outcome_bad"]],
        "allowed-values.from-stage": [row["from_checked"], row["from_bad"]],
        "allowed-values.to-stage": [row["to_checked"], row["to_bad"]],
        "allowed-values.appointment-stage": [row["ap_checked"], row["ap_bad"]],
        "appointment-stage-consistent": [row["apc_checked"], row["apc_bad"]],
        "attribution-present": [row["attr_checked"], row["attr_bad"]],
        "call-logging": [row["calls"], row["calls_bad"]],
        "closure-reason-present": [row["closed_checked"], row["closed_bad"]],
        "duplicates.email": [row["de_checked"], row["de_bad"]],
        "duplicates.name-location": [row["dn_checked"], row["dn_bad"]],
        "duplicates.phone": [row["dp_checked"], row["dp_bad"]],
        "outreach-before-consent": [row["outreach"], row["outreach_bad"]],
        "outreach-do-not-contact": [row["n"], row["dnc_bad"]],
        "reason-note-present.closed-lost": [row["note_lost_checked"], row["note_lost_bad"]],
        "reason-note-present.closure": [row["note_reason_checked"], row["note_reason_bad"]],
        "reason-note-present.qualified": [row["qual_checked"], row["note_qual_bad"]],
        "required-fields.qualified": [row["qual_checked"], row["req_qual_bad"]],
        "required-fields.scheduled": [row["sched_checked"], row["req_sched_bad"]],
        "routing-consistent": [row["route_checked"], row["route_bad"]],
        "sla-escalated.first-call": [row["fc_bad"], row["esc_bad"]],
        "sla.first-call": [row["fc_checked"], row["fc_bad"]],
        "sla.qualify-fast": [row["qf_checked"], row["qf_bad"]],
        "transition-allowed": [row["rows_"], row["trans_bad"]],
    })
    return {k: [int(v[0] or 0), int(v[1] or 0)] for k, v in out.items()}


RANGE_SQL = """
SELECT min(lo), max(hi) FROM (
  SELECT epoch(min(created_at))::BIGINT AS lo, epoch(max(created_at))::BIGINT AS hi FROM leads
  UNION ALL SELECT epoch(min(changed_at))::BIGINT, epoch(max(changed_at))::BIGINT FROM stage_history WHERE to_stage = 'qualified'
  UNION ALL SELECT epoch(min(occurred_at))::BIGINT, epoch(max(occurred_at))::BIGINT FROM activities WHERE activity_type = 'call')
"""


def phase_fused(data: Path, repeat: int) -> dict:
    """Time the hand-written statement (with the same calendar work) on the same folder."""
    from generator.conformance.calendar import business_hours_table
    from generator.conformance.sources import open_source

    model = _model()
    sql = hand_sql()
    times, counts = [], {}
    for _ in range(repeat):
        src = open_source(str(data))
        try:
            t0 = time.perf_counter()
            lo, hi = src.query(RANGE_SQL)[0]
            src.register_table("business_hours", business_hours_table(
                model.playbook.calendar, min(lo, AS_OF) - DAY, max(hi, AS_OF) + DAY))
            cur = src.con.execute(sql)
            names = [d[0] for d in cur.description]
            row = dict(zip(names, cur.fetchone()))
            times.append(time.perf_counter() - t0)
        finally:
            src.close()
        counts = hand_counts(row)
    return {"seconds": min(times), "all_seconds": times, "rss_mb": _rss_mb(), "counts": counts}


# ---------------------------------------------------------------- Soda Core v4

# The checks Soda's contract language expresses with the same counting: allowed values
# (`invalid` with `valid_values`), conditional presence (`missing` with a `filter`) and row
# predicates or joins (`failed_rows` with an `expression` or a `query`). Duplicates are left
# out: Soda counts duplicate values, not "every record but the earliest, unless flagged".
SODA_CONTRACTS = {
    "leads": {
        "columns": [
            *({"name": col, "checks": [{"invalid": {"name": f"allowed-values.{fid}", "valid_values": values,
                                                    "missing_values": [""]}}]}
              for fid, (col, values) in LEAD_ENUMS.items()),
        ],
        "checks": [
            {"failed_rows": {"name": "closure-reason-present", "filter": "stage = 'Closed - Lost'",
                             "expression": "closure_reason IS NULL OR trim(closure_reason) = ''"}},
            {"failed_rows": {"name": "reason-note-present.closure", "filter": "closure_reason = 'not-a-fit'",
                             "expression": "reason_note IS NULL OR trim(reason_note) = ''"}},
            {"failed_rows": {"name": "attribution-present",
                             "expression": "(attribution_channel IS NULL OR trim(attribution_channel) = '') "
                                           "OR attribution_channel NOT IN ('paid-search', 'organic', 'referral', 'unattributed') "
                                           "OR (utm_source IS NULL OR trim(utm_source) = '') OR (utm_campaign IS NULL OR trim(utm_campaign) = '')"}},
            {"failed_rows": {"name": "routing-consistent", "filter": "NOT (queue IS NULL OR trim(queue) = '')",
                             "expression": "NOT (queue = 'general-queue' OR (coalesce(specialty = 'cardiology', false) AND queue = 'cardiology-queue'))"}},
        ],
    },
    "activities": {
        "columns": [
            {"name": "activity_type", "checks": [{"invalid": {"name": "allowed-values.activity-type",
                                                              "valid_values": ["call", "email", "sms"], "missing_values": [""]}}]},
            {"name": "call_outcome", "checks": [{"invalid": {"name": "allowed-values.call-outcome",
                                                             "valid_values": ["reached", "voicemail", "no-answer"], "missing_values": [""]}}]},
        ],
        "checks": [
            {"failed_rows": {"name": "call-logging", "filter": "activity_type = 'call'",
                             "expression": "(call_outcome IS NULL OR trim(call_outcome) = '') OR next_follow_up IS NULL"}},
            {"failed_rows": {"name": "outreach-do-not-contact",
                             "query": "SELECT a.activity_id FROM activities a JOIN leads l ON l.lead_id = a.lead_id WHERE l.do_not_contact"}},
            {"failed_rows": {"name": "outreach-before-consent",
                             "query": "SELECT a.activity_id FROM activities a LEFT JOIN leads l ON l.lead_id = a.lead_id "
                                      "WHERE a.activity_type IN ('sms', 'email') AND NOT coalesce(l.consent, false)"}},
        ],
    },
    "stage_history": {
        "columns": [
            {"name": "from_stage", "checks": [{"invalid": {"name": "allowed-values.from-stage",
                                                           "valid_values": LEAD_ENUMS["lead-stage"][1], "missing_values": [""]}}]},
            {"name": "to_stage", "checks": [{"invalid": {"name": "allowed-values.to-stage",
                                                         "valid_values": LEAD_ENUMS["lead-stage"][1], "missing_values": [""]}}]},
        ],
        "checks": [
            {"failed_rows": {"name": "transition-allowed", "expression": "NOT coalesce((from_stage, to_stage) IN "
                             "(('new', 'qualified'), ('new', 'Closed - Lost'), ('qualified', 'scheduled'), ('qualified', 'Closed - Lost'), "
                             "('scheduled', 'in-treatment'), ('scheduled', 'Closed - Lost')) OR ((from_stage IS NULL OR trim(from_stage) = '') "
                             "AND to_stage = 'new'), false)"}},
        ],
    },
    "appointments": {
        "columns": [
            {"name": "appointment_stage", "checks": [{"invalid": {"name": "allowed-values.appointment-stage",
                                                                  "valid_values": ["booked", "completed"], "missing_values": [""]}}]},
        ],
        "checks": [],
    },
}


def _soda_main(data: Path, work: Path) -> dict:
    """Run with the Soda virtualenv's Python: verify one contract per table, return counts and time."""
    os.environ.update(SODA_ENV)
    import duckdb
    from soda_core.contracts.api.verify_api import verify_contract_locally

    db = work / "soda.duckdb"
    con = duckdb.connect(str(db))
    for t in SODA_CONTRACTS:
        con.execute(f"CREATE OR REPLACE VIEW {t} AS SELECT * FROM read_parquet('{data / (t + '.parquet')}')")
    con.close()
    ds = work / "ds.yml"
    ds.write_text(json.dumps({"type": "duckdb", "name": "bench", "connection": {"database": str(db), "read_only": True}}))
    counts: dict[str, list[int]] = {}
    failures: list[str] = []
    t0 = time.perf_counter()
    for table, body in SODA_CONTRACTS.items():
        path = work / f"{table}.contract.yml"
        contract = {"dataset": f"bench/main/{table}", **{k: v for k, v in body.items() if v}}
        for check in [*contract.get("checks", []), *(c for col in contract["columns"] for c in col["checks"])]:
            for spec in check.values():
                spec.setdefault("qualifier", spec["name"])  # Soda needs it when a check type repeats
        path.write_text(json.dumps(contract))  # JSON is YAML
        result = verify_contract_locally(data_source_file_path=str(ds), contract_file_path=str(path))
        failures += [f"{table}: {e}" for e in result.get_errors()]
        for cr in result.contract_verification_results:
            for c in cr.check_results:
                m = c.diagnostic_metric_values or {}
                bad = m.get("invalid_count", m.get("failed_rows_count"))
                tested = m.get("check_rows_tested")
                if bad is None:
                    failures.append(f"{c.check.name}: no count ({c.outcome})")
                    continue
                counts[c.check.name] = [int(tested) if tested is not None else -1, int(bad)]
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rss_mb": _rss_mb(), "counts": counts, "problems": failures}


def ensure_soda_venv() -> Path | None:
    """The Soda virtualenv's python, creating it from requirements-soda.txt if needed."""
    py = SODA_VENV / "bin" / "python"
    stamp = SODA_VENV / ".installed"
    if py.exists() and stamp.exists() and stamp.stat().st_mtime >= SODA_REQUIREMENTS.stat().st_mtime:
        return py
    base = shutil.which("python3") or sys.executable
    try:
        subprocess.run([base, "-m", "venv", str(SODA_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(SODA_REQUIREMENTS)], check=True)
    except subprocess.CalledProcessError as exc:
        print(f"soda: could not set up {SODA_VENV}: {exc}", file=sys.stderr)
        return None
    stamp.touch()
    return py


# ---------------------------------------------------------------- orchestration


def _child(python: str, *args: str) -> dict:
    env = {**os.environ, **SODA_ENV, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([python, str(Path(__file__).resolve()), *args], capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"phase {args[1]} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _compare(name: str, ours: dict, theirs: dict) -> list[str]:
    return [f"{name} {rid}: playbook {ours.get(rid)} vs {theirs[rid]}" for rid in sorted(theirs) if ours.get(rid) != theirs[rid]]


def main(argv: list[str] | None = None) -> int:
    from benchmarks import goal, median, spread

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--activities-per-lead", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, help="reuse (or keep) generated data in this folder")
    ap.add_argument("--no-soda", action="store_true")
    ap.add_argument("--phase", choices=["generate", "checks", "fused", "soda"], help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--only", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.phase:
        if args.phase == "generate":
            t0 = time.perf_counter()
            counts = generate(args.data, args.leads, args.activities_per_lead)
            out = {"seconds": time.perf_counter() - t0, "rss_mb": _rss_mb(), "rows": counts}
        elif args.phase == "checks":
            out = phase_checks(args.data, args.repeat, args.only.split(",") if args.only else None)
        elif args.phase == "fused":
            out = phase_fused(args.data, args.repeat)
        else:
            out = _soda_main(args.data, args.work)
        print(json.dumps(out))
        return 0

    tmp = None
    data = args.data
    if data is None:
        tmp = Path(tempfile.mkdtemp(prefix="playbook-bench-conformance-"))
        data = tmp / "data"
    try:
        py = sys.executable
        if not (data / "leads.parquet").exists():
            gen = _child(py, "--phase", "generate", "--data", str(data), "--leads", str(args.leads),
                         "--activities-per-lead", str(args.activities_per_lead))
            print(f"generated {gen['rows']} in {gen['seconds']:.1f}s")
        rows = {}
        import duckdb

        for t in ("leads", "activities", "stage_history", "appointments"):
            rows[t] = duckdb.sql(f"SELECT COUNT(*) FROM read_parquet('{data / (t + '.parquet')}')").fetchall()[0][0]
        print(f"data: {rows}")
        checks = _child(py, "--phase", "checks", "--data", str(data), "--repeat", str(args.repeat))
        fused = _child(py, "--phase", "fused", "--data", str(data), "--repeat", str(args.repeat))
        mismatches = _compare("hand-written", checks["counts"], fused["counts"])
        missing = sorted(set(checks["counts"]) - set(fused["counts"]))
        ratio = checks["seconds"] / fused["seconds"]
        # Run k of one against run k of the other: the spread of the ratio over the runs.
        ratios = [c / f for c, f in zip(checks["all_seconds"], fused["all_seconds"])]
        print(f"checks: {len(checks['counts'])} rules")
        print(f"playbook compiled checks: {checks['seconds']:.2f}s best of {args.repeat} "
              f"({', '.join(f'{s:.2f}' for s in checks['all_seconds'])}), peak RSS {checks['rss_mb']:.0f} MB")
        print("  per fused query: " + ", ".join(f"{k} {v:.2f}s" for k, v in checks["tables"].items()))
        print(f"hand-written fused query: {fused['seconds']:.2f}s best of {args.repeat} "
              f"({', '.join(f'{s:.2f}' for s in fused['all_seconds'])}), peak RSS {fused['rss_mb']:.0f} MB")
        print(f"ratio compiled / hand-written: {ratio:.2f}x best/best; per run {spread(ratios)} "
              + goal(median(ratios) <= 1.2, "<= 1.2x"))
        print("counts: " + ("identical on all rules" if not mismatches and not missing else
                            f"{len(mismatches)} differ, {len(missing)} not in the hand-written query"))
        for m in mismatches:
            print("  " + m)
        status = 0 if not mismatches and not missing else 1
        if not args.no_soda:
            spy = ensure_soda_venv()
            if spy is None:
                print("soda: skipped (virtualenv could not be created)")
            else:
                # Soda and playbook on the rules both express, alternately, `repeat` times (at least 3):
                # each ratio compares two runs made one after the other on the same data.
                soda_runs, same_runs, soda_ratios = [], [], []
                for _ in range(max(3, args.repeat)):
                    work = Path(tempfile.mkdtemp(prefix="playbook-bench-soda-"))
                    try:
                        soda = _child(str(spy), "--phase", "soda", "--data", str(data), "--work", str(work))
                    finally:
                        shutil.rmtree(work, ignore_errors=True)
                    same = _child(py, "--phase", "checks", "--data", str(data), "--repeat", "1",
                                  "--only", ",".join(sorted(soda["counts"])))
                    soda_runs.append(soda)
                    same_runs.append(same)
                    soda_ratios.append(soda["seconds"] / same["seconds"])
                ours = {k: v[1] for k, v in checks["counts"].items()}
                diff = [f"{k}: playbook {ours.get(k)} vs soda {v[1]}" for k, v in sorted(soda["counts"].items())
                        if ours.get(k) != v[1]]
                print(f"soda core v4: {len(soda['counts'])} of {len(checks['counts'])} rules expressible, "
                      f"{median([r['seconds'] for r in soda_runs]):.2f}s median of {len(soda_runs)}, peak RSS "
                      f"{max(r['rss_mb'] for r in soda_runs):.0f} MB; playbook on the same {len(same['counts'])} rules: "
                      f"{median([r['seconds'] for r in same_runs]):.2f}s median, peak RSS "
                      f"{max(r['rss_mb'] for r in same_runs):.0f} MB")
                print(f"ratio soda / playbook: {spread(soda_ratios)} "
                      + goal(median(soda_ratios) >= 1.3, "issue 15: playbook >= 1.3x faster than Soda Core v4"))
                print("soda violation counts: " + ("identical to playbook's" if not diff else f"{len(diff)} differ"))
                for d in diff + soda["problems"]:
                    print("  " + d)
        return status
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
