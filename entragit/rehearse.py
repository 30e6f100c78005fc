"""Rehearse an apply on a simulated twin of the tenant: nothing is written to the real tenant.

The twin is the built-in simulator seeded from the files at HEAD (the last export, the best
knowledge of what is live) with the tenant's own ids, and with what the tenant's recycle bins hold
now (read-only GETs, the reads plan makes). It signs in as the tenant's own identity: an app in the
twin holding exactly the application permissions (``roles``) and directory roles (``wids``) of the
tenant's token, so a plan the tenant would refuse fails in the rehearsal for the same reason. The
plan for --ref is applied to the twin, then planned again to prove it converges."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entragit import auth, reconcile
from entragit import kinds as kindmod
from entragit.apply import IDMAP, ApplyResult
from entragit.config import Tenant, repo_file
from entragit.errors import GraphError
from entragit.graph import Graph
from entragit.snapshot import Snapshot

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# The twin's client secret lives in this process's environment for the rehearsal only.
SECRET_ENV = "ENTRAGIT_REHEARSAL_CLIENT_SECRET"

# Where the simulator keeps what our Kind table calls by another name (its table is its own).
SIM_COLLECTION = {
    "crossTenantAccessDefault": "crossTenantAccessPolicyDefault",
    "crossTenantAccessPartners": "crossTenantPartners",
    "securityDefaults": "identitySecurityDefaultsEnforcementPolicy",
}


def seed_from(snap: Snapshot) -> dict[str, list[dict[str, Any]]]:
    """The simulator seed for a snapshot of files: objects with their ids, plus the users they name."""
    seed: dict[str, list[dict[str, Any]]] = {}
    nested = [kindmod.get(k) for k in snap.objects if kindmod.get(k).parent_in_path]
    for kname, objs in snap.objects.items():
        if kindmod.get(kname).parent_in_path:
            continue
        seed.setdefault(SIM_COLLECTION.get(kname, kname), []).extend(dict(b) for b in objs.values())
    for kind in nested:
        _nest(seed, kind, snap.objects[kind.name])
    if "users" not in snap.objects:  # users are opt-in: recreate the ones the files name
        for uid, u in sorted(snap.lookup.get("users", {}).items()):
            upn = str(u.get("userPrincipalName") or f"{uid}@rehearsal.invalid")
            seed.setdefault("users", []).append({
                "id": uid, "displayName": u.get("displayName") or upn, "userPrincipalName": upn,
                "accountEnabled": True, "mailNickname": upn.split("@")[0].replace("#", "_")})
    return seed


def _nest(seed: dict[str, list[dict[str, Any]]], kind: kindmod.Kind, objs: dict[str, dict[str, Any]]) -> None:
    """Objects of a child kind Graph keeps on its parent (an app's federated identity credentials),
    seeded as the parent's list under the path's last segment, without the parent's id the files add."""
    if not kind.parent:
        return
    parents = {str(o.get("id")): o for o in seed.get(SIM_COLLECTION.get(kind.parent, kind.parent), [])}
    field = kind.path.rsplit("/", 1)[1]
    for body in objs.values():
        parent = parents.get(str(body.get(kind.parent_field)))
        if parent is not None:
            parent.setdefault(field, []).append({k: v for k, v in body.items() if k != kind.parent_field})


def with_recycle_bins(seed: dict[str, list[dict[str, Any]]], deleted: dict[str, dict[str, dict[str, Any]]],
                      wanted: Snapshot | None = None) -> dict[str, list[dict[str, Any]]]:
    """The seed plus the tenant's recycle bins; what sits in a bin now is not live, whatever HEAD says.

    Entra keeps a deleted object's memberships and assignments and brings them back with it; the
    tenant hides them while it is deleted, so they are taken from the files being rehearsed
    (`wanted`): the twin then holds what the plan says comes back with the restore."""
    out = {k: list(v) for k, v in seed.items()}
    entries = out.setdefault("deletedItems", [])
    binned_ids: set[str] = set()
    for kname, objs in sorted(deleted.items()):
        kind = kindmod.get(kname)
        coll, key = SIM_COLLECTION.get(kname, kname), kind.id_field
        binned = set(objs)
        binned_ids |= binned
        out[coll] = [o for o in out.get(coll, []) if str(o.get(key)) not in binned]
        for oid, body in sorted(objs.items()):
            filed = (wanted.objects.get(kname, {}).get(oid, {}) if wanted else {})
            rels = {r.name: filed[r.name] for r in kind.relations if r.name in filed and r.name not in body}
            entries.append({"kind": coll, "object": {key: oid, **body, **rels}})
    if wanted is not None and binned_ids:
        _held_with_bins(out, wanted, binned_ids)
    return out


def _held_with_bins(seed: dict[str, list[dict[str, Any]]], wanted: Snapshot, binned: set[str]) -> None:
    """Assignments naming a binned object, and memberships holding one, as the files have them."""
    for kname, objs in wanted.objects.items():
        kind = kindmod.get(kname)
        coll = SIM_COLLECTION.get(kname, kname)
        have = {str(o.get(kind.id_field)): o for o in seed.get(coll, [])}
        for oid, body in objs.items():
            if kind.restored_with and oid not in have and any(str(body.get(f)) in binned for f in kind.restored_with):
                seed.setdefault(coll, []).append(dict(body))
            live = have.get(oid)
            if live is None:
                continue
            for rel in kind.relations:
                back = [m for m in body.get(rel.name) or () if m in binned and m not in (live.get(rel.name) or ())]
                if back:
                    live[rel.name] = [*(live.get(rel.name) or ()), *back]


def over_builtins(seed: dict[str, list[dict[str, Any]]], tenant_id: str) -> dict[str, list[dict[str, Any]]]:
    """Files keep only what entragit manages: an object the twin also has built in (the Microsoft
    Graph service principal and its app roles, say) keeps the built-in rest under the files' values."""
    from entragit_sim.builtins import builtin_state

    out = {}
    for coll, objs in seed.items():
        builtin = {str(o.get("id")): o for o in builtin_state(tenant_id).get(coll, []) if isinstance(o, dict)}
        out[coll] = [{**builtin.get(str(o.get("id")), {}), **o} for o in objs]
    return out


@dataclass(frozen=True)
class Identity:
    """Who the tenant's token says it is: its permissions and directory roles."""

    kind: str  # "app" | "user"
    name: str
    permissions: tuple[str, ...]  # app-only `roles`; delegated `scp`
    directory_roles: tuple[str, ...]  # `wids`

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Identity:
        kind = str(claims.get("idtyp") or ("user" if claims.get("scp") else "app"))
        perms = (claims.get("roles") or []) if kind == "app" else str(claims.get("scp") or "").split()
        name = str(claims.get("app_displayname") or claims.get("upn") or claims.get("appid") or "tenant identity")
        return cls(kind, name, tuple(sorted(set(perms))), tuple(sorted(set(claims.get("wids") or []))))


async def _make_twin_identity(g: Graph, who: Identity) -> tuple[str, str]:
    """An app + service principal in the twin holding exactly `who`'s permissions and roles: (appId, secret).

    A delegated identity (idtyp user) is approximated by an app holding its consented scopes where
    Graph has an application permission of that name: the twin signs in app-only, so what only a
    signed-in administrator may do (restoring CA policies) is planned as for an app."""
    app = await g.call("POST", "/applications", body={"displayName": f"{who.name} (rehearsal)"})
    sp = await g.call("POST", "/servicePrincipals", body={"appId": app["appId"]})
    [graph_sp] = await g.list_all("/servicePrincipals", params={"$filter": f"appId eq '{GRAPH_APP_ID}'"})
    by_value = {r["value"]: r["id"] for r in graph_sp.get("appRoles") or []}
    for perm in who.permissions:
        if perm in by_value:  # a delegated-only scope has no application permission to hold
            await g.call("POST", f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo", body={
                "principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": by_value[perm]})
    for role in who.directory_roles:
        try:
            await g.call("POST", "/roleManagement/directory/roleAssignments", body={
                "principalId": sp["id"], "roleDefinitionId": role, "directoryScopeId": "/"})
        except GraphError as e:  # `wids` also names roles no one can assign (the default user role)
            if e.status not in (400, 404):
                raise
    made = await g.call("POST", f"/applications/{app['id']}/addPassword",
                        body={"passwordCredential": {"displayName": "rehearsal"}})
    return str(app["appId"]), str(made["secretText"])


def _twin_auth(sim: Any, who: Identity | None) -> dict[str, Any]:
    """Tenant auth for the twin: the dev token when the tenant uses it, else the twin identity."""
    if who is None:
        return {"method": "sim"}

    async def go() -> tuple[str, str]:
        async with Graph(sim.graph_url, token=auth.SIM_TOKEN, verify=sim.ca_bundle or True) as g:
            return await _make_twin_identity(g, who)

    client_id, secret = asyncio.run(go())
    os.environ[SECRET_ENV] = secret
    return {"method": "secret", "clientId": client_id, "secretEnv": SECRET_ENV, "authority": sim.authority}


@dataclass
class Rehearsal:
    session: reconcile.Session
    result: ApplyResult
    after: reconcile.Session  # a second plan against the twin: empty when apply converges
    identity: Identity | None = None  # None: the dev token, in the tenant and in the twin


def run(root: Path, t: Tenant, ref: str, selectors: Sequence[str] = (), prune: bool = False,
        force_lockout: bool = False, on_op: Callable[[Any], None] | None = None) -> Rehearsal:
    from entragit_sim import Simulator

    twin_files = reconcile.desired_state(root, t, "HEAD")
    wanted = reconcile.desired_state(root, t, ref)
    claims = asyncio.run(auth.token_claims(t))
    who = None if claims is None else Identity.from_claims(claims)
    bins = reconcile.recycle_bins(t, sorted(set(twin_files.objects) | set(wanted.objects)))
    seed = with_recycle_bins(over_builtins(seed_from(twin_files), t.tenant_id), bins, wanted)
    sim = Simulator(seed=seed, tenant_id=t.tenant_id,
                    tls=who is not None)  # azure-identity signs in over https only
    sim.start(host="127.0.0.1", port=0)
    state = Path(tempfile.mkdtemp(prefix="entragit-rehearsal-"))
    try:
        if repo_file(t.dir.parents[1], t.dir / IDMAP).exists():
            shutil.copy2(t.dir / IDMAP, state / IDMAP)
        twin = dataclasses.replace(t, graph_url=sim.graph_url, auth=_twin_auth(sim, who),
                                   ca_bundle=sim.ca_bundle, state_dir=state)
        session = reconcile.plan(root, twin, ref, selectors, prune)
        result, _stats = reconcile.apply(root, twin, session, force_lockout=force_lockout, on_op=on_op)
        after = reconcile.plan(root, twin, ref, selectors, prune)
        return Rehearsal(session, result, after, who)
    finally:
        os.environ.pop(SECRET_ENV, None)
        sim.stop()
        shutil.rmtree(state, ignore_errors=True)
