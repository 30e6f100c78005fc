"""Seeds: resolve a seed name to seed-format state and load it into a store (dir loader lives here).

Seed format (docs/ARCHITECTURE.md): ``dict[str, list[dict]]`` keyed by collection, objects as
Graph GET returns them. Extras the loader understands:

- ``members`` / ``owners`` lists of object ids on groups, administrative units, applications and
  service principals become $ref links;
- ``crossTenantAccessPolicy`` may mix the root policy, its ``default`` (``isServiceDefault`` present),
  partners (``tenantId`` present) and partner ``identitySynchronization`` objects (``tenantId`` +
  ``userSyncInbound``/``groupSyncInbound``); a partner may also embed ``identitySynchronization``;
- ``authenticationMethodsPolicy`` may embed ``authenticationMethodConfigurations``;
- an application's ``passwordCredentials[]`` item may carry ``secretText``: the loader keeps only its
  hash, so a seed can ship a known client secret for token tests and the demo;
- ``deletedItems`` holds ``{"kind": collection, "object": {...}}`` entries: soft-deleted objects the
  loader puts in their kind's recycle bin (``Resource.soft_delete``), with their ``members`` /
  ``owners`` links kept so a restore brings them back, as Entra does.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

from entragit_sim import apppolicies
from entragit_sim.builtins import builtin_state
from entragit_sim.store import Store
from entragit_sim.table import BY_NAME

Seed = dict[str, list[dict[str, Any]]]

DEFAULT_TENANT_ID = "2d6b1f4e-7c3a-4e85-9f20-6a1b3c5d7e90"  # fixed so demo ids are stable
_SEED_NS = uuid.UUID("0b5e7a1e-5e1d-4c0d-9a7e-51a1ab0c0002")

# Seed keys that are spelled differently from the store's collection names.
_KEY_ALIASES = {
    "crossTenantPartners": "crossTenantPartners",
    "partners": "crossTenantPartners",
    "identitySynchronization": "crossTenantIdentitySync",
    "directoryRoleDefinitions": "roleDefinitions",
}
_RELS = ("members", "owners", "appManagementPolicies")  # $ref links a seed object may carry
DELETED_KEY = "deletedItems"


class SeedError(Exception):
    """A seed name or seed file that cannot be used."""


def resolve_seed(seed: str | Seed | None, tenant_id: str) -> Seed:
    """'empty' | 'demo' | 'enterprise' | 'synthetic:N' | a directory of JSON files | an in-memory seed dict."""
    if seed is None or seed == "empty":
        return {}
    if isinstance(seed, dict):
        return seed
    if seed == "demo":
        try:
            from entragit_sim.seeds.demo import demo_seed
        except ImportError as e:
            raise SeedError(f"the demo seed is not available in this build ({e})") from e
        return demo_seed(tenant_id)
    if seed == "enterprise":
        from entragit_sim.seeds.enterprise import enterprise_seed

        return enterprise_seed(tenant_id)
    if seed.startswith("synthetic:"):
        try:
            n = int(seed.split(":", 1)[1])
        except ValueError as e:
            raise SeedError(
                f"synthetic seed needs a number of objects, e.g. synthetic:1000 (got {seed!r})"
            ) from e
        try:
            from entragit_sim.seeds.synthetic import synthetic_seed
        except ImportError as e:
            raise SeedError(f"the synthetic seed is not available in this build ({e})") from e
        return synthetic_seed(n, tenant_id)
    path = Path(seed)
    if path.is_dir():
        return load_dir(path)
    raise SeedError(
        f"unknown seed {seed!r}: use empty, demo, enterprise, synthetic:N or a directory of JSON files"
    )


def load_dir(root: Path) -> Seed:
    """`<collection>/*.json`, one object per file (the shared corpus layout); misc/ is not state."""
    out: Seed = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "misc"):
        for f in sorted(folder.glob("*.json")):
            try:
                obj = json.loads(f.read_text(encoding="utf-8-sig"))
            except ValueError as e:
                raise SeedError(f"{f}: not JSON ({e})") from e
            if not isinstance(obj, dict):
                raise SeedError(f"{f}: expected one JSON object")
            out.setdefault(folder.name, []).append(obj)
    return out


def strip_annotations(value: Any, *, keep_type: bool) -> Any:
    """Drop OData control information; `@odata.type` stays inside values (it discriminates types)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if (
                k.startswith("#")
                or k.startswith("@microsoft.graph.")
                or ("@odata." in k and k != "@odata.type")
            ):
                continue
            if k == "@odata.type" and not keep_type:
                continue
            out[k] = strip_annotations(v, keep_type=True)
        return out
    if isinstance(value, list):
        return [strip_annotations(v, keep_type=True) for v in value]
    return value


def _classify_cross_tenant(obj: dict[str, Any]) -> str:
    if "isServiceDefault" in obj or str(obj.get("@odata.context", "")).endswith("/default/$entity"):
        return "crossTenantAccessPolicyDefault"
    if "tenantId" in obj:
        sync_keys = {"userSyncInbound", "groupSyncInbound"}
        if sync_keys & obj.keys() or "/identitySynchronization" in str(
            obj.get("@odata.context", "")
        ):
            return "crossTenantIdentitySync"
        return "crossTenantPartners"
    return "crossTenantAccessPolicy"


def _entries(seed: Seed) -> list[tuple[str, dict[str, Any]]]:
    """Flatten a seed into (store collection, object) pairs, splitting composite seed objects."""
    out: list[tuple[str, dict[str, Any]]] = []
    for key, objs in seed.items():
        if key == DELETED_KEY:
            continue
        for obj in objs:
            kind = _KEY_ALIASES.get(key, key)
            if kind == "crossTenantAccessPolicy":
                kind = _classify_cross_tenant(obj)
            if kind == "crossTenantPartners" and isinstance(
                obj.get("identitySynchronization"), dict
            ):
                obj = dict(obj)
                sync = obj.pop("identitySynchronization")
                out.append(("crossTenantIdentitySync", {"tenantId": obj["tenantId"], **sync}))
            if (
                kind == "authenticationMethodsPolicy"
                and "authenticationMethodConfigurations" in obj
            ):
                obj = dict(obj)
                out.extend(
                    ("authenticationMethodConfigurations", c)
                    for c in obj.pop("authenticationMethodConfigurations") or []
                )
            if kind not in BY_NAME:
                raise SeedError(f"unknown seed collection {key!r}")
            out.append((kind, obj))
    return out


def load_into(store: Store, seed: Seed) -> None:
    """Merge the built-in tenant and then `seed` into `store` (same key replaces; singletons replace)."""
    with store.lock:
        for kind, raw in _entries(builtin_state(store.tenant_id)) + _entries(seed):
            _load_one(store, kind, raw)
        for entry in seed.get(DELETED_KEY, []):
            _load_deleted(store, entry)
        _derive_assignment_schedules(store)
        _assign_app_policies(store)


def _assign_app_policies(store: Store) -> None:
    """A seed may list an app management (or sts) policy's `appliesTo` (as a read shows it, an export's
    files): Graph holds the assignment on each application or service principal (apppolicies.py)."""
    for link, owners in apppolicies.ASSIGNED_ON.items():
        for policy in store.all(link):
            for oid in policy.pop("appliesTo", None) or []:
                owner = next((o for o in owners if store.get(o, str(oid)) is not None), None)
                if owner is None:
                    owner = next((o for o in owners if store.deleted["directory"].get(str(oid), {}).get("kind") == o),
                                 None)
                if owner is not None:
                    ids = apppolicies.assigned_policy(store, owner, str(oid), link)
                    if policy["id"] not in ids:
                        ids.append(policy["id"])


def _derive_assignment_schedules(store: Store) -> None:
    """Every active role assignment has a schedule, Assigned or (when its instance says so) Activated
    (https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignmentschedules); seeds list
    assignments only, so their schedules are made here."""
    for a in store.all("roleAssignments"):
        if store.get("roleAssignmentSchedules", str(a["id"])) is not None:
            continue
        inst = store.get("roleAssignmentScheduleInstances", str(a["id"])) or {}
        store.put("roleAssignmentSchedules", str(a["id"]), {
            "id": a["id"], "principalId": a.get("principalId"), "roleDefinitionId": a.get("roleDefinitionId"),
            "directoryScopeId": a.get("directoryScopeId"), "appScopeId": None, "createdUsing": a["id"],
            "createdDateTime": a.get("createdDateTime"), "modifiedDateTime": None, "status": "Provisioned",
            "assignmentType": inst.get("assignmentType") or "Assigned", "memberType": "Direct",
            "scheduleInfo": {"startDateTime": inst.get("startDateTime") or a.get("createdDateTime"),
                             "recurrence": None,
                             "expiration": {"type": "afterDateTime" if inst.get("endDateTime") else "noExpiration",
                                            "endDateTime": inst.get("endDateTime"), "duration": None}},
        })


def _load_deleted(store: Store, entry: dict[str, Any]) -> None:
    """A recycle-bin entry: stored as a soft delete leaves it (hooks.soft_delete), never live."""
    kind = _KEY_ALIASES.get(str(entry.get("kind")), str(entry.get("kind")))
    res = BY_NAME.get(kind)
    if res is None or not res.soft_delete or not isinstance(entry.get("object"), dict):
        raise SeedError(f"deletedItems: {entry.get('kind')!r} has no recycle bin (or no object given)")
    obj = strip_annotations(entry["object"], keep_type=bool(res.polymorphic))
    key = obj.get(res.key)
    if not key:
        raise SeedError(f"deletedItems: a deleted {kind} needs its {res.key}")
    for rel in _RELS:
        if isinstance(obj.get(rel), list):
            store.links[f"{kind}/{key}/{rel}"] = [str(i) for i in obj.pop(rel)]
    if not obj.get("deletedDateTime"):
        # Files keep no timestamps; deleted now, so the 30-day retention has not expired it.
        obj["deletedDateTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    store.deleted[res.soft_delete][key] = {"kind": kind, "object": obj}


def _load_one(store: Store, kind: str, raw: dict[str, Any]) -> None:
    res = BY_NAME[kind]
    obj = strip_annotations(raw, keep_type=bool(res.polymorphic))
    rels = {rel: obj.pop(rel) for rel in _RELS if isinstance(obj.get(rel), list)}
    if res.singleton and not res.parent:
        key = res.fixed_id
    else:
        key = obj.get(res.key) or str(
            uuid.uuid5(_SEED_NS, f"{kind}/{json.dumps(obj, sort_keys=True)}")
        )
        if res.key == "id":
            obj = {"id": key, **obj}
    for cred in obj.get("passwordCredentials") or []:
        text, cred["secretText"] = (
            cred.get("secretText"),
            None,
        )  # Graph never returns a secret after creation
        if text:
            cred.setdefault("keyId", str(uuid.uuid5(_SEED_NS, f"{key}/{text}")))
            cred.setdefault("hint", text[:3])
            store.secrets[f"{key}/{cred['keyId']}"] = hashlib.sha256(text.encode()).hexdigest()
    if res.parent and store.get(res.parent, key) is None:
        # A partner's identitySynchronization implies the partner itself.
        parent = BY_NAME[res.parent]
        store.put(parent.name, key, {**copy.deepcopy(parent.defaults), parent.key: key})
    store.put(kind, key, obj)
    for rel, ids in rels.items():
        store.links[f"{kind}/{key}/{rel}"] = [str(i) for i in ids]
