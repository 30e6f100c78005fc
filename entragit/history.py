"""`entragit log`: the history of one object (following renames) or of a tenant, change by change."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entragit import diff as diffmod
from entragit import gitstore
from entragit import kinds as kindmod
from entragit import selectors as selmod
from entragit.errors import EntragitError
from entragit.export import display_name
from entragit.snapshot import Names, Snapshot, read_files

FORMAT_VERSION = 1  # of `log --format json` (docs/JSON-FORMATS.md); bumped on incompatible change


@dataclass(frozen=True)
class Entry:
    """One commit and what it did to the objects being followed."""

    commit: gitstore.CommitInfo
    changes: diffmod.TenantChanges


@dataclass(frozen=True)
class Log:
    title: str  # "group 'Finance Admins' (tenants/demo/groups/finance-admins.yaml)" or "tenant demo"
    entries: tuple[Entry, ...]


def find_object(root: Path, tenants: Sequence[str], spec: str) -> str:
    """Repo-relative path of the one object `spec` names (any selector, see selectors.py): a file
    path or kind/slug may name a file only the history still has."""
    past = _past_file(root, tenants, spec)
    if past:
        return past
    cands = [c for t in tenants for c in selmod.candidates(t, _head_objects(root, t))]
    hit = selmod.match(spec, cands, root, f"tenant {', '.join(tenants)} at HEAD, or in its history")
    if isinstance(hit, str):
        raise EntragitError(f"{spec!r} is a kind; log follows one object",
                            hint=f"name one ({hit}/<slug>), or leave OBJECT out for the whole tenant")
    if len(hit) > 1:  # one id in two tenants
        raise EntragitError(f"{spec!r} names an object in {len(hit)} tenants", hint="pick one with --tenant NAME")
    return hit[0].path


def _past_file(root: Path, tenants: Sequence[str], spec: str) -> str | None:
    """The file a path or kind/slug names, when it exists or some commit held it (a deleted object)."""
    parts = selmod.file_parts(root, spec)
    kind, _, slug = spec.partition("/")
    rels = ([f"tenants/{parts[0]}/{parts[1]}/{parts[2]}.yaml"] if parts and parts[0] in tenants else
            [f"tenants/{t}/{kind}/{slug.removesuffix('.yaml')}.yaml" for t in tenants]
            if slug and kind in kindmod.BY_NAME else [])
    return next((rel for rel in rels if (root / rel).is_file() or gitstore.history(root, rel, max_count=1)), None)


def _head_objects(root: Path, tenant: str) -> Snapshot:
    if not gitstore.head(root):
        return Snapshot()
    files = gitstore.files_at(root, "HEAD", f"tenants/{tenant}")
    return read_files(root, root, {rel: text for rel, text in files.items() if _is_object(rel)})


def _snapshot(root: Path, rev: str | None, paths: Sequence[str]) -> Snapshot:
    files: dict[str, str] = {}
    for p in paths:
        text = gitstore.text_at(root, rev, p) if rev and p else None
        if text is not None:
            files[p] = text
    return read_files(root, root, files)


def _entry(root: Path, c: gitstore.CommitInfo, tenant: str, keys: frozenset[str] | None) -> Entry | None:
    objs = [f for f in c.files if _is_object(f[1] or f[2])]
    old = _snapshot(root, c.parent, [f[1] for f in objs])
    new = _snapshot(root, c.sha, [f[2] for f in objs])
    changes = diffmod.tenant_changes(tenant, old, new)
    if keys is not None:
        kept = tuple(o for o in changes.objects if o.key in keys)
        changes = diffmod.TenantChanges(tenant, kept, tuple(n for n in changes.risks if any(
            n.name == o.name and n.kind == o.kind for o in kept)), changes.names)
    return Entry(c, changes) if changes.objects else None


def _is_object(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 4 and parts[0] == "tenants" and parts[2] in kindmod.BY_NAME and path.endswith(".yaml")


def object_log(root: Path, rel: str, max_count: int | None = None) -> Log:
    """Every commit that changed the object in `rel`, following renames of its file."""
    tenant = rel.split("/")[1]
    text = gitstore.text_at(root, "HEAD", rel) if gitstore.head(root) else None
    snap = read_files(root, root, {rel: text}) if text else None
    key = next((k for (_, k) in snap.paths), None) if snap else None
    keys = _former_ids(root, tenant, key) if key else None
    commits = gitstore.history(root, _paths_of(root, rel, keys), follow=True, max_count=max_count)
    entries = [e for c in commits if (e := _entry(root, c, tenant, keys))]
    name = ""
    if snap:
        kname, k = next(iter(snap.paths))
        name = display_name(kindmod.get(kname), snap.objects[kname][k], Names(snap))
        name = f"{kindmod.get(kname).title} {name!r} "
    return Log(f"{name}({rel})", tuple(entries))


def _paths_of(root: Path, rel: str, keys: frozenset[str] | None) -> list[str]:
    """Every path that held the object: its history follows its id, not its file (a rename in the
    portal moves the file to a new slug; an export with other changes hides the move from git)."""
    if not keys:
        return [rel]
    folder = rel.rsplit("/", 1)[0]
    ids = "|".join(re.sub(r"([.\[\](){}*+?|^$\\])", r"\\\1", k) for k in sorted(keys))
    # git's POSIX extended syntax; singletons have no id, partners are keyed by tenantId
    regex = f"^(id|tenantId): ['\"]?({ids})['\"]?$"
    return sorted({rel, *gitstore.paths_matching(root, regex, folder)})


def _former_ids(root: Path, tenant: str, key: str) -> frozenset[str]:
    """The object's id and every id it had before apply recreated it (idmap.yaml, old -> new)."""
    from entragit.apply import load_idmap

    idmap = load_idmap(root / "tenants" / tenant)
    keys = {key}
    while True:
        more = {old for old, new in idmap.items() if new in keys} - keys
        if not more:
            return frozenset(keys)
        keys |= more


def tenant_log(root: Path, tenant: str, max_count: int | None = None) -> Log:
    commits = gitstore.history(root, f"tenants/{tenant}", max_count=max_count)
    entries = [e for c in commits if (e := _entry(root, c, tenant, None))]
    return Log(f"tenant {tenant}", tuple(entries))


# ---------------------------------------------------------------- rendering


def text(log: Log, colour: bool = False) -> str:
    out = [f"History of {log.title}: {len(log.entries)} commit(s)", ""]
    for e in log.entries:
        c = e.commit
        out.append(diffmod.paint(f"commit {c.sha[:10]}", "renamed", colour) + f"  {c.date}  {c.author}")
        out.append(f"    {c.subject}")
        for o in e.changes.objects:
            out.append(f"    {diffmod.SYMBOL[o.status]} {diffmod.heading(o)}")
            out += [f"        {f.path}: {diffmod.describe_change(f, e.changes.names)}" for f in o.fields
                    if o.status != "added"]
        out += ["  " + line for line in diffmod.risk_lines(e.changes.risks, colour)]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def to_json(log: Log) -> dict[str, Any]:
    return {"format_version": FORMAT_VERSION, "title": log.title, "commits": [
        {"commit": e.commit.sha, "date": e.commit.date, "author": e.commit.author, "subject": e.commit.subject,
         **diffmod.Changes("", "", (e.changes,)).to_json()["tenants"][0]}
        for e in log.entries]}


def render(log: Log, fmt: str, colour: bool = False) -> str:
    if fmt == "json":
        return json.dumps(to_json(log), indent=2, ensure_ascii=False) + "\n"
    return text(log, colour)
