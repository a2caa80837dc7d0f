"""Benchmarks (``python -m tools.bench.NAME``): hand model, renderer, soft silhouettes, fit, refinement, texture,
HandNet and the live pipeline. Each prints a table; timings go into the docs with the command that made them."""
