"""Resumable CRM pulls into a local DuckDB file, then the data contract's tables over it.

A pull is a list of `PullTask`s, one per CRM object feeding a contract table.
Each page is written together with the cursor that follows it, in one DuckDB
transaction, so a pull that dies (rate limit, network, crash) continues from
the last saved page on the next run instead of starting over. A pull that
finished is started afresh next time (CRM data moves on). Rows are upserted by
record id, so a page fetched twice never doubles a count.

Values are normalised to text at pull time (times to UTC, booleans to
true/false) and cast to the contract's SQL types in the views the checks read.
A failed pull leaves the source `complete = False`: the run exits 2, never a pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...errors import ExternalToolError
from ..source import LOGICAL_TABLES, Progress, SourceError
from .duckdb_dir import DuckDBSource

DEFAULT_CACHE_DIR = Path(".cache") / "pull"

SQL_TYPES = {
    "boolean": "BOOLEAN",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "datetime": "TIMESTAMP",
}

Page = tuple[list[dict[str, Any]], str | None, int | None]
"""(records, cursor of the next page or None when done, total records if the API says)."""


@dataclass
class PullTask:
    """One CRM object pulled page by page into rows of a contract table."""

    name: str  # unique within a pull, e.g. "activities:calls"
    table: str  # contract table the rows feed
    columns: dict[str, str]  # contract column -> field type (data-dictionary type)
    fetch: Callable[[str | None], Page]  # cursor (None = first page) -> page
    to_rows: Callable[[dict[str, Any]], list[dict[str, Any]]]  # one record -> contract rows (raw values)
    restart_on: Callable[[Exception], bool] = lambda exc: False  # a stale cursor: start the object again
    describe: str = ""


@dataclass
class PullResult:
    complete: bool
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    unparseable: dict[str, int] = field(default_factory=dict)  # "table.column" -> values that did not parse


def normalise(value: Any, ftype: str) -> str | None:
    """A CRM value as contract text: UTC times, true/false, ';'-joined lists; None when unparseable."""
    if value is None or value == "":
        return None
    if ftype == "datetime":
        dt = _parse_datetime(value)
        return dt.strftime("%Y-%m-%d %H:%M:%S.%f") if dt else None
    if ftype == "date":
        if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit() and len(value) >= 10):
            dt = _parse_datetime(value)
            return dt.date().isoformat() if dt else None
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            return None
    if ftype == "boolean":
        if isinstance(value, bool):
            return "true" if value else "false"
        s = str(value).strip().lower()
        return {"true": "true", "false": "false", "1": "true", "0": "false", "yes": "true", "no": "false"}.get(s)
    if ftype in ("integer", "number"):
        try:
            num = float(value)
        except (TypeError, ValueError):
            return None
        return str(int(num)) if ftype == "integer" and num.is_integer() else (None if ftype == "integer" else repr(num))
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _parse_datetime(value: Any) -> datetime | None:
    # Salesforce: 2024-03-01T14:00:00.000+0000; HubSpot: ISO with Z, or epoch milliseconds.
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            return datetime.fromtimestamp(int(value) / 1000, timezone.utc).replace(tzinfo=None)
        except (OverflowError, ValueError, OSError):
            return None
    s = str(value).strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    if len(s) > 5 and s[-5] in "+-" and s[-4:].isdigit() and ":" not in s[-5:]:
        s = s[:-2] + ":" + s[-2:]
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def cache_path(cache_dir: Path | str | None, crm: str, identity: str) -> Path:
    """The cache file for one CRM account and mapping."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(cache_dir or DEFAULT_CACHE_DIR) / f"{crm}-{digest}.duckdb"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _raw(name: str) -> str:
    return _q("raw__" + name.replace(":", "__").replace("-", "_"))


@contextmanager
def private_files() -> Iterator[None]:
    """Files created meanwhile (DuckDB's database, WAL, spill files) are the owner's only.

    DuckDB creates its WAL lazily on the first write and again after every
    checkpoint, with the process umask: the umask is the one place to catch it.
    """
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def secure_folder(folder: Path) -> None:
    """Make `folder` 0700 and everything in it 0600 (folders 0700); refuse what we cannot own.

    Whatever existed before is fixed: a folder or file left group- or
    world-readable (another umask, an older playbook) is tightened. A symlink,
    a non-folder, or anything owned by another user is refused (SourceError,
    exit 2): chmod would not make those private.
    """
    folder = Path(folder)
    if folder.is_symlink():
        raise SourceError(f"pull cache folder {folder} is a symlink; refusing to keep CRM data through it")
    with private_files():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _tighten(folder, 0o700, folder)
    for entry in sorted(folder.rglob("*")):
        if entry.is_symlink():
            raise SourceError(f"pull cache folder {folder} holds a symlink ({entry.name}); refusing to use it")
        _tighten(entry, 0o700 if entry.is_dir() else 0o600, folder)


def _tighten(path: Path, mode: int, folder: Path) -> None:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode) or not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        raise SourceError(f"pull cache {path} is not a plain file or folder; refusing to use {folder}")
    if st.st_uid != os.getuid():
        raise SourceError(f"pull cache {path} belongs to another user; refusing to use {folder}")
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)


class PullCache:
    """The local DuckDB file holding pulled rows and each object's cursor.

    It holds personal data pulled from the CRM: the folder is 0700 and every
    file in it (database, WAL, temp files) 0600, whatever existed before.
    """

    def __init__(self, path: Path) -> None:
        import duckdb

        secure_folder(path.parent)
        self.path = path
        with private_files():
            self.con = duckdb.connect(str(path))
            self.con.execute("SET TimeZone = 'UTC'")
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS _pull_state (task VARCHAR PRIMARY KEY, fingerprint VARCHAR, "
                "cursor VARCHAR, done BOOLEAN, pages BIGINT, total BIGINT)"
            )
        secure_folder(path.parent)

    def close(self) -> None:
        """Close the database and re-check the folder's permissions; safe to call twice."""
        con, self.con = getattr(self, "con", None), None
        if con is not None:
            with private_files():
                con.close()
            secure_folder(self.path.parent)

    def prepare(self, tasks: list[PullTask], refresh: bool) -> bool:
        """Reset for a fresh pull unless an unfinished one with the same tasks can resume; True if resuming."""
        with private_files():
            return self._prepare(tasks, refresh)

    def _prepare(self, tasks: list[PullTask], refresh: bool) -> bool:
        states = {r[0]: r for r in self.con.execute("SELECT task, fingerprint, done FROM _pull_state").fetchall()}
        fps = {t.name: _fingerprint(t) for t in tasks}
        same = set(states) == set(fps) and all(states[n][1] == fps[n] for n in fps)
        unfinished = same and not all(states[n][2] for n in fps)
        if unfinished and not refresh:
            return True
        for name in set(states) | set(fps):
            self.con.execute(f"DROP TABLE IF EXISTS {_raw(name)}")
        self.con.execute("DELETE FROM _pull_state")
        for t in tasks:
            cols = ", ".join(f"{_q(c)} VARCHAR" for c in ["_key", *t.columns])
            self.con.execute(f"CREATE TABLE {_raw(t.name)} ({cols}, PRIMARY KEY (_key))")
            self.con.execute("INSERT INTO _pull_state VALUES (?, ?, NULL, false, 0, NULL)", [t.name, fps[t.name]])
        return False

    def state(self, task: str) -> tuple[str | None, bool, int]:
        cursor, done, pages = self.con.execute(
            "SELECT cursor, done, pages FROM _pull_state WHERE task = ?", [task]
        ).fetchone()
        return cursor, bool(done), int(pages)

    def rows(self, task: str) -> int:
        return self.con.execute(f"SELECT COUNT(*) FROM {_raw(task)}").fetchone()[0]

    def save_page(self, task: PullTask, rows: list[dict[str, str | None]], cursor: str | None, total: int | None) -> None:
        """Store a page's rows and the cursor after it, atomically."""
        with private_files():
            self._save_page(task, rows, cursor, total)

    def _save_page(self, task: PullTask, rows: list[dict[str, str | None]], cursor: str | None,
                   total: int | None) -> None:
        cols = ["_key", *task.columns]
        self.con.execute("BEGIN")
        try:
            if rows:
                placeholders = ", ".join("?" for _ in cols)
                self.con.executemany(
                    f"INSERT OR REPLACE INTO {_raw(task.name)} VALUES ({placeholders})",
                    [[r.get(c) for c in cols] for r in rows],
                )
            self.con.execute(
                "UPDATE _pull_state SET cursor = ?, done = ?, pages = pages + 1, total = COALESCE(?, total) WHERE task = ?",
                [cursor, cursor is None, total, task.name],
            )
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    def restart(self, task: PullTask) -> None:
        with private_files():
            self.con.execute("UPDATE _pull_state SET cursor = NULL, done = false WHERE task = ?", [task.name])

    def build_views(self, tasks: list[PullTask], contract_columns: dict[str, dict[str, str]]) -> None:
        """Temp views with the contract's names and types, one per logical table."""
        for table in LOGICAL_TABLES:
            cols = contract_columns.get(table) or {}
            if not cols:
                continue
            parts = [t for t in tasks if t.table == table]
            selects = []
            for t in parts:
                exprs = [_cast(_q(c) if c in t.columns else "NULL", ty) + f" AS {_q(c)}" for c, ty in cols.items()]
                selects.append(f"SELECT {', '.join(exprs)} FROM {_raw(t.name)}")
            if not selects:
                exprs = [_cast("NULL", ty) + f" AS {_q(c)}" for c, ty in cols.items()]
                selects.append(f"SELECT {', '.join(exprs)} WHERE false")
            with private_files():
                self.con.execute(f"CREATE OR REPLACE TEMP VIEW {_q(table)} AS " + " UNION ALL ".join(selects))


def _cast(expr: str, ftype: str) -> str:
    return f"CAST({expr} AS {SQL_TYPES.get(ftype, 'VARCHAR')})"


def _fingerprint(task: PullTask) -> str:
    return hashlib.sha256(json.dumps([task.table, task.columns, task.describe], sort_keys=True).encode()).hexdigest()[:16]


def run_pull(
    cache: PullCache,
    tasks: list[PullTask],
    *,
    progress: Progress | None = None,
    refresh: bool = False,
    label: str = "CRM",
) -> PullResult:
    """Pull every task page by page from its saved cursor; stop at the first API failure."""
    cache.prepare(tasks, refresh)
    result = PullResult(complete=True)
    for task in tasks:
        cursor, done, _ = cache.state(task.name)
        total: int | None = None
        restarted = False
        while not done:
            try:
                records, nxt, total_now = task.fetch(cursor)
            except ExternalToolError as exc:
                if cursor is not None and not restarted and task.restart_on(exc):
                    # An expired cursor (e.g. a Salesforce query locator): start the object over;
                    # upserts by id keep the rows already saved from being counted twice.
                    cache.restart(task)
                    cursor, restarted = None, True
                    continue
                result.complete = False
                result.error = f"{label} pull of {task.describe or task.name} stopped: {exc.message()}"
                break
            total = total_now if total_now is not None else total
            rows: list[dict[str, str | None]] = []
            for rec in records:
                for raw in task.to_rows(rec):
                    row: dict[str, str | None] = {"_key": str(raw.get("_key"))}
                    for col, ftype in task.columns.items():
                        val = raw.get(col)
                        norm = normalise(val, ftype)
                        if norm is None and val not in (None, ""):
                            key = f"{task.table}.{col}"
                            result.unparseable[key] = result.unparseable.get(key, 0) + 1
                        row[col] = norm
                    rows.append(row)
            cache.save_page(task, rows, nxt, total)
            cursor, done = nxt, nxt is None
            if progress is not None:
                progress(f"{label} {task.describe or task.name}", cache.rows(task.name), total)
        if not result.complete:
            break
    for task in tasks:
        result.rows[task.name] = cache.rows(task.name)
    return result


class PulledSource(DuckDBSource):
    """The contract tables over a pull cache; `complete` is False after a failed pull."""

    def __init__(self, cache: PullCache, description: str, result: PullResult) -> None:
        self.cache = cache
        self.result = result
        note = "" if result.complete else " (INCOMPLETE: " + (result.error or "pull failed") + ")"
        super().__init__(cache.path, connection=cache.con, description=description + note, complete=result.complete)
        self.error = result.error

    def query(self, sql: str) -> list[tuple]:
        """Run one SELECT; spill files DuckDB writes meanwhile stay private."""
        with private_files():
            return super().query(sql)

    def close(self) -> None:
        """Close the cache (and re-check its folder's permissions); safe to call twice."""
        self.con = None
        self.cache.close()

    def columns(self, name: str) -> list[str] | None:
        """Column names of a contract view, or None."""
        try:
            rel = self.con.sql(f"SELECT * FROM {_q(name)} LIMIT 0")
        except Exception:
            return None
        return list(rel.columns)


def contract_columns(model: Any) -> dict[str, dict[str, str]]:
    """Contract table -> {column: data-dictionary type}, from the model."""
    from ..contract import build_contract

    return {t.name: {c.name: c.type for c in t.columns} for t in build_contract(model).tables}


def iter_pages(fetch: Callable[[str | None], Page]) -> Iterator[list[dict[str, Any]]]:
    """All pages of a fetch function from the start (tests and small look-ups)."""
    cursor: str | None = None
    while True:
        records, cursor, _ = fetch(cursor)
        yield records
        if cursor is None:
            return


@contextmanager
def crm_client(model: Any, client: Any, client_class: Any, env: dict[str, str] | None, options: dict[str, Any],
               *, source: str, maps: str) -> Iterator[Any]:
    """The caller's CRM client, or one made from the environment and closed after the pull.

    Shared by `--source salesforce` and `--source hubspot`: both need the model (to map the CRM's
    `maps` to the data contract) and report a bad environment as a source error, not a traceback.
    """
    if model is None:
        raise SourceError(f"--source {source} needs the playbook model to map {maps} to the data contract")
    own = client is None
    if own:
        try:
            client = client_class.from_env(env, **options)
        except ExternalToolError as exc:
            raise SourceError(exc.message()) from None
    try:
        yield client
    finally:
        if own:
            client.close()


def open_pulled(
    model: Any,
    client: Any,
    tasks: list[PullTask],
    unmapped: dict[str, list[str]],
    *,
    crm: str,
    label: str,
    identity: str,
    cache_dir: Path | str | None,
    progress: Progress | None,
    refresh: bool,
) -> PulledSource:
    """Run (or resume) a CRM pull into its cache and open the contract views over it.

    Shared by the Salesforce and HubSpot sources: they differ only in how they
    build their tasks and what identifies one org or portal (`identity`).
    """
    host = urlsplit(client.http.base_url).netloc
    path = cache_path(cache_dir, crm, identity)
    cache = PullCache(path)
    result = run_pull(cache, tasks, progress=progress, refresh=refresh, label=label)
    cache.build_views(tasks, contract_columns(model))
    source = PulledSource(cache, f"{label} {host} (pulled into {path})", result)
    source.unmapped = unmapped
    return source
