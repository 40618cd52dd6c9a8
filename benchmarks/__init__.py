"""Benchmarks: one module per part, each with a `main()`; `python -m benchmarks` runs them all."""

import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Fastest wall time of `repeat` calls: the least disturbed by other load."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def spread(values: list[float]) -> str:
    """Median and range of a ratio over several runs: `0.12 (0.10-0.14, 3 runs)`."""
    ordered = sorted(values)
    return f"{median(values):.2f} ({ordered[0]:.2f}-{ordered[-1]:.2f}, {len(ordered)} runs)"


def goal(met: bool, text: str) -> str:
    """The goal a figure is measured against, and whether this run met it."""
    return f"[goal {text}: {'met' if met else 'NOT met'}]"


def median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
