"""Data builders for what-if tests: a git repository with the conformance fixture playbook,
and a data snapshot (demo data with canary values planted in personal fields).

Canary values are what no output may ever show: each test asserts none of them appears.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "conformance" / "playbook"
PB = "process/base"
CANARY = "CANARY-7f3e"  # every planted value contains this


class Repo:
    """A git repository holding the fixture playbook under process/base."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Ana Ops")
        self.git("config", "user.email", "ana@example.org")
        self.git("config", "commit.gpgsign", "false")
        (root / ".gitignore").write_text(".cache/\n")
        shutil.copytree(FIXTURE, root / PB)
        self.commit("Create the playbook")
        self.git("tag", "base")

    def git(self, *args: str) -> str:
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.root.parent)}
        proc = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def edit(self, rel: str, old: str, new: str) -> None:
        p = self.root / PB / rel
        text = p.read_text()
        assert old in text, f"{old!r} not in {rel}"
        p.write_text(text.replace(old, new, 1))

    def commit(self, subject: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--no-gpg-sign", "-m", subject)
        return self.git("rev-parse", "HEAD")


def write_snapshot(model, out: Path, leads: int = 400, seed: int = 5) -> None:
    """Demo data for `model` as Parquet, with canary values in names, condition, phone, email and in
    a few specialty, region and stage values (so values that reach SQL as data are canaries too)."""
    import duckdb

    from generator.conformance.demo import write_demo

    write_demo(model, str(out), leads=leads, seed=seed, fmt="parquet")
    con = duckdb.connect()
    p = str(out / "leads.parquet")
    con.execute(f"CREATE TABLE leads AS SELECT * FROM read_parquet('{p}')")
    cols = {r[0] for r in con.execute("DESCRIBE leads").fetchall()}
    sets = []
    for c in ("first_name", "last_name", "condition", "email", "phone", "reason_note"):
        if c in cols:
            sets.append(f"\"{c}\" = CASE WHEN \"{c}\" IS NULL THEN NULL ELSE '{CANARY}-' || \"{c}\" END")
    con.execute("UPDATE leads SET " + ", ".join(sets))
    # every 37th lead gets a specialty and every 41st a region that is a canary (not an allowed value)
    con.execute(f"UPDATE leads SET specialty = '{CANARY}-spec' WHERE hash(lead_id) % 37 = 0")
    con.execute(f"UPDATE leads SET region = '{CANARY}-region' WHERE hash(lead_id) % 41 = 0")
    con.execute(f"COPY leads TO '{p}' (FORMAT parquet)")
    con.close()


def rows(folder: Path, table: str) -> list[dict]:
    """A table of the snapshot as Python dicts (the tests' own reading of the data)."""
    import pyarrow.parquet as pq

    path = folder / f"{table}.parquet"
    return pq.read_table(path).to_pylist() if path.exists() else []
