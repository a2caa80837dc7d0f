"""Benchmarks (``python -m tools.bench.NAME``): hand model, renderer, soft silhouettes, fit, refinement, texture,
HandNet and the live pipeline. Each prints a table; timings go into the docs with the command that made them."""

import time
from pathlib import Path


def write_marked_block(path, name: str, text: str) -> None:
    """Put ``text`` between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in the Markdown file ``path`` (the block
    is appended when the file has none), leaving the rest of the file as it is."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    p = Path(path)
    doc = p.read_text()
    if begin not in doc:
        doc += f"\n{begin}\n{end}\n"
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    p.write_text(f"{head}{begin}\n{text}\n{end}{tail}")
    print(f"wrote the table into {p}")


def report_table(table: str, command: str, started: float, markdown: list, block: str) -> None:
    """Print a benchmark's table with the command and date that made it, and write both into each of ``markdown``
    (between the ``block`` markers). ``started``: time.time() when the benchmark began."""
    minutes = (time.time() - started) / 60
    stamp = f"Command: `{command}`, {time.strftime('%Y-%m-%d')}, {minutes:.0f} min on this machine."
    print(table + "\n\n" + stamp)
    for md in markdown:
        write_marked_block(md, block, f"{table}\n\n{stamp}")
