"""Benchmarks: `python -m bench [NAME ...]` runs them and rewrites their sections of docs/benchmarks.md."""
