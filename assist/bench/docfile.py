"""Benchmark reports live in marked sections of a markdown file; each run replaces its own."""

from __future__ import annotations

from pathlib import Path


def replace_section(doc: Path, section: str, begin: str, end: str, *, title: str = "# Benchmarks") -> None:
    """Replace ``begin``…``end`` in ``doc`` with ``section`` (which carries both markers), or append
    it; everything else in the file is kept."""
    text = doc.read_text() if doc.exists() else f"{title}\n\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    doc.write_text(text)
