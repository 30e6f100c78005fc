"""The demo and synthetic seeds: deterministic, self-consistent, secret-free, Graph-shaped, loadable."""

from __future__ import annotations

import importlib
import json
import re
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

Seed = dict[str, list[dict[str, Any]]]

OTHER_TENANT = "6f0c2a51-93d4-4e7b-b1a8-0c5e2d7f4a19"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
MAIL_NICKNAME = re.compile(r"^[\x21-\x7e]{1,64}$")
MAIL_NICKNAME_FORBIDDEN = set('@()\\[]";:.<>, ')
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as e:  # the simulator core lands in parallel with the seeds
        pytest.skip(f"{name} is not importable yet ({e})")


@pytest.fixture(scope="module")
def b() -> Any:
    return _module("entragit_sim.builtins")


@pytest.fixture(scope="module")
def demo(b: Any) -> Any:
    return _module("entragit_sim.seeds.demo")


@pytest.fixture(scope="module")
def synthetic(b: Any) -> Any:
    return _module("entragit_sim.seeds.synthetic")


@pytest.fixture(scope="module")
def seed(demo: Any) -> Seed:
    return demo.demo_seed(demo.DEMO_TENANT_ID)


def _walk(value: Any, path: str = "$"):
    """Yield (path, key, value) for every mapping entry below `value`."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path, k, v
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


def _by_name(objs: list[dict[str, Any]], name: str, key: str = "displayName") -> dict[str, Any]:
    found = [o for o in objs if o.get(key) == name]
    assert len(found) == 1, f"expected one object with {key}={name!r}, found {len(found)}"
    return found[0]


# ------------------------------------------------------------------------------------------------
# referential integrity, shared by the demo and synthetic checks


def check_references(seed: Seed, tenant_id: str, b: Any, sentinels: frozenset[str]) -> int:
    """Assert every reference in `seed` resolves in seed + builtins; returns how many were checked."""
    builtin = b.builtin_state(tenant_id)
    users = {u["id"]: u for u in seed.get("users", [])}
    groups = {g["id"]: g for g in seed.get("groups", [])}
    sps = {
        s["id"]: s for s in builtin.get("servicePrincipals", []) + seed.get("servicePrincipals", [])
    }
    sp_by_app = {s["appId"]: s for s in sps.values()}
    apps = {a["id"]: a for a in seed.get("applications", [])}
    aus = {a["id"]: a for a in seed.get("administrativeUnits", [])}
    roles = set(b.ROLE_TEMPLATES.values()) | {r["id"] for r in builtin.get("roleDefinitions", [])}
    roles |= {r["id"] for r in seed.get("roleDefinitions", [])}
    locations = {n["id"] for n in seed.get("namedLocations", [])}
    strengths = {s["id"] for s in builtin.get("authenticationStrengthPolicies", [])}
    strengths |= {s["id"] for s in seed.get("authenticationStrengthPolicies", [])}
    contexts = {c["id"] for c in seed.get("authenticationContextClassReferences", [])}
    partners = {p["tenantId"] for p in seed.get("crossTenantPartners", [])}
    directory = set(users) | set(groups) | set(sps)
    checked = 0

    def ok(ref: Any, pool: Any, what: str, where: str) -> None:
        nonlocal checked
        checked += 1
        assert isinstance(ref, str), f"{where}: {what} reference {ref!r} is not a string"
        assert ref in pool or ref in sentinels, f"{where}: {what} {ref} does not exist"

    # every id is unique within its collection; directory object ids are unique across kinds
    for kind, objs in seed.items():
        keys = [o.get("id", o.get("tenantId")) for o in objs]
        dupes = [k for k, c in Counter(keys).items() if c > 1]
        assert not dupes, f"{kind}: duplicate ids {dupes[:3]}"
    all_dir = [o["id"] for k in ("users", "groups", "servicePrincipals", "applications", "administrativeUnits")
               for o in seed.get(k, [])]  # fmt: skip
    assert len(all_dir) == len(set(all_dir)), "a directory object id is used by two objects"
    assert not set(sp_by_app) - {s["appId"] for s in sps.values()}
    app_ids = [
        s["appId"] for s in builtin.get("servicePrincipals", []) + seed.get("servicePrincipals", [])
    ]
    assert len(app_ids) == len(set(app_ids)), (
        "two service principals share an appId (one may clash with builtins)"
    )

    for p in seed.get("conditionalAccessPolicies", []):
        where = f"CA {p['displayName']}"
        c = p["conditions"]
        u = c["users"]
        for ref in u["includeUsers"] + u["excludeUsers"]:
            ok(ref, users, "user", where)
        for ref in u["includeGroups"] + u["excludeGroups"]:
            ok(ref, groups, "group", where)
        for ref in u["includeRoles"] + u["excludeRoles"]:
            ok(ref, roles, "role template", where)
        for side in ("includeGuestsOrExternalUsers", "excludeGuestsOrExternalUsers"):
            ext = (u.get(side) or {}).get("externalTenants") or {}
            for ref in ext.get("members", []):
                ok(ref, partners, "partner tenant", where)
        a = c["applications"]
        for ref in a["includeApplications"] + a["excludeApplications"]:
            ok(ref, sp_by_app, "application (appId)", where)
        for ref in a["includeAuthenticationContextClassReferences"]:
            ok(ref, contexts, "authentication context", where)
        if c.get("locations"):
            for ref in c["locations"]["includeLocations"] + c["locations"]["excludeLocations"]:
                ok(ref, locations, "named location", where)
        if c.get("clientApplications"):
            ca = c["clientApplications"]
            for ref in ca["includeServicePrincipals"] + ca["excludeServicePrincipals"]:
                ok(ref, sps, "service principal", where)
        strength = (p.get("grantControls") or {}).get("authenticationStrength")
        if strength:
            ok(strength["id"], strengths, "authentication strength", where)

    for kind, objs, rel, pool in (
        ("groups", seed.get("groups", []), "members", directory),
        ("groups", seed.get("groups", []), "owners", set(users) | set(sps)),
        (
            "administrativeUnits",
            seed.get("administrativeUnits", []),
            "members",
            set(users) | set(groups),
        ),
        ("applications", seed.get("applications", []), "owners", set(users) | set(sps)),
        ("servicePrincipals", seed.get("servicePrincipals", []), "owners", set(users) | set(sps)),
    ):
        for o in objs:
            for ref in o.get(rel, []):
                ok(ref, pool, f"{kind}.{rel}", o["displayName"])

    for a in seed.get("applications", []):
        for rra in a["requiredResourceAccess"]:
            resource = sp_by_app.get(rra["resourceAppId"])
            ok(rra["resourceAppId"], sp_by_app, "resource app", a["displayName"])
            offered = {"Role": {r["id"] for r in resource["appRoles"]},
                       "Scope": {s["id"] for s in resource["oauth2PermissionScopes"]}}  # fmt: skip
            for ra in rra["resourceAccess"]:
                ok(
                    ra["id"],
                    offered[ra["type"]],
                    f"{ra['type']} on {resource['displayName']}",
                    a["displayName"],
                )
        for pre in a["api"]["preAuthorizedApplications"]:
            ok(pre["appId"], sp_by_app, "pre-authorized app", a["displayName"])

    for ara in seed.get("appRoleAssignments", []):
        where = f"appRoleAssignment {ara['id']}"
        ok(ara["principalId"], directory, "principal", where)
        ok(ara["resourceId"], sps, "resource SP", where)
        resource = sps[ara["resourceId"]]
        ok(
            ara["appRoleId"],
            {r["id"] for r in resource["appRoles"]} | {ZERO_GUID},
            "app role",
            where,
        )
        kind = {"User": users, "Group": groups, "ServicePrincipal": sps}[ara["principalType"]]
        assert ara["principalId"] in kind, f"{where}: principalType {ara['principalType']} is wrong"
        assert ara["resourceDisplayName"] == resource["displayName"]

    grant_keys = set()
    for g in seed.get("oauth2PermissionGrants", []):
        where = f"oauth2PermissionGrant {g['id']}"
        ok(g["clientId"], sps, "client SP", where)
        ok(g["resourceId"], sps, "resource SP", where)
        if g["consentType"] == "Principal":
            ok(g["principalId"], users, "consenting user", where)
        else:
            assert g["consentType"] == "AllPrincipals" and g["principalId"] is None, where
        offered = {s["value"] for s in sps[g["resourceId"]]["oauth2PermissionScopes"]}
        for scope in g["scope"].split(" "):
            ok(scope, offered, "delegated scope", where)
        key = (g["clientId"], g["resourceId"], g["principalId"])
        assert key not in grant_keys, f"{where}: duplicate grant"
        grant_keys.add(key)

    for ra in seed.get("roleAssignments", []):
        where = f"roleAssignment {ra['id']}"
        ok(ra["roleDefinitionId"], roles, "role definition", where)
        ok(ra["principalId"], directory, "principal", where)
        if ra["principalId"] in groups:
            assert groups[ra["principalId"]]["isAssignableToRole"] is True, (
                f"{where}: group is not role-assignable"
            )
        scope = ra["directoryScopeId"]
        if scope.startswith("/administrativeUnits/"):
            ok(scope.rsplit("/", 1)[1], aus, "administrative unit scope", where)
        elif scope != "/":
            ok(scope[1:], apps, "application scope", where)

    targets = set(groups) | set(users) | {"all_users", ZERO_GUID}
    for cfg in seed.get("authenticationMethodConfigurations", []):
        for t in cfg["includeTargets"] + cfg["excludeTargets"]:
            ok(t["id"], targets, "method target", cfg["id"])
    for pol in seed.get("authenticationMethodsPolicy", []):
        for _path, key, value in _walk(pol):
            if key in ("includeTargets", "excludeTargets"):
                for t in value:
                    ok(t["id"], targets, "registration target", "authenticationMethodsPolicy")
    for partner in seed.get("crossTenantPartners", []):
        for side in ("b2bCollaborationInbound", "b2bCollaborationOutbound"):
            setting = partner.get(side)
            if not setting:
                continue
            for t in setting["applications"]["targets"]:
                ok(
                    t["target"],
                    set(sp_by_app) | {"AllApplications", "Office365"},
                    "partner app",
                    side,
                )
            if side.endswith("Outbound"):  # outbound targets are local users/groups
                for t in setting["usersAndGroups"]["targets"]:
                    ok(
                        t["target"],
                        set(users) | set(groups) | {"AllUsers"},
                        "partner user/group",
                        side,
                    )
    return checked


# ------------------------------------------------------------------------------------------------
# demo


def test_demo_is_deterministic_and_json(demo: Any, seed: Seed) -> None:
    again = demo.demo_seed(demo.DEMO_TENANT_ID)
    assert json.dumps(seed, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert json.loads(json.dumps(seed)) == seed


def test_demo_tenant_id_is_the_simulator_default(demo: Any) -> None:
    assert GUID.match(demo.DEMO_TENANT_ID)
    try:
        from entragit_sim.seeds import DEFAULT_TENANT_ID
    except ImportError as e:
        pytest.skip(f"seed loader not importable yet ({e})")
    assert demo.DEMO_TENANT_ID == DEFAULT_TENANT_ID
    assert demo.demo_seed() == demo.demo_seed(DEFAULT_TENANT_ID)


def test_demo_ids_follow_the_tenant(demo: Any, seed: Seed) -> None:
    other = demo.demo_seed(OTHER_TENANT)
    assert other["organization"][0]["id"] == OTHER_TENANT
    for kind in (
        "users",
        "groups",
        "applications",
        "servicePrincipals",
        "conditionalAccessPolicies",
        "namedLocations",
    ):
        mine = {
            o["id"]
            for o in seed[kind]
            if o.get("appOwnerOrganizationId") != demo.MICROSOFT_TENANT_ID
        }
        theirs = {o["id"] for o in other[kind]}
        assert mine and not mine & theirs, f"{kind}: ids do not depend on the tenant id"
    assert [o["displayName"] for o in seed["groups"]] == [o["displayName"] for o in other["groups"]]


def test_demo_counts(seed: Seed) -> None:
    n = {k: len(v) for k, v in seed.items()}
    assert 22 <= n["users"] <= 30
    assert 26 <= n["groups"] <= 34
    assert 4 <= n["namedLocations"] <= 8
    assert 1 <= n["authenticationStrengthPolicies"] <= 2
    assert [c["id"] for c in seed["authenticationContextClassReferences"]] == ["c1", "c2"]
    assert 32 <= n["conditionalAccessPolicies"] <= 45
    assert 5 <= n["applications"] <= 8
    assert n["servicePrincipals"] >= n["applications"] + 2
    assert n["roleDefinitions"] == 2
    assert 8 <= n["roleAssignments"] <= 14
    assert 2 <= n["administrativeUnits"] <= 3
    assert 1 <= n["crossTenantPartners"] <= 2
    for singleton in ("organization", "authorizationPolicy", "identitySecurityDefaultsEnforcementPolicy",
                      "authenticationMethodsPolicy"):  # fmt: skip
        assert n[singleton] == 1, singleton
    assert n["authenticationMethodConfigurations"] >= 5
    assert n["oauth2PermissionGrants"] >= 4
    assert n["appRoleAssignments"] >= 10


def test_demo_references_resolve(demo: Any, seed: Seed, b: Any) -> None:
    checked = check_references(seed, demo.DEMO_TENANT_ID, b, demo.CA_SENTINELS)
    assert checked > 500


def test_demo_has_no_secrets(seed: Seed) -> None:
    for path, key, value in _walk(seed):
        assert key != "secretText", f"{path}: seeds never carry secretText"
        if key == "key":
            assert value is None, f"{path}: key material is never returned by GET"
    for app in seed["applications"]:
        for cred in app["passwordCredentials"]:
            assert set(cred) == {
                "customKeyIdentifier",
                "displayName",
                "endDateTime",
                "hint",
                "keyId",
                "startDateTime",
            }
            assert len(cred["hint"]) == 3


def test_demo_annotations_only_where_graph_keeps_them(seed: Seed) -> None:
    for path, key, value in _walk(seed):
        assert not key.startswith("#"), path
        if "@" in key:
            assert key == "@odata.type", f"{path}.{key}: only @odata.type is kept"
            assert value.startswith("#microsoft.graph."), path
    for loc in seed["namedLocations"]:
        assert loc["@odata.type"] in (
            "#microsoft.graph.ipNamedLocation",
            "#microsoft.graph.countryNamedLocation",
        )
        for r in loc.get("ipRanges", []):
            assert r["@odata.type"] in (
                "#microsoft.graph.iPv4CidrRange",
                "#microsoft.graph.iPv6CidrRange",
            )
    for cfg in seed["authenticationMethodConfigurations"]:
        assert (
            cfg["@odata.type"]
            == f"#microsoft.graph.{cfg['id'][0].lower()}{cfg['id'][1:]}AuthenticationMethodConfiguration"
        )
    kinds = [
        "ipNamedLocation" in json.dumps(seed["namedLocations"]),
        "countryNamedLocation" in json.dumps(seed["namedLocations"]),
    ]
    assert all(kinds)
    v6 = [
        r
        for loc in seed["namedLocations"]
        for r in loc.get("ipRanges", [])
        if "iPv6" in r["@odata.type"]
    ]
    assert v6 and any(loc.get("isTrusted") for loc in seed["namedLocations"])


def test_demo_groups_have_required_properties(seed: Seed) -> None:
    nicknames = Counter(g["mailNickname"] for g in seed["groups"])
    assert not [n for n, c in nicknames.items() if c > 1], "mailNickname must be unique"
    kinds = Counter()
    for g in seed["groups"]:
        where = g["displayName"]
        for prop in (
            "id",
            "displayName",
            "mailEnabled",
            "mailNickname",
            "securityEnabled",
            "groupTypes",
        ):
            assert g.get(prop) is not None, f"{where}: {prop} missing"
        assert (
            MAIL_NICKNAME.match(g["mailNickname"])
            and not set(g["mailNickname"]) & MAIL_NICKNAME_FORBIDDEN
        ), where
        assert len(g["displayName"]) <= 256
        dynamic = "DynamicMembership" in g["groupTypes"]
        assert bool(g["membershipRule"]) == dynamic, where
        if dynamic:
            assert g["membershipRuleProcessingState"] == "On" and "members" not in g, where
            kinds["dynamic"] += 1
        else:
            assert isinstance(g["members"], list), f"{where}: assigned groups carry a members list"
        assert isinstance(g["owners"], list) and g["owners"], f"{where}: groups have owners"
        if "Unified" in g["groupTypes"]:
            assert (
                g["mailEnabled"] and g["mail"] == f"{g['mailNickname']}@contosodemo.onmicrosoft.com"
            ), where
            kinds["unified"] += 1
        else:
            assert g["securityEnabled"] and not g["mailEnabled"], where
        if g["isAssignableToRole"]:
            assert g["securityEnabled"] and not dynamic, where
            kinds["role-assignable"] += 1
        assert g["securityIdentifier"].startswith("S-1-12-1-")
    assert kinds["dynamic"] == 2 and kinds["role-assignable"] == 2 and kinds["unified"] >= 3


def test_demo_users(seed: Seed, demo: Any) -> None:
    upns = [u["userPrincipalName"] for u in seed["users"]]
    assert len(upns) == len(set(upns))
    for u in seed["users"]:
        for prop in (
            "id",
            "accountEnabled",
            "displayName",
            "mailNickname",
            "userPrincipalName",
            "userType",
        ):
            assert u.get(prop) is not None, f"{u['displayName']}: {prop}"
        assert "passwordProfile" not in u
    guests = [u for u in seed["users"] if u["userType"] == "Guest"]
    assert len(guests) >= 2 and all("#EXT#@" in g["userPrincipalName"] for g in guests)
    bg = [u for u in seed["users"] if u["userPrincipalName"].startswith("bg-admin-")]
    assert [u["userPrincipalName"] for u in bg] == [f"bg-admin-0{i}@{demo.DOMAIN}" for i in (1, 2)]


def test_every_ca_policy_excludes_break_glass(seed: Seed, b: Any) -> None:
    bg_users = {u["id"] for u in seed["users"] if u["userPrincipalName"].startswith("bg-admin-")}
    bg_group = _by_name(seed["groups"], "CA-BreakGlassAccounts - Exclude")
    assert set(bg_group["members"]) == bg_users
    for p in seed["conditionalAccessPolicies"]:
        users = p["conditions"]["users"]
        assert bg_group["id"] in users["excludeGroups"] or bg_users <= set(users["excludeUsers"]), (
            p["displayName"]
        )
        assert (
            not bg_users & set(users["includeUsers"])
            and bg_group["id"] not in users["includeGroups"]
        )
    ga = b.ROLE_TEMPLATES["Global Administrator"]
    holders = {ra["principalId"] for ra in seed["roleAssignments"] if ra["roleDefinitionId"] == ga}
    assert bg_users <= holders


def test_demo_ca_policies_cover_the_baseline(seed: Seed, demo: Any, b: Any) -> None:
    policies = seed["conditionalAccessPolicies"]
    names = [p["displayName"] for p in policies]
    assert all(re.match(r"^CA\d{3}-[A-Za-z]+-", n) for n in names) and len(set(names)) == len(names)
    states = Counter(p["state"] for p in policies)
    assert set(states) == {"enabled", "enabledForReportingButNotEnforced", "disabled"}
    text = json.dumps(policies)
    for needle in ('"exchangeActiveSync"', '"urn:user:registerdevice"', '"userRiskLevels": ["high"]',
                   '"signInFrequency": {', '"persistentBrowser": {', '"c1"', '"c2"', '"AllTrusted"',
                   '"includePlatforms": ["windows"]', '"includePlatforms": ["macOS"]', '"MicrosoftAdminPortals"',
                   demo.EXCHANGE_ONLINE_APP_ID, '"includeServicePrincipals": ["', "conditionalAccessAllExternalTenants",
                   "conditionalAccessEnumeratedExternalTenants", '"compliantDevice"', '"block"'):  # fmt: skip
        assert needle in text, f"no CA policy uses {needle}"
    for p in policies:
        c = p["conditions"]
        assert p["state"] in ("enabled", "disabled", "enabledForReportingButNotEnforced")
        assert c["clientAppTypes"] and c["applications"] and (c["users"] or c["clientApplications"])
        assert p["grantControls"] or p["sessionControls"], p["displayName"]
        strength = (p["grantControls"] or {}).get("authenticationStrength")
        if strength:  # GET returns it expanded
            assert {
                "displayName",
                "allowedCombinations",
                "policyType",
                "combinationConfigurations",
            } <= set(strength)
    ids = {
        s["id"]
        for p in policies
        for s in [(p["grantControls"] or {}).get("authenticationStrength") or {}]
        if s
    }
    assert demo.PHISHING_RESISTANT_STRENGTH_ID in ids and ids & {
        s["id"] for s in seed["authenticationStrengthPolicies"]
    }
    roles = {r for p in policies for r in p["conditions"]["users"]["includeRoles"]}
    assert b.ROLE_TEMPLATES["Global Administrator"] in roles
    own_apps = {a["appId"] for a in seed["applications"]}
    assert own_apps & {
        a for p in policies for a in p["conditions"]["applications"]["includeApplications"]
    }


def test_finance_admins_is_the_disaster_scenario(seed: Seed, b: Any) -> None:
    fa = _by_name(seed["groups"], "Finance Admins")
    assert (
        fa["mailNickname"] == "finance-admins"
        and fa["isAssignableToRole"] is True
        and fa["members"]
    )
    ca_refs = [
        p["displayName"]
        for p in seed["conditionalAccessPolicies"]
        if fa["id"] in json.dumps(p["conditions"])
    ]
    assert len(ca_refs) == 12, ca_refs
    billing = b.ROLE_TEMPLATES["Billing Administrator"]
    assert any(
        ra["principalId"] == fa["id"] and ra["roleDefinitionId"] == billing
        for ra in seed["roleAssignments"]
    )
    expense = _by_name(seed["servicePrincipals"], "ExpenseHub")
    admin_role = _by_name(expense["appRoles"], "Finance.Admin", key="value")
    assert any(a["principalId"] == fa["id"] and a["resourceId"] == expense["id"] and a["appRoleId"] == admin_role["id"]
               for a in seed["appRoleAssignments"])  # fmt: skip
    assert any(fa["id"] in au["members"] for au in seed["administrativeUnits"])


def test_automation_apps_hold_their_graph_permissions(seed: Seed, demo: Any, b: Any) -> None:
    missing = [p for p in demo.AUTOMATION_PERMISSIONS if p not in b.GRAPH_PERMISSIONS]
    assert not missing, f"builtins.GRAPH_PERMISSIONS lacks {missing}"
    graph = b.graph_sp_id(demo.DEMO_TENANT_ID)
    for name, perms in (
        ("entragit-automation", demo.AUTOMATION_PERMISSIONS),
        ("entragit-reader", demo.READER_PERMISSIONS),
    ):
        app = _by_name(seed["applications"], name)
        sp = _by_name(seed["servicePrincipals"], name)
        assert sp["appId"] == app["appId"] and sp["appOwnerOrganizationId"] == demo.DEMO_TENANT_ID
        held = {
            a["appRoleId"]
            for a in seed["appRoleAssignments"]
            if a["principalId"] == sp["id"] and a["resourceId"] == graph
        }
        assert held == {b.GRAPH_PERMISSIONS[p] for p in perms}, name
        (graph_access,) = [
            r for r in app["requiredResourceAccess"] if r["resourceAppId"] == b.GRAPH_APP_ID
        ]
        assert {r["id"] for r in graph_access["resourceAccess"] if r["type"] == "Role"} == held
    reader = set(demo.READER_PERMISSIONS)
    assert not any(".ReadWrite." in p or p.endswith(".ReadWrite") for p in reader)
    assert reader == {"Policy.Read.All", "Application.Read.All", "Group.Read.All", "User.Read.All",
                      "RoleManagement.Read.Directory", "AdministrativeUnit.Read.All", "DelegatedPermissionGrant.Read.All",
                      "AuthenticationContext.Read.All", "Policy.Read.AuthenticationMethod",
                      "Member.Read.Hidden", "IdentityProvider.Read.All", "GroupSettings.Read.All",
                      "CustomSecAttributeDefinition.Read.All", "Policy.Read.PermissionGrant"}  # fmt: skip


def test_demo_role_assignments(seed: Seed, b: Any) -> None:
    scopes = Counter(
        ra["directoryScopeId"].split("/")[1] if ra["directoryScopeId"] != "/" else "/"
        for ra in seed["roleAssignments"]
    )
    assert scopes["/"] >= 5 and scopes["administrativeUnits"] >= 1
    ca_admin = b.ROLE_TEMPLATES["Conditional Access Administrator"]
    groups = {g["id"]: g for g in seed["groups"]}
    assert any(
        ra["roleDefinitionId"] == ca_admin and ra["principalId"] in groups
        for ra in seed["roleAssignments"]
    )
    for rd in seed["roleDefinitions"]:
        assert (
            rd["isBuiltIn"] is False
            and rd["templateId"]
            and rd["rolePermissions"][0]["allowedResourceActions"]
        )


def test_demo_singletons(seed: Seed, demo: Any) -> None:
    org = seed["organization"][0]
    assert org["id"] == demo.DEMO_TENANT_ID and org["verifiedDomains"][0]["name"] == demo.DOMAIN
    assert seed["identitySecurityDefaultsEnforcementPolicy"][0]["isEnabled"] is False
    assert seed["authorizationPolicy"][0]["id"] == "authorizationPolicy"
    assert seed["authenticationMethodsPolicy"][0]["id"] == "authenticationMethodsPolicy"
    assert "authenticationMethodConfigurations" not in seed["authenticationMethodsPolicy"][0]
    group_targets = [
        t
        for c in seed["authenticationMethodConfigurations"]
        for t in c["includeTargets"]
        if t["id"] != "all_users"
    ]
    assert group_targets, "some method configurations target groups"


SCHEMAS = Path(__file__).resolve().parents[2] / "entragit" / "schemas"
SCHEMA_OF = {
    "crossTenantPartners": "crossTenantAccessPartners",
    "identitySecurityDefaultsEnforcementPolicy": "securityDefaults",
}


@pytest.mark.parametrize("which", ["demo", "synthetic"])
def test_seed_objects_match_the_graph_schemas(which: str, demo: Any, synthetic: Any) -> None:
    """Cross-check with the client's schemas (generated from msgraph-sdk models): types and enums agree.

    Those schemas describe files, so server-managed properties are `{"not": {}}` there; GET returns them,
    so their errors are ignored here.
    """
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMAS.is_dir():
        pytest.skip(f"no schemas/ at {SCHEMAS}")
    seed = (
        demo.demo_seed(demo.DEMO_TENANT_ID)
        if which == "demo"
        else synthetic.synthetic_seed(2000, OTHER_TENANT)
    )
    checked = 0
    for kind, objs in seed.items():
        path = SCHEMAS / f"{SCHEMA_OF.get(kind, kind)}.schema.json"
        if not path.exists():
            continue
        validator = jsonschema.Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))
        for obj in objs:
            errors = [
                e
                for e in validator.iter_errors(obj)
                if not (e.validator == "not" and e.validator_value == {})
            ]
            assert not errors, f"{kind} {obj.get('displayName') or obj.get('id')}: " + "; ".join(
                f"{'/'.join(map(str, e.absolute_path))}: {e.message[:160]}" for e in errors[:3]
            )
            checked += 1
    assert checked > 100


# ------------------------------------------------------------------------------------------------
# synthetic


@pytest.mark.parametrize("n", [100, 1000, 10000])
def test_synthetic_size(synthetic: Any, n: int) -> None:
    s = synthetic.synthetic_seed(n, OTHER_TENANT)
    total = sum(len(v) for v in s.values())
    assert abs(total - n) <= n * 0.1, total
    counts = {k: len(v) for k, v in s.items()}
    if n >= 1000:  # tiny tenants are mostly the fixed skeleton (automation apps, singletons)
        assert counts["users"] >= 0.35 * n and counts["groups"] >= 0.35 * n
    assert 0.01 * n <= counts["conditionalAccessPolicies"] <= max(3, min(200, 0.02 * n))


def test_synthetic_is_deterministic(synthetic: Any) -> None:
    one = json.dumps(synthetic.synthetic_seed(500, OTHER_TENANT, seed=3), sort_keys=True)
    assert one == json.dumps(synthetic.synthetic_seed(500, OTHER_TENANT, seed=3), sort_keys=True)
    assert one != json.dumps(synthetic.synthetic_seed(500, OTHER_TENANT, seed=4), sort_keys=True)
    assert one != json.dumps(
        synthetic.synthetic_seed(500, "2d6b1f4e-7c3a-4e85-9f20-6a1b3c5d7e90", seed=3),
        sort_keys=True,
    )


def test_synthetic_is_fast(synthetic: Any) -> None:
    start = time.perf_counter()
    s = synthetic.synthetic_seed(10_000, OTHER_TENANT)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"synthetic:10000 took {elapsed:.2f}s"
    assert len(s["conditionalAccessPolicies"]) == 150
    assert len(synthetic.synthetic_seed(40_000, OTHER_TENANT)["conditionalAccessPolicies"]) == 200


def test_synthetic_references_resolve(synthetic: Any, demo: Any, b: Any) -> None:
    s = synthetic.synthetic_seed(3000, OTHER_TENANT, seed=7)
    assert check_references(s, OTHER_TENANT, b, demo.CA_SENTINELS) > 1000
    bg = _by_name(s["groups"], "CA-BreakGlassAccounts - Exclude")["id"]
    for p in s["conditionalAccessPolicies"]:
        assert bg in p["conditions"]["users"]["excludeGroups"], p["displayName"]
    for path, key, _v in _walk(s):
        assert key != "secretText", path
    members = sum(len(g.get("members", [])) for g in s["groups"])
    assert members >= 2 * len(s["groups"]), "groups should hold a realistic number of members"
    refs = sum(len(p["conditions"]["users"]["includeGroups"]) + len(p["conditions"]["users"]["excludeGroups"])
               for p in s["conditionalAccessPolicies"])  # fmt: skip
    assert refs >= 2 * len(s["conditionalAccessPolicies"])


# ------------------------------------------------------------------------------------------------
# the seeds inside the simulator (in-process, real HTTP)


def _get(url: str) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": "Bearer sim-admin"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def _list(url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        page = _get(next_url)
        out += page["value"]
        next_url = page.get("@odata.nextLink")
    return out


@pytest.fixture(scope="module")
def running_demo(seed: Seed) -> Any:
    sim_mod = _module("entragit_sim")
    if not hasattr(sim_mod, "Simulator"):
        pytest.skip("entragit_sim.Simulator is not there yet")
    sim = sim_mod.Simulator(seed="demo")
    sim.start(host="127.0.0.1", port=0)
    yield sim
    sim.stop()


def test_simulator_serves_the_demo_policies(running_demo: Any, seed: Seed, demo: Any) -> None:
    assert running_demo.tenant_id == demo.DEMO_TENANT_ID
    expected = {p["id"]: p["displayName"] for p in seed["conditionalAccessPolicies"]}
    for base in (running_demo.graph_url, running_demo.beta_url):
        got = {
            p["id"]: p["displayName"] for p in _list(f"{base}/identity/conditionalAccess/policies")
        }
        if base.endswith("/beta"):
            assert got == expected
        else:  # v1.0 may omit policies that use preview features
            assert got.items() <= expected.items() and len(got) >= len(expected) - 3
    org = _get(f"{running_demo.graph_url}/organization")["value"][0]
    assert org["id"] == demo.DEMO_TENANT_ID and org["displayName"] == demo.COMPANY


def test_simulator_serves_finance_admins(running_demo: Any, seed: Seed) -> None:
    query = urllib.parse.quote("mailNickname eq 'finance-admins'")
    (group,) = _get(f"{running_demo.graph_url}/groups?$filter={query}")["value"]
    fa = _by_name(seed["groups"], "Finance Admins")
    assert group["id"] == fa["id"] and group["isAssignableToRole"] is True
    members = {m["id"] for m in _list(f"{running_demo.graph_url}/groups/{fa['id']}/members")}
    assert members == set(fa["members"])
    locations = _list(f"{running_demo.graph_url}/identity/conditionalAccess/namedLocations")
    assert {n["id"] for n in locations} == {n["id"] for n in seed["namedLocations"]}
    assert all(n["@odata.type"].startswith("#microsoft.graph.") for n in locations)


def test_simulator_loads_synthetic(synthetic: Any) -> None:
    sim_mod = _module("entragit_sim")
    if not hasattr(sim_mod, "Simulator"):
        pytest.skip("entragit_sim.Simulator is not there yet")
    seed = synthetic.synthetic_seed(2000, OTHER_TENANT)
    sim = sim_mod.Simulator(seed=seed, tenant_id=OTHER_TENANT).start(host="127.0.0.1", port=0)
    try:
        policies = _list(f"{sim.beta_url}/identity/conditionalAccess/policies")
        assert {p["id"] for p in policies} == {p["id"] for p in seed["conditionalAccessPolicies"]}
    finally:
        sim.stop()
