"""Rebuild a stopped run's results.json from its log (the runner prints each mutant's outcome in
mutant order with --jobs 1); mutants after the last printed one are "not run". Then
`mutate.py --recheck RESULTS` runs the rest, or `--recheck RESULTS --survivors-only` only its survivors.

Usage: python scripts/mutation_from_log.py LOG MODULE OUT_RESULTS SECONDS_IT_RAN
"""
import json, re, sys, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent)); import mutate  # noqa: E402
from pathlib import Path
log, mod, out, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
done = [(m.group(2), m.group(1)) for line in Path(log).read_text().splitlines()
        if (m := re.match(r"  (\S+)\s+(generator/\S+:\d+:\d+:.+)$", line))]
ms = mutate.mutants_of(mod)
assert [k for k, _ in done] == [m.key for m in ms[:len(done)]], "log order differs from the mutants"
pairs = [[k, o] for k, o in done] + [[m.key, mutate.NOT_RUN] for m in ms[len(done):]]
data = {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": f"rebuilt from {log} (run stopped)",
        "seconds": round(seconds), "modules": {mod: {"sha256": mutate._sha((mutate.ROOT / mod).read_text(encoding="utf-8")),
                                                     "seconds": round(seconds, 1), "outcomes": pairs}}}
Path(out).parent.mkdir(parents=True, exist_ok=True)
Path(out).write_text(json.dumps(data, indent=1) + "\n")
print(len(done), "run,", len(ms) - len(done), "not run")
