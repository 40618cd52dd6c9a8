"""Benchmarks: one module per part, each with a `main()`; `python -m benchmarks` runs them all."""
