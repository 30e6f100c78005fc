"""What real tenants hold that a naive export/apply gets wrong (real-graph-findings rows 3, 4, 6, 7, 17, 19).

Each test is a user flow against the simulator: export, damage, plan, apply, a second plan.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import app_repo
from tests.portal import Portal
from tests.sim.test_credentials import Cert


@pytest.fixture
def sim(sim_factory: Any) -> Any:
    return sim_factory("demo", tls=True)


@pytest.fixture
def repo(tmp_path: Path, sim: Any, monkeypatch: Any) -> Any:
    """Every test here signs in as an app holding exactly `entragit permissions`, as users do."""
    return app_repo(tmp_path / "config", sim, monkeypatch)


DEFAULT = "/policies/crossTenantAccessPolicy/default"
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
SECURITY_READER = "5d6b6bb7-de71-4623-b4af-96380a352509"
PRECEDENCE = ("invitationRedemptionIdentityProviderConfiguration", "primaryIdentityProviderPrecedenceOrder")


def _plan(repo: Any, *args: str) -> dict[str, Any]:
    return dict(json.loads(repo("plan", "--format", "json", *args).output))


def _file(repo: Any, kind: str, slug: str) -> Path:
    return Path(repo.repo) / "tenants" / "demo" / kind / f"{slug}.yaml"


def _hard_delete_app(p: Portal, app: dict[str, Any]) -> None:
    sp = p.one("/servicePrincipals", app["appId"], "appId")
    p.ok(p.c.delete(f"/applications/{app['id']}"))  # soft-deletes its SP too
    p.ok(p.c.delete(f"/directory/deletedItems/{app['id']}"))
    p.ok(p.c.delete(f"/directory/deletedItems/{sp['id']}"))


def test_identity_provider_precedence_keeps_its_order_in_files_plans_and_writes(repo: Any, sim: Any) -> None:
    p = Portal(sim)
    order = p.ok(p.c.get(DEFAULT))[PRECEDENCE[0]][PRECEDENCE[1]]
    assert order != sorted(order), "the seed's precedence must not already be sorted for this test to mean much"
    repo("export", "--commit")
    path = _file(repo, "crossTenantAccessDefault", "cross-tenant-access-default")
    doc = yaml.safe_load(path.read_text())
    assert doc[PRECEDENCE[0]][PRECEDENCE[1]] == order  # the file keeps the tenant's order

    reordered = [order[-1], *order[:-1]]
    doc[PRECEDENCE[0]][PRECEDENCE[1]] = reordered
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    repo("fmt")
    ops = _plan(repo, "--ref", "WORKTREE")["operations"]
    assert [o["kind"] for o in ops] == ["crossTenantAccessDefault"]
    assert [c["path"] for c in ops[0]["changes"]] == [".".join(PRECEDENCE)]
    repo("apply", "--yes", "--ref", "WORKTREE")
    assert p.ok(p.c.get(DEFAULT))[PRECEDENCE[0]][PRECEDENCE[1]] == reordered
    assert _plan(repo, "--ref", "WORKTREE")["operations"] == []


def test_recreated_app_gets_api_uri_of_its_new_appid_and_a_certificate_warning(repo: Any, sim: Any) -> None:
    p = Portal(sim)
    app = p.ok(p.c.post("/applications", json={
        "displayName": "Payroll API", "signInAudience": "AzureADMyOrg",
        "keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": Cert("payroll").key_b64}],
    }))
    # The portal's "Expose an API" default: api://<the app's own appId>
    p.ok(p.c.patch(f"/applications/{app['id']}", json={"identifierUris": [f"api://{app['appId']}"]}))
    p.ok(p.c.post("/servicePrincipals", json={"appId": app["appId"]}))
    repo("export", "--commit")
    doc = yaml.safe_load(_file(repo, "applications", "payroll-api").read_text())
    assert doc["identifierUris"] == [f"api://{app['appId']}"]
    assert doc["refs"][app["appId"]]["name"] == "Payroll API"  # the URI names the app itself
    assert doc["keyCredentials"] and not doc["keyCredentials"][0].get("key")  # public metadata only

    _hard_delete_app(p, app)
    plan = _plan(repo, "--only", "applications/payroll-api")
    create = next(o for o in plan["operations"] if o["action"] == "create" and o["kind"] == "applications")
    assert create["name"] == "Payroll API"
    assert any("Payroll API" in w and "certificates must be uploaded again" in w for w in plan["warnings"])

    since = len(sim.requests)
    repo("apply", "--yes", "--only", "applications/payroll-api")
    new = p.one("/applications", "Payroll API")
    assert new["appId"] != app["appId"]
    assert new["identifierUris"] == [f"api://{new['appId']}"]
    assert new["keyCredentials"] == []  # apply never sends a keyless certificate
    posts = [r for r in sim.requests[since:] if r.method == "POST" and r.path.endswith("/applications")]
    assert len(posts) == 1
    # Converged: the certificate is a warning for a person, never an operation that cannot succeed.
    second = _plan(repo)
    assert second["operations"] == []
    assert any("keyCredentials differs live" in w for w in second["warnings"])


def test_role_assignments_drop_the_deprecated_resource_scope(repo: Any, sim: Any) -> None:
    p = Portal(sim)
    ra = p.ok(p.c.get("/roleManagement/directory/roleAssignments"))["value"][0]
    # Real v1.0 lists carry resourceScope next to directoryScopeId; the simulator's seed may not.
    from entragit import canonical, kinds

    body = canonical.clean(kinds.get("roleAssignments"), {**ra, "resourceScope": "/", "principalOrganizationId": "x"})
    assert "resourceScope" not in body and "principalOrganizationId" not in body
    assert body["directoryScopeId"] == ra["directoryScopeId"]


def test_visibility_and_restricted_flags_are_never_patched(repo: Any, sim: Any) -> None:
    repo("export", "--commit")
    p = Portal(sim)
    au = next(a for a in p.ok(p.c.get("/directory/administrativeUnits"))["value"] if a.get("isMemberManagementRestricted"))
    [path] = [f for f in (Path(repo.repo) / "tenants/demo/administrativeUnits").glob("*.yaml")
              if yaml.safe_load(f.read_text())["id"] == au["id"]]
    doc = yaml.safe_load(path.read_text())
    doc["isMemberManagementRestricted"] = False
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    plan = _plan(repo, "--ref", "WORKTREE")
    assert plan["operations"] == []
    assert any("isMemberManagementRestricted cannot change in place" in w for w in plan["warnings"])


def test_a_pim_activation_is_never_exported_as_a_standing_assignment(repo: Any, sim: Any) -> None:
    p = Portal(sim)
    user = p.one("/users", "Marcus Reid")
    # https://learn.microsoft.com/graph/api/rbacapplication-post-roleassignmentschedulerequests
    p.ok(p.c.post("/roleManagement/directory/roleAssignmentScheduleRequests", json={
        "action": "selfActivate", "principalId": user["id"], "roleDefinitionId": GLOBAL_ADMIN,
        "directoryScopeId": "/", "justification": "incident 4711",
        "scheduleInfo": {"expiration": {"type": "afterDuration", "duration": "PT1H"}}}))
    live = p.ok(p.c.get("/roleManagement/directory/roleAssignments"))["value"]
    assert any(a["principalId"] == user["id"] and a["roleDefinitionId"] == GLOBAL_ADMIN for a in live)

    repo("export", "--commit")
    files = [yaml.safe_load(f.read_text()) for f in (Path(repo.repo) / "tenants/demo/roleAssignments").glob("*.yaml")]
    assert not [f for f in files if f["principalId"] == user["id"] and f["roleDefinitionId"] == GLOBAL_ADMIN]
    # --prune does not end the activation either: it is not ours to own.
    assert [o for o in _plan(repo, "--prune")["operations"] if o["kind"] == "roleAssignments"] == []

    # A standing assignment made the same way (adminAssign) is exported as usual.
    p.ok(p.c.post("/roleManagement/directory/roleAssignmentScheduleRequests", json={
        "action": "adminAssign", "principalId": user["id"], "roleDefinitionId": SECURITY_READER,
        "directoryScopeId": "/"}))
    repo("export", "--commit")
    files = [yaml.safe_load(f.read_text()) for f in (Path(repo.repo) / "tenants/demo/roleAssignments").glob("*.yaml")]
    assert [f for f in files if f["principalId"] == user["id"] and f["roleDefinitionId"] == SECURITY_READER]


def test_prune_of_a_partner_with_identity_sync_deletes_the_sync_policy_first(repo: Any, sim: Any) -> None:
    p = Portal(sim)
    partners = "/policies/crossTenantAccessPolicy/partners"
    tid = "3d4e5f60-7182-4a3b-9c4d-5e6f70819203"
    p.ok(p.c.post(partners, json={"tenantId": tid}))
    p.ok(p.c.put(f"{partners}/{tid}/identitySynchronization",
                 json={"displayName": "Fabrikam sync", "userSyncInbound": {"isSyncAllowed": True}}))
    # Graph refuses to delete a partner that still has a user synchronization policy.
    assert p.c.delete(f"{partners}/{tid}").status_code == 400
    repo("export", "--commit")
    (Path(repo.repo) / "tenants/demo/crossTenantAccessPartners" / f"{tid[:8]}.yaml").unlink()
    repo("apply", "--yes", "--ref", "WORKTREE", "--prune", "--only", "crossTenantAccessPartners")
    assert p.c.get(f"{partners}/{tid}").status_code == 404
    assert _plan(repo, "--ref", "WORKTREE", "--prune")["operations"] == []


def _seed_with_owned_elsewhere() -> dict[str, Any]:
    from entragit_sim.seeds import DEFAULT_TENANT_ID
    from entragit_sim.seeds.demo import demo_seed

    seed = demo_seed(DEFAULT_TENANT_ID)
    base = {"description": None, "groupTypes": [], "securityEnabled": True, "mailEnabled": False}
    seed["groups"] += [
        {**base, "id": "5a1c0d6e-1b2f-4c3d-8e4f-5a6b7c8d9e01", "displayName": "HQ Staff (synced)",
         "mailNickname": "hq-staff", "onPremisesSyncEnabled": True, "onPremisesSamAccountName": "HQ-Staff"},
        {**base, "id": "5a1c0d6e-1b2f-4c3d-8e4f-5a6b7c8d9e02", "displayName": "Sales Announcements",
         "mailNickname": "sales-announce", "mailEnabled": True, "securityEnabled": False,
         "mail": "sales-announce@contosodemo.example"},
    ]
    seed["servicePrincipals"].append({
        "id": "5a1c0d6e-1b2f-4c3d-8e4f-5a6b7c8d9e03", "appId": "5a1c0d6e-1b2f-4c3d-8e4f-5a6b7c8d9e04",
        "displayName": "func-payroll-prod", "servicePrincipalType": "ManagedIdentity", "accountEnabled": True,
        "alternativeNames": ["isExplicit=False", "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Web/sites/func"]})
    return seed


def test_objects_owned_elsewhere_are_kept_in_files_and_never_written(tmp_path: Path, sim_factory: Any,
                                                                     monkeypatch: Any) -> None:
    sim = sim_factory(_seed_with_owned_elsewhere(), tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    root = Path(repo.repo) / "tenants" / "demo"
    synced = root / "groups" / "hq-staff-synced.yaml"
    assert yaml.safe_load(synced.read_text())["onPremisesSyncEnabled"] is True
    doc = yaml.safe_load(synced.read_text())
    doc["description"] = "edited in git"
    synced.write_text(yaml.safe_dump(doc, sort_keys=False))
    (root / "groups" / "sales-announcements.yaml").unlink()
    (root / "servicePrincipals" / "func-payroll-prod.yaml").unlink()
    repo("fmt")
    plan = _plan(repo, "--ref", "WORKTREE", "--prune")
    touched = {o["name"] for o in plan["operations"]}
    assert not touched & {"HQ Staff (synced)", "Sales Announcements", "func-payroll-prod"}, plan["operations"]
    why = {a["name"]: (a["why"], a["reason"]) for a in plan["left_alone"]}
    assert why["HQ Staff (synced)"][0] == "locked-fields" and "on-premises" in why["HQ Staff (synced)"][1]
    assert why["Sales Announcements"][0] == "not-deletable" and "Exchange" in why["Sales Announcements"][1]
    assert why["func-payroll-prod"][0] == "not-deletable" and "managed identity" in why["func-payroll-prod"][1]
    # Microsoft's own service principals are never pruned either (they are in the files, so untouched here).
    text = repo("plan", "--ref", "WORKTREE", "--prune").output
    assert "left alone" in text and "synced from on-premises Active Directory" in text


def test_security_defaults_are_enabled_only_after_the_ca_policies_are_off(repo: Any, sim: Any) -> None:
    repo("export", "--commit")
    root = Path(repo.repo) / "tenants" / "demo"
    for f in (root / "conditionalAccessPolicies").glob("*.yaml"):
        doc = yaml.safe_load(f.read_text())
        if doc["state"] == "enabled":
            doc["state"] = "disabled"
            f.write_text(yaml.safe_dump(doc, sort_keys=False))
    sd = root / "securityDefaults" / "security-defaults.yaml"
    doc = yaml.safe_load(sd.read_text())
    doc["isEnabled"] = True
    sd.write_text(yaml.safe_dump(doc, sort_keys=False))
    repo("fmt")
    kinds_in_order = [o["kind"] for o in _plan(repo, "--ref", "WORKTREE")["operations"]]
    assert "conditionalAccessPolicies" in kinds_in_order
    last_ca = max(i for i, k in enumerate(kinds_in_order) if k == "conditionalAccessPolicies")
    assert kinds_in_order.index("securityDefaults") > last_ca
    repo("apply", "--yes", "--ref", "WORKTREE")
    assert _plan(repo, "--ref", "WORKTREE")["operations"] == []


def test_a_deleted_security_group_comes_back_either_way_graph_documents(tmp_path: Path, sim_factory: Any,
                                                                        monkeypatch: Any) -> None:

    # group-delete: security groups go to the recycle bin; directory-deleteditems-restore: they cannot
    # be restored. The story must hold on both kinds of tenant (findings row 14).
    for mode, action in (("soft", "restore"), ("hard", "create")):
        sim = sim_factory("demo", security_group_delete=mode, tls=True)
        repo = app_repo(tmp_path / mode, sim, monkeypatch)
        repo("export", "--commit")
        p = Portal(sim)
        grp = p.one("/groups", "Finance Admins")
        p.ok(p.c.delete(f"/groups/{grp['id']}"))
        plan = _plan(repo, "--only", "groups/finance-admins")
        [op] = [o for o in plan["operations"] if o["kind"] == "groups" and o["name"] == "Finance Admins"
                and o["action"] in ("restore", "create")]
        assert op["action"] == action, (mode, op)
        recreated_warning = any("Finance Admins" in w and "not in the recycle bin" in w for w in plan["warnings"])
        assert recreated_warning == (mode == "hard")
        repo("apply", "--yes", "--only", "groups/finance-admins")
        back = p.one("/groups", "Finance Admins")
        assert (back["id"] == grp["id"]) == (mode == "soft")
        assert _plan(repo)["operations"] == []


def test_service_principal_members_survive_export_and_a_recreated_group(repo: Any, sim: Any) -> None:
    p = Portal(sim)
    grp = p.one("/groups", "Finance Admins")
    sp = p.one("/servicePrincipals", "HR Portal")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{sp['id']}"}
    p.ok(p.c.post(f"/groups/{grp['id']}/members/$ref", json=ref))
    repo("export", "--commit")
    doc = yaml.safe_load((Path(repo.repo) / "tenants/demo/groups/finance-admins.yaml").read_text())
    assert sp["id"] in doc["members"]  # read on beta: v1.0 would have left it out
    assert _plan(repo)["operations"] == []  # and it converges instead of re-linking every run
    p.ok(p.c.delete(f"/groups/{grp['id']}"))
    p.ok(p.c.delete(f"/directory/deletedItems/{grp['id']}"))
    repo("apply", "--yes", "--only", "groups/finance-admins")
    new = p.one("/groups", "Finance Admins")
    beta_members = p.ok(p.c.get(f"{p.beta}/groups/{new['id']}/members"))["value"]
    assert sp["id"] in {m["id"] for m in beta_members}


STRENGTHS = "/policies/authenticationStrengthPolicies"
FIDO2 = "#microsoft.graph.fido2CombinationConfiguration"
X509 = "#microsoft.graph.x509CertificateCombinationConfiguration"


def _configs(p: Portal, sid: str) -> list[dict[str, Any]]:
    return sorted(p.ok(p.c.get(f"{STRENGTHS}/{sid}/combinationConfigurations"))["value"],
                  key=lambda c: c["@odata.type"])


def test_strength_restrictions_are_written_through_their_own_collection(repo: Any, sim: Any) -> None:
    """Row 8: a strength's FIDO2 / certificate restrictions are a sub-collection the policy's PATCH
    cannot change; edits and a recreate write them item by item, typed, and converge."""
    p = Portal(sim)
    made = p.ok(p.c.post(STRENGTHS, json={
        "displayName": "Contractor keys", "allowedCombinations": ["fido2"],
        "combinationConfigurations": [{"@odata.type": FIDO2, "appliesToCombinations": ["fido2"],
                                       "allowedAAGUIDs": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]}],
    }))
    repo("export", "--commit")
    path = _file(repo, "authenticationStrengthPolicies", "contractor-keys")
    doc = yaml.safe_load(path.read_text())
    assert doc["combinationConfigurations"] == [{"@odata.type": FIDO2, "allowedAAGUIDs": [
        "cb69481e-8ff7-4039-93ec-0a2729a154a8"], "appliesToCombinations": ["fido2"]}]  # no server ids

    # One edit touching all three write paths: the action, an item's PATCH and a new item's POST.
    doc["allowedCombinations"] = ["fido2", "x509CertificateMultiFactor"]
    doc["combinationConfigurations"][0]["allowedAAGUIDs"].append("ee882879-721c-4913-9775-3dfcce97072a")
    doc["combinationConfigurations"].append({"@odata.type": X509, "appliesToCombinations": [
        "x509CertificateMultiFactor"], "allowedIssuerSkis": ["1A4248C6AC8C2931AB2A86537818E92E7B6C97B7"],
        "allowedPolicyOIDs": ["1.1.1.1"]})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    repo("fmt")
    ops = _plan(repo, "--ref", "WORKTREE")["operations"]
    assert [(o["kind"], o["action"]) for o in ops] == [("authenticationStrengthPolicies", "update")]
    since = len(sim.requests)
    repo("apply", "--yes", "--ref", "WORKTREE")
    writes = [(r.method, r.path.split(made["id"])[-1]) for r in sim.requests[since:] if r.method != "GET"]
    assert ("POST", "/updateAllowedCombinations") in writes
    assert ("POST", "/combinationConfigurations") in writes
    assert any(m == "PATCH" and w.startswith("/combinationConfigurations/") for m, w in writes)
    fido2, x509 = _configs(p, made["id"])
    assert fido2["allowedAAGUIDs"] == ["cb69481e-8ff7-4039-93ec-0a2729a154a8", "ee882879-721c-4913-9775-3dfcce97072a"]
    assert x509["allowedIssuerSkis"] == ["1A4248C6AC8C2931AB2A86537818E92E7B6C97B7"]
    assert _plan(repo, "--ref", "WORKTREE")["operations"] == []

    # Deleted (strengths have no recycle bin): recreated with both restrictions, new ids, converged.
    p.ok(p.c.delete(f"{STRENGTHS}/{made['id']}"))
    repo("apply", "--yes", "--ref", "WORKTREE")
    again = p.one(STRENGTHS, "Contractor keys")
    assert again["id"] != made["id"]
    assert [c["@odata.type"] for c in _configs(p, again["id"])] == [FIDO2, X509]
    assert _plan(repo, "--ref", "WORKTREE")["operations"] == []


GA_TEMPLATE = GLOBAL_ADMIN


def test_admins_and_guests_are_written_only_as_graph_lets_an_app(tmp_path: Path, sim: Any, monkeypatch: Any) -> None:
    """Row 9: an app with User.ReadWrite.All may not change an administrator's sensitive fields, and no
    file can recreate a guest; the plan says both, writes the rest, and converges."""
    repo = app_repo(tmp_path / "config", sim, monkeypatch, users=True)
    repo("export", "--commit")
    p = Portal(sim)
    admin = next(a["principalId"] for a in p.ok(p.c.get("/roleManagement/directory/roleAssignments"))["value"]
                 if a["roleDefinitionId"] == GA_TEMPLATE and a["directoryScopeId"] == "/")
    before = p.ok(p.c.get(f"/users/{admin}", params={"$select": "department,mobilePhone"}))
    p.ok(p.c.patch(f"/users/{admin}", json={"mobilePhone": "+1 555 0100", "department": "Drifted"}))
    guest = next(u for u in p.ok(p.c.get("/users", params={"$filter": "userType eq 'Guest'"}))["value"])
    p.ok(p.c.delete(f"/users/{guest['id']}"))
    p.ok(p.c.delete(f"/directory/deletedItems/{guest['id']}"))

    plan = _plan(repo)
    [op] = [o for o in plan["operations"] if o["kind"] == "users"]
    assert (op["action"], [c["path"] for c in op["changes"]]) == ("update", ["department"])
    why = {(a["key"], a["why"]): a for a in plan["left_alone"] if a["kind"] == "users"}
    refused = why[(admin, "not-permitted")]
    assert refused["fields"] == ["mobilePhone"] and "Global Administrator" in refused["reason"]
    assert "Privileged Authentication Administrator" in refused["reason"]
    assert "invite" in why[(guest["id"], "not-creatable")]["reason"]

    repo("apply", "--yes")  # no 403: the refused field was never sent
    after = p.ok(p.c.get(f"/users/{admin}", params={"$select": "department,mobilePhone"}))
    assert after["department"] == before["department"] and after["mobilePhone"] == "+1 555 0100"
    assert _plan(repo)["operations"] == []


def _patient(send: Any) -> Any:
    """The portal's own writes share a throttled quota: wait out its 429s."""
    while (r := send()).status_code == 429:
        time.sleep(float(r.headers.get("Retry-After", "1")))
    return r


def test_consumer_app_writes_wait_out_their_own_quota(tmp_path: Path, sim_factory: Any, monkeypatch: Any) -> None:
    """Row 22: applications open to personal accounts have a per-app write quota of their own (60/min
    on Graph; 3 per second here); apply honours each Retry-After and converges, nothing sent twice."""
    sim = sim_factory("demo", tls=True, throttle="msa=3/1")
    p = Portal(sim)
    apps = [p.ok(_patient(lambda i=i: p.c.post("/applications", json={
        "displayName": f"Consumer app {i}", "signInAudience": "AzureADandPersonalMicrosoftAccount"})))
        for i in range(6)]
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    for app in apps:
        p.ok(_patient(lambda app=app: p.c.patch(f"/applications/{app['id']}", json={"notes": "drifted"})))
    since = len(sim.requests)
    repo("apply", "--yes")
    served = [r for r in sim.requests[since:] if r.method == "PATCH" and "/applications/" in r.path]
    assert any(r.status == 429 for r in served)  # the quota was hit ...
    assert sum(r.status == 204 for r in served) == len(apps)  # ... and each app was written exactly once
    assert all(p.ok(p.c.get(f"/applications/{a['id']}")).get("notes") is None for a in apps)
    assert _plan(repo)["operations"] == []
