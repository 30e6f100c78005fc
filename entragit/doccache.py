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
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entragit import rendercache


def blob_id(text: str) -> str:
    """The id git gives a file holding `text` (UTF-8, as export writes it)."""
    data = text.encode("utf-8")
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def path_for(root: Path, tenant: str) -> Path | None:
    return rendercache.cache_path(root, tenant, ".docs")


class DocCache:
    """blob id -> the document (parsed YAML) of one tenant's files as the last export wrote them.

    Held as JSON text and parsed when taken, so the whole tenant is never held parsed twice; each
    entry is handed out once (`take_text`, `take_with_json`): a second file with the same text parses its own copy."""

    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs

    def take_text(self, text: str) -> Any | None:
        hit = self.take_with_json(text)
        return None if hit is None else hit[0]

    def take_with_json(self, text: str) -> tuple[Any, str] | None:
        """The document of a file's text and the JSON it was kept as (compact, not ASCII-escaped:
        rendercache.doc_json), for a check that scans the whole document as one string."""
        js = self.docs.pop(blob_id(text), None) if self.docs else None
        return None if js is None else (json.loads(js), js)


def stream(root: Path, tenant: str, wanted: dict[str, str]) -> Iterator[tuple[str, Any, str]]:
    """(path, document, its JSON) of each cached file `wanted` names (blob id -> path), read line by
    line, so no more than one document's text is held at a time."""
    path = path_for(root, tenant)
    if path is None:
        return
    try:
        with open(path, encoding="utf-8", newline="\n") as f:
            if f.readline().rstrip("\n") != f"entragit-docs {rendercache.version()}":
                return
            for line in f:
                blob, _, js = line.partition("\t")
                rel = wanted.pop(blob, None)
                if rel is not None:
                    js = js.rstrip("\n")
                    yield rel, json.loads(js), js
    except (OSError, ValueError):
        return


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


class Recorder:
    """The documents an export renders, spooled to a temporary file as they come (export holds no
    extra copy of the tenant), then saved keyed by the blob ids of the files as written."""

    def __init__(self) -> None:
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed by save or close

    def add(self, rel: str, js: str) -> None:
        """`js`: the document's JSON text (as export computed it for the render cache)."""
        self._spool.write(f"{rel}\t{js}\n")

    def close(self) -> None:
        self._spool.close()

    def save(self, root: Path, tenant: str, files: dict[str, str], skip: set[str]) -> None:
        """`files`: rel -> the text written; `skip`: files whose text is not the recorded document's."""
        path = path_for(root, tenant)
        try:
            if path is not None:
                _write(path, self._entries(files, skip))
        except OSError:
            pass  # only a cost: the next read parses the YAML
        finally:
            self.close()

    def _entries(self, files: dict[str, str], skip: set[str]) -> Iterator[str]:
        self._spool.seek(0)
        for line in self._spool:
            rel, _, js = line.partition("\t")
            if rel in files and rel not in skip:
                yield f"{blob_id(files[rel])}\t{js}"


def _write(path: Path, lines: Iterator[str]) -> None:
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"entragit-docs {rendercache.version()}\n")
        f.writelines(lines)
    os.replace(tmp, path)


def forget(root: Path, tenant: str) -> None:
    path = path_for(root, tenant)
    if path is not None:
        path.unlink(missing_ok=True)
