"""`entragit fmt`: rewrite hand-edited files in canonical form (key order, sorted sets, refs index)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from entragit import canonical, yamlio
from entragit import kinds as kindmod
from entragit.config import read_file, repo_file
from entragit.errors import InputError
from entragit.snapshot import read_files


def _targets(root: Path, paths: Sequence[Path]) -> list[Path]:
    if not paths:
        return sorted((root / "tenants").glob("*/*/*.yaml"))
    out: list[Path] = []
    for p in paths:
        p = Path(os.path.abspath(p))  # not resolve(): a symlink must stay visible to repo_file
        out += sorted(p.glob("**/*.yaml")) if p.is_dir() else [p]
    return [p for p in out if p.parent.name in kindmod.BY_NAME]


def format_paths(root: Path, paths: Sequence[Path] = (), *, check: bool = False) -> list[str]:
    """Files (relative to root) that are not canonical; rewritten unless `check`."""
    changed: list[str] = []
    snaps = {}
    for p in _targets(root, paths):
        tdir = p.parent.parent
        if tdir not in snaps:
            snaps[tdir] = read_files(tdir, root).resolver()
        rel = str(p.relative_to(root))
        kind = kindmod.get(p.parent.name)
        text = read_file(root, p)
        doc = yamlio.load(text, rel)
        if not isinstance(doc, dict):
            raise InputError(rel, 1, "expected a mapping (one object per file)")
        body = canonical.from_document(kind, doc)
        known = doc.get(canonical.REFS) if isinstance(doc.get(canonical.REFS), dict) else {}
        new = yamlio.keep_comments(canonical.render(kind, canonical.to_document(kind, body, snaps[tdir], known)), text)
        if new != text:
            changed.append(rel)
            if not check:
                repo_file(root, p).write_text(new, encoding="utf-8")
    return changed
