"""Revisions of a tenant's files that passed plan's checks, so a second plan of the same files
(apply after plan, a scheduled plan run again, a pipeline re-run) does not check them again.

plan checks the files of the revision it plans as pre-commit would have (a commit may have skipped
the hook): a second of its CPU at 20,000 objects. What the checks find depends only on the files'
texts, the tenant's files at HEAD (an unknown property is allowed when the last export wrote it) and
entragit's own code, so a pass is remembered under the hash of the three, in the git directory
(never tracked, nothing secret: hashes only). Any other text, another HEAD, another release of
entragit is another key, checked in full; a missing or unreadable record costs only the check.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from entragit import gitstore, rendercache

KEPT = 64  # passes remembered per tenant: plans of recent revisions


@functools.cache
def code_version() -> str:
    """Changes with any of entragit's code or data (schemas, the Kind table): checks live throughout it.
    Each file's size and modification time, not its bytes: a stat per file costs a millisecond for the
    package where reading it all cost fifty, and any edit, checkout or install moves one of them."""
    import yaml

    package = Path(__file__).parent
    h = hashlib.blake2b(yaml.__version__.encode(), digest_size=16)
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".json", ".yaml")):
        st = path.stat()
        h.update(b"%s\0%d\0%d\0" % (path.relative_to(package).as_posix().encode(), st.st_size, st.st_mtime_ns))
    return h.hexdigest()


def key(root: Path, texts: Mapping[str, str]) -> str:
    """The key of a check of `texts` ({repo-relative path: text}) in this repo as it stands."""
    h = hashlib.blake2b(code_version().encode(), digest_size=20)
    h.update((gitstore.head(root) or "").encode())
    for path in sorted(texts):
        data = texts[path].encode("utf-8")
        h.update(b"%s\0%d\0" % (path.encode(), len(data)) + data)
    return h.hexdigest()


def path_for(root: Path, tenant: str) -> Path | None:
    return rendercache.cache_path(root, tenant, ".checked")


def _keys(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="ascii").split()
    except (OSError, ValueError):
        return []


def passed(root: Path, tenant: str, k: str) -> bool:
    path = path_for(root, tenant)
    return path is not None and k in _keys(path)


def remember(root: Path, tenant: str, k: str) -> None:
    """Records a pass; a record that cannot be written is only a check repeated next time."""
    path = path_for(root, tenant)
    if path is None:
        return
    keys = [x for x in _keys(path) if x != k][-(KEPT - 1):] + [k]
    try:
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".checked-")
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write("\n".join(keys) + "\n")
        os.replace(tmp, path)
    except OSError:
        pass
