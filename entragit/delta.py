"""Incremental export: Graph's delta queries tell which objects changed since the last export.

Delta is used only to learn WHICH objects changed or went away (and which groups' members or owners
moved); those objects are then re-read the normal way and merged into the snapshot read from the
tenant's committed files. Everything else is read in full as always, so the files written are the
bytes a full read gives, by construction.

The delta links live per tenant in the git directory (lock.state_dir, like the lock and the export
stash), never in tracked files; they hold no secret. They are used only while they still describe
the files: the state records the blob ids of the tenant's files at the commit it was taken against,
and any difference (an edit, a commit, a checkout) means a full read. So does a link Graph no longer
serves (410 / syncStateNotFound: links of identity resources live 7 days), a change in the kinds
exported, and a state older than `FULL_EVERY` (a full read once a week catches what delta cannot
see). https://learn.microsoft.com/graph/delta-query-overview
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entragit import canonical, doccache, gitstore, lock, yamlio
from entragit.errors import GraphError, RepoError
from entragit.graph import Graph
from entragit.kinds import Kind

STATE_DIR = "entragit-delta"
FULL_EVERY = dt.timedelta(days=float(os.environ.get("ENTRAGIT_FULL_EXPORT_DAYS", "7")))
PAGE = {"Prefer": "odata.maxpagesize=999"}

# Referenced users: only their names are exported (the refs indexes).
USERS = ("/users/delta", "id,displayName,userPrincipalName")


class Expired(Exception):
    """A delta link Graph no longer serves: read in full."""


@dataclass
class State:
    """What the next export needs to read incrementally."""

    links: dict[str, str]  # kind (or "users") -> deltaLink
    blobs: dict[str, str]  # path -> blob id of the tenant's files the links were taken against
    kinds: list[str]
    full_at: str  # when the last full read was
    head: str = ""


@dataclass
class Changes:
    """What delta reported since the state: ids to re-read, ids gone, users renamed."""

    changed: dict[str, set[str]] = field(default_factory=dict)
    removed: dict[str, set[str]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {id, displayName, upn}
    users_removed: set[str] = field(default_factory=set)
    links: dict[str, str] = field(default_factory=dict)


def _path(root: Path, tenant: str) -> Path:
    return lock.state_dir(root) / STATE_DIR / f"{tenant}.json"


def load(root: Path, tenant: str) -> State | None:
    try:
        raw = json.loads(_path(root, tenant).read_text(encoding="utf-8"))
        return State(**raw)
    except (OSError, ValueError, TypeError):
        return None  # no state, or one from another version: a full read writes a new one


def save(root: Path, tenant: str, state: State) -> None:
    p = _path(root, tenant)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.__dict__, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(p)


def forget(root: Path, tenant: str) -> None:
    _path(root, tenant).unlink(missing_ok=True)


def folder_blobs(root: Path, tenant_dir: Path) -> dict[str, str] | None:
    """Blob ids of the tenant's files at HEAD, or None when the work tree differs from HEAD there."""
    folder = tenant_dir.relative_to(root).as_posix()
    if gitstore.head(root) is None or gitstore.uncommitted(root, folder):
        return None
    return gitstore.blob_ids(root, "HEAD", folder)


def _stale(state: State | None, kinds: list[Kind], now: dt.datetime, graph_url: str) -> str:
    """Why `state`'s links cannot stand for `kinds` now, whatever the work tree holds; '' if they can."""
    from urllib.parse import urlsplit

    if state is None:
        return "no delta state yet"
    here = urlsplit(graph_url)[:2]
    if graph_url and any(urlsplit(link)[:2] != here for link in state.links.values()):
        return "the tenant's Graph endpoint changed since the last export"  # its links name the old one
    if not {k.name for k in tracked(kinds)} <= set(state.kinds):
        return "the last export did not write every kind of these files"
    try:
        age = now - dt.datetime.fromisoformat(state.full_at)
    except ValueError:
        return "no delta state yet"
    if age >= FULL_EVERY:
        return f"the last full read is {age.days} days old"
    if missing := [k.name for k in tracked(kinds) if k.name not in state.links]:
        return f"no delta link for {', '.join(missing)} (the token may not read its delta)"
    return ""


def why_full(root: Path, tenant: str, tenant_dir: Path, kinds: list[Kind], now: dt.datetime,
             graph_url: str = "") -> str:
    """'' when the delta state can be used, else why the export reads in full."""
    state = load(root, tenant)
    if state is not None and sorted(k.name for k in kinds) != state.kinds:
        return "the exported kinds changed"
    if why := _stale(state, kinds, now, graph_url):
        return why
    assert state is not None
    blobs = folder_blobs(root, tenant_dir)
    if blobs is None or blobs != state.blobs:
        return "the tenant's files changed since the last export"
    return ""


def for_plan(root: Path, tenant: str, tenant_dir: Path, kinds: list[Kind], now: dt.datetime,
             graph_url: str = "") -> tuple[State | None, str]:
    """The delta state a plan can read the live tenant by, or None and why not.

    A plan compares the tenant with files that are meant to differ from the last export (a hand
    edit, an old commit), so unlike an export it does not need the work tree to match: the base is
    the export's own commit (`State.head`), read from git, as long as it still holds the files the
    links were taken against."""
    state = load(root, tenant)
    if why := _stale(state, kinds, now, graph_url):
        return None, why
    assert state is not None
    folder = tenant_dir.relative_to(root).as_posix()
    try:
        blobs = gitstore.blob_ids(root, state.head, folder) if state.head else None
    except RepoError:  # a commit git no longer has (rewritten history): read in full
        blobs = None
    if blobs != state.blobs:
        return None, "the last export's commit is not in the repo as it was written"
    return state, ""


def tracked(kinds: list[Kind]) -> list[Kind]:
    return [k for k in kinds if k.delta]


async def _round(g: Graph, url: str, params: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], str]:
    """Every page of one delta round, and the deltaLink that ends it."""
    items: list[dict[str, Any]] = []
    try:
        page: Any = await g.get(url, params=params, headers=PAGE)
        while True:
            items += page.get("value", [])
            if page.get("@odata.deltaLink"):
                return items, str(page["@odata.deltaLink"])
            nxt = page.get("@odata.nextLink")
            if not nxt:
                raise Expired(f"{url}: a delta round ended without a deltaLink")
            page = await g.get(nxt, headers=PAGE)
    except GraphError as e:
        # 410 Gone, or syncStateNotFound however it comes: the link can no longer be served.
        if e.status == 410 or e.code == "syncStateNotFound":
            raise Expired(f"{url}: {e.code or e.status}") from None
        raise


async def start_links(g: Graph, kinds: list[Kind]) -> dict[str, str]:
    """Delta links from now ($deltatoken=latest), taken before a full read: what changes during the
    read comes back in the next round, so nothing falls between the read and the link."""
    out: dict[str, str] = {}
    for kind, d in ((k, k.delta) for k in kinds if k.delta):
        select = ",".join(("id", *d.tracks))
        try:
            _, out[kind.name] = await _round(g, d.path, {"$select": select, "$deltatoken": "latest"})
        except GraphError as e:
            if e.status != 403:  # without the delta function's permission, every export reads in full
                raise
    try:
        _, out["users"] = await _round(g, USERS[0], {"$select": USERS[1], "$deltatoken": "latest"})
    except GraphError as e:
        if e.status != 403:  # users/delta needs User.Read.All: without it names are re-read by id
            raise
    return out


async def changes(g: Graph, state: State, kinds: list[Kind]) -> Changes:
    """One delta round per tracked kind from the state's links. Raises Expired."""
    out = Changes()
    for kind in tracked(kinds):
        if kind.name not in state.links:
            raise Expired(f"no delta link for {kind.name}")
        items, out.links[kind.name] = await _round(g, state.links[kind.name])
        changed, removed = out.changed.setdefault(kind.name, set()), out.removed.setdefault(kind.name, set())
        for item in items:
            (removed if "@removed" in item else changed).add(str(item["id"]))
    if "users" in state.links:
        items, out.links["users"] = await _round(g, state.links["users"])
        for item in items:
            if "@removed" in item:
                out.users_removed.add(str(item["id"]))
            else:
                out.users[str(item["id"])] = {k: item.get(k) for k in USERS[1].split(",")}
    return out


async def _reread(g: Graph, kind: Kind, ids: set[str]) -> tuple[Any, set[str]]:
    """The changed objects of a kind read the way a full read reads them (batched GETs by id, then
    their relationships), and the ids that are gone by now."""
    from entragit.snapshot import Snapshot, _read_relations, _store

    params = [f"$select={','.join(kind.select)}"] if kind.select else []
    params += [f"$expand={','.join(kind.expand)}"] if kind.expand else []
    query = ("?" + "&".join(params)) if params else ""
    order = sorted(ids)
    reqs = [{"method": "GET", "url": f"{kind.path}/{oid}{query}"} for oid in order]
    found, gone = [], set()
    for oid, resp in zip(order, await g.batch(reqs, version=kind.version), strict=True):
        if resp.status == 404:  # removed after the delta round
            gone.add(oid)
        elif resp.status >= 400:
            raise resp.error("GET", f"{kind.path}/{oid}")
        else:
            found.append(resp.body)
    tmp = Snapshot()
    await _store(kind, found, tmp)
    await _read_relations(g, kind, tmp)
    return tmp, gone


def _base(root: Path, tenant_dir: Path, names: set[str], blobs: dict[str, str], rev: str | None = None,
          known: dict[str, Any] | None = None, keep_written: bool = False) -> Any:
    """The committed files as a snapshot: the tracked kinds' objects, and every file's refs index
    (what names the referenced users). Only the refs section of the other files is parsed: they are
    read live anyway, and parsing 10,000 whole files is most of an unchanged export's CPU.

    `blobs` (path -> blob id, checked against HEAD and the work tree by why_full): a file the last
    export wrote is taken from its parsed form (entragit/doccache.py) without reading it. `rev`: the
    files are those of that commit (read from git where not cached), not the work tree's. `known`:
    blob id -> document of files the caller has parsed already (a plan's desired state, mostly the
    same files): taken as they are, so both snapshots share their contents instead of holding two.
    `keep_written`: the whole documents taken from the cache are also kept as they were written
    (Snapshot.written), for an export to reuse where nothing they name has changed."""
    from entragit.config import object_paths, read_file
    from entragit.snapshot import Written, add_refs, kind_folder, read_files

    whole: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    refs: list[tuple[str, Any]] = []
    folder = tenant_dir.relative_to(root).as_posix()
    if rev is None:
        on_disk: dict[str, Any] = {p.relative_to(root).as_posix(): p for p in object_paths(root, tenant_dir)}
    else:  # the object files of the commit (kind/name.yaml below the tenant's folder)
        on_disk = {rel: None for rel in blobs if rel.endswith(".yaml") and rel[len(folder) + 1:].count("/") == 1}
    wanted = {blob: rel for rel, blob in blobs.items() if rel in on_disk}
    given = [(wanted.pop(blob), doc, None) for blob, doc in (known or {}).items() if blob in wanted]
    kept: dict[str, str] = {}  # rel -> the JSON of a whole document taken from the cache
    for rel, doc, js in itertools.chain(given, doccache.stream(root, tenant_dir.name, wanted)):
        if not isinstance(doc, dict):
            continue  # parsed from the file below
        if kind_folder(rel) in names:
            parsed[rel] = doc
            if js is not None and keep_written:
                kept[rel] = js
        else:
            refs.append((rel, doc.get(canonical.REFS) or {}))
        del on_disk[rel]
    at_rev = gitstore.files_at(root, rev, folder) if rev is not None and on_disk else {}
    for rel, p in on_disk.items():  # not in the cache: read and parsed
        text = read_file(root, p) if rev is None else at_rev[rel]
        if kind_folder(rel) in names:
            whole[rel] = text
        elif (at := text.rfind(f"\n{canonical.REFS}:\n")) >= 0:  # refs is the document's last key
            tail = yamlio.load(text[at + 1:], rel)
            refs.append((rel, tail.get(canonical.REFS) or {} if isinstance(tail, dict) else {}))
    snap = read_files(tenant_dir, root, whole, parsed)
    for (kname, key), rel in snap.paths.items() if kept else ():
        if rel in kept:
            refs_index = parsed[rel].get(canonical.REFS)
            snap.written[(kname, key)] = Written(snap.objects[kname][key],
                                                 refs_index if isinstance(refs_index, dict) else {}, kept[rel])
    for _rel, index in sorted(refs):
        add_refs(snap, index if isinstance(index, dict) else {}, missing=False)
    return snap


async def read_incremental(g: Graph, root: Path, tenant_dir: Path, state: State, kinds: list[Kind], *,
                           allow_partial: bool, progress: Any = None, rev: str | None = None,
                           known: dict[str, Any] | None = None, keep_written: bool = False
                           ) -> tuple[Any, dict[str, str]]:
    """The tenant's snapshot from its files plus what changed: the tracked kinds re-read where delta
    reports a change, every other kind read in full. Returns it and the new delta links; raises
    Expired when a link is no longer served. `rev`: the files are that commit's (a plan's base);
    `known`: documents parsed already, by blob id (_base); `keep_written`: Snapshot.written holds
    the objects kept from the files as their documents were written (an export's)."""
    from entragit.snapshot import Snapshot, _read_referenced, read_live

    ch = await changes(g, state, kinds)
    names = {k.name for k in tracked(kinds)}
    base = _base(root, tenant_dir, names, state.blobs, rev, known, keep_written)
    seed = Snapshot()
    if "users" in state.links:  # names of referenced users, kept current by users/delta
        users = {oid: body for oid, body in base.lookup.get("users", {}).items() if oid not in ch.users_removed}
        users.update({oid: body for oid, body in ch.users.items() if oid in users})
        seed.lookup["users"] = users
    # The tracked kinds first, as they are now (the files, less what delta reports removed or changed,
    # plus the changed ones read again): the other kinds are read with them as names (a group
    # principal is not a user to fetch) and as parents (a group created since the export has its PIM
    # schedules read like any other group's).
    current: dict[str, dict[str, Any]] = {}
    again_of: dict[str, Any] = {}
    for kind in tracked(kinds):
        again, gone = await _reread(g, kind, ch.changed[kind.name])
        drop = ch.removed[kind.name] | ch.changed[kind.name]
        owned = {oid: body for oid, body in base.objects.get(kind.name, {}).items() if oid not in drop}
        owned.update(again.objects.get(kind.name, {}))
        for oid in gone:
            owned.pop(oid, None)
        current[kind.name], again_of[kind.name] = owned, again
        seed.lookup[kind.name] = dict(owned)
    snap = await read_live(g, [k for k in kinds if k.name not in names], allow_partial=allow_partial,
                           progress=progress, seed=seed)
    for kname in names:
        snap.lookup.pop(kname, None)
    for kname, owned in current.items():
        snap.objects[kname] = owned
        snap.gaps.update(again_of[kname].gaps)
        for other, objs in again_of[kname].lookup.items():
            snap.lookup.setdefault(other, {}).update(objs)
    await _read_referenced(g, snap)  # users first referenced by a re-read object
    snap.written = {k: w for k, w in base.written.items() if snap.objects.get(k[0], {}).get(k[1]) is w.body}
    return snap, ch.links
