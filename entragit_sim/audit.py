"""Directory audit entries (Graph's directoryAudit shape) for every write the simulator accepts."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from entragit_sim.auth import Caller
from entragit_sim.hooks import now_iso
from entragit_sim.store import Obj, Store
from entragit_sim.table import Resource


def label(res: Resource) -> str:
    """'#microsoft.graph.conditionalAccessPolicy' -> 'conditional access policy'."""
    name = res.odata_type.rsplit(".", 1)[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def _json(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"))


def modified(old: Obj | None, new: Obj | None) -> list[dict[str, str | None]]:
    old, new = old or {}, new or {}
    keys = [k for k in {**old, **new} if old.get(k) != new.get(k) and not k.startswith("@")]
    return [
        {"displayName": k, "oldValue": _json(old.get(k)), "newValue": _json(new.get(k))}
        for k in keys
    ]


def record(
    store: Store,
    caller: Caller,
    actor: str | None,
    res: Resource,
    operation: str,
    activity: str,
    target: Obj,
    changes: list[dict[str, str | None]] | None = None,
    result: str = "success",
) -> None:
    """Append one entry; call with the store lock held. `actor` is X-Sim-Actor (a UPN) or None."""
    app = None if actor else {
        "appId": caller.app_id, "displayName": caller.display_name, "servicePrincipalId": caller.sp_id,
        "servicePrincipalName": None,
    }  # fmt: skip
    user = (
        {"id": None, "displayName": None, "userPrincipalName": actor, "ipAddress": None}
        if actor
        else None
    )
    category, type_ = res.audit
    store.audit.append({
        "id": f"Directory_{uuid.uuid4()}",
        "category": category,
        "correlationId": str(uuid.uuid4()),
        "result": result,
        "resultReason": "",
        "activityDisplayName": activity,
        "activityDateTime": now_iso(),
        "loggedByService": "Conditional Access" if res.throttle == "ca" else "Core Directory",
        "operationType": operation,
        "initiatedBy": {"app": app, "user": user},
        "targetResources": [{
            "id": str(target.get(res.key) or target.get("id") or ""),
            "displayName": target.get("displayName"),
            "type": type_,
            "userPrincipalName": target.get("userPrincipalName"),
            "groupType": None,
            "modifiedProperties": changes or [],
        }],
        "additionalDetails": [],
    })  # fmt: skip
