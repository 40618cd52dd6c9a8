"""Session fixtures for real engines: a PostgreSQL server and a local Spark session.

Both are real (DESIGN.md, "Real parts"): the suite starts its own PostgreSQL
with initdb/pg_ctl on a free loopback port and stops it at the end; Spark runs
`local[2]` with the UI off. Tests that need neither never pay for them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

PG_USER = "playbook"
PG_PASSWORD = "pg-test-secret-7d1c"  # tests assert it never shows up in any message


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_account() -> str | None:
    """PostgreSQL refuses to run as root: run it under an existing unprivileged account.

    `postgres` (made by the Debian package scripts/system-deps.sh installs), else
    `nobody`, which every Linux has. Tests never add a user to the host.
    """
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    pytest.skip("running as root and neither a postgres nor a nobody account exists to run PostgreSQL as")


@pytest.fixture(scope="session")
def postgres_server():
    """URL of a real PostgreSQL server started for this test session (password auth on 127.0.0.1)."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (scripts/system-deps.sh test installs them)")
    account = _server_account()
    base = Path(tempfile.mkdtemp(prefix="playbook-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    pwfile = base / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    as_user: list[str] = []
    if account:
        info = pwd.getpwnam(account)
        for p in (base, sock, pwfile):
            os.chown(p, info.pw_uid, info.pw_gid)
        as_user = ["runuser", "-u", account, "--"]
    port = _free_port()

    def run(*cmd: str) -> None:
        proc = subprocess.run([*as_user, *cmd], capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"{cmd[0]} failed:\n{proc.stdout}\n{proc.stderr}")

    run(
        str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, f"--pwfile={pwfile}",
        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
    )
    opts = (
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c TimeZone=UTC"
    )
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w", "-t", "60", "start")
    try:
        yield f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_session():
    """A local PySpark session: 2 cores, few shuffle partitions, no UI, UTC, quiet logs."""
    pytest.importorskip("pyspark")
    from generator.conformance.sources.spark import local_session

    session = local_session()
    try:
        yield session
    finally:
        session.stop()
