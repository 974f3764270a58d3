"""Benchmarks: they print figures and ratios; tests assert behaviour, never timings."""
