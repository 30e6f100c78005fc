"""PIM role management policies for directory roles: one per role, made by Graph, with Graph's rules.

https://learn.microsoft.com/graph/api/resources/unifiedrolemanagementpolicy: policies and their
assignments to roles exist for every role and are never created or deleted by a client; the rules
(unifiedRoleManagementPolicyRule derived types) are updated one by one
(https://learn.microsoft.com/graph/api/unifiedrolemanagementpolicyrule-update, "Application: Not
supported"). Lists "require the $filter (eq) query parameter to scope the request to a scopeId and
a scopeType" (https://learn.microsoft.com/graph/api/policyroot-list-rolemanagementpolicies and
policyroot-list-rolemanagementpolicyassignments). Default rule values are the docs' example 2 there.
"""

from __future__ import annotations

import copy
from typing import Any

from entragit_sim.errors import bad_request
from entragit_sim.store import Obj

RULES = "rules"
_T = "#microsoft.graph.unifiedRoleManagementPolicy"
# derived rule type -> the properties it holds besides @odata.type, id and target
RULE_TYPES: dict[str, tuple[str, ...]] = {
    _T + "ApprovalRule": ("setting",),
    _T + "AuthenticationContextRule": ("isEnabled", "claimValue"),
    _T + "EnablementRule": ("enabledRules",),
    _T + "ExpirationRule": ("isExpirationRequired", "maximumDuration"),
    _T + "NotificationRule": ("notificationType", "recipientType", "notificationLevel",
                              "isDefaultRecipientsEnabled", "notificationRecipients"),
}


def _target(caller: str, level: str) -> Obj:
    return {"caller": caller, "operations": ["all"], "level": level, "inheritableSettings": [],
            "enforcedSettings": []}


def _notifications(caller: str, level: str) -> list[Obj]:
    return [{"@odata.type": _T + "NotificationRule", "id": f"Notification_{who}_{caller}_{level}",
             "notificationType": "Email", "recipientType": who, "notificationLevel": "All",
             "isDefaultRecipientsEnabled": True, "notificationRecipients": [], "target": _target(caller, level)}
            for who in ("Admin", "Requestor", "Approver")]


def default_rules() -> list[Obj]:
    """The 17 rules of a directory role's policy, with the values Graph's docs example shows."""
    def rule(kind: str, rid: str, caller: str, level: str, **props: Any) -> Obj:
        return {"@odata.type": _T + kind, "id": rid, **props, "target": _target(caller, level)}

    return [
        rule("ExpirationRule", "Expiration_Admin_Eligibility", "Admin", "Eligibility",
             isExpirationRequired=False, maximumDuration="P365D"),
        rule("EnablementRule", "Enablement_Admin_Eligibility", "Admin", "Eligibility", enabledRules=[]),
        *_notifications("Admin", "Eligibility"),
        rule("ExpirationRule", "Expiration_Admin_Assignment", "Admin", "Assignment",
             isExpirationRequired=False, maximumDuration="P180D"),
        rule("EnablementRule", "Enablement_Admin_Assignment", "Admin", "Assignment", enabledRules=["Justification"]),
        *_notifications("Admin", "Assignment"),
        rule("ExpirationRule", "Expiration_EndUser_Assignment", "EndUser", "Assignment",
             isExpirationRequired=True, maximumDuration="PT8H"),
        rule("EnablementRule", "Enablement_EndUser_Assignment", "EndUser", "Assignment",
             enabledRules=["MultiFactorAuthentication", "Justification"]),
        rule("ApprovalRule", "Approval_EndUser_Assignment", "EndUser", "Assignment", setting={
            "isApprovalRequired": False, "isApprovalRequiredForExtension": False,
            "isRequestorJustificationRequired": True, "approvalMode": "SingleStage",
            "approvalStages": [{"approvalStageTimeOutInDays": 1, "isApproverJustificationRequired": True,
                                "escalationTimeInMinutes": 0, "isEscalationEnabled": False,
                                "primaryApprovers": [], "escalationApprovers": []}]}),
        rule("AuthenticationContextRule", "AuthenticationContext_EndUser_Assignment", "EndUser", "Assignment",
             isEnabled=False, claimValue=None),
        *_notifications("EndUser", "Assignment"),
    ]


def policy(tenant_id: str, guid: str) -> Obj:
    """A directory role's policy as Graph lists it (ids "DirectoryRole_{tenant}_{guid}")."""
    return {"id": f"DirectoryRole_{tenant_id}_{guid}", "displayName": "DirectoryRole", "description": "DirectoryRole",
            "isOrganizationDefault": False, "scopeId": "/", "scopeType": "DirectoryRole",
            "lastModifiedDateTime": None, "lastModifiedBy": {"displayName": None, "id": None},
            RULES: default_rules()}


def assignment(pol: Obj, role_template_id: str) -> Obj:
    """The policy's assignment to its role: id is the policy id and the role id joined by '_'."""
    return {"id": f"{pol['id']}_{role_template_id}", "policyId": pol["id"], "scopeId": "/",
            "scopeType": "DirectoryRole", "roleDefinitionId": role_template_id}


def patch_rule(current: Obj, patch: Any) -> Obj:
    """A rule after PATCH: same derived type and id, only its own properties and target."""
    if not isinstance(patch, dict):
        raise bad_request("The request body must be a rule object.", directory=False)
    kind = str(current.get("@odata.type"))
    if patch.get("@odata.type", kind) != kind:
        raise bad_request(f"The rule {current['id']} is a {kind}; its type cannot change.", directory=False)
    if patch.get("id", current["id"]) != current["id"]:
        raise bad_request("A rule's id cannot change.", directory=False)
    unknown = set(patch) - {"@odata.type", "id", "target", *RULE_TYPES[kind]}
    if unknown:
        raise bad_request(f"Invalid property '{sorted(unknown)[0]}' for {kind[len('#microsoft.graph.'):]}.",
                          directory=False)
    return {**copy.deepcopy(current), **copy.deepcopy(patch)}
