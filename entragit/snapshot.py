"""Snapshot = {kind: {key: body}}: read from a live tenant, a work tree or a git revision."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from entragit import canonical, yamlio
from entragit import kinds as kindmod
from entragit import refs as refmod
from entragit.errors import GraphError, InputError, NotLicensed, PermissionMissing
from entragit.graph import BATCH_MAX, Graph, Stats
from entragit.kinds import Kind, Ref


@dataclass(frozen=True)
class Tick:
    """How far one tenant's read has got: sent at the start and as each kind is read completely
    (its collection, children and relationships)."""

    kind: str  # the kind just read; "" at the start
    objects: int  # objects read so far, every kind
    done: int  # kinds read completely
    total: int  # kinds to read
    stats: Stats  # the Graph client's own counters: they keep moving between ticks


Progress = Callable[[Tick], None]


class Written(NamedTuple):
    """An object's body as parsed from the document the last export wrote, that document's refs
    index and its JSON (doccache)."""

    body: dict[str, Any]
    refs: dict[str, Any]
    json: str


# No generated repr: asyncio's run() reprs the finished task when it puts SIGINT back (Python 3.11),
# and a tenant's repr costs a tenth of a second per 10,000 objects.
@dataclass(repr=False)
class Snapshot:
    """Owned objects per kind, plus `lookup`: objects we only name (built-in roles, users)."""

    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    lookup: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # (kind, id, relation) the token may not read (hidden membership, restricted AU): a named gap,
    # not an empty list; export keeps the previous files' value and plan leaves it alone.
    gaps: dict[tuple[str, str, str], str] = field(default_factory=dict)
    paths: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, key) -> file, when from files
    # Referenced ids the files' refs indexes mark missing, with the kind and name last known for them.
    missing: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (kind, key) -> the document an export wrote for an object taken from it unchanged (delta's
    # base): export renders such an object again only if what its refs name has changed.
    written: dict[tuple[str, str], Written] = field(default_factory=dict)

    def kind(self, name: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(name, {})

    def count(self) -> int:
        return sum(len(v) for v in self.objects.values())

    def resolver(self) -> canonical.Resolver:
        return Names(self).resolve


NEW_KEY = "new:"  # key of an object written by hand, not yet in the tenant: new:<kind>/<file slug>


NEW_ID = "new"  # `id: new` (or no id at all) in a hand-written file


def new_key(kind: str, rel: str) -> str:
    """The key of a hand-written object: how other files reference it (`new:namedLocations/branch-office`)."""
    return f"{NEW_KEY}{kind}/{Path(rel).stem}"


def is_new_key(key: str) -> bool:
    return key.startswith(NEW_KEY)


def key_of(kind: Kind, body: dict[str, Any]) -> str:
    return kind.name if kind.singleton else str(body.get(kind.id_field, ""))


class Names:
    """Finds the object a reference names, by id, appId or role template id."""

    _KEYS = ("id", "appId", "templateId")

    def __init__(self, snap: Snapshot) -> None:
        # (kind, key) -> {value lowercased: (kind, body)}, each built when first asked: a plan makes
        # several Names of 20,000 objects and asks most of them about a few kinds by id only.
        self._idx: dict[tuple[str, str], dict[str, tuple[str, dict[str, Any]]]] = {}
        self._described: dict[tuple[tuple[str, ...], str, str], dict[str, Any] | None] = {}
        self.snap = snap  # export names a Kind.named_by object after another one in it

    def _index(self, kname: str, key: str) -> dict[str, tuple[str, dict[str, Any]]]:
        idx = self._idx.get((kname, key))
        if idx is None:
            idx = self._idx[(kname, key)] = {}
            for source in (self.snap.lookup, self.snap.objects):  # an owned object wins over a lookup
                for oid, body in source.get(kname, {}).items():
                    v = body.get(key) if key != "id" else (body.get("id") or oid)
                    if isinstance(v, str) and v:
                        idx[v.lower()] = (kname, body)
        return idx

    def find(self, ref: Ref, value: str) -> tuple[str, dict[str, Any]] | None:
        if ref.key not in self._KEYS:
            return None
        low = value.lower()
        for target in ref.targets:
            hit = self._index(target, ref.key).get(low)
            if hit:
                return hit
        return None

    def resolve(self, ref: Ref, value: str) -> dict[str, Any] | None:
        """describe() of the object `value` names; the same dict for the same question (each group
        file's refs index names the same users: describing each once was most of export's naming)."""
        key = (ref.targets, ref.key, value)
        if key in self._described:
            return self._described[key]
        hit = self.find(ref, value)
        info = None if hit is None else describe(*hit)
        self._described[key] = info
        return info


def id_names(*snaps: Snapshot) -> dict[str, str]:
    """id / appId / role template id (lowercase) -> display name, from owned objects and lookups.

    Earlier snapshots win, so pass the most current first."""
    out: dict[str, str] = {}
    for s in snaps:
        for source in (s.objects, s.lookup):
            for objs in source.values():
                for oid, body in objs.items():
                    name = body.get("displayName") or body.get("userPrincipalName")
                    if not name:
                        continue
                    for v in (oid, body.get("id"), body.get("appId"), body.get("templateId")):
                        if isinstance(v, str) and v:
                            out.setdefault(v.lower(), str(name))
    return out


def describe(kname: str, body: dict[str, Any]) -> dict[str, Any]:
    """{kind, name, natural keys}: what a reviewer reads and what plan matches on."""
    kind = kindmod.BY_NAME.get(kname)
    info: dict[str, Any] = {"kind": kname}
    name = body.get("displayName") or body.get("userPrincipalName")
    if name:
        info["name"] = name
    for f in (kind.natural_key if kind else ()) + (("userPrincipalName",) if kname == "users" else ()):
        v = body.get(f)
        if f != "displayName" and isinstance(v, str) and v:
            info[f] = v
    return info


# ---------------------------------------------------------------- live


def _matches(body: dict[str, Any], when: dict[str, object]) -> bool:
    return bool(when) and all(body.get(k) == v for k, v in when.items())


# What Graph answers a tenant without the licence a feature needs: (error code, a part of its message, which
# is enough when the code is another). Graph documents none of them; they are as reported:
# entitlement management https://github.com/AzureAD/AzureAD-Governance-Assessment/issues/2, PIM
# https://github.com/microsoft/EntraExporter/issues/61 (the message) and https://github.com/microsoft/Microsoft365DSC
# (MSFT_AzureRoleAssignmentScheduleRequest.psm1 matches the code and the message together).
LICENCE_ANSWERS = (
    ("NoLicense", "Tenant does not meet license requirement"),
    ("AadPremiumLicenseRequired", "The tenant needs an AAD Premium"),
)


def licence_refusal(e: GraphError) -> bool:
    return e.status in (400, 403) and any(
        e.code == code or text in e.graph_message for code, text in LICENCE_ANSWERS
    )


def _refused(kind: Kind, e: GraphError, what: str = "") -> Exception:
    """What a refused read of `kind` (or of `what`, a part of its objects) means: no licence (the kind is
    skipped), a permission the app lacks (named), or the error as Graph gave it."""
    if licence_refusal(e):
        return NotLicensed(f"skipped: the tenant has no {kind.licence or 'licence'} licence "
                           f"({e.status} {e.code}); its files are kept as they are")
    if e.status == 403:
        return PermissionMissing(
            f"reading {what or f'{kind.title}s'} ({kind.name}) was denied: the app needs {' or '.join(kind.read_perm)}",
            hint="grant the permission (admin consent) or export with --allow-partial to skip this kind")
    return e


async def _guard(kind: Kind, coro: Any) -> Any:
    try:
        return await coro
    except GraphError as e:
        raise _refused(kind, e) from None


def _list_params(kind: Kind) -> dict[str, Any] | None:
    if kind.singleton:
        return None
    params: dict[str, Any] = {"$top": kind.top} if kind.top else {}
    if kind.select:
        params["$select"] = ",".join(kind.select)
    if kind.expand:
        params["$expand"] = ",".join(kind.expand)
    if kind.list_filter:  # Graph requires it (PIM policies); it leaves nothing out
        params["$filter"] = kind.list_filter
    return params or None


async def first_pages(g: Graph, kinds: Iterable[Kind]) -> dict[str, Any]:
    """{kind: its first list page, or a singleton's object}, read in $batch envelopes of 20 per API
    version instead of one GET each: most kinds fit in one page, so they are most of the requests of
    an export whose large kinds come from delta. Not the CA family (Graph paces it per request) nor
    child kinds; a kind whose part failed is left out and read on its own, its error as ever."""
    pages: dict[str, Any] = {}
    for version in ("v1.0", "beta"):
        group = [k for k in kinds if k.version == version and not k.paced and not k.parent]
        if len(group) < 2:
            continue
        answers = await g.batch([{"method": "GET", "url": g.relative(k.path, _list_params(k))} for k in group],
                                version=version)
        pages.update({k.name: r.body for k, r in zip(group, answers, strict=True)
                      if r.status == 200 and isinstance(r.body, dict)})
    return pages


async def _read_collection(g: Graph, kind: Kind, snap: Snapshot, first: Any = None) -> None:
    if kind.singleton:
        raw = first if first is not None else await _guard(kind, g.get(kind.path, version=kind.version))
        snap.kind(kind.name)[kind.name] = canonical.clean(kind, raw)
        return
    items = await _guard(kind, g.list_all(kind.path, version=kind.version, params=_list_params(kind), first=first))
    await _store(kind, items, snap, await _transient(g, kind))


async def _read_child_objects(g: Graph, kind: Kind, snap: Snapshot) -> None:
    """Each object's Kind.children, one GET each in $batch, kept inline; a 404 means it has none (null)."""
    owned = snap.kind(kind.name)
    jobs = [(key, c.field) for key in sorted(owned) for c in kind.children]
    if not jobs:
        return
    reqs = [{"method": "GET", "url": f"{kind.path}/{key}/{f}"} for key, f in jobs]
    for (key, f), resp in zip(jobs, await _guard(kind, g.batch(reqs, version=kind.version)), strict=True):
        if resp.status == 404:  # none: written as null, so a file says "none" apart from "not exported"
            owned[key][f] = None
            continue
        if resp.status >= 400:
            raise _refused(kind, resp.error("GET", f"{kind.path}/{key}/{f}"), f"the {f} of {kind.title}s")
        owned[key] = canonical.clean(kind, {**owned[key], f: resp.body})


async def _transient(g: Graph, kind: Kind) -> set[tuple[Any, ...]]:
    """Match keys of the kind's time-bound live objects (PIM activations)."""
    t = kind.transient
    if t is None:
        return set()
    try:
        marks = await _guard(kind, g.list_all(t.path, version=t.version, params={"$filter": t.filter}))
    except NotLicensed:  # no PIM in this tenant: nothing can be activated
        return set()
    except GraphError as e:
        if 400 <= e.status < 500:  # no PIM in this tenant (licence): nothing can be activated
            return set()
        raise
    return {tuple(m.get(f) for f in t.match) for m in marks}


async def _store(kind: Kind, items: Iterable[dict[str, Any]], snap: Snapshot,
                 transient: set[tuple[Any, ...]] | None = None) -> None:
    owned = snap.kind(kind.name)
    match = kind.transient.match if kind.transient else ()
    for raw in items:
        key = str(raw.get(kind.id_field, ""))
        if _matches(raw, dict(kind.skip_when)) or (transient and tuple(raw.get(f) for f in match) in transient):
            snap.lookup.setdefault(kind.name, {})[key] = raw  # named where referenced, never owned
        else:
            owned[key] = canonical.clean(kind, raw)


def child_url(kind: Kind, parent: str) -> str:
    """The list of `kind` below `parent`: a `{parent}` path, or the collection with its per-parent $filter."""
    if kind.parent_filter:
        return f"{kind.path}?$filter=" + quote(kind.parent_filter.format(parent=parent), safe="'")
    if kind.expand:  # navigation properties kept in the file (an access package's role scopes: role, scope)
        return kind.path.format(parent=parent) + "?$expand=" + quote(",".join(kind.expand), safe="(),=$")
    return kind.path.format(parent=parent)


async def _read_children(g: Graph, kind: Kind, snap: Snapshot) -> None:
    assert kind.parent
    parents = sorted(snap.kind(kind.parent)) + sorted(snap.lookup.get(kind.parent, {}))
    if kind.parent_unless:  # parents that cannot hold the kind (dynamic groups for PIM) are not read
        bodies = {**snap.lookup.get(kind.parent, {}), **snap.kind(kind.parent)}
        parents = [p for p in parents if kind.reads_parent(bodies[p])]
    reqs = [{"method": "GET", "url": child_url(kind, p)} for p in parents]
    for p, resp in zip(parents, await _guard(kind, g.batch(reqs, version=kind.version)), strict=True):
        if resp.status >= 400:
            raise _refused(kind, resp.error("GET", kind.path))
        items = list(resp.body.get("value", []))
        nxt = resp.body.get("@odata.nextLink")
        while nxt:
            page = await g.get(nxt)
            items += page.get("value", [])
            nxt = page.get("@odata.nextLink")
        if kind.parent_in_path:  # the body never names its parent (an app's FICs)
            items = [{**i, kind.parent_field: p} for i in items]
        await _store(kind, items, snap)


# $expand on directory objects: at most 100 objects a page and at most 20 linked objects per parent
# (https://learn.microsoft.com/graph/query-parameters#expand-parameter).
EXPAND_PAGE, EXPAND_LINKS = 100, 20
# Relations listed for every object at once with $expand (1 RU a page of 100, against 2 RU per object
# read on its own). Members stay own reads: a hidden membership answers 403 per object (a named gap).
BY_EXPAND = ("owners",)
USER_PAGE = 999  # a directory collection's largest page


async def _expanded(g: Graph, kind: Kind, rel: str) -> dict[str, list[str]]:
    """`rel` ids per object, from one listing of the kind with `$expand`, for the objects whose
    list Graph answered whole: one with 20 expanded links may have more, so it is left out."""
    params = {"$select": "id", "$expand": f"{rel}($select=id)", "$top": EXPAND_PAGE}
    items = await _guard(kind, g.list_all(kind.path, version=kind.relation_version or kind.version, params=params))
    return {str(o["id"]): sorted(v["id"] for v in o.get(rel) or []) for o in items
            if len(o.get(rel) or []) < EXPAND_LINKS}


async def _read_relations(g: Graph, kind: Kind, snap: Snapshot, *, whole: bool = False) -> None:
    """The kind's relationships. `whole`: `snap` holds every object of the kind (a full read), so one
    listing with $expand serves them all; a few re-read objects are cheaper read one by one."""
    owned = snap.kind(kind.name)
    listed = [r.name for r in kind.relations
              if whole and r.name in BY_EXPAND and kind.soft_delete == "directory"]
    known = dict(zip(listed, await asyncio.gather(*(_expanded(g, kind, r) for r in listed)), strict=True))
    jobs: list[tuple[str, str]] = []
    for oid, body in sorted(owned.items()):
        for relation in kind.relations:
            if relation.skipped(body):
                continue
            if oid in known.get(relation.name, {}):
                body[relation.name] = known[relation.name][oid]
            else:
                jobs.append((oid, relation.name))
    reqs = [{"method": "GET", "url": f"{kind.path}/{oid}/{rel}?$select=id&$top=999"} for oid, rel in jobs]
    version = kind.relation_version or kind.version
    for (oid, rel), resp in zip(jobs, await _guard(kind, g.batch(reqs, version=version)), strict=True):
        if resp.status == 403:
            # Hidden membership needs Member.Read.Hidden
            # (https://learn.microsoft.com/graph/api/administrativeunit-list-members?view=graph-rest-beta).
            snap.gaps[(kind.name, oid, rel)] = (f"reading the {rel} of {kind.title} {owned[oid].get(kind.name_field) or oid}"
                                                " was denied (hidden membership needs Member.Read.Hidden)")
            continue
        if resp.status >= 400:
            raise resp.error("GET", f"{kind.path}/{oid}/{rel}")
        ids = [v["id"] for v in resp.body.get("value", [])]
        nxt = resp.body.get("@odata.nextLink")
        while nxt:
            page = await g.get(nxt)
            ids += [v["id"] for v in page.get("value", [])]
            nxt = page.get("@odata.nextLink")
        owned[oid][rel] = sorted(ids)


async def _read_whole_relations(g: Graph, kind: Kind, snap: Snapshot) -> None:
    await _read_relations(g, kind, snap, whole=True)


async def _read_referenced(g: Graph, snap: Snapshot) -> None:
    """Objects we don't export but reference (users, mostly): fetch their names by id."""
    names = Names(snap)
    wanted: dict[str, Ref] = {}
    for kname, objs in snap.objects.items():
        kind = kindmod.BY_NAME[kname]
        for body in objs.values():
            for ref, value in refmod.iter_refs(kind, body):
                if ref.key == "id" and names.find(ref, value) is None and "users" in ref.targets:
                    wanted[value] = ref
    ids = sorted(wanted)
    fields = ("id", "displayName", "userPrincipalName")
    if not ids:
        return
    found = await _list_users(g, fields) if await _listing_is_cheaper(g, len(ids)) else None
    if found is not None:
        for oid in ids:  # an id not listed is a dangling one, which the refs index marks missing
            if (hit := found.get(oid.lower())) is not None:
                snap.lookup.setdefault("users", {})[oid] = {k: hit[k] for k in fields if k in hit}
        return
    reqs = [{"method": "GET", "url": f"/users/{i}?$select={','.join(fields)}"} for i in ids]
    for oid, resp in zip(ids, await g.batch(reqs), strict=True):
        if resp.status == 200:
            snap.lookup.setdefault("users", {})[oid] = {k: v for k, v in resp.body.items() if k in fields}
        elif resp.status not in (404, 403):  # 404: a dangling id, which the refs index marks missing
            raise resp.error("GET", f"/users/{oid}")


async def _listing_is_cheaper(g: Graph, wanted: int) -> bool:
    """Whether listing every user (999 a page, 1 RU each with $select) takes no more round trips
    than a GET per wanted id (1 RU each, 20 to a $batch), so no more RU either. Decided by the
    tenant's user count (`/users/$count`, which needs ConsistencyLevel: eventual:
    https://learn.microsoft.com/graph/api/user-list) once a single $batch cannot hold them."""
    if wanted <= BATCH_MAX:
        return False
    resp = await g.send("GET", "/users/$count", headers={"ConsistencyLevel": "eventual"})
    if resp.status != 200 or not isinstance(resp.body, int):
        return False
    return math.ceil(resp.body / USER_PAGE) <= math.ceil(wanted / BATCH_MAX)


async def _list_users(g: Graph, fields: tuple[str, ...]) -> dict[str, dict[str, Any]] | None:
    """Every user by lowercase id, or None when the token may not list them (403)."""
    try:
        users = await g.list_all("/users", params={"$select": ",".join(fields), "$top": USER_PAGE})
    except GraphError as e:
        if e.status == 403:
            return None
        raise
    return {str(u.get("id", "")).lower(): u for u in users}


async def read_live(g: Graph, kinds: list[Kind], *, allow_partial: bool = False,
                    progress: Progress | None = None, seed: Snapshot | None = None) -> Snapshot:
    """Read every kind (concurrently), their relationships, and the names of what they reference.

    `seed` (an incremental export's names still known to be current) is filled in, not replaced."""
    snap = seed or Snapshot()
    wanted = {k.name for k in kinds}
    # Kinds read for names only (Kind.read_for_names), and the kinds that name others (Kind.named_by),
    # are read whatever is exported, so a file keeps its name and a reference its target's.
    namers = {k.named_by[0] for k in kinds if k.named_by} | {k.name for k in kindmod.KINDS if k.read_for_names}
    top = [k for k in kindmod.KINDS if not k.parent and k.name in wanted | namers]
    children = [k for k in kindmod.KINDS if k.parent and k.name in wanted]
    done = 0

    def tick(kind: str) -> None:
        if progress:
            progress(Tick(kind, snap.count(), done, len(top) + len(children), g.stats))

    async def one(kind: Kind, fn: Any, last: bool = True) -> None:
        nonlocal done
        try:
            await fn(g, kind, snap)
        except PermissionMissing as e:
            if not allow_partial and not isinstance(e, NotLicensed):
                raise
            snap.errors[kind.name] = e.message
            snap.objects.pop(kind.name, None)
        if last or kind.name not in snap.objects:  # a kind skipped for permission reads no relationships
            done += 1
            tick(kind.name)

    tick("")
    pages = await first_pages(g, top)
    # Each kind's relationships and children are read as soon as the objects they hang on are, not
    # after every kind: the CA family's reads wait on Graph's 1 request/s, and a reader idle behind
    # them while the RU bucket is full loses Graph's refill of those seconds for good.
    read: dict[str, asyncio.Event] = {k.name: asyncio.Event() for k in [*top, *children]}

    def later(kind: Kind) -> bool:  # its relationships are read after its objects
        return bool(kind.relations) and kind.name in wanted

    async def objects(kind: Kind, fn: Any) -> None:
        await one(kind, fn, last=not later(kind))
        if kind.name in wanted:  # a kind read for names only is ready once moved to the lookup
            read[kind.name].set()

    async def collection(g: Graph, kind: Kind, snap: Snapshot) -> None:
        await _read_collection(g, kind, snap, pages.get(kind.name))
        await _read_child_objects(g, kind, snap)

    async def child(kind: Kind) -> None:
        assert kind.parent
        if kind.parent in read:
            await read[kind.parent].wait()
        await objects(kind, _read_children)

    async def relations(kind: Kind) -> None:
        await read[kind.name].wait()
        if kind.name in snap.objects:  # not when its read was refused
            await one(kind, _read_whole_relations)

    async def tops() -> None:
        await asyncio.gather(*(objects(k, collection) for k in top))
        for only_named in namers - wanted:
            snap.lookup.setdefault(only_named, {}).update(snap.objects.pop(only_named, {}))
            if only_named in read:
                read[only_named].set()

    await asyncio.gather(tops(), *(child(k) for k in children), *(relations(k) for k in [*top, *children] if later(k)))
    await _read_referenced(g, snap)
    return snap


# ---------------------------------------------------------------- files


def kind_folder(rel: str) -> str:
    """The name of the folder holding `rel` (a posix path): its kind. Path() of each of ten thousand
    paths was a tenth of a plan's reading of files."""
    parts = rel.rsplit("/", 2)
    return parts[-2] if len(parts) > 1 else ""


def read_files(tenant_dir: Path, root: Path, files: dict[str, str] | None = None,
               parsed: dict[str, Any] | None = None) -> Snapshot:
    """Snapshot from a tenant folder (or from `files`: relative path -> text, e.g. a git tree).

    A file the last export wrote is taken from its parsed form (entragit/doccache.py) instead of
    parsed again, and not canonicalised again (export wrote it from a canonical body); `parsed`:
    relative path -> document of such files the caller has taken from the cache already."""
    from entragit import doccache

    snap = Snapshot()
    if files is None:
        from entragit.config import object_paths

        files = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in object_paths(root, tenant_dir)}
    cache = doccache.load(root, tenant_dir.name) if files else doccache.DocCache({})
    parsed = parsed or {}
    for rel in sorted(files.keys() | parsed.keys()):
        kname = kind_folder(rel)
        kind = kindmod.BY_NAME.get(kname)
        if kind is None:
            raise InputError(rel, None, f"unknown kind folder {kname!r}")
        doc = parsed[rel] if rel in parsed else cache.take_text(files[rel])
        exported = doc is not None
        if doc is None:
            doc = yamlio.load(files[rel], rel)
        _add_file(snap, kind, rel, doc, exported)
    return snap


def _add_file(snap: Snapshot, kind: Kind, rel: str, doc: Any, exported: bool = False) -> None:
    """One file's object and its refs index, into `snap`. `exported`: the document is one export
    made from a canonical body, which canonical.clean would return unchanged."""
    if not isinstance(doc, dict):
        raise InputError(rel, 1, "expected a mapping (one object per file)")
    body = {k: v for k, v in doc.items() if k != canonical.REFS} if exported else canonical.from_document(kind, doc)
    key = key_of(kind, body)
    if kind.client_id and key in ("", NEW_ID):
        raise InputError(rel, 1, f"missing {kind.id_field!r} (a {kind.title} names its own id)")
    if key in ("", NEW_ID):  # written by hand: plan creates it (README "Add a new object by hand")
        body.pop(kind.id_field, None)
        key = new_key(kind.name, rel)
    snap.kind(kind.name)[key] = body
    snap.paths[(kind.name, key)] = rel
    add_refs(snap, doc.get(canonical.REFS) or {})


def add_refs(snap: Snapshot, refs: dict[str, Any], *, missing: bool = True) -> None:
    """A file's refs index into the snapshot: live entries as lookups (named where referenced, never
    owned), and, with `missing`, the ids it marks missing with the kind and name last known for them."""
    for value, info in refs.items():
        if not isinstance(info, dict):
            continue
        if not info.get("missing") and info.get("kind"):
            known = snap.lookup.setdefault(info["kind"], {})
            if value in known:  # the first file naming it wins; most files name the same few users
                continue
            slim = {k: v for k, v in info.items() if k not in ("kind", "name")}
            slim["displayName"] = info.get("name")
            if value not in (slim.get("appId"), slim.get("templateId")):
                slim["id"] = value
            known[value] = slim
        elif missing and info.get("missing"):
            snap.missing.setdefault(str(value), dict(info))
