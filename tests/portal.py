"""Portal-style edits on the simulator (raw Graph calls, optionally by a named actor) for review tests."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

ADMIN = {"Authorization": "Bearer sim-admin"}
CA = "/identity/conditionalAccess/policies"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
ROLE_MGMT_RW = "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8"  # RoleManagement.ReadWrite.Directory


class Portal:
    def __init__(self, sim: Any, actor: str | None = None) -> None:
        headers = dict(ADMIN, **({"X-Sim-Actor": actor} if actor else {}))
        verify: Any = ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True
        self.c = httpx.Client(base_url=sim.graph_url, headers=headers, verify=verify)
        self.beta = sim.graph_url.replace("/v1.0", "/beta")

    def one(self, path: str, name: str, field: str = "displayName") -> dict[str, Any]:
        v = self.c.get(path, params={"$filter": f"{field} eq '{name}'"}).json()["value"]
        assert len(v) == 1, (path, name, v)
        return dict(v[0])

    def ok(self, r: httpx.Response) -> Any:
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    def policy(self, prefix: str) -> dict[str, Any]:
        pols = self.c.get(f"{self.beta}{CA}").json()["value"]
        return dict(next(p for p in pols if p["displayName"].startswith(prefix)))

    def patch_policy(self, pol: dict[str, Any], **fields: Any) -> None:
        self.ok(self.c.patch(f"{self.beta}{CA}/{pol['id']}", json=fields))

    def rename_group(self, old: str, new: str) -> dict[str, Any]:
        g = self.one("/groups", old)
        self.ok(self.c.patch(f"/groups/{g['id']}", json={"displayName": new}))
        return g

    def risky_changes(self) -> dict[str, Any]:
        """One edit per risk rule; returns what was touched."""
        done: dict[str, Any] = {}
        ca100 = self.policy("CA100")  # MFA for admins; excludes break-glass users and group
        users = dict(ca100["conditions"]["users"], excludeUsers=[], excludeGroups=[])
        self.patch_policy(ca100, state="enabledForReportingButNotEnforced", conditions=dict(ca100["conditions"], users=users))
        done["report_only"] = ca100["displayName"]
        mfa = next(p for p in self.c.get(f"{self.beta}{CA}").json()["value"]
                   if p["id"] != ca100["id"] and (p.get("grantControls") or {}).get("builtInControls") == ["mfa"]
                   and "All" in p["conditions"]["users"]["includeUsers"])
        grant = dict(mfa["grantControls"], builtInControls=["compliantDevice"])
        finance = self.one("/groups", "Finance Admins")
        users = dict(mfa["conditions"]["users"], includeUsers=[], includeGroups=[finance["id"]])
        users["excludeGroups"] = sorted(set(users.get("excludeGroups") or []) | {self.one("/groups", "Dept - Finance")["id"]})
        self.patch_policy(mfa, grantControls=grant, conditions=dict(mfa["conditions"], users=users))
        done["mfa_removed"] = mfa["displayName"]
        hr = self.one("/servicePrincipals", "HR Portal")
        self.ok(self.c.post("/roleManagement/directory/roleAssignments", json={
            "principalId": hr["id"], "roleDefinitionId": GLOBAL_ADMIN, "directoryScopeId": "/"}))
        graph = self.one("/servicePrincipals", "Microsoft Graph")
        self.ok(self.c.post(f"/servicePrincipals/{graph['id']}/appRoleAssignedTo", json={
            "principalId": hr["id"], "resourceId": graph["id"], "appRoleId": ROLE_MGMT_RW}))
        # Security defaults can't be enabled while a CA policy is: switch the rest to report-only first.
        for pol in self.c.get(f"{self.beta}{CA}").json()["value"]:
            if pol["state"] == "enabled":
                self.patch_policy(pol, state="enabledForReportingButNotEnforced")
        self.ok(self.c.patch("/policies/identitySecurityDefaultsEnforcementPolicy", json={"isEnabled": True}))
        self.ok(self.c.patch("/policies/authorizationPolicy", json={"allowInvitesFrom": "everyone"}))
        self.rename_group("Finance Admins", "Finance Administrators")
        return done
