"""Run a Plan against Graph: placeholders become real ids as creates answer; the id map is written
after every create, so an interrupted apply resumes (the next plan adopts what the lost run made)."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entragit import canonical, permissions, yamlio
from entragit import kinds as kindmod
from entragit.errors import EntragitError, GraphError, PermissionMissing
from entragit.graph import Graph
from entragit.kinds import Kind, SubCollection
from entragit.plan import Op, Plan, chain, placeholder_target

IDMAP = "idmap.yaml"
_EMBEDDED = re.compile(r"\{new:[^}]+\}")
_LAG_RETRIES = 8  # Entra replicas may not see a fresh object for a few seconds (graph-notes 6.9)


def load_idmap(tenant_dir: Path) -> dict[str, str]:
    """Flat old -> new map from tenants/<t>/idmap.yaml ({kind: {old: new}})."""
    p = tenant_dir / IDMAP
    if not p.exists():
        return {}
    data = yamlio.load(p.read_text(encoding="utf-8"), str(p)) or {}
    flat: dict[str, str] = {}
    for section in data.values():
        flat.update({str(k): str(v) for k, v in (section or {}).items()})
    return flat


def save_idmap(tenant_dir: Path, entries: Mapping[str, Mapping[str, str]]) -> None:
    p = tenant_dir / IDMAP
    data: dict[str, dict[str, str]] = {}
    if p.exists():
        data = yamlio.load(p.read_text(encoding="utf-8"), str(p)) or {}
    for kname, m in entries.items():
        data.setdefault(kname, {}).update(m)
    data = {k: dict(sorted(v.items())) for k, v in sorted(data.items()) if v}
    tmp = p.with_suffix(".tmp")
    tmp.write_text(yamlio.dump(data, header="# old id -> new id, written by `entragit apply`; commit it"),
                   encoding="utf-8")
    tmp.replace(p)


@dataclass
class Outcome:
    op: Op
    ok: bool
    detail: str = ""


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    new_ids: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> old -> new

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


class Unresolved(Exception):
    """A placeholder whose create has not happened (or failed)."""


class Runner:
    def __init__(self, g: Graph, plan: Plan, tenant_dir: Path, on_op: Callable[[Outcome], None] | None) -> None:
        self.g, self.plan, self.tenant_dir = g, plan, tenant_dir
        self.rt: dict[str, str] = dict(plan.idmap)
        self.fresh: set[str] = set()  # ids created in this run (404s on them are replication lag)
        self.result = ApplyResult()
        self.on_op = on_op
        self.deferred: list[Op] = []
        self.final = False  # in the deferred pass nothing can wait any longer

    def value(self, v: Any, *, strict: bool = True) -> Any:
        if isinstance(v, dict):
            return {k: self.value(x, strict=strict) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x, strict=strict) for x in v]
        if isinstance(v, str) and "{new:" in v and placeholder_target(v) is None:
            # A placeholder inside a string (an identifier URI `api://{new:<old appId>}`).
            return _EMBEDDED.sub(lambda m: self.value(m.group(0), strict=strict), v)
        old = placeholder_target(v) if isinstance(v, str) else None
        if old is None:
            return v
        if old in self.rt and self.rt[old] != old:
            return chain(self.rt, old)
        if strict:
            raise Unresolved(old)
        return v

    def _record(self, kind: Kind, old: str, new: str) -> None:
        self.rt[old] = new
        self.result.new_ids.setdefault(kind.name, {})[old] = new
        save_idmap(self.tenant_dir, {kind.name: {old: new}})

    async def _send(self, method: str, path: str, kind: Kind, body: Any = None, target: str = "",
                    version: str | None = None) -> Any:
        for attempt in range(_LAG_RETRIES + 1):
            resp = await self.g.send(method, path, version=version or kind.version, body=body)
            if resp.status == 404 and target in self.fresh and attempt < _LAG_RETRIES:
                await asyncio.sleep(min(0.25 * 2**attempt, 2.0))
                continue
            if resp.status >= 400:
                raise resp.error(method, path)
            return resp.body
        raise AssertionError("unreachable")

    def _path(self, kind: Kind, body: Mapping[str, Any]) -> str:
        if kind.parent:
            return kind.path.format(parent=body.get(kind.parent_field, ""))
        return kind.path

    async def run(self) -> ApplyResult:
        ops = list(self.plan.ops)
        i = 0
        while i < len(ops):
            # Memberships are independent of each other: send a run of them concurrently (the Graph
            # client bounds how many are in flight), instead of one round trip at a time.
            j = i
            while j < len(ops) and ops[j].action in ("link", "unlink"):
                j += 1
            if j > i:
                await asyncio.gather(*(self._one(op) for op in ops[i:j]))
                i = j
            else:
                await self._one(ops[i])
                i += 1
        self.final = True
        for op in self.deferred:  # references that pointed at objects created later (cycles)
            await self._one(op)
        return self.result

    async def _one(self, op: Op) -> None:
        kind = kindmod.get(op.kind)
        try:
            detail = await getattr(self, "_" + op.action)(kind, op)
            out = Outcome(op, True, detail or "")
        except Unresolved as e:
            if not self.final and op.action in ("update", "link"):
                self.deferred.append(op)  # the object it names is created further down the plan
                return
            out = Outcome(op, False, f"depends on {e} which was not created")
        except GraphError as e:
            out = Outcome(op, False, _denied(kind, e))
        except EntragitError as e:
            out = Outcome(op, False, e.message)
        self.result.outcomes.append(out)
        if self.on_op:
            self.on_op(out)

    async def _restore(self, kind: Kind, op: Op) -> str:
        version = "beta" if kind.soft_delete == "policy-beta" else "v1.0"
        await self._send("POST", kind.deleted_item.format(id=op.target) + "/restore", kind, body={},
                         version=version)
        self.fresh.add(op.target)
        return "restored"

    async def _adopt(self, kind: Kind, op: Op) -> str:
        self._record(kind, op.key, op.target)
        return f"adopted {op.target}"

    async def _create(self, kind: Kind, op: Op) -> str:
        body = dict(op.body)
        later: dict[str, Any] = {}
        for k in list(body):
            try:
                body[k] = self.value(body[k])
            except Unresolved:
                later[k] = body.pop(k)  # a cycle: create first, patch the reference after
        if kind.create == "upsert":
            await self._send("PATCH", f"{self._path(kind, body)}/{op.key}", kind, body=body)
            return "created"
        children = {sub.field: body.pop(sub.field) for sub in kind.subcollections if sub.field in body}
        note = ""
        if kind.initial_password and "passwordProfile" not in body:
            body["passwordProfile"] = {"forceChangePasswordNextSignIn": True,
                                       "password": secrets.token_urlsafe(24) + "aA1!"}
            note = "; random initial password, must be reset before first sign-in"
        try:
            made = await self._send("POST", self._path(kind, body), kind, body=body)
        except GraphError as e:
            # Assignments and grants come back with a restored service principal or user;
            # Graph then answers "already exists", which means the desired state holds.
            if not kind.name_field and (e.status == 409 or "already exist" in e.graph_message):
                found = await self._find_existing(kind, body)
                if found and found != op.key:
                    self._record(kind, op.key, found)
                return f"already exists ({found or 'id unknown'})"
            raise
        new = str(made.get(kind.id_field, ""))
        self.fresh.add(new)
        if new and new != op.key:
            self._record(kind, op.key, new)
        for f, old_v in op.old.items():  # a recreated application gets a new appId too
            if old_v and made.get(f) and old_v != made[f]:
                self._record(kind, str(old_v), str(made[f]))
        for sub in kind.subcollections:
            if children.get(sub.field):
                await self._sync_items(kind, sub, f"{self._path(kind, body)}/{new}", children[sub.field], new,
                                      created=True)
        if later:
            self.deferred.append(Op("update", op.kind, op.key, op.name, target=new, body=later,
                                    note="references to objects created later"))
        return f"id {new}{note}"

    async def _find_existing(self, kind: Kind, body: Mapping[str, Any]) -> str | None:
        """The live object a create collided with, found by natural key, so the id map learns it."""
        items = await self.g.list_all(self._path(kind, body), version=kind.version)
        for item in items:
            if all(item.get(f) == body.get(f) for f in kind.natural_key):
                return str(item.get(kind.id_field))
        return None

    async def _update(self, kind: Kind, op: Op) -> str:
        body = self.value(dict(op.body))
        target = self.value(op.target)
        path = kind.path if kind.singleton else f"{kind.path}/{target}"
        children = {sub: body.pop(sub.field) for sub in kind.subcollections if sub.field in body}
        for f, action in kind.actions.items():
            if f in body:
                await self._send("POST", f"{path}/{action}", kind, body={f: body.pop(f)}, target=target)
        if [k for k in body if k != "@odata.type"]:
            await self._send("PATCH", path, kind, body=body, target=target)
        for sub, items in children.items():
            await self._sync_items(kind, sub, path, items or [], target)
        return "updated"

    async def _sync_items(self, kind: Kind, sub: SubCollection, path: str, want: list[Mapping[str, Any]],
                          target: str, created: bool = False) -> None:
        """Make a sub-collection hold `want`: items matched by sub.match, changed ones patched,
        missing ones posted, extra ones deleted (deletes first, so a replaced item never collides).
        Runs after the object's actions: an item may only apply to combinations already allowed."""
        url = f"{path}/{sub.field}"
        items = [] if created else await self.g.list_all(url, version=kind.version)
        live = {sub.key(i): i for i in items}
        wanted = {sub.key(i): i for i in want}
        for key, gone in live.items():
            if key not in wanted:
                await self._remove(kind, f"{url}/{gone['id']}", "deleted")
        for key, item in wanted.items():
            body = {k: v for k, v in item.items() if k != "id"}
            have = live.get(key)
            if have is None:
                await self._send("POST", url, kind, body=body, target=target)
            elif any(canonical.norm(have.get(k)) != canonical.norm(v) for k, v in body.items()):
                await self._send("PATCH", f"{url}/{have['id']}", kind, body=body, target=target)

    async def _link(self, kind: Kind, op: Op) -> str:
        target = self.value(op.target)
        member = chain(self.rt, self.value(op.member))
        ref = {"@odata.id": f"{self.g.root}/v1.0/directoryObjects/{member}"}
        try:
            await self._send("POST", f"{kind.path}/{target}/{op.rel}/$ref", kind, body=ref, target=target)
        except GraphError as e:
            if e.status == 400 and "already exist" in e.graph_message:
                return "already linked"
            raise
        return "linked"

    async def _unlink(self, kind: Kind, op: Op) -> str:
        return await self._remove(kind, f"{kind.path}/{op.target}/{op.rel}/{op.member}/$ref", "unlinked")

    async def _delete(self, kind: Kind, op: Op) -> str:
        path = f"{self._path(kind, op.body)}/{op.target}"
        for child in kind.delete_first:
            await self._remove(kind, f"{path}/{child}", "deleted")
        return await self._remove(kind, path, "deleted")

    async def _remove(self, kind: Kind, path: str, done: str) -> str:
        """DELETE where a 404 means the goal already holds (a rerun, or someone else got there first)."""
        try:
            await self._send("DELETE", path, kind)
        except GraphError as e:
            if e.status == 404:
                return f"already {done}"
            raise
        return done


def _denied(kind: Kind, e: GraphError) -> str:
    """A refusal names what the operation needed: the 403 alone says only "Insufficient privileges"."""
    if e.status != 403 or not kind.write_perm:
        return e.message
    return f"{e.message} (this operation needs {' + '.join(kind.write_perm)})"


def _some(ops: list[str], most: int = 3) -> str:
    more = f" and {len(ops) - most} more" if len(ops) > most else ""
    return ", ".join(ops[:most]) + more


def check_permissions(plan: Plan, claims: Mapping[str, Any]) -> None:
    """Refuse before the first write when the token lacks a permission the plan needs (its writes,
    and the tenant check), instead of failing half-way through with 403s."""
    app, have = permissions.held(claims)
    needed: dict[str, list[str]] = {}
    if app and not permissions.covered(permissions.TENANT_CHECK, have):
        needed[permissions.TENANT_CHECK[0]] = ["the tenant check (GET /organization)"]
    for op in plan.ops:
        if op.action == "adopt":  # only recorded in idmap.yaml: nothing is sent
            continue
        kind = kindmod.get(op.kind)
        for alternatives in permissions.write_needs(kind):
            if not permissions.covered(alternatives, have):
                needed.setdefault(alternatives[0], []).append(f"{op.action} {kind.title} {op.name!r}")
    if not needed:
        return
    what = "application permissions (roles)" if app else "delegated scopes (scp)"
    missing = "; ".join(f"{p} for {_some(ops)}" for p, ops in sorted(needed.items()))
    hint = ("grant them to the app registration (admin consent), then rerun: `entragit permissions` lists "
            "what apply needs" if app else "consent these scopes for the client you sign in with, then rerun")
    raise PermissionMissing(f"the token's {what} lack what this plan needs; nothing was written: missing "
                            f"{missing}", hint=hint)


async def check_tenant(g: Graph, tenant_id: str) -> None:
    """Refuse to write into a tenant other than the one tenant.yaml names."""
    org = await g.get("/organization")
    ids = {str(o.get("id", "")).lower() for o in org.get("value", [])}
    if tenant_id.lower() not in ids:
        raise EntragitError(f"the token reaches tenant {', '.join(sorted(ids)) or '?'}, but tenant.yaml says "
                            f"{tenant_id}; refusing to write")


async def execute(g: Graph, plan: Plan, tenant_dir: Path, on_op: Callable[[Outcome], None] | None = None
                  ) -> ApplyResult:
    return await Runner(g, plan, tenant_dir, on_op).run()
