"""docs/SECURITY.md maps each promise to the tests that prove it: every test it names must exist."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

DOC = Path(__file__).parents[1] / "docs" / "SECURITY.md"
_REF = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def _references() -> list[tuple[str, str | None]]:
    refs: list[tuple[str, str | None]] = []
    for line in DOC.read_text().splitlines():
        if not line.startswith("|"):
            continue
        current = None
        for path, name in _REF.findall(line):
            current = path or current
            if current:
                refs.append((current, name or None))
    return refs


def test_every_test_the_security_page_names_exists() -> None:
    refs = _references()
    assert len(refs) > 30
    for path, name in refs:
        assert (DOC.parents[1] / path).is_file(), path
        if name:
            module = importlib.import_module(path[:-3].replace("/", "."))
            assert hasattr(module, name), f"{path}::{name} named in docs/SECURITY.md is gone"
