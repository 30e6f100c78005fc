"""What the signed-in identity may not write, predicted before apply instead of failing half-way.

Restricted management administrative units: "Applications can't modify objects in restricted
management administrative units by default ... If you assign Microsoft Graph application
permissions ... those permissions won't apply"; an app needs a role assigned at the unit's scope
(https://learn.microsoft.com/entra/identity/role-based-access-control/admin-units-restricted-management).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from entragit.plan import LeftAlone, Plan
from entragit.snapshot import Snapshot

_WRITES = ("update", "link", "unlink", "delete")
_AU_PREFIX = "/administrativeUnits/"


@dataclass(frozen=True)
class Identity:
    """An app-only identity as its token names it: its service principal and the units it holds roles at."""

    principal_id: str
    unit_scopes: frozenset[str]  # administrative unit ids with a role assigned to this identity

    @staticmethod
    def of_app(claims: Mapping[str, Any], live: Snapshot) -> Identity | None:
        if claims.get("idtyp") != "app" or not claims.get("oid"):
            return None
        oid = str(claims["oid"])
        scopes = {str(a.get("directoryScopeId", ""))[len(_AU_PREFIX):]
                  for a in live.objects.get("roleAssignments", {}).values()
                  if a.get("principalId") == oid and str(a.get("directoryScopeId", "")).startswith(_AU_PREFIX)}
        return Identity(oid, frozenset(scopes))


def _restricted_units(live: Snapshot, desired: Snapshot) -> dict[str, tuple[str, str]]:
    """member id -> (unit id, unit name) for every restricted management unit.

    Members come from the files too: an object in the recycle bin is no member live, yet its
    restore brings it back into the unit, and the writes that follow are refused all the same."""
    out: dict[str, tuple[str, str]] = {}
    for uid, unit in live.objects.get("administrativeUnits", {}).items():
        if unit.get("isMemberManagementRestricted"):
            filed = desired.objects.get("administrativeUnits", {}).get(uid, {})
            for m in {*(unit.get("members") or ()), *(filed.get("members") or ())}:
                out[m] = (uid, str(unit.get("displayName") or uid))
    return out


def predict(plan: Plan, live: Snapshot, desired: Snapshot, who: Identity | None) -> Plan:
    """The plan without writes this identity will be refused, each named in left_alone with why."""
    if who is None:
        return plan
    restricted = _restricted_units(live, desired)
    keep, refused = [], []
    for op in plan.ops:
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
    return dataclasses.replace(plan, ops=tuple(keep), left_alone=plan.left_alone + tuple(refused))
