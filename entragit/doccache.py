"""The parsed form of the files the last export wrote, so reading them back does not parse YAML.

An export knows each file's document before it renders it; it keeps the document's JSON here, keyed
by the git blob id of the file's final text. Reading a file whose blob id is in the cache (an
incremental export's committed files, a plan of a recent revision) then costs one JSON parse instead
of a YAML parse, and a file whose id git already knows (delta's blob list) is not even read. The key
is the text's own hash, so a hand-edited or otherwise different file simply misses and is parsed;
the cache is kept in the git directory next to the render cache, tagged with the same writer version
(a cache written by another version matches nothing), and a missing or unreadable one costs only
the parse it saves.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from entragit import gitstore, rendercache


def blob_id(text: str) -> str:
    """The id git gives a file holding `text` (UTF-8, as export writes it)."""
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def path_for(root: Path, tenant: str) -> Path | None:
    git_dir = gitstore.git_dir(root) if tenant else None
    return Path(git_dir) / "entragit-render" / f"{tenant}.docs" if git_dir else None


class DocCache:
    """blob id -> the document (parsed YAML) of one tenant's files as the last export wrote them.

    Held as JSON text and parsed when taken, so the whole tenant is never held parsed twice; each
    entry is handed out once (`take`): a second file with the same text parses its own copy."""

    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs

    def take(self, blob: str) -> Any | None:
        js = self.docs.pop(blob, None)
        return None if js is None else json.loads(js)

    def take_text(self, text: str) -> Any | None:
        return self.take(blob_id(text)) if self.docs else None


def load(root: Path, tenant: str) -> DocCache:
    """The tenant's cache: a first line naming the writer version, then `blob id<TAB>JSON` lines
    (JSON escapes every tab and newline inside it)."""
    path = path_for(root, tenant)
    docs: dict[str, str] = {}
    if path is None:
        return DocCache(docs)
    try:
        with open(path, encoding="utf-8", newline="\n") as f:
            if f.readline().rstrip("\n") != f"entragit-docs {rendercache.version()}":
                return DocCache({})
            for line in f:
                blob, _, js = line.rstrip("\n").partition("\t")
                docs[blob] = js
    except (OSError, ValueError):
        return DocCache({})
    return DocCache(docs)


def save(root: Path, tenant: str, docs: dict[str, str]) -> None:
    """`docs`: blob id -> the document's JSON text (as export computed it for the render cache), so
    no document is encoded again."""
    path = path_for(root, tenant)
    if path is None:
        return
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(f"entragit-docs {rendercache.version()}\n")
            f.writelines(f"{blob}\t{js}\n" for blob, js in docs.items())
        os.replace(tmp, path)
    except OSError:
        pass  # only a cost: the next read parses the YAML


def forget(root: Path, tenant: str) -> None:
    path = path_for(root, tenant)
    if path is not None:
        path.unlink(missing_ok=True)
