"""The pull cache holds CRM personal data: 0700 folder, every file 0600, whatever existed before."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fake_crm_data import salesforce_tables
from fakecrm import FakeCRM
from generator.conformance.source import SourceError
from generator.conformance.sources import open_source
from generator.validate import load_playbook

FIXTURE = Path(__file__).parent / "fixtures" / "conformance" / "playbook"
FAST = {"sleep": lambda s: None, "max_attempts": 2}


@pytest.fixture
def fake():
    with FakeCRM(page_size=2) as crm:
        crm.sf.tables.update(salesforce_tables())
        yield crm


@pytest.fixture
def loose_umask():
    old = os.umask(0)  # the worst a user's shell can hand us
    try:
        yield
    finally:
        os.umask(old)


def _modes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): stat.S_IMODE(p.lstat().st_mode) for p in folder.rglob("*")}


def test_every_cache_file_is_private_even_with_umask_0_and_loose_leftovers(fake, tmp_path, loose_umask):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o777)
    os.chmod(cache, 0o777)
    stray = cache / "old-pull.duckdb"
    stray.write_bytes(b"left by an older run")
    os.chmod(stray, 0o666)
    model = load_playbook(FIXTURE)
    src = open_source("salesforce", model=model, env=fake.sf_env(), cache_dir=cache, **FAST)
    try:
        # (the fixture maps appointments to an object the fake lacks: a partial pull is fine here)
        src.query("SELECT COUNT(*) FROM leads")
        modes = _modes(cache)
        # DuckDB's write-ahead log exists while the source is open: it must be private too.
        assert any(name.endswith(".wal") for name in modes), modes
        assert stat.S_IMODE(cache.stat().st_mode) == 0o700
        assert {n: m for n, m in modes.items() if m != (0o700 if (cache / n).is_dir() else 0o600)} == {}
    finally:
        src.close()
    modes = _modes(cache)
    assert modes and all(m == (0o700 if (cache / n).is_dir() else 0o600) for n, m in modes.items()), modes
    # A second run over a cache someone loosened again tightens it again.
    for p in cache.iterdir():
        os.chmod(p, 0o644)
    os.chmod(cache, 0o755)
    with open_source("salesforce", model=model, env=fake.sf_env(), cache_dir=cache, **FAST) as src:
        pass
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert all(m == 0o600 for n, m in _modes(cache).items() if (cache / n).is_file())


def test_new_cache_folder_is_created_private(fake, tmp_path, loose_umask):
    cache = tmp_path / "a" / "b"
    with open_source("salesforce", model=load_playbook(FIXTURE), env=fake.sf_env(), cache_dir=cache, **FAST):
        pass
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


def test_symlinked_cache_folder_or_entry_is_refused(fake, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(SourceError, match="symlink"):
        open_source("salesforce", model=load_playbook(FIXTURE), env=fake.sf_env(), cache_dir=link, **FAST)
    (real / "x.duckdb.wal").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(SourceError, match="symlink"):
        open_source("salesforce", model=load_playbook(FIXTURE), env=fake.sf_env(), cache_dir=real, **FAST)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a file to another user")
def test_cache_file_owned_by_another_user_is_refused(fake, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    other = cache / "someone-elses.duckdb"
    other.write_bytes(b"")
    os.chown(other, 65534, 65534)
    with pytest.raises(SourceError, match="belongs to another user"):
        open_source("salesforce", model=load_playbook(FIXTURE), env=fake.sf_env(), cache_dir=cache, **FAST)
