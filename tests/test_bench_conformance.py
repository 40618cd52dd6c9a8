"""The conformance benchmark's cross-check, small: compiled checks against the hand-written reference.

`benchmarks/conformance.py` carries a second, hand-written reading of every rule of the benchmark
playbook (one SQL statement written from DATA-CONTRACT.md, not from the compiler). On its generated
data every count must agree; the benchmark exits 1 and names the rule when one does not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_compiled_counts_equal_the_hand_written_reference(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.conformance", "--leads", "4000", "--activities-per-lead", "3",
         "--repeat", "1", "--no-soda", "--data", str(tmp_path / "data")],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "checks: 32 rules" in proc.stdout
    assert "counts: identical on all rules" in proc.stdout, proc.stdout
