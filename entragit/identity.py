"""What the signed-in identity may not write, predicted before apply instead of failing half-way.

Restricted management administrative units: "Applications can't modify objects in restricted
management administrative units by default ... If you assign Microsoft Graph application
permissions ... those permissions won't apply"; an app needs a role assigned at the unit's scope
(https://learn.microsoft.com/entra/identity/role-based-access-control/admin-units-restricted-management).

Administrators: sensitive fields, delete and restore of a user who holds a directory role need a
higher role (Privileged Authentication Administrator or Global Administrator), whatever the
application permissions (https://learn.microsoft.com/graph/api/resources/users, "who can perform
sensitive actions"; https://learn.microsoft.com/graph/api/directory-deleteditems-restore).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from entragit import kinds as kindmod
from entragit.plan import LeftAlone, Op, Plan
from entragit.snapshot import Snapshot

_WRITES = ("update", "link", "unlink", "delete")
_AU_PREFIX = "/administrativeUnits/"
# Roles that may act on any administrator (built-in template ids, stable across tenants).
OUTRANKS_ADMINS = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
}


@dataclass(frozen=True)
class Identity:
    """An app-only identity as its token names it: its service principal and the units it holds roles at."""

    principal_id: str
    unit_scopes: frozenset[str]  # administrative unit ids with a role assigned to this identity
    roles: frozenset[str] = frozenset()  # role definition ids held tenant-wide

    @staticmethod
    def of_app(claims: Mapping[str, Any], live: Snapshot) -> Identity | None:
        if claims.get("idtyp") != "app" or not claims.get("oid"):
            return None
        oid = str(claims["oid"])
        mine = [a for a in live.objects.get("roleAssignments", {}).values() if a.get("principalId") == oid]
        scopes = {str(a.get("directoryScopeId", ""))[len(_AU_PREFIX):]
                  for a in mine if str(a.get("directoryScopeId", "")).startswith(_AU_PREFIX)}
        roles = {str(a.get("roleDefinitionId")) for a in mine if a.get("directoryScopeId", "/") == "/"}
        return Identity(oid, frozenset(scopes), frozenset(roles))


def _admins(live: Snapshot, desired: Snapshot) -> dict[str, str]:
    """principal id -> the name of a tenant-wide directory role it holds (live or in the files:
    a user in the recycle bin keeps its assignments in the files)."""
    names = {k: str(d.get("displayName") or k) for snap in (live.lookup, live.objects)
             for k, d in snap.get("roleDefinitions", {}).items()}
    out: dict[str, str] = {}
    for snap in (desired, live):
        for a in snap.objects.get("roleAssignments", {}).values():
            if a.get("directoryScopeId", "/") == "/" and a.get("principalId"):
                role = str(a.get("roleDefinitionId"))
                out.setdefault(str(a["principalId"]), names.get(role, role))
    return out


def _sensitive(op: Op) -> tuple[str, ...]:
    """What of `op` only a higher administrator may do, if anything."""
    kind = kindmod.get(op.kind)
    if not kind.sensitive:
        return ()
    if op.action in ("delete", "restore"):
        return (op.action,)
    return tuple(sorted(kind.sensitive & set(op.body))) if op.action == "update" else ()


def _refuse_admin_writes(ops: list[Op], admins: Mapping[str, str], who: Identity
                         ) -> tuple[list[Op], list[LeftAlone]]:
    if who.roles & set(OUTRANKS_ADMINS):
        return ops, []
    keep, refused = [], []
    for op in ops:
        what, role = _sensitive(op), admins.get(op.target or op.key)
        if not what or role is None:
            keep.append(op)
            continue
        refused.append(LeftAlone(op.kind, op.key, op.name, "not-permitted",
                                 f"it holds the directory role {role!r}: Graph lets only a Privileged Authentication "
                                 "Administrator or Global Administrator change, delete or restore an administrator "
                                 "(assign the app one of these roles, or make this change signed in as one)", what))
        rest = {k: v for k, v in op.body.items() if k not in what}
        if op.action == "update" and [k for k in rest if k != "@odata.type"]:
            changes = tuple(c for c in op.changes if c.path.split(".", 1)[0] not in what)
            keep.append(dataclasses.replace(op, body=rest, changes=changes))
    return keep, refused


def _restricted_units(live: Snapshot, desired: Snapshot) -> dict[str, tuple[str, str]]:
    """member id -> (unit id, unit name) for every restricted management unit.

    Members come from the files too: an object in the recycle bin is no member live, yet its
    restore brings it back into the unit, and the writes that follow are refused all the same."""
    out: dict[str, tuple[str, str]] = {}
    for kind in kindmod.KINDS:
        if not kind.restricts_members:
            continue
        for uid, unit in live.objects.get(kind.name, {}).items():
            if unit.get(kind.restricts_members):
                filed = desired.objects.get(kind.name, {}).get(uid, {})
                for m in {*(unit.get("members") or ()), *(filed.get("members") or ())}:
                    out[m] = (uid, str(unit.get(kind.name_field) or uid))
    return out


def predict(plan: Plan, live: Snapshot, desired: Snapshot, who: Identity | None) -> Plan:
    """The plan without writes this identity will be refused, each named in left_alone with why."""
    if who is None:
        return plan
    restricted = _restricted_units(live, desired)
    ops, refused = _refuse_admin_writes(list(plan.ops), _admins(live, desired), who)
    keep = []
    for op in ops:
        hit = restricted.get(op.target) if op.action in _WRITES else None
        if hit is None or hit[0] in who.unit_scopes:
            keep.append(op)
            continue
        refused.append(LeftAlone(op.kind, op.key, op.name, "not-permitted",
                                 f"it is in the restricted administrative unit {hit[1]!r}: an app needs a role "
                                 "assigned at that unit's scope (tenant-wide application permissions do not "
                                 "apply there)", (op.rel or op.action,)))
    if not refused:
        return plan
    return dataclasses.replace(plan, ops=tuple(keep), left_alone=plan.left_alone + _merged(refused))


def _merged(refused: list[LeftAlone]) -> tuple[LeftAlone, ...]:
    """One entry per object and reason: two refused memberships of one group are one object left alone."""
    out: dict[tuple[str, str, str, str], LeftAlone] = {}
    for a in refused:
        k = (a.kind, a.key, a.why, a.reason)
        had = out.get(k)
        out[k] = a if had is None else dataclasses.replace(had, fields=tuple(dict.fromkeys(had.fields + a.fields)))
    return tuple(out.values())
