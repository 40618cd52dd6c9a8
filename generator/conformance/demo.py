"""Synthetic CRM exports with a known number of violations of every rule.

Leads are generated clean from the model (a walk along the stage transitions,
activities, appointments, routing by the first matching rule, every event of
a lead within the shortest SLA so no clock is breached), then a few leads per
rule are broken on purpose. The reference interpreter counts exactly which
rules each broken lead now violates, knock-on effects included, and those
counts are `truth.json`. Everything is fake: names are made-up syllables,
emails use example.org, phones the 555 range.

Generation is chunked (50,000 leads at a time) and streamed to CSV/Parquet,
so a million leads stay within a modest amount of memory.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Iterator

from ..errors import UsageError
from ..model import Playbook
from . import checks as ir
from .clock import iso
from .contract import LOGICAL_TABLES, Contract, build_contract
from .families import families
from .reference import Interpreter, LeadContext

HOUR = 3600
DAY = 86400
CHUNK = 50_000
EXTRA_INDEX = 9_000_000  # injected duplicates are numbered from here: fake phones stay unique

FIRST_NAMES = (
    "Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan", "Kendall", "Logan",
    "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Rowan", "Sage", "Skyler", "Taylor",
)
SYLLABLES = ("ka", "lo", "mi", "ren", "sa", "tor", "vi", "del", "nor", "ba", "fen", "gal", "hu", "jo", "ler", "mar")
UTM_SOURCES = ("google", "newsletter", "facebook", "partner-site")
UTM_CAMPAIGNS = ("spring-checkup", "heart-health", "knee-clinic", "open-house")
BOGUS = "not-a-listed-value"


def default_as_of(model: Playbook) -> int:
    """The demo clock: noon UTC thirty days after the playbook took effect."""
    d = model.playbook.effective + timedelta(days=30)
    return int(datetime.combine(d, time(12, 0), tzinfo=timezone.utc).timestamp())


def _last_name(i: int) -> str:
    parts = []
    n = i
    for _ in range(3):
        parts.append(SYLLABLES[n % 16])
        n //= 16
    while n:
        parts.append(SYLLABLES[n % 16])
        n //= 16
    return "".join(parts).capitalize()


@dataclass
class LeadRows:
    """One lead and its rows in the other tables (values by field id; times as epoch seconds)."""

    lead: dict
    history: list[dict] = field(default_factory=list)
    activities: list[dict] = field(default_factory=list)
    appointments: list[dict] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    recent: bool = False

    def by_table(self) -> dict[str, list[dict]]:
        """The rows of each logical table, in LOGICAL_TABLES order."""
        rows = {"leads": [self.lead], "activities": self.activities, "stage_history": self.history,
                "appointments": self.appointments}
        return {t: rows[t] for t in LOGICAL_TABLES}


class DemoGenerator:
    """Generate demo data for one model."""

    def __init__(self, model: Playbook, *, seed: int, as_of: int, activities_per_lead: float = 3.0,
                 inject: bool = True):
        from .calendar import business_day_hours, business_hours_table

        self.model = model
        self.seed = seed
        self.as_of = as_of
        self.activities_per_lead = activities_per_lead
        self.inject = inject  # False: clean data, every rule holds (used to test passing runs)
        self.contract: Contract = build_contract(model)
        self.checks = ir.build_checks(model, self.contract)
        self.families = families()
        cal = model.playbook.calendar
        # B(t) from the calendar's hour table, built once (the direct computation re-derives
        # holidays on every call); generated times stay within a year before as_of.
        table = business_hours_table(cal, as_of - 400 * DAY, as_of + 200 * DAY).to_pydict()
        self._bh_first = table["hour_start"][0]
        self._bh = list(zip(table["cum_business_seconds"], table["open_offset"], table["close_offset"]))
        self.business_seconds = lambda a, b: self._btime(b) - self._btime(a)
        day_hours = business_day_hours(cal)
        limits = [s.within.seconds(day_hours) for s in model.slas]
        self.window = max(600, min(limits)) if limits else DAY
        self.sla_limits = {s.id: s.within.seconds(day_hours) for s in model.slas}
        self.sem = {t.name: {c.semantic: c.field_id for c in reversed(t.columns) if c.semantic}
                    for t in self.contract.tables}
        ls = self.sem["leads"]
        self.stage_f = ls.get("stage")
        from .calendar import business_day_closes, closes_between

        self._closes = business_day_closes(cal, as_of - 400 * DAY, as_of + 200 * DAY)
        self.closes_between = lambda a, b: closes_between(self._closes, a, b)
        self.interp = Interpreter(model, as_of, self.stage_f, self.business_seconds, self.closes_between)
        self.stage_values = {s.id: ir.stage_value(model, s.id) for s in model.stages}
        self.closed_values = {self.stage_values[s.id] for s in model.stages if s.closed}
        self.initial = next((s.id for s in model.stages if s.initial), model.stages[0].id)
        self.events = model.by_id("events")
        act_type = self.sem["activities"].get("activity_type")
        self.activity_types = (ir.implied_values(model, model.field(act_type)) if act_type else []) or [
            "call", "email", "sms"]
        self.allowed_pairs = {(self.stage_values[s.id], self.stage_values[t.to])
                              for s in model.stages for t in s.transitions}
        self.fields = model.by_id("fields")
        self._enum_cache: dict[str, list[str]] = {}
        self.stages = model.by_id("stages")
        self.event_src = {ev: ir.event_source(model, ev) for ev in model.by_id("events")}
        self.flag_stops = {}
        for sla in model.slas:
            src = ir.event_source(model, sla.stop_event)
            if src and src[0] == "flag":
                self.flag_stops[src[1][0]] = src[1][1]

    def _btime(self, t: int) -> int:
        i = (t - self._bh_first) // HOUR
        if not 0 <= i < len(self._bh):
            raise ValueError("demo time outside the business-hours table")
        cum, lo, hi = self._bh[i]
        off = t - (self._bh_first + i * HOUR)
        return cum + min(max(off, lo), hi) - lo

    # ------------------------------------------------------------ values
    def _enum_values(self, field_id: str) -> list[str]:
        if field_id not in self._enum_cache:
            self._enum_cache[field_id] = ir.implied_values(self.model, self.fields[field_id]) or ["value"]
        return self._enum_cache[field_id]

    def _value(self, rng: random.Random, f, i: int, t0: int):
        """A plausible clean value for a field without special meaning."""
        t = f.type
        if t == "enum":
            return rng.choice(self._enum_values(f.id))
        if t == "multi_enum":
            vals = f.values or ["value"]
            return ";".join(sorted(set(rng.sample(vals, k=min(2, len(vals))))))
        if t == "boolean":
            return rng.random() < 0.5
        if t in ("integer", "number"):
            return rng.randint(0, 100)
        if t == "datetime":
            return t0 + rng.randint(0, 600)
        if t == "date":
            if t0 > 10 ** 9:  # an absolute time: resolve now
                return (datetime.fromtimestamp(t0, timezone.utc) + timedelta(days=rng.randint(1, 14))).date()
            return ("date", rng.randint(1, 14))  # resolved once the lead's times are placed
        if t == "email":
            return f"contact{i}@example.org"
        if t == "phone":
            return f"+1-555-{i // 10000 % 1000:03d}-{i % 10000:04d}"
        if t == "url":
            return f"https://example.org/l/{i}"
        if t == "reference":
            return None
        return "Sample text"

    def _expected_queue(self, lead: dict) -> str | None:
        queue = self.model.resolve_queue(lead)
        return None if queue is None else ir.queue_value(self.model, queue)

    # ------------------------------------------------------------ a clean lead
    def _walk(self, rng: random.Random) -> list[str]:
        path = [self.initial]
        while True:
            s = self.stages[path[-1]]
            if s.terminal or not s.transitions or rng.random() < 0.25:
                return path
            choices = [t.to for t in s.transitions if t.to not in path]
            if not choices:
                return path
            open_ = [c for c in choices if not self.stages[c].closed]
            nxt = rng.choice(open_) if open_ and rng.random() < 0.75 else rng.choice(choices)
            path.append(nxt)

    def clean_lead(self, rng: random.Random, i: int, counters: dict) -> LeadRows:
        """A lead that follows every rule, with its history, activities and appointments."""
        m = self.model
        ls, acs, hs, aps = (self.sem[t] for t in LOGICAL_TABLES)
        path = self._walk(rng)
        w = self.window
        lead: dict = {}
        first = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
        last = _last_name(i)
        for c in self.contract.table("leads").columns:
            f = self.fields[c.field_id]
            lead[f.id] = self._value(rng, f, i, 0)
        lead_id = f"L{i:08d}"
        special = {
            "record_id": lead_id, "created_at": 0, "first_name": first, "last_name": last,
            "email": f"{first}.{last}@example.org".lower(),
            "phone": f"+1-555-{i // 10000 % 1000:03d}-{i % 10000:04d}",
            "owner": f"agent-{rng.randint(1, 40):02d}",
            "reason_note": rng.choice(("Interest and clinic match.", "Asked for a callback.",
                                       "Eligible; prefers mornings.", "Closed after outreach.")),
            "duplicate_flag": False, "duplicate_of": None, "escalated_at": None,
            "closure_reason": None, "utm_source": rng.choice(UTM_SOURCES),
            "utm_medium": rng.choice(("cpc", "email", "social")), "utm_campaign": rng.choice(UTM_CAMPAIGNS),
            "score": rng.randint(0, 100),
        }
        for sem_name, v in special.items():
            if sem_name in ls:
                lead[ls[sem_name]] = v
        if m.attribution:
            if rng.random() < 0.15:
                for u in m.attribution.utm_fields:
                    if u in lead:
                        lead[u] = m.attribution.missing_utm_value
        if m.consent:
            cf = self.fields[m.consent.consent_field]
            lead[cf.id] = 0 if cf.type in ("datetime", "date") else True
            df = self.fields[m.consent.do_not_contact_field]
            lead[df.id] = None if df.type in ("datetime", "date") else False
        stage_v = self.stage_values[path[-1]]
        if self.stage_f:
            lead[self.stage_f] = stage_v
        if stage_v in self.closed_values and "closure_reason" in ls:
            reasons = [r.id for r in m.closure_reasons if not r.stages or path[-1] in r.stages] or [
                r.id for r in m.closure_reasons]
            lead[ls["closure_reason"]] = rng.choice(reasons) if reasons else None
        if "queue" in ls:
            lead[ls["queue"]] = self._expected_queue(lead) if len(path) > 1 else None
        if "owner" in ls and len(path) == 1:
            lead[ls["owner"]] = None
        # Fields whose being set is an SLA's stop: set only once the lead got that far.
        required_here = {f for s in path for f in self.stages[s].required_fields}
        for f, entry in self.flag_stops.items():
            reached = (entry in path) if entry else len(path) > 1
            if not reached and f not in required_here:
                lead[f] = None

        rows = LeadRows(lead=lead, path=path)
        step = w * 0.08
        prev = None
        for k, s in enumerate(path):
            counters["history"] += 1
            rows.history.append(self._history_row(counters["history"], lead_id, prev, self.stage_values[s],
                                                  int(k * step)))
            prev = self.stage_values[s]
        if len(path) > 1:
            types: list[str] = []
            for sla in m.slas:
                sig = self.events[sla.stop_event].signal if sla.stop_event in self.events else None
                if sig and sig.kind == "activity":
                    types.append(sig.activity_types[0] if sig.activity_types else self.activity_types[0])
            n = rng.randint(0, max(0, int(2 * self.activities_per_lead)))
            types += [rng.choice(self.activity_types) for _ in range(max(0, n - len(types)))]
            for typ in types:
                counters["activities"] += 1
                rows.activities.append(self._activity_row(rng, counters["activities"], lead_id, typ,
                                                          int(rng.uniform(0.45, 0.9) * w)))
        if m.appointments:
            for a in m.appointments.stages:
                if a.lead_stage and a.lead_stage in path:
                    counters["appointments"] += 1
                    rows.appointments.append(self._appointment_row(rng, counters["appointments"], lead_id, a.id,
                                                                   int(rng.uniform(0.5, 0.9) * w)))
        # A clock that is still running must not have run out at as_of: such leads are recent.
        ctx = self.context(rows)
        closed = stage_v in self.closed_values
        for sla in m.slas:
            if sla.start_event in ctx.event_times and sla.stop_event not in ctx.event_times and not closed:
                rows.recent = True
        t0 = (self.as_of - w + int(rng.uniform(0, 0.05) * w)) if rows.recent else (
            self.as_of - rng.randint(w + DAY, 40 * DAY))
        self._shift(rows, t0)
        return rows

    def _history_row(self, n, lead_id, frm, to, t):
        hs = self.sem["stage_history"]
        row = {c.field_id: None for c in self.contract.table("stage_history").columns}
        for sem_name, v in (("record_id", f"H{n:09d}"), ("lead_ref", lead_id), ("from_stage", frm),
                            ("to_stage", to), ("changed_at", t), ("changed_by", "agent")):
            if sem_name in hs:
                row[hs[sem_name]] = v
        return row

    def _activity_row(self, rng, n, lead_id, typ, t):
        acs = self.sem["activities"]
        row = {}
        for c in self.contract.table("activities").columns:
            row[c.field_id] = self._value(rng, self.fields[c.field_id], n, t)
        for sem_name, v in (("record_id", f"A{n:09d}"), ("lead_ref", lead_id), ("activity_type", typ),
                            ("occurred_at", t)):
            if sem_name in acs:
                row[acs[sem_name]] = v
        if "next_follow_up" in acs:
            nf = self.fields[acs["next_follow_up"]]
            row[acs["next_follow_up"]] = (t + 2 * DAY) if nf.type == "datetime" else ("date", 2)
        return row

    def _appointment_row(self, rng, n, lead_id, stage, t):
        aps = self.sem["appointments"]
        row = {}
        for c in self.contract.table("appointments").columns:
            row[c.field_id] = self._value(rng, self.fields[c.field_id], n, t)
        for sem_name, v in (("record_id", f"P{n:08d}"), ("lead_ref", lead_id), ("appointment_stage", stage),
                            ("appointment_at", t)):
            if sem_name in aps:
                row[aps[sem_name]] = v
        return row

    def _time_fields(self, table: str) -> list[str]:
        return [c.field_id for c in self.contract.table(table).columns if c.type == "datetime"]

    def _shift(self, rows: LeadRows, t0: int) -> None:
        """Move a lead's relative times (seconds after creation) to absolute epochs from t0."""
        for table, items in rows.by_table().items():
            tf = self._time_fields(table)
            for r in items:
                for f in tf:
                    if isinstance(r.get(f), int):
                        r[f] = r[f] + t0
                for f, v in list(r.items()):
                    if isinstance(v, tuple) and v and v[0] == "date":
                        r[f] = (datetime.fromtimestamp(t0, timezone.utc) + timedelta(days=v[1])).date()
        # consent given at creation when it is a timestamp
        m = self.model
        if m.consent:
            cf = self.fields[m.consent.consent_field]
            if cf.type == "date" and isinstance(rows.lead.get(cf.id), int):
                rows.lead[cf.id] = datetime.fromtimestamp(rows.lead[cf.id], timezone.utc).date()

    # ------------------------------------------------------------ reading rows back
    def context(self, rows: LeadRows, dup_ranks: dict | None = None) -> LeadContext:
        """What the checks see of a lead, computed from its rows exactly as the SQL aggregates them."""
        hs, acs, aps = self.sem["stage_history"], self.sem["activities"], self.sem["appointments"]
        # as the SQL sees it: history rows it cannot link to the lead tell nothing about it
        entered = {h.get(hs.get("to_stage")) for h in rows.history} if "lead_ref" in hs else set()
        occurrences: dict[str, list[int]] = {}
        happened: set[str] = set()

        def stage_times(stage_id):
            v = self.stage_values.get(stage_id)
            return [h[hs["changed_at"]] for h in rows.history
                    if h.get(hs.get("to_stage")) == v and h.get(hs.get("changed_at")) is not None]

        for ev_id in self.events:
            src = self.event_src[ev_id]
            if src is None:
                continue
            kind, arg = src
            ts: list[int] = []
            if kind == "field":
                v = rows.lead.get(arg)
                ts = [v] if isinstance(v, int) and not isinstance(v, bool) else []
            elif kind == "stage":
                ts = stage_times(arg)
            elif kind == "flag":
                ts = stage_times(arg[1]) if arg[1] else []
                v = rows.lead.get(arg[0])
                if v is not None and (isinstance(v, bool) or str(v).strip() != ""):
                    happened.add(ev_id)
            elif kind == "activity" and "occurred_at" in acs:
                ts = [a[acs["occurred_at"]] for a in rows.activities
                      if (not arg or a.get(acs.get("activity_type")) in arg) and a[acs["occurred_at"]] is not None]
            elif kind == "appointment" and "appointment_at" in aps:
                ts = [a[aps["appointment_at"]] for a in rows.appointments
                      if (not arg or a.get(aps.get("appointment_stage")) == arg) and a[aps["appointment_at"]] is not None]
            if ts:
                occurrences[ev_id] = sorted(ts)
                happened.add(ev_id)
        times = {ev: ts[0] for ev, ts in occurrences.items()}
        appts = {a.get(aps.get("appointment_stage")) for a in rows.appointments}
        return LeadContext(lead=rows.lead, entered=entered, event_times=times, occurrences=occurrences,
                           happened=happened, appointments=appts, dup_ranks=dict(dup_ranks or {}))

    def violations(self, rows: LeadRows, dup_ranks: dict) -> dict[str, int]:
        """Rule id -> violations this lead and its rows carry (the reference count)."""
        ctx = self.context(rows, dup_ranks)
        out: dict[str, int] = {}
        tables = {"activities": rows.activities, "stage_history": rows.history, "appointments": rows.appointments}
        for c in self.checks:
            if c.table == "leads":
                n = self.interp.count(c, ctx)[1]
            else:
                n = sum(self.interp.count(c, ctx, r)[1] for r in tables[c.table])
            if n:
                out[c.id] = n
        return out

    # ------------------------------------------------------------ breaking leads on purpose
    def _dup_keys(self, lead: dict) -> dict[str, tuple]:
        out = {}
        for r in self.model.matching.rules:
            vals = []
            for f in r.match_on:
                v = lead.get(f)
                if v is None or str(v).strip() == "":
                    break
                how = r.normalize.get(f, "none")
                s = str(v)
                if how == "lowercase_trim":
                    s = s.strip().lower()
                elif how in ("digits_only", "e164"):
                    s = "".join(ch for ch in s if ch.isdigit())
                vals.append(s)
            else:
                out[r.id] = tuple(vals)
        return out

    def chunk(self, start: int, n: int, counters: dict, rng: random.Random) -> tuple[list[LeadRows], dict[str, int]]:
        """Leads start..start+n-1 (plus injected duplicates) and the violations they carry."""
        leads = [self.clean_lead(rng, start + k, counters) for k in range(n)]
        pool = list(range(n))
        rng.shuffle(pool)
        used: set[int] = set()
        extra: list[LeadRows] = []
        lead_checks = [c for c in self.checks] if self.inject else []
        for c in lead_checks:
            # About one lead in seven carries a violation, spread over the rules.
            rate = (0.15 / len(lead_checks)) * (0.5 + random.Random(f"{self.seed}:{c.id}").random())
            k = max(1, round(n * rate))
            done = 0
            for idx in pool:
                if done >= k:
                    break
                if idx in used:
                    continue
                if self._inject(c, leads[idx], leads, rng, counters, extra):
                    used.add(idx)
                    done += 1
        # Some duplicates that are flagged or merged: part of a group, never counted.
        for idx in pool[: max(1, n // 200)]:
            if idx in used:
                continue
            if self._inject_dup(leads[idx], leads, rng, counters, extra, flagged=True):
                used.add(idx)
        all_rows = leads + extra
        # Duplicate ranks over the chunk (clean leads never share keys across chunks).
        groups: dict[tuple, list[tuple[int, str, int]]] = {}
        lid = self.sem["leads"].get("record_id")
        created = self.sem["leads"].get("created_at")
        for j, r in enumerate(all_rows):
            for rule, key in self._dup_keys(r.lead).items():
                groups.setdefault((rule, key), []).append((r.lead.get(created) or 0, r.lead.get(lid), j))
        ranks: dict[int, dict[str, int]] = {}
        for (rule, _), members in groups.items():
            if len(members) < 2:
                continue
            for rank, (_, _, j) in enumerate(sorted(members), start=1):
                ranks.setdefault(j, {})[rule] = rank
        # Every row is counted, not only the broken ones: a clean row breaks a rule when the playbook
        # contradicts itself (a stage's CRM value missing from the stage field's allowed values), and
        # truth.json must stay exact even then. Costs about 0.5 ms per generated lead.
        truth: dict[str, int] = {}
        for j in range(len(all_rows)):
            r = all_rows[j]
            dr = {rule.id: 1 for rule in self.model.matching.rules}
            dr.update(ranks.get(j, {}))
            for rid, cnt in self.violations(r, dr).items():
                truth[rid] = truth.get(rid, 0) + cnt
        return all_rows, truth

    def _inject(self, c: ir.Check, rows: LeadRows, leads, rng, counters, extra):
        """Break `rows` so it violates check `c`; False when this lead cannot carry it.

        One `_break_<family>` method per check family (the same families `build_checks` uses)."""
        fam = next((f for f in self.families if f.matches(c.id)), None)
        if fam is None:
            raise AssertionError(f"no injection for rule {c.id}")
        arg = c.id.partition(".")[2]
        return getattr(self, f"_break_{fam.name}")(c, arg, rows, leads, rng, counters, extra)

    def _break_required_fields(self, c, arg, rows, leads, rng, counters, extra):
        if arg not in rows.path:
            return False
        lead = rows.lead
        req = [f for f in self.stages[arg].required_fields if f in lead]
        sensitive = {"stage", "record_id", "created_at", "closure_reason", "reason_note", "consent",
                     "do_not_contact"}
        if not req:
            return False
        req.sort(key=lambda f: self.fields[f].semantic in sensitive)
        lead[req[0]] = None
        self._requeue(lead)
        return True

    def _break_reason_notes(self, c, arg, rows, leads, rng, counters, extra):
        ls, lead, path = self.sem["leads"], rows.lead, rows.path
        if c.id == "reason-note-present.closure":
            if self.stage_values[path[-1]] not in self.closed_values:
                return False
            need = [r.id for r in self.model.closure_reasons if r.requires_note]
            lead[ls["closure_reason"]] = need[0]
            lead[ls["reason_note"]] = None
            return True
        if arg not in path:
            return False
        lead[ls["reason_note"]] = rng.choice((None, "", "   "))
        return True

    def _break_closure(self, c, arg, rows, leads, rng, counters, extra):
        if self.stage_values[rows.path[-1]] not in self.closed_values:
            return False
        rows.lead[self.sem["leads"]["closure_reason"]] = rng.choice((None, ""))
        return True

    def _break_allowed_values(self, c, arg, rows, leads, rng, counters, extra):
        target = {"leads": [rows.lead], "activities": rows.activities, "stage_history": rows.history[1:],
                  "appointments": rows.appointments}[c.table]
        target = [t for t in target if t.get(arg) not in (None, "")]
        if not target:
            return False
        rng.choice(target)[arg] = BOGUS
        return True

    def _break_transitions(self, c, arg, rows, leads, rng, counters, extra):
        hs = self.sem["stage_history"]
        last = self.stage_values[rows.path[-1]]
        lid = rows.lead.get(self.sem["leads"].get("record_id"))
        for s in self.model.stages:
            v = self.stage_values[s.id]
            if (last, v) not in self.allowed_pairs and v != last:
                counters["history"] += 1
                t = max(h[hs["changed_at"]] for h in rows.history if h[hs["changed_at"]] is not None) + 60
                rows.history.append(self._history_row(counters["history"], lid, last, v, t))
                return True
        return False

    def _break_slas(self, c, arg, rows, leads, rng, counters, extra):
        return self._inject_sla(self.model.by_id("slas")[arg], rows, rng, escalate=c.id.startswith("sla."))

    def _break_duplicates(self, c, arg, rows, leads, rng, counters, extra):
        return self._inject_dup(rows, leads, rng, counters, extra, rule_id=arg)

    def _break_attribution(self, c, arg, rows, leads, rng, counters, extra):
        a, lead = self.model.attribution, rows.lead
        opts = [a.field] + [u for u in a.utm_fields if u in lead]
        lead[rng.choice(opts)] = rng.choice((None, ""))
        return True

    def _break_consent(self, c, arg, rows, leads, rng, counters, extra):
        if not rows.activities:
            return False
        cons, acs, lead = self.model.consent, self.sem["activities"], rows.lead
        if c.id == "outreach-before-consent":
            f = self.fields[cons.consent_field]
            if not any(a.get(acs["activity_type"]) in cons.channels_requiring_consent
                       for a in rows.activities) and cons.channels_requiring_consent:
                return False
            lead[f.id] = (max(a[acs["occurred_at"]] for a in rows.activities) + 60
                          if f.type == "datetime" else False)
        else:
            f = self.fields[cons.do_not_contact_field]
            lead[f.id] = (min(a[acs["occurred_at"]] for a in rows.activities) - 60
                          if f.type == "datetime" else True)
        return True

    def _break_activity_logging(self, c, arg, rows, leads, rng, counters, extra):
        kind_name = c.id[: -len("-logging")]
        acs = self.sem["activities"]
        mine = [a for a in rows.activities if a.get(acs["activity_type"]) == kind_name]
        if not mine:
            return False
        fields = [f for req in self.model.logging if req.activity == kind_name for f in req.required_fields
                  if f in mine[0]]
        rng.choice(mine)[rng.choice(fields)] = None
        return True

    def _break_routing(self, c, arg, rows, leads, rng, counters, extra):
        m, lead = self.model, rows.lead
        q = self.sem["leads"]["queue"]
        if lead.get(q) is None:
            return False
        fallback = ir.queue_value(m, m.routing.fallback.queue)
        others = [ir.queue_value(m, x.id) for x in m.routing.queues]
        others = [v for v in others if v not in (lead[q], fallback)]
        if not others:
            return False
        lead[q] = rng.choice(others)
        return True

    def _break_appointments(self, c, arg, rows, leads, rng, counters, extra):
        ls, lead = self.sem["leads"], rows.lead
        lid = lead.get(ls.get("record_id"))
        for a in self.model.appointments.stages:
            if a.lead_stage and a.lead_stage not in rows.path:
                counters["appointments"] += 1
                t = lead[ls["created_at"]] + 120
                rows.appointments.append(self._appointment_row(rng, counters["appointments"], lid, a.id, t))
                return True
        return False

    def _requeue(self, lead: dict) -> None:
        q = self.sem["leads"].get("queue")
        if q and lead.get(q) is not None:
            lead[q] = self._expected_queue(lead)

    def _inject_sla(self, sla, rows: LeadRows, rng, *, escalate: bool):
        ctx = self.context(rows)
        if sla.start_event not in ctx.event_times:
            return False
        if sla.applies_to_stages and not any(
                self.stage_values[st] in ctx.entered or rows.lead.get(self.stage_f) == self.stage_values[st]
                for st in sla.applies_to_stages):
            return False
        start = ctx.event_times[sla.start_event]
        limit = self.sla_limits[sla.id]
        # wall time long enough to exceed the limit in business time
        gap = max(limit, HOUR)
        days = sla.within.amount if sla.within.business and sla.within.unit == "days" else None
        while (self.closes_between(start, start + gap) <= days if days is not None
               else self.business_seconds(start, start + gap) <= limit):
            gap *= 2
        gap *= 2  # the lead moves in time below; leave room for holidays and weekends
        src = self.event_src.get(sla.stop_event)
        hs, acs, aps = self.sem["stage_history"], self.sem["activities"], self.sem["appointments"]
        stop_rows: list[tuple[dict, str]] = []
        kind, arg = src if src else (None, None)
        if kind == "flag":
            if sla.stop_event in ctx.happened and sla.stop_event not in ctx.event_times:
                return False  # a stop without a time is not measured
            kind, arg = ("stage", arg[1]) if arg[1] else (None, None)
        if kind == "stage":
            v = self.stage_values[arg]
            stop_rows = [(h, hs["changed_at"]) for h in rows.history if h.get(hs["to_stage"]) == v]
        elif kind == "activity":
            stop_rows = [(a, acs["occurred_at"]) for a in rows.activities
                         if not arg or a.get(acs["activity_type"]) in arg]
        elif kind == "appointment":
            stop_rows = [(a, aps["appointment_at"]) for a in rows.appointments
                         if not arg or a.get(aps["appointment_stage"]) == arg]
        elif kind == "field":
            stop_rows = [(rows.lead, arg)] if rows.lead.get(arg) is not None else []
        closed = rows.lead.get(self.stage_f) in self.closed_values
        if not stop_rows and closed:
            return False
        # Move the whole lead back in time so the late stop still lies before as_of.
        span = gap + 2 * DAY
        self._shift_all(rows, -span - rng.randint(0, 5 * DAY))
        for r, f in stop_rows:
            if r.get(f) is not None:
                r[f] = r[f] + span
        esc = self.sem["leads"].get("escalated_at")
        if esc:
            rows.lead[esc] = (self.as_of - DAY) if escalate else None
        return True

    def _times(self, rows: LeadRows) -> list[int]:
        out = []
        for table, items in rows.by_table().items():
            for r in items:
                for f in self._time_fields(table):
                    v = r.get(f)
                    if isinstance(v, int) and not isinstance(v, bool):
                        out.append(v)
        return out

    def _shift_all(self, rows: LeadRows, delta: int) -> None:
        for table, items in rows.by_table().items():
            for r in items:
                for f in self._time_fields(table):
                    if isinstance(r.get(f), int) and not isinstance(r.get(f), bool):
                        r[f] += delta
        m = self.model
        if m.consent:
            cf = self.fields[m.consent.consent_field]
            if cf.type == "datetime" and isinstance(rows.lead.get(cf.id), int):
                pass  # shifted with the other lead times above

    def _inject_dup(self, rows: LeadRows, leads, rng, counters, extra, *, rule_id: str | None = None,
                    flagged: bool = False):
        m, ls = self.model, self.sem["leads"]
        rules = [r for r in m.matching.rules if rule_id is None or r.id == rule_id]
        if not rules:
            return False
        rule = rules[0] if rule_id else rng.choice(rules)
        if any(rows.lead.get(f) in (None, "") for f in rule.match_on):
            return False
        i = counters["extra_index"]
        counters["extra_index"] += 1
        dup = self.clean_lead(rng, i, counters)
        for f in rule.match_on:
            v = rows.lead[f]
            how = rule.normalize.get(f, "none")
            if how == "lowercase_trim" and isinstance(v, str):
                v = rng.choice((v.upper(), f"  {v} ", v.title()))
            elif how in ("digits_only", "e164") and isinstance(v, str):
                d = "".join(ch for ch in v if ch.isdigit())
                v = rng.choice((d, f"{d[0]} ({d[1:4]}) {d[4:7]}-{d[7:]}" if len(d) == 11 else d, "+" + d))
            dup.lead[f] = v
        self._requeue(dup.lead)
        created = ls.get("created_at")
        if flagged and created:
            # The flagged copy must be the later record, or the unflagged original would count.
            gap = rows.lead[created] - dup.lead[created] + 60
            if gap > 0:
                latest = max(self._times(dup))
                if latest + gap > self.as_of:
                    return False
                self._shift_all(dup, gap)
        if flagged:
            if "duplicate_flag" in ls and rng.random() < 0.5:
                dup.lead[ls["duplicate_flag"]] = True
            elif "duplicate_of" in ls:
                dup.lead[ls["duplicate_of"]] = rows.lead.get(ls.get("record_id"))
            elif "duplicate_flag" in ls:
                dup.lead[ls["duplicate_flag"]] = True
        extra.append(dup)
        return True


# ------------------------------------------------------------------ output


def _arrow_type(pa, f):
    return {"boolean": pa.bool_(), "integer": pa.int64(), "number": pa.float64(), "date": pa.date32(),
            "datetime": pa.timestamp("s")}.get(f.type, pa.string())


def to_arrow(gen: DemoGenerator, rows: list[LeadRows]) -> dict:
    """The four logical tables of a chunk as pyarrow tables (physical column names)."""
    import pyarrow as pa

    out = {}
    for table in gen.contract.tables:
        if not table.columns:
            # The data dictionary has no field of this record kind: no file (a table without
            # columns is not valid Parquet), and no check reads it.
            continue
        items = {"leads": [r.lead for r in rows],
                 "activities": [a for r in rows for a in r.activities],
                 "stage_history": [h for r in rows for h in r.history],
                 "appointments": [a for r in rows for a in r.appointments]}[table.name]
        arrays, names = [], []
        for c in table.columns:
            f = gen.model.field(c.field_id)
            typ = _arrow_type(pa, f)
            vals = [it.get(c.field_id) for it in items]
            if f.type == "datetime":
                vals = [datetime.fromtimestamp(v, timezone.utc).replace(tzinfo=None)
                        if isinstance(v, int) and not isinstance(v, bool) else None for v in vals]
            elif typ == pa.string():
                vals = [None if v is None else (str(v).lower() if isinstance(v, bool) else str(v)) for v in vals]
            arrays.append(pa.array(vals, type=typ))
            names.append(c.name)
        out[table.name] = pa.table(arrays, names=names)
    return out


def generate(model: Playbook, *, leads: int, seed: int, as_of: int | None = None,
             activities_per_lead: float = 3.0, chunk: int | None = None, inject: bool = True) -> Iterator[tuple[dict, dict[str, int]]]:
    """Yield (arrow tables, truth) per block of leads.

    Up to `chunk` leads are generated one by one. Beyond that, the first block is
    copied with DuckDB: each copy renames record ids and makes emails, phones and
    last names unique per copy, so every copy carries exactly the first block's
    violations and no duplicate group spans two copies. The rest is generated.
    """
    if not 1 <= leads < EXTRA_INDEX:
        raise UsageError(f"--leads must be between 1 and {EXTRA_INDEX - 1}")
    as_of = default_as_of(model) if as_of is None else as_of
    chunk = chunk or CHUNK
    gen = DemoGenerator(model, seed=seed, as_of=as_of, activities_per_lead=activities_per_lead, inject=inject)
    rng = random.Random(seed)
    counters = {"history": 0, "activities": 0, "appointments": 0, "extra_index": EXTRA_INDEX}
    first_n = min(chunk, leads)
    rows, truth = gen.chunk(0, first_n, counters, rng)
    base = to_arrow(gen, rows)
    yield base, truth
    copies = leads // first_n
    if copies > 1 and _copyable(gen):
        import duckdb

        con = duckdb.connect()
        try:
            for name, tab in base.items():
                con.register(f"base_{name}", tab)
            for k in range(1, copies):
                yield {name: con.sql(_copy_sql(gen, name, k)).to_arrow_table().cast(tab.schema)
                       for name, tab in base.items()}, dict(truth)
        finally:
            con.close()
        start = copies * first_n
    else:
        start = first_n
    for s in range(start, leads, chunk):
        rows, t = gen.chunk(s, min(chunk, leads - s), counters, rng)
        yield to_arrow(gen, rows), t


def _copyable(gen: DemoGenerator) -> bool:
    """Copies stay independent only if every matching rule compares a field the copy makes unique."""
    unique = {gen.sem["leads"].get(k) for k in ("email", "phone", "last_name")} - {None}
    return all(set(r.match_on) & unique for r in gen.model.matching.rules)


def _copy_sql(gen: DemoGenerator, table: str, k: int) -> str:
    cols = []
    for c in gen.contract.table(table).columns:
        q = '"' + c.name.replace('"', '""') + '"'
        if c.semantic in ("record_id", "lead_ref", "duplicate_of"):
            e = f"CASE WHEN {q} IS NULL THEN NULL ELSE {q} || '-{k}' END"
        elif table == "leads" and c.semantic == "email":
            e = f"replace({q}, '@', '+c{k}@')"
        elif table == "leads" and c.semantic == "phone":
            e = f"CASE WHEN {q} IS NULL OR trim({q}) = '' THEN {q} ELSE '+{k} ' || {q} END"
        elif table == "leads" and c.semantic == "last_name":
            e = f"CASE WHEN {q} IS NULL OR trim({q}) = '' THEN {q} ELSE replace({q}, trim({q}), trim({q}) || 'q{k}') END"
        else:
            e = q
        cols.append(f"{e} AS {q}")
    return f"SELECT {', '.join(cols)} FROM base_{table}"


def write_demo(model: Playbook, out: str, *, leads: int, seed: int, as_of: int | None = None,
               fmt: str = "csv", activities_per_lead: float = 3.0, progress=None, inject: bool = True,
               chunk: int | None = None) -> dict[str, int]:
    """Write demo data to a folder (CSV/Parquet + truth.json + demo.json) or a PostgreSQL URL; returns truth."""
    as_of = default_as_of(model) if as_of is None else as_of
    checks = ir.build_checks(model)
    truth: dict[str, int] = {c.id: 0 for c in checks}
    is_url = out.lower().startswith(("postgresql://", "postgres://"))
    if is_url:
        import pyarrow as pa

        parts: dict[str, list] = {}
        for tables, t in generate(model, leads=leads, seed=seed, as_of=as_of,
                                  activities_per_lead=activities_per_lead, inject=inject, chunk=chunk):
            for k, v in t.items():
                truth[k] = truth.get(k, 0) + v
            for name, tab in tables.items():
                parts.setdefault(name, []).append(tab)
        from .sources.postgres import write_tables

        write_tables(out, {k: pa.concat_tables(v) for k, v in parts.items()})
        return dict(sorted(truth.items()))
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    writers: dict = {}
    try:
        done = 0
        for tables, t in generate(model, leads=leads, seed=seed, as_of=as_of,
                                  activities_per_lead=activities_per_lead, inject=inject, chunk=chunk):
            for k, v in t.items():
                truth[k] = truth.get(k, 0) + v
            for name, tab in tables.items():
                if name not in writers:
                    writers[name] = _writer(folder, name, tab.schema, fmt)
                writers[name].write_table(tab)
            done = min(leads, done + tables["leads"].num_rows)
            if progress:
                progress("generating leads", done, leads)
    finally:
        for w in writers.values():
            w.close()
    truth = dict(sorted(truth.items()))
    (folder / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    meta = {"playbook": model.playbook.id, "leads": leads, "seed": seed,
            "as_of": iso(as_of),
            "format": fmt, "activities_per_lead": activities_per_lead}
    (folder / "demo.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return truth


def _writer(folder: Path, name: str, schema, fmt: str):
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(str(folder / f"{name}.parquet"), schema)
    if fmt == "csv":
        import pyarrow.csv as pcsv

        return pcsv.CSVWriter(str(folder / f"{name}.csv"), schema)
    raise UsageError(f"unknown format {fmt!r}: use csv or parquet")
