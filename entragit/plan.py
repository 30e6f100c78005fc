"""desired x live -> Plan: ordered operations (restore, adopt, create, update, link, delete) + id remap.

A plan is a value: computed here, rendered by render.py, executed exactly by apply.py. Ids of
objects that only get created during apply appear as placeholders `{new:<old id>}`; apply swaps
them for the real ids as creates answer, so references chain through recreations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from entragit import kinds as kindmod
from entragit import refs as refmod
from entragit.export import display_name
from entragit.kinds import Kind, Relation
from entragit.snapshot import Names, Snapshot, describe, is_new_key

Action = Literal["restore", "adopt", "create", "update", "link", "unlink", "delete"]
# What a create brings: an object the files had an id for, gone from the tenant (a new id, references
# remapped), or one written by hand that never existed.
Fate = Literal["", "recreated", "new"]
NEW = "{new:%s}"


def placeholder(old: str) -> str:
    return NEW % old


def placeholder_target(value: str) -> str | None:
    if isinstance(value, str) and value.startswith("{new:") and value.endswith("}"):
        return value[5:-1]
    return None


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Op:
    action: Action
    kind: str
    key: str  # the object's id in the files (old id); live id for deletes
    name: str
    target: str = ""  # live id written to (restore/adopt/update/link/delete)
    body: Mapping[str, Any] = field(default_factory=dict)  # write body, may hold placeholders
    changes: tuple[Change, ...] = ()
    rel: str = ""
    member: str = ""
    member_kind: str = ""  # a link written from the member's side (Relation.via): the member's kind
    note: str = ""
    old: Mapping[str, Any] = field(default_factory=dict)  # read-only values in the file (an app's appId)
    fate: Fate = ""  # creates only


LeftAloneWhy = Literal["not-deletable", "not-creatable", "locked-fields", "not-permitted"]


@dataclass(frozen=True)
class LeftAlone:
    """An object Microsoft owns that the plan does not touch (or touches only partly), and why."""

    kind: str
    key: str
    name: str
    why: LeftAloneWhy  # not-deletable: live, not in the files; not-creatable: in the files, not live;
    #                    locked-fields: `fields` differ but Graph forbids writing them;
    #                    not-permitted: Graph refuses this identity the write (`fields`: which)
    reason: str  # the Kind table's SystemOwned.reason, for the reviewer
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestoredWith:
    """An object or membership in the files that comes back, same id, when its parent is restored
    from the recycle bin (Kind.restored_with, relations): shown in the plan, never written."""

    kind: str
    key: str
    name: str
    parent_kind: str
    parent_key: str
    parent_name: str
    rel: str = ""  # a membership: the relation and its member id
    member: str = ""
    member_name: str = ""


@dataclass(frozen=True)
class Plan:
    tenant: str
    ref: str
    ops: tuple[Op, ...]
    unmanaged: tuple[tuple[str, str], ...] = ()  # live objects not in the files (kept; --prune deletes)
    warnings: tuple[str, ...] = ()
    idmap: Mapping[str, str] = field(default_factory=dict)
    left_alone: tuple[LeftAlone, ...] = ()  # Microsoft's own objects: never created, deleted or renamed
    restored_with: tuple[RestoredWith, ...] = ()  # come back with a restored parent: nothing to write

    @property
    def empty(self) -> bool:
        return not self.ops

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for op in self.ops:
            out[op.action] = out.get(op.action, 0) + 1
        return out

    def to_file(self, selectors: Sequence[str], prune: bool) -> dict[str, Any]:
        """Everything apply needs to execute exactly this plan later (`plan --out`)."""
        return {"format": 1, "tenant": self.tenant, "ref": self.ref, "selectors": list(selectors), "prune": prune,
                "idmap": dict(self.idmap), "warnings": list(self.warnings),
                "unmanaged": [list(u) for u in self.unmanaged],
                "left_alone": [{**a.__dict__, "fields": list(a.fields)} for a in self.left_alone],
                "restored_with": [r.__dict__ for r in self.restored_with],
                "ops": [{**{k: v for k, v in o.__dict__.items() if k != "changes"},
                         "changes": [c.__dict__ for c in o.changes]} for o in self.ops]}

    @staticmethod
    def from_file(data: Mapping[str, Any]) -> Plan:
        ops = tuple(Op(**{**o, "changes": tuple(Change(**c) for c in o["changes"])}) for o in data["ops"])
        left = tuple(LeftAlone(**{**a, "fields": tuple(a["fields"])}) for a in data.get("left_alone", ()))
        back = tuple(RestoredWith(**r) for r in data.get("restored_with", ()))
        return Plan(data["tenant"], data["ref"], ops, tuple(tuple(u) for u in data["unmanaged"]),  # type: ignore[misc]
                    tuple(data["warnings"]), dict(data["idmap"]), left, back)

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant, "ref": self.ref, "counts": self.counts(),
            "operations": [
                {"action": o.action, "kind": o.kind, "key": o.key, "name": o.name, "target": o.target or None,
                 "changes": [{"path": c.path, "old": c.old, "new": c.new} for c in o.changes],
                 "relation": o.rel or None, "member": o.member or None, "note": o.note or None,
                 "fate": o.fate or None}
                for o in self.ops
            ],
            "restored_with": [{k: v or None for k, v in r.__dict__.items()} for r in self.restored_with],
            "unmanaged": [{"kind": k, "name": n} for k, n in self.unmanaged],
            "left_alone": [{"kind": a.kind, "key": a.key, "name": a.name, "why": a.why, "reason": a.reason,
                            "fields": list(a.fields)} for a in self.left_alone],
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------- selectors


def selected(selectors: Sequence[str], kind: Kind, key: str) -> bool:
    """Selectors as selectors.resolve leaves them: kinds and object ids."""
    return not selectors or kind.name in selectors or key in selectors


# ---------------------------------------------------------------- id map


def chain(idmap: Mapping[str, str], value: str) -> str:
    """Follow old -> new through every generation of recreation."""
    seen = {value}
    while value in idmap:
        value = idmap[value]
        if value in seen:
            break
        seen.add(value)
    return value


# ---------------------------------------------------------------- diff


def _deep(kind: Kind, path: str, old: Any, new: Any, out: list[Change]) -> None:
    by_id = any(sub.field == path and sub.match == ("id",) for sub in kind.subcollections)
    if by_id and isinstance(old, list) and isinstance(new, list):
        # Items named by their id (a PIM policy's rules): one change per changed field of an item
        # (`rules[Expiration_EndUser_Assignment].maximumDuration`), not the whole list twice.
        olds = {str(i.get("id")): i for i in old if isinstance(i, dict)}
        news = {str(i.get("id")): i for i in new if isinstance(i, dict)}
        for key in sorted(set(olds) | set(news)):
            _deep(kind, f"{path}[{key}]", olds.get(key), news.get(key), out)
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            _deep(kind, f"{path}.{k}" if path else k, old.get(k), new.get(k), out)
    elif _norm(kind, path, old) != _norm(kind, path, new):
        out.append(Change(path, old, new))


_EXACT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, check_circular=False).encode


def _same(a: Any, b: Any) -> bool:
    """Identical values (types included: 1 is not true) in one C-speed encoding each, so the
    set-aware comparison walks only the values that differ (most of a plan's values do not)."""
    return a is b or _EXACT(a) == _EXACT(b)


def _norm(kind: Kind, path: str, v: Any) -> str:
    """Lists compare as sets, except the ones the Kind row names as ordered."""
    from entragit.canonical import norm

    return norm(v, kind.ordered, path)


def managed_fields(kind: Kind) -> frozenset[str] | None:
    """Top-level properties Graph's own model lists for the kind (its JSON Schema); None if unknown.

    A property absent from a file but set live is reset only when it is one of these: a property
    Graph adds after the files were written is left alone instead of being nulled everywhere."""
    import json

    from entragit.errors import EntragitError
    from entragit.validate import schema_text

    try:
        text = schema_text(kind.name)
        return None if text is None else frozenset(json.loads(text).get("properties", {}))
    except (EntragitError, OSError, ValueError):
        return None


def body_diff(kind: Kind, desired: Mapping[str, Any], live: Mapping[str, Any],
              managed: frozenset[str] | None = None) -> tuple[dict[str, Any], list[Change]]:
    """(PATCH body of differing top-level fields, field-level changes). Absent desired = reset to null."""
    skip = {kind.id_field, "refs", *kind.create_only, *kind.readonly, *(r.name for r in kind.relations)}
    # A child object a file leaves out is not managed there: files exported before entragit read it
    # (a partner's identitySynchronization) must not delete it live; `null` says there is none.
    skip |= {c.field for c in kind.children if c.field not in desired}
    patch: dict[str, Any] = {}
    changes: list[Change] = []
    for k in sorted(set(desired) | set(live)):
        if k in skip or k == "@odata.type":
            continue
        want, have = desired.get(k), live.get(k)
        if k not in desired and (have in (None, [], {}) or (managed is not None and k not in managed)):
            continue
        if not _same(want, have) and _norm(kind, k, want) != _norm(kind, k, have):
            patch[k] = want
            _deep(kind, k, have, want, changes)
    if patch and kind.polymorphic and "@odata.type" in desired:
        patch = {"@odata.type": desired["@odata.type"], **patch}  # Graph requires it on PATCH
    return patch, changes


def _directed(writes: list[Op]) -> list[Op]:
    """Writes whose order depends on their direction (Kind.after_when) moved after the kinds they wait for."""
    out = list(writes)
    for op in writes:
        rule = kindmod.get(op.kind).after_when
        if rule is None or op.body.get(rule[0]) != rule[1]:
            continue
        last = max((i for i, o in enumerate(out) if o.kind in rule[2]), default=-1)
        here = out.index(op)
        if last > here:
            out.insert(last, out.pop(here))
    return out


def _parent_of(kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
    """What a delete needs to build the path of a child collection (an assignment's resource SP)."""
    return {kind.parent_field: body.get(kind.parent_field)} if kind.parent else {}


def _with_parent(kind: Kind, body: dict[str, Any], src: Mapping[str, Any]) -> dict[str, Any]:
    """A write of a child kind whose parent is named by the path only (Kind.parent_in_path, an app's federated
    credentials) carries the parent's id for apply to build the path; apply never sends it."""
    return {**body, **_parent_of(kind, src)} if kind.parent_in_path else body


def _update_body(kind: Kind, patch: dict[str, Any], want: Mapping[str, Any]) -> dict[str, Any]:
    """What an update of `want` sends: the differing fields, or every writable one where Graph replaces
    the object whole (Kind.update == "put")."""
    return _with_parent(kind, write_body(kind, want) if kind.update == "put" else patch, want)


def write_body(kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
    """A create body: no server ids (unless client-chosen), no relationships, no read-only fields."""
    drop = {*(r.name for r in kind.relations), *kind.readonly, "refs"}
    if not kind.client_id:
        drop.add("id")
    return {k: v for k, v in body.items() if k not in drop}


# ---------------------------------------------------------------- planning


@dataclass
class _Status:
    how: Literal["live", "restore", "adopt", "create", "returns"]
    target: str  # live id (or "" for create)
    via: tuple[str, str] = ("", "")  # returns: (kind, key) of the restored parent


def natural_key(kind: Kind, body: Mapping[str, Any]) -> tuple[str, ...] | None:
    """What makes a live object the one a file describes when ids differ (adoption), case-blind."""
    vals = []
    for f in kind.natural_key:
        v = body.get(f)
        if v in (None, "", []):
            if f == "displayName" or f == kind.natural_key[0]:
                return None
            v = ""
        vals.append(json.dumps(v, sort_keys=True).lower())
    return tuple(vals)


class Planner:
    def __init__(self, tenant: str, ref: str, desired: Snapshot, live: Snapshot,
                 deleted: Mapping[str, Mapping[str, dict[str, Any]]], idmap: Mapping[str, str],
                 selectors: Sequence[str] = (), prune: bool = False,
                 held: Mapping[str, set[str]] | None = None) -> None:
        self.tenant, self.ref = tenant, ref
        self.held = held or {}  # kind -> ids in a recycle bin this identity may not restore from
        self.desired, self.live, self.deleted = desired, live, deleted
        self.idmap = dict(idmap)
        self.selectors, self.prune = selectors, prune
        self.status: dict[tuple[str, str], _Status] = {}
        self.created: set[str] = set()  # old ids (and appIds) of objects apply will create anew
        self.pulled: set[tuple[str, str]] = set()  # missing objects --only brings back (selected or dependent)
        self.warnings: list[str] = []
        self.left_alone: list[LeftAlone] = []
        self.returning: list[RestoredWith] = []
        self.restoring: dict[str, tuple[str, str]] = {}  # id -> (kind, key) of objects this plan restores
        self.names = Names(live)
        self.dnames = Names(desired)
        self.managed = {k.name: managed_fields(k) for k in kindmod.KINDS}
        self.replaced: list[Op] = []  # deletes of objects replaced by another (run after every write)

    # the value a reference in a desired body should hold live
    def translate(self, ref: Any, value: str) -> str:
        if value in self.created or chain(self.idmap, value) in self.created:
            return placeholder(value)
        return chain(self.idmap, value)

    def _live_key(self, kind: Kind, key: str) -> str:
        return chain(self.idmap, key)

    def classify(self) -> None:
        claimed: set[tuple[str, str]] = set()
        for kname, objs in self.desired.objects.items():
            kind = kindmod.get(kname)
            for key in objs:
                lk = self._live_key(kind, key)
                if kind.singleton or lk in self.live.objects.get(kname, {}):
                    self.status[(kname, key)] = _Status("live", lk)
                    claimed.add((kname, lk))
        # Dependency order: an app's fate (restored or recreated) decides its service principal's.
        for kind in kindmod.apply_order():
            objs = self.desired.objects.get(kind.name, {})
            by_nat: dict[tuple[str, ...], list[str]] = {}
            for lid, lbody in self.live.objects.get(kind.name, {}).items():
                nat = natural_key(kind, lbody)
                if nat is not None and (kind.name, lid) not in claimed:
                    by_nat.setdefault(nat, []).append(lid)
            for key, body in sorted(objs.items()):
                if (kind.name, key) not in self.status:
                    self._classify_missing(kind, key, body, by_nat)
                elif self._replaced(kind, key, body):
                    self.created.add(key)  # a new id, which what names it must get

    def _replaced(self, kind: Kind, key: str, body: Mapping[str, Any]) -> bool:
        """A live object Graph cannot update that the files change: apply deletes it and creates it anew.
        With --only, one naming an object being created is planned too (a recreated group's catalog resource)."""
        st = self.status[(kind.name, key)]
        if kind.update is not None or kind.singleton or st.how != "live":
            return False
        names_new = any(v in self.created for _, v in refmod.iter_refs(kind, dict(body)))
        if not (self._is_selected(kind, key) or names_new):
            return False
        have = self.live.objects[kind.name][st.target]
        if not body_diff(kind, self._translated(kind, body), have, self.managed[kind.name])[0]:
            return False
        if names_new:
            self.pulled.add((kind.name, key))
        return True

    def _classify_missing(self, kind: Kind, key: str, body: Mapping[str, Any],
                          by_nat: dict[tuple[str, ...], list[str]]) -> None:
        # With --only, a missing object is planned when selected, or when it hangs off a selected
        # object being recreated (the role and app role assignments a hard delete took with it).
        parent = self._restored_parent(kind, body)
        if (self._is_selected(kind, key) or parent
                or any(v in self.created for _, v in refmod.iter_refs(kind, dict(body)))):
            self.pulled.add((kind.name, key))
        want = self._translated(kind, body)
        lk = self._live_key(kind, key)
        gone = self.deleted.get(kind.name, {}).get(lk)
        # A recycle-bin copy whose create-only fields no longer fit (an SP of a recreated app) can't come back.
        if gone is not None and all(want.get(f) == gone.get(f) for f in kind.create_only if f in want):
            self.status[(kind.name, key)] = _Status("restore", lk)
            if (kind.name, key) in self.pulled:
                self.restoring[lk] = (kind.name, key)
            return
        if parent:
            self.status[(kind.name, key)] = _Status("returns", lk, parent)
            return
        nat = natural_key(kind, want)
        hits = by_nat.get(nat, []) if nat else []
        if nat is not None and len(hits) == 1:
            self.status[(kind.name, key)] = _Status("adopt", hits[0])
            self.idmap[key] = hits[0]
            live_body = self.live.objects[kind.name][hits[0]]
            for f in kind.readonly:  # an adopted app brings its own appId
                if isinstance(body.get(f), str) and live_body.get(f) and body[f] != live_body[f]:
                    self.idmap[str(body[f])] = str(live_body[f])
            by_nat[nat] = []
            return
        if len(hits) > 1:
            self.warnings.append(f"{kind.title} {self._name(kind, body)!r}: {len(hits)} live objects share "
                                 "its natural key; creating a new one")
        self.status[(kind.name, key)] = _Status("create", "")
        owner = kind.owner(body)
        if owner and not owner.creatable:  # Graph creates Microsoft's own objects; references to it stay
            return
        if is_new_key(key):
            pass  # written by hand: never in the tenant, so no recycle bin to miss
        elif lk in self.held.get(kind.name, ()) and (kind.name, key) in self.pulled:
            self.warnings.append(f"{kind.title} {self._name(kind, body)!r} is in the recycle bin, but Graph lets only "
                                 "a signed-in administrator restore it, not an app: recreated with a new id, every "
                                 "reference remapped (to keep its id, plan and apply with --auth device-code as a "
                                 "Conditional Access or Security Administrator)")
        elif kind.deleted_list and (kind.name, key) in self.pulled:
            # The headline promise is "original id"; when Entra no longer holds it, say so up front.
            self.warnings.append(f"{kind.title} {self._name(kind, body)!r} is not in the recycle bin "
                                 "(hard-deleted, purged, past its 30 days, or this identity may not restore it): "
                                 "recreated with a new id, every reference remapped")
        if not kind.client_id and (kind.name, key) in self.pulled:
            self.created.add(key)
            for f in kind.readonly:
                if isinstance(body.get(f), str):
                    self.created.add(body[f])

    def _restored_parent(self, kind: Kind, body: Mapping[str, Any]) -> tuple[str, str] | None:
        """(kind, key) of the object this plan restores that brings `body` back with it, if any;
        none when it also names an object being created (Graph removed it with that hard delete)."""
        if any(isinstance(body.get(f), str) and self.translate(None, body[f]) != chain(self.idmap, body[f])
               for f in kind.restored_with):
            return None
        for f in kind.restored_with:
            v = body.get(f)
            if isinstance(v, str) and chain(self.idmap, v) in self.restoring:
                return self.restoring[chain(self.idmap, v)]
        return None

    def _translated(self, kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
        if not self.idmap and not self.created:  # translate is the identity: no walk of every reference
            return refmod.copy_json(dict(body))
        return refmod.rewrite(kind, dict(body), self.translate)

    def _name(self, kind: Kind, body: Mapping[str, Any]) -> str:
        return display_name(kind, dict(body), self.dnames)

    def _is_selected(self, kind: Kind, key: str) -> bool:
        return selected(self.selectors, kind, key)

    def build(self) -> Plan:
        self.classify()
        self.left_alone = []
        writes: list[Op] = []
        links: list[Op] = []
        for kind in kindmod.apply_order():
            objs = self.desired.objects.get(kind.name, {})
            for key in sorted(objs, key=lambda k: (self._name(kind, objs[k]), k)):
                if self._is_selected(kind, key) or (kind.name, key) in self.pulled:
                    if not self._matches_live(kind, key, objs[key]):
                        self._plan_object(kind, key, objs[key], writes, links)
                else:
                    self._plan_remap_only(kind, key, writes, links)
        deletes, unmanaged = self._plan_deletes()
        order = {k.name: i for i, k in enumerate(reversed(kindmod.apply_order()))}
        deletes = sorted(self.replaced, key=lambda op: order[op.kind]) + deletes  # stable within a kind
        writes = _directed(writes)
        links.sort(key=lambda op: bool(kindmod.get(op.kind).restricts_members))  # stable: the rest keep their order
        return Plan(self.tenant, self.ref, tuple(writes + links + deletes), tuple(unmanaged),
                    tuple(self.warnings), dict(self.idmap), tuple(self.left_alone), tuple(self.returning))

    def _matches_live(self, kind: Kind, key: str, body: dict[str, Any]) -> bool:
        """A live object already as the files want it, references translated: nothing to plan. Most
        objects of a plan are (11,233 of 11,347 in the 20,000-object bench), and comparing two equal
        dicts costs a fraction of the diff, link and warning passes of _plan_object."""
        st = self.status[(kind.name, key)]
        have = self.live.objects.get(kind.name, {}).get(st.target) if st.how == "live" else None
        if have is None:
            return False
        if self.idmap or self.created:  # a reference may be remapped: compare what apply would write
            return self._translated(kind, body) == have
        return body == have

    def _plan_object(self, kind: Kind, key: str, body: dict[str, Any], writes: list[Op], links: list[Op]) -> None:
        st = self.status[(kind.name, key)]
        want = self._translated(kind, body)
        name = self._name(kind, body)
        owner = kind.owner(body)
        if st.how == "create" and owner and not owner.creatable:
            self.left_alone.append(LeftAlone(kind.name, key, name, "not-creatable", owner.reason))
            return
        if st.how == "returns":
            self.returning.append(RestoredWith(kind.name, key, name, *st.via, self._parent_name(st.via)))
            return
        if st.how == "create":
            note = "new id; references to the old id are remapped" if not (kind.client_id or is_new_key(key)) else ""
            old = {f: body[f] for f in kind.readonly if isinstance(body.get(f), str)}
            create = _with_parent(kind, write_body(kind, want), want)
            rest: dict[str, Any] = {}
            if self._foreign(kind, want):
                field_ = kind.instantiate[0] if kind.instantiate else ""
                rest = {k: v for k, v in create.items() if k != field_ and v not in (None, [], {})}
                create = {field_: create[field_]}
                note = f"instantiated from {field_} {want[field_]} (an app of another tenant)"
            fate: Fate = "new" if is_new_key(key) else "recreated"
            writes.append(Op("create", kind.name, key, name, body=create, note=note, old=old, fate=fate))
            if rest:
                writes.append(Op("update", kind.name, key, name, target=placeholder(key), body=rest,
                                 changes=tuple(Change(k, None, v) for k, v in sorted(rest.items())),
                                 note="properties of the instantiated object"))
            self._lost(kind, name, body, "recreated")
            self._links(kind, key, placeholder(key), want, {}, links)
            return
        if st.how == "restore":
            writes.append(Op("restore", kind.name, key, name, target=st.target,
                             note="from the recycle bin, original id kept"))
            have = self.deleted[kind.name][st.target]
        elif st.how == "adopt":
            writes.append(Op("adopt", kind.name, key, name, target=st.target,
                             note=f"live object with the same natural key ({st.target})"))
            have = self.live.objects[kind.name][st.target]
        else:
            have = self.live.objects[kind.name][st.target]
        patch, changes = body_diff(kind, want, have, self.managed[kind.name])
        patch, changes = self._unlocked(kind, key, name, have, patch, changes)
        if patch:
            if kind.update is None:
                gone = Op("delete", kind.name, key, name, target=st.target, body=_parent_of(kind, have),
                          note="replaced (no update in Graph)")
                made = Op("create", kind.name, key, name, body=_with_parent(kind, write_body(kind, want), want),
                          changes=tuple(changes))
                if natural_key(kind, want) != natural_key(kind, have):
                    # Another object: made first, the old one deleted with the prunes (what names it first),
                    # so nothing is left without it and Graph's in-use checks pass (a catalog resource
                    # stays while an access package grants one of its roles).
                    writes.append(made)
                    self.replaced.append(gone)
                else:
                    writes += [gone, made]
            else:
                writes.append(Op("update", kind.name, key, name, target=st.target, body=_update_body(kind, patch, want),
                                 changes=tuple(changes)))
        if st.how != "restore":
            self._lost(kind, name, body, "differs live", have)
        for f in kind.create_only:
            if f in want and f in have and want[f] != have[f]:
                self.warnings.append(f"{kind.title} {name!r}: {f} cannot change in place ({have[f]!r} live, "
                                     f"{want[f]!r} in the files)")
        if st.how != "restore":
            gaps = [r.name for r in kind.relations if r.name in want and not r.skipped(have) and r.name not in have]
            for rel in gaps:  # live side unreadable: never guess, never unlink
                self.warnings.append(f"{kind.title} {name!r}: {rel} could not be read live; left as they are")
            want = {k: v for k, v in want.items() if k not in gaps}
        self._links(kind, key, st.target, want, have if st.how != "restore" else {}, links,
                    (kind.name, key) if st.how == "restore" else None)

    def _lost(self, kind: Kind, name: str, body: Mapping[str, Any], why: str,
              have: Mapping[str, Any] | None = None) -> None:
        """Fields the files keep but apply cannot write (certificates): say what a person must do."""
        for f, todo in kind.lost_on_create.items():
            random = f in kind.random_on_create  # never in the files: a recreate always needs it
            if (not body.get(f) and not random) or (
                    have is not None and _norm(kind, f, body.get(f)) == _norm(kind, f, have.get(f))):
                continue
            self.warnings.append(f"{kind.title} {name!r}: {f} {why}; {todo}")

    def _foreign(self, kind: Kind, want: Mapping[str, Any]) -> bool:
        """Whether `want` names an app no file of this tenant registers (Microsoft first-party, multi-tenant)."""
        if not kind.instantiate or not want.get(kind.instantiate[0]):
            return False
        field_, owner_kind = kind.instantiate
        ours = {str(b.get(field_)).lower() for b in self.desired.objects.get(owner_kind, {}).values()}
        return str(want[field_]).lower() not in ours

    def _unlocked(self, kind: Kind, key: str, name: str, have: Mapping[str, Any], patch: dict[str, Any],
                  changes: list[Change]) -> tuple[dict[str, Any], list[Change]]:
        """The patch without the fields Graph forbids writing on one of Microsoft's own objects."""
        owner = kind.owner(have)
        if owner is None or not patch:
            return patch, changes
        locked = set(patch) - {"@odata.type"} if owner.locked is None else set(patch) & owner.locked
        if not locked:
            return patch, changes
        self.left_alone.append(LeftAlone(kind.name, key, name, "locked-fields", owner.reason, tuple(sorted(locked))))
        kept = {k: v for k, v in patch.items() if k not in locked}
        if set(kept) <= {"@odata.type"}:
            kept = {}
        return kept, [c for c in changes if c.path.split(".", 1)[0] not in locked]

    def _parent_name(self, via: tuple[str, str]) -> str:
        return self._name(kindmod.get(via[0]), self.desired.objects[via[0]][via[1]])

    def _links(self, kind: Kind, key: str, target: str, want: Mapping[str, Any], have: Mapping[str, Any],
               links: list[Op], restored: tuple[str, str] | None = None) -> None:
        """Memberships to add and remove; those of an object being restored, or with a member being
        restored, come back with it (Entra keeps a soft-deleted object's memberships)."""
        name = self._name(kind, want)
        owner = kind.owner(have or want)
        if owner is not None and owner.locked is None:  # read-only, memberships included (a synced group)
            rels = tuple(r.name for r in kind.relations
                         if r.name in want and set(want.get(r.name) or ()) != set(have.get(r.name) or ()))
            if rels and have:
                self.left_alone.append(LeftAlone(kind.name, key, name, "locked-fields", owner.reason, rels))
            return
        for rel in kind.relations:
            if rel.name not in want:
                continue
            w, h = set(want.get(rel.name) or ()), set(have.get(rel.name) or ())
            for m in sorted(w - h):
                if self._never_created(m):
                    continue  # a guest gone from the tenant: left alone (named), so no link to it either
                # A restore brings back links between objects that still exist: not those to or from
                # an object made anew (its hard delete removed them).
                anew = placeholder_target(target) or placeholder_target(m)
                via = None if anew else restored or self.restoring.get(chain(self.idmap, m))
                if via:
                    # The member may be the object restored (an app an app management policy applies to):
                    # the files name it by the id it had before it was recreated, so its name is the parent's.
                    member_name = self._member_name(m, rel.targets) or (
                        self._parent_name(via) if via[0] in rel.targets else "")
                    self.returning.append(RestoredWith(kind.name, key, name, *via, self._parent_name(via),
                                                       rel.name, m, member_name))
                    continue
                links.append(Op("link", kind.name, key, name, target=target, rel=rel.name, member=m,
                                member_kind=self._member_kind(rel, m), note=self._member_name(m, rel.targets)))
            for m in sorted(h - w):
                links.append(Op("unlink", kind.name, key, name, target=target, rel=rel.name, member=m,
                                member_kind=self._member_kind(rel, m), note=self._member_name(m, rel.targets)))

    def _member_kind(self, rel: Relation, member: str) -> str:
        """The kind a member of a `via` relation is, from the files or the live tenant."""
        if not rel.via:
            return ""
        old = placeholder_target(member) or member
        for kname in rel.targets:
            if old in self.desired.objects.get(kname, {}) or member in self.live.objects.get(kname, {}):
                return kname
        return rel.targets[0]

    def _never_created(self, member: str) -> bool:
        """A principal in the files, missing live, that Graph does not let entragit create."""
        for kname in kindmod.PRINCIPALS:
            st = self.status.get((kname, member))
            if st is not None and st.how == "create":
                owner = kindmod.get(kname).owner(self.desired.objects.get(kname, {}).get(member) or {})
                return owner is not None and not owner.creatable
        return False

    def _member_name(self, member: str, targets: tuple[str, ...] = kindmod.PRINCIPALS) -> str:
        old = placeholder_target(member) or member
        for names in (self.names, self.dnames):
            hit = names.find(refmod.relation_ref("members", targets), old)
            if hit:
                return str(describe(*hit).get("name", ""))
        return ""

    def _plan_remap_only(self, kind: Kind, key: str, writes: list[Op], links: list[Op]) -> None:
        """An object outside --only still gets its references to recreated objects fixed."""
        st = self.status[(kind.name, key)]
        if st.how != "live":
            return
        have = self.live.objects[kind.name][st.target]
        fixed = refmod.rewrite(kind, dict(have), self.translate)
        patch, changes = body_diff(kind, fixed, have, self.managed[kind.name])
        if patch and kind.update is not None:
            writes.append(Op("update", kind.name, key, self._name(kind, have), target=st.target,
                             body=_update_body(kind, patch, fixed),
                             changes=tuple(changes), note="references remapped"))
        desired = self.desired.objects[kind.name][key]
        for rel in kind.relations:  # memberships of a recreated object (e.g. in an administrative unit)
            for m in sorted(set(desired.get(rel.name) or ()) & self.created):
                links.append(Op("link", kind.name, key, self._name(kind, have), target=st.target, rel=rel.name,
                                member=placeholder(m), member_kind=self._member_kind(rel, placeholder(m)),
                                note=self._member_name(m, rel.targets)))

    def _plan_deletes(self) -> tuple[list[Op], list[tuple[str, str]]]:
        wanted = {(k, s.target) for (k, _), s in self.status.items() if s.target}
        ops: list[Op] = []
        unmanaged: list[tuple[str, str]] = []
        for kind in reversed(kindmod.apply_order()):
            # Kinds Graph never creates for a client are left alone below when a rule says why (PIM policies)
            if kind.name not in self.desired.objects or kind.singleton or (kind.create is None and not kind.system_owned):
                continue
            for lid, body in sorted(self.live.objects.get(kind.name, {}).items()):
                if (kind.name, lid) in wanted:
                    continue
                name = display_name(kind, body, self.names)
                owner = kind.owner(body)
                if owner:  # Graph forbids deleting it, so --prune leaves it and says why
                    self.left_alone.append(LeftAlone(kind.name, lid, name, "not-deletable", owner.reason))
                elif self.prune and selected(self.selectors, kind, lid):
                    soft = " (soft: restorable for 30 days)" if kind.deleted_list else ""
                    ops.append(Op("delete", kind.name, lid, name, target=lid, body=_parent_of(kind, body),
                                  note="not in the files" + soft))
                else:
                    unmanaged.append((kind.name, name))
        return ops, unmanaged


def compute(tenant: str, ref: str, desired: Snapshot, live: Snapshot,
            deleted: Mapping[str, Mapping[str, dict[str, Any]]], idmap: Mapping[str, str],
            selectors: Sequence[str] = (), prune: bool = False,
            held: Mapping[str, set[str]] | None = None) -> Plan:
    """`selectors` are kinds and ids (selectors.resolve), so `--only` reads the same everywhere."""
    return Planner(tenant, ref, desired, live, deleted, idmap, selectors, prune, held).build()


def missing_kinds(desired: Snapshot, live: Snapshot, idmap: Mapping[str, str]) -> Iterable[str]:
    """Kinds with desired objects absent live: only those need a recycle-bin read."""
    for kname, objs in desired.objects.items():
        kind = kindmod.get(kname)
        if not kind.deleted_list:
            continue
        have = live.objects.get(kname, {})
        if any(chain(idmap, k) not in have for k in objs):
            yield kname
