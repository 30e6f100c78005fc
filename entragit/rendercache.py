"""What the last export wrote, so an object that did not change is not written out as YAML again.

For each file: a digest of the canonical document (its JSON) and of the text rendered from it. When
an export builds the same document and the file on disk still holds exactly that text, the text is
reused as it is; anything else (a new or changed object, a hand-edited file, another writer
version) renders again. Kept in the git directory, never in the tracked files; a missing or
unreadable cache only costs a render of every file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from entragit import gitstore


@functools.cache
def version() -> str:
    """Changes whenever rendering can (the writer's and the canonical form's code, PyYAML's
    version), so a cache written by another version matches nothing."""
    import yaml

    from entragit import canonical, yamlio

    h = hashlib.blake2b(yaml.__version__.encode(), digest_size=16)
    for module in (yamlio, canonical):
        h.update(Path(str(module.__file__)).read_bytes())
    return h.hexdigest()


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def doc_json(doc: Any) -> str:
    # Flow mappings serialise like dicts here; to_document makes exactly the refs entries Flow, so the
    # document's JSON still decides its text.
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def doc_digest(header: str, doc: Any, js: str | None = None) -> str:
    """`js`: the document's doc_json when the caller has it already."""
    return _digest(header + "\n" + (doc_json(doc) if js is None else js))


class RenderCache:
    """rel -> (document digest, text digest) of one tenant's files as the last export wrote them."""

    def __init__(self, path: Path | None, current: dict[str, str]) -> None:
        self.path = path
        self.current = current
        self.old: dict[str, list[str]] = self._read() if path else {}
        self.new: dict[str, list[str]] = {}

    def _read(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
        except (OSError, ValueError):
            return {}
        return data.get("files", {}) if isinstance(data, dict) and data.get("version") == version() else {}

    def text(self, rel: str, digest: str) -> str | None:
        """The file's current text when it is what the same document rendered to last time."""
        entry, text = self.old.get(rel), self.current.get(rel)
        if entry and text is not None and entry[0] == digest and entry[1] == _digest(text):
            return text
        return None

    def remember(self, rel: str, digest: str, text: str) -> None:
        self.new[rel] = [digest, _digest(text)]

    def save(self) -> None:
        """Written after the files are in place (a write that failed leaves the old cache, which then
        matches the old files, or nothing)."""
        if not self.path:
            return
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"version": version(), "files": self.new}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # only a cost: the next export renders every file


def cache_path(root: Path, tenant: str, suffix: str) -> Path | None:
    """A tenant's cache file in the git directory (render, documents, passed checks); None when the
    repo is not under git."""
    git_dir = gitstore.git_dir(root) if tenant else None
    return Path(git_dir) / "entragit-render" / f"{tenant}{suffix}" if git_dir else None


def for_tenant(root: Path, name: str, current: dict[str, str]) -> RenderCache:
    """The tenant's cache in the git directory; none when the repo is not under git."""
    return RenderCache(cache_path(root, name, ".json"), current)
