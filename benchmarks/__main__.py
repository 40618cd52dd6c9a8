"""Run every benchmark module in this folder that has a `main()`, one after another.

    .venv/bin/python -m benchmarks            # all of them
    .venv/bin/python -m benchmarks site       # only the named ones
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (default: all); the exit code is the worst one's."""
    argv = sys.argv[1:] if argv is None else argv
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))
    chosen = argv or names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(names)}", file=sys.stderr)
        return 2
    worst = 0
    for name in chosen:
        module = importlib.import_module(f"benchmarks.{name}")
        run = getattr(module, "main", None)
        if run is None:
            continue
        print(f"== benchmarks.{name}", flush=True)
        t0 = time.perf_counter()
        try:
            # Each benchmark parses its own options; here they all run with defaults.
            code = run([]) or 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
            if not isinstance(exc.code, int) and exc.code:
                print(exc.code, flush=True)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            traceback.print_exc()
            code = 1
        print(f"== benchmarks.{name}: exit {code} in {time.perf_counter() - t0:.1f}s\n", flush=True)
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
