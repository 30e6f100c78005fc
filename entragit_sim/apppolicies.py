"""Permission grant policies' condition sets and app management policy assignments.

Condition sets (https://learn.microsoft.com/graph/api/resources/permissiongrantconditionset) are added
by POST and removed by DELETE on a policy's `includes` / `excludes`; Graph has no PATCH for them, and
Microsoft's built-in policies (ids "microsoft-...") refuse every write. An app management policy is
assigned to an application or service principal through its `appManagementPolicies` $ref, one policy
per object (https://learn.microsoft.com/graph/api/appmanagementpolicy-post-appliesto), and listed from
the policy's side by `appliesTo`.
"""

from __future__ import annotations

import uuid
from typing import Any

from entragit_sim.errors import bad_request
from entragit_sim.store import Obj, Store
from entragit_sim.table import ASSIGNED_ON

BUILTIN_PREFIX = "microsoft-"
SIDES = ("includes", "excludes")
# permissionGrantConditionSet defaults: "all" / "any" match everything
# (https://learn.microsoft.com/graph/api/resources/permissiongrantconditionset).
CONDITION_DEFAULTS: dict[str, Any] = {
    "permissionClassification": "all",
    "permissionType": None,
    "resourceApplication": "any",
    "permissions": ["all"],
    "clientApplicationIds": ["all"],
    "clientApplicationTenantIds": ["all"],
    "clientApplicationPublisherIds": ["all"],
    "clientApplicationsFromVerifiedPublisherOnly": False,
}
_LISTS = ("permissions", "clientApplicationIds", "clientApplicationTenantIds", "clientApplicationPublisherIds")
LINK = "appManagementPolicies"  # rel on the application / service principal
OWNERS = ASSIGNED_ON[LINK]


def builtin(policy: Obj) -> bool:
    return str(policy.get("id", "")).startswith(BUILTIN_PREFIX)


def refuse_builtin(policy: Obj, verb: str) -> None:
    if builtin(policy):
        raise bad_request(f"Built-in permission grant policies cannot be {verb}.", directory=False)


def new_condition_set(body: Obj) -> Obj:
    """A posted condition set: known properties only, `permissionType` required, server id."""
    unknown = set(body) - set(CONDITION_DEFAULTS) - {"id", "@odata.type"}
    if unknown:
        raise bad_request(f"Invalid property '{sorted(unknown)[0]}' for permissionGrantConditionSet.",
                          directory=False)
    if body.get("permissionType") not in ("application", "delegated", "delegatedUserConsentable"):
        raise bad_request("permissionType is required: application, delegated or delegatedUserConsentable.",
                          directory=False)
    for f in _LISTS:
        if f in body and not isinstance(body[f], list):
            raise bad_request(f"{f} must be a collection.", directory=False)
    return {"id": str(uuid.uuid4()), **CONDITION_DEFAULTS, **{k: v for k, v in body.items() if k != "id"}}


def assigned_policy(store: Store, owner: str, oid: str, link: str = LINK) -> list[str]:
    """The policies of one collection assigned to an application or service principal (at most one
    app management policy)."""
    return store.link_ids(owner, oid, link)


def applies_to(store: Store, pid: str, link: str = LINK) -> list[tuple[str, Obj]]:
    """Objects the policy is assigned to, in assignment order of the store."""
    out = []
    for owner in ASSIGNED_ON[link]:
        for obj in store.all(owner):
            if pid in store.links.get(f"{owner}/{obj['id']}/{link}", []):
                out.append((owner, obj))
    return out
