"""The redact package: its public names, and imports between its modules that point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import assist.calllog.redact as redact

PACKAGE = Path(redact.__file__).parent


def test_public_names_are_exported() -> None:
    for name in redact.__all__:
        assert getattr(redact, name) is not None
    assert {"REDACTION_KINDS", "Redacted", "Redaction", "Redactor", "CallRedactor", "redact_words"} <= set(
        redact.__all__
    )


def test_modules_import_each_other_without_cycles() -> None:
    imports: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("assist.calllog.redact."):
                found.add(node.module.rsplit(".", 1)[1])
        imports[path.stem] = found
    assert all("__init__" not in found for found in imports.values())
    done: set[str] = set()
    while len(done) < len(imports):
        ready = {m for m, found in imports.items() if m not in done and found <= done}
        assert ready, f"import cycle among {sorted(set(imports) - done)}"
        done |= ready
