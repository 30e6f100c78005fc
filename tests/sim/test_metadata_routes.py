"""Every route the simulator serves, checked against permissions.json's Application scheme: the table says what
the file grants (or names the docs page that overrides it), and app tokens minted over HTTP behave that way."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from functools import cache

import httpx
import pytest

from entragit_sim import Simulator
from entragit_sim.builtins import GRAPH_PERMISSIONS
from entragit_sim.table import BY_NAME, RESOURCES, Perms
from entragit_sim.wire import Route
from tests import metadata

ADMIN = {"Authorization": "Bearer sim-admin"}
DOCS = "https://learn.microsoft.com/graph/api/"
BETA = "?view=graph-rest-beta"


@cache
def routes() -> tuple[Route, ...]:
    return tuple(Simulator(seed=None).router.routes)


def _key(r: Route, method: str) -> tuple[str, str]:
    return r.template, method


def cases() -> list[tuple[Route, str]]:
    return [(r, m) for r in routes() for m in r.methods]


def file_path(template: str) -> str:
    """The path permissions.json lists for a route template.

    `$count` is read with the collection's permissions (https://learn.microsoft.com/graph/query-parameters#count-parameter);
    alternate keys: the file lists `(appid={id})` for apps and service principals, and users by
    `users/{id | userPrincipalName}` (https://learn.microsoft.com/graph/api/user-get)."""
    p = re.sub(r"/\$count$", "", template)
    if "({altKey}='{value}')" in p:
        head = p.split("(", 1)[0]
        alt = p.replace("({altKey}='{value}')", "(appid={id})")
        p = alt if metadata.grants("GET", alt) else head + "/{id}"
    return metadata.normalize(p)


def not_a_permission_decision(r: Route, method: str) -> bool:
    """A method the route table serves only to refuse: PATCH of a resource Graph never updates (405)."""
    res = BY_NAME.get(r.resource or "")
    own = res is not None and r.template[len(res.path or ""):] in ("/{id}", "({altKey}='{value}')")
    return own and res is not None and method == "PATCH" and not res.updatable and not res.singleton


# -- what the simulator accepts ----------------------------------------------------------------


def accepted(perms: Perms, method: str) -> dict[str, tuple[str, ...]]:
    """Each permission the simulator accepts for `method`, with what it needs on top (a write tuple's members
    that are read permissions, e.g. Policy.Read.All next to Policy.ReadWrite.ConditionalAccess)."""
    if method == "GET":
        return {p: () for p in perms.read}
    out: dict[str, tuple[str, ...]] = {}
    for need in perms.write:
        distinct = tuple(p for p in need if p not in perms.read) or need
        for p in distinct:
            out[p] = tuple(x for x in need if x not in distinct)
    return out


def implied(perms: set[str] | frozenset[str]) -> set[str]:
    """What the simulator lets through for reads: X.ReadWrite.Y stands for X.Read.Y (graph-notes 7)."""
    return set(perms) | {p.replace(".Read.", ".ReadWrite.", 1) for p in perms if ".Read." in p}


# -- where the simulator and the file disagree, with the docs page that decides -----------------

_DELETED_LIST = DOCS + "directory-deleteditems-list"
_CA_BIN = "beta-only container; the file covers no beta deletedItems path: " + DOCS + "conditionalaccessroot-list-deleteditems" + BETA
_CA_BIN_APP = ("beta-only; Application: not supported (app_only_ok=False): " + DOCS + "conditionalaccesspolicy-restore" + BETA)
_XT_BIN = "beta-only container for deleted partners: " + DOCS + "policydeletableitem-delete" + BETA
_STRENGTH_BETA = "beta alias of policies/authenticationStrengthPolicies: " + DOCS + "authenticationstrengthroot-list-policies" + BETA
_COMBOS = ("the file lists this sub-collection under identity/conditionalAccess/authenticationStrength/policies "
           "only, with the policies' permissions (Policy.Read.AuthenticationMethod / Policy.ReadWrite.ConditionalAccess): "
           + DOCS + "authenticationstrengthpolicy-post-combinationconfigurations")
_ARA_ITEM = "the file lists the collection only; the docs read and delete by id with the same permissions: "
_DIR_WRITE = ("finding (simulator broader than Graph): Directory.ReadWrite.All is not listed for this write; the "
              "Perms row is shared with paths where it is, a per-method split is not in the table yet: ")

# (template, method) the file lists for no Application scheme.
_APP_POLICY_REF = "the file lacks this assignment path: " + DOCS
# The file has entitlement management's catalog resources, resource requests and role scopes only under their
# beta-era names (accessPackageCatalogs/{id}/accessPackageResources, accessPackageResourceRequests,
# accessPackages/{id}/accessPackageResourceRoleScopes); the v1.0 pages give the same permissions.
_EM_V1 = "the file has it only under its beta-era name; EntitlementManagement.Read.All / ReadWrite.All: " + DOCS
_EM = "identityGovernance/entitlementManagement"

NOT_IN_FILE: dict[tuple[str, str], str] = {
    **{(f"{_EM}/catalogs/{{id}}/resources{t}", "GET"): _EM_V1 + "accesspackagecatalog-list-resources"
       for t in ("", "/{id}")},
    **{(f"{_EM}/resourceRequests{t}", m): _EM_V1 + page for t, m, page in (
        ("", "GET", "entitlementmanagement-list-accesspackageresourcerequests"),
        ("/$count", "GET", "entitlementmanagement-list-accesspackageresourcerequests"),
        ("/{id}", "GET", "entitlementmanagement-list-accesspackageresourcerequests"),
        ("", "POST", "entitlementmanagement-post-resourcerequests"))},
    **{(f"{_EM}/accessPackages/{{id}}/resourceRoleScopes{t}", m): _EM_V1 + page for t, m, page in (
        ("", "GET", "accesspackage-list-resourcerolescopes"), ("", "POST", "accesspackage-post-resourcerolescopes"),
        ("/{id}", "GET", "accesspackage-list-resourcerolescopes"),
        ("/{id}", "DELETE", "accesspackage-delete-resourcerolescopes"))},
    **{(f"directory/deletedItems/microsoft.graph.{t}", "GET"): "each kind's read permission: " + _DELETED_LIST
       for t in ("user", "group", "application", "servicePrincipal", "administrativeUnit")},
    **{(f"identity/conditionalAccess/deletedItems/{c}", "GET"): _CA_BIN for c in ("policies", "namedLocations")},
    **{(f"identity/conditionalAccess/deletedItems/{c}/{{id}}", m): _CA_BIN_APP
       for c in ("policies", "namedLocations") for m in ("GET", "DELETE")},
    **{(f"identity/conditionalAccess/deletedItems/{c}/{{id}}/restore", "POST"): _CA_BIN_APP
       for c in ("policies", "namedLocations")},
    ("policies/deletedItems/crossTenantPartners", "GET"): _XT_BIN,
    ("policies/deletedItems/crossTenantPartners/{id}", "GET"): _XT_BIN,
    ("policies/deletedItems/crossTenantPartners/{id}", "DELETE"): _XT_BIN,
    ("policies/deletedItems/crossTenantPartners/{id}/restore", "POST"): _XT_BIN,
    **{(f"identity/conditionalAccess/authenticationStrength/policies{t}", m): _STRENGTH_BETA
       for t, ms in (("", ("GET", "POST")), ("/$count", ("GET",)), ("/{id}", ("GET", "PATCH", "DELETE"))) for m in ms},
    **{(f"policies/authenticationStrengthPolicies/{{id}}/combinationConfigurations{t}", m): _COMBOS
       for t, ms in (("", ("GET", "POST")), ("/{id}", ("GET", "PATCH", "DELETE"))) for m in ms},
    # Only POST on applications' appManagementPolicies is in the file; the docs give all four, with
    # Application.Read.All and Policy.ReadWrite.ApplicationConfiguration together.
    ("applications/{id}/appManagementPolicies/{id}/$ref", "DELETE"): _APP_POLICY_REF + "appmanagementpolicy-delete-appliesto",
    ("servicePrincipals/{id}/appManagementPolicies/{id}/$ref", "DELETE"): _APP_POLICY_REF + "appmanagementpolicy-delete-appliesto",
    ("servicePrincipals/{id}/appManagementPolicies/$ref", "POST"): _APP_POLICY_REF + "appmanagementpolicy-post-appliesto",
    ("groups/{id}/members/$ref", "POST"): "the file has no members/$ref; GroupMember.ReadWrite.All: " + DOCS + "group-post-members",
    ("servicePrincipals/{id}/appRoleAssignedTo/{id}", "GET"): _ARA_ITEM + DOCS + "serviceprincipal-list-approleassignedto",
    ("servicePrincipals/{id}/appRoleAssignments/{id}", "GET"): _ARA_ITEM + DOCS + "serviceprincipal-list-approleassignments",
    ("users/{id}/appRoleAssignments/{id}", "GET"): _ARA_ITEM + DOCS + "user-list-approleassignments",
    ("groups/{id}/appRoleAssignments/{id}", "GET"): _ARA_ITEM + DOCS + "group-list-approleassignments",
    ("servicePrincipals/{id}/oauth2PermissionGrants/{id}", "GET"): "the file lists the grant by id at the root: "
                                                                   + DOCS + "oauth2permissiongrant-get",
    **{(f"policies/authenticationMethodsPolicy/authenticationMethodConfigurations{t}", m):
       "the file lists each configuration by name only; Policy.Read.AuthenticationMethod / "
       "Policy.ReadWrite.AuthenticationMethod: " + DOCS + "authenticationmethodspolicy-get"
       for t, m in (("", "GET"), ("/$count", "GET"), ("", "POST"))},
}

# (template, method, permission) the simulator accepts and the file does not grant there.
NOT_GRANTED: dict[tuple[str, str, str], str] = {
    **{(f"roleManagement/directory/deletedItems/roleDefinitions{t}", "GET", p):
       "finding: the bin reuses roleDefinitions' read permissions; the file grants RoleManagement.Read.Directory only: "
       + DOCS + "rbacapplication-list-deleteditems" + BETA for t in ("", "/{id}") for p in ("Directory.Read.All", "RoleManagement.Read.All")},
    **{(f"identity/conditionalAccess/authenticationContextClassReferences{t}", m, "Policy.ReadWrite.ConditionalAccess"):
       "Policy.ReadWrite.ConditionalAccess writes authentication contexts: "
       + DOCS + "authenticationcontextclassreference-delete" for t, m in (("/{id}", "DELETE"),)},
    ("applications/{id}/federatedIdentityCredentials/{federatedIdentityCredential-id}", "GET", "Application.Read.All"):
        "finding: one FIC row serves list and item; reading one credential needs Application.ReadWrite.OwnedBy or "
        "Application.ReadWrite.All: " + DOCS + "federatedidentitycredential-get",
    ("groups/{id}/owners/$ref", "POST", "GroupMember.ReadWrite.All"):
        "finding: owners need Group.ReadWrite.All; one rel_perms row serves members and owners: " + DOCS + "group-post-owners",
    ("groups/{id}/owners/{id}/$ref", "DELETE", "GroupMember.ReadWrite.All"):
        "finding: owners need Group.ReadWrite.All; one rel_perms row serves members and owners: " + DOCS + "group-delete-owners",
    ("groups/{id}", "DELETE", "Directory.ReadWrite.All"): _DIR_WRITE + DOCS + "group-delete",
    **{(t, m, "Directory.ReadWrite.All"): _DIR_WRITE + DOCS + page
       for t, m, page in (
           ("applications({altKey}='{value}')", "PATCH", "application-update"),
           ("applications({altKey}='{value}')", "DELETE", "application-delete"),
           ("applications/{id}", "PATCH", "application-update"),
           ("applications/{id}", "DELETE", "application-delete"),
           ("applications", "POST", "application-post-applications"),
           ("servicePrincipals/{id}/appRoleAssignedTo", "POST", "serviceprincipal-post-approleassignedto"),
           ("servicePrincipals/{id}/appRoleAssignedTo/{id}", "DELETE", "serviceprincipal-delete-approleassignedto"),
           ("servicePrincipals/{id}/appRoleAssignments", "POST", "serviceprincipal-post-approleassignments"),
           ("servicePrincipals/{id}/appRoleAssignments/{id}", "DELETE", "serviceprincipal-delete-approleassignments"),
           ("users/{id}/appRoleAssignments", "POST", "user-post-approleassignments"),
           ("users/{id}/appRoleAssignments/{id}", "DELETE", "user-delete-approleassignments"),
           ("groups/{id}/appRoleAssignments", "POST", "group-post-approleassignments"),
           ("groups/{id}/appRoleAssignments/{id}", "DELETE", "group-delete-approleassignments"),
           ("directory/administrativeUnits/{id}/members/{id}/$ref", "DELETE", "administrativeunit-delete-members"),
           ("directory/administrativeUnits/{id}", "PATCH", "administrativeunit-update"),
           ("directory/administrativeUnits/{id}", "DELETE", "administrativeunit-delete"),
           ("directory/administrativeUnits", "POST", "directory-post-administrativeunits"),
           ("administrativeUnits/{id}/members/{id}/$ref", "DELETE", "administrativeunit-delete-members"),
           ("administrativeUnits/{id}", "PATCH", "administrativeunit-update"),
           ("administrativeUnits/{id}", "DELETE", "administrativeunit-delete"),
           ("administrativeUnits", "POST", "directory-post-administrativeunits"),
           ("users/{id}", "DELETE", "user-delete"),
           ("users({altKey}='{value}')", "DELETE", "user-delete"),
       )},
    **{(t, "GET", "Application.Read.All"): "finding: one appRoleAssignments row serves every view; the file grants "
       "AppRoleAssignment.ReadWrite.All or Directory.Read.All here: " + DOCS + page
       for t, page in (("users/{id}/appRoleAssignments", "user-list-approleassignments"),
                       ("groups/{id}/appRoleAssignments", "group-list-approleassignments"))},
    **{(t, "GET", "DelegatedPermissionGrant.Read.All"): "finding: fix in seed (table.py oauth2PermissionGrants): not an "
       "Application permission at all: " + DOCS + "oauth2permissiongrant-list"
       for t in ("servicePrincipals/{id}/oauth2PermissionGrants", "oauth2PermissionGrants/$count",
                 "oauth2PermissionGrants/{id}", "oauth2PermissionGrants")},
    **{("organization/{id}", "GET", p): "the file lists only Intune permissions for organization/{id}; the docs grant "
       "Organization.Read.All and Directory.Read.All: " + DOCS + "organization-get" for p in ("Directory.Read.All", "Organization.Read.All")},
}

# (template, method) where the simulator accepts none of the permissions the file marks least-privileged.
_ORG = "the file marks an Intune permission least; the docs say Organization.Read.All: " + DOCS + "organization-get"
_NESTING = ("the file marks the preview Group-NestingSupport.ReadWrite.All least; the docs table says Group.Read.All / "
            "Group.ReadWrite.All: ")
NOT_LEAST: dict[tuple[str, str], str] = {
    **{(t, m): "Policy.Read.All and Policy.ReadWrite.ConditionalAccess together (the file marks Policy.Read.All "
       "least for a write): " + DOCS + page
       for t, m, page in (
           ("identity/conditionalAccess/policies/{id}", "PATCH", "conditionalaccesspolicy-update"),
           ("identity/conditionalAccess/policies/{id}", "DELETE", "conditionalaccesspolicy-delete"),
           ("identity/conditionalAccess/policies", "POST", "conditionalaccessroot-post-policies"),
           ("identity/conditionalAccess/namedLocations/{id}", "PATCH", "namedlocation-update"),
           ("identity/conditionalAccess/namedLocations/{id}", "DELETE", "namedlocation-delete"),
           ("identity/conditionalAccess/namedLocations", "POST", "conditionalaccessroot-post-namedlocations"),
       )},
    ("applications/{id}/appManagementPolicies/$ref", "POST"):
        "Application.Read.All and Policy.ReadWrite.ApplicationConfiguration together (the file marks "
        "Application.Read.All least): " + DOCS + "appmanagementpolicy-post-appliesto",
    ("applications/{id}/federatedIdentityCredentials/{federatedIdentityCredential-id}", "GET"):
        "finding: one FIC row serves list and item (see NOT_GRANTED): " + DOCS + "federatedidentitycredential-get",
    ("groups/{id}/members", "GET"): "GroupMember.ReadBasic.All returns basic member properties the simulator does not "
                                    "model; GroupMember.Read.All: " + DOCS + "group-list-members",
    ("groups/{id}", "GET"): _NESTING + DOCS + "group-get",
    ("groups/{id}", "PATCH"): _NESTING + DOCS + "group-update",
    ("groups", "POST"): "Group.Create is create-only; Group.ReadWrite.All: " + DOCS + "group-post-groups",
    ("organization/$count", "GET"): _ORG,
    ("organization/{id}", "GET"): _ORG,
    ("organization/{id}", "PATCH"): "the file marks an Intune permission least; Organization.ReadWrite.All: "
                                    + DOCS + "organization-update",
    ("organization", "GET"): _ORG,
}

# (template, method, permission): the simulator demands more on top than the file's AlsoRequires.
ALSO_REQUIRED: dict[tuple[str, str, str], str] = {
    ("applications/{id}/appManagementPolicies/$ref", "POST", "Policy.ReadWrite.ApplicationConfiguration"):
        "Application.Read.All and Policy.ReadWrite.ApplicationConfiguration together: "
        + DOCS + "appmanagementpolicy-post-appliesto",
    **{(t, m, "Policy.ReadWrite.ConditionalAccess"): "CA writes need Policy.Read.All too: " + DOCS + page
       for t, m, page in (
           ("identity/conditionalAccess/policies/{id}", "PATCH", "conditionalaccesspolicy-update"),
           ("identity/conditionalAccess/policies/{id}", "DELETE", "conditionalaccesspolicy-delete"),
           ("identity/conditionalAccess/policies", "POST", "conditionalaccessroot-post-policies"),
           ("identity/conditionalAccess/namedLocations/{id}", "PATCH", "namedlocation-update"),
           ("identity/conditionalAccess/namedLocations/{id}", "DELETE", "namedlocation-delete"),
           ("identity/conditionalAccess/namedLocations", "POST", "conditionalaccessroot-post-namedlocations"),
       )},
    **{(t, "DELETE", "AppRoleAssignment.ReadWrite.All"): "finding: one row for create and delete; deleting needs "
       "AppRoleAssignment.ReadWrite.All alone: " + DOCS + page
       for t, page in (("servicePrincipals/{id}/appRoleAssignedTo/{id}", "serviceprincipal-delete-approleassignedto"),
                       ("servicePrincipals/{id}/appRoleAssignments/{id}", "serviceprincipal-delete-approleassignments"),
                       ("users/{id}/appRoleAssignments/{id}", "user-delete-approleassignments"),
                       ("groups/{id}/appRoleAssignments/{id}", "group-delete-approleassignments"))},
    **{(t, "POST", "AppRoleAssignment.ReadWrite.All"): "finding: the file lists AppRoleAssignment.ReadWrite.All alone "
       "for a user's or group's assignments; the simulator asks for a read permission of the resource SP too: "
       + DOCS + page
       for t, page in (("users/{id}/appRoleAssignments", "user-post-approleassignments"),
                       ("groups/{id}/appRoleAssignments", "group-post-approleassignments"))},
}

# Routes whose permission depends on the object found (perms=None): where that rule is tested.
PER_OBJECT: dict[str, str] = {
    "$batch": "every item is dispatched as its own request: tests/sim/test_query.py::test_batch",
    "directory/deletedItems": "400 without a type cast (graph-notes 5): tests/sim/test_deleted.py",
    "directory/deletedItems/{cast}": "unknown cast: 400 before any permission check: tests/sim/test_deleted.py",
    "directory/deletedItems/{id}": "the kind's read/write permission: test_per_object_deleted_item_rules (below)",
    "directory/deletedItems/{id}/restore": "the kind's write permission: test_per_object_deleted_item_rules (below), "
                                           "tests/sim/test_recycle_bins.py::test_app_token_still_restores_directory_objects",
    "directoryObjects/getByIds": "tests/sim/test_directory_objects.py::test_directory_object_permissions",
    "directoryObjects/{id}": "tests/sim/test_directory_objects.py::test_directory_object_permissions",
    # Native backup jobs: reads need EntraBackup.Read.All; creating and cancelling jobs is delegated
    # only, for a Backup Administrator (entrarecoveryservices-snapshot-post-recoveryjobs).
    **{t: "tests/test_native_jobs.py::test_an_app_reads_but_cannot_create_and_a_reader_cannot_either"
       for t in ("directory/recovery/jobs", "directory/recovery/jobs/{id}", "directory/recovery/jobs/{id}/cancel",
                 *(f"directory/recovery/snapshots/{{id}}/{k}{tail}"
                   for k, fn in (("recoveryPreviewJobs", "getChanges"), ("recoveryJobs", "getFailedChanges"))
                   for tail in ("", "/{id}", "/{id}/cancel", f"/{{id}}/{fn}")))},
}


# -- the table ---------------------------------------------------------------------------------


def test_every_route_and_method_is_checked() -> None:
    """A new route without a permission decision fails here."""
    checked = {_key(r, m) for r, m in cases()}
    served = {(r.template, m) for r in routes() for m in r.methods}
    assert checked == served
    none = {r.template for r in routes() if r.perms is None}
    assert none == set(PER_OBJECT), f"perms=None routes without a named per-object test: {none ^ set(PER_OBJECT)}"


@pytest.mark.parametrize("case", cases(), ids=lambda c: f"{c[1]} {c[0].template}")
def test_route_permissions_match_the_file(case: tuple[Route, str]) -> None:
    metadata.require()
    r, method = case
    key = _key(r, method)
    if r.perms is None:
        assert r.template in PER_OBJECT
        return
    if not_a_permission_decision(r, method):
        return  # the behaviour test checks the 405
    path = file_path(r.template)
    grants = metadata.grants(method, path)
    granted = {g.permission for g in grants}
    if not grants:
        assert key in NOT_IN_FILE or not r.app_only_ok, (
            f"{key} ({path}): no Application scheme grants it; set app_only_ok=False or list it with a docs URL")
        return
    assert key not in NOT_IN_FILE, f"{key} is in permissions.json now: drop the NOT_IN_FILE entry"
    assert r.app_only_ok, f"{key}: the file grants it app-only ({sorted(granted)}) but app_only_ok=False"
    ours = accepted(r.perms, method)
    for perm in ours:
        excused = (r.template, method, perm) in NOT_GRANTED
        if perm in granted:
            assert not excused, f"{key}: {perm} is granted now: drop the NOT_GRANTED entry"
        else:
            assert excused, f"{key} ({path}): the simulator accepts {perm}, the file grants only {sorted(granted)}"
    least = {g.permission for g in grants if g.least}
    if least:
        have = implied(set(ours)) if method == "GET" else set(ours)
        if key in NOT_LEAST:
            assert not have & least, f"{key}: a least-privileged permission is accepted now: drop NOT_LEAST"
        else:
            assert have & least, f"{key} ({path}): least-privileged {sorted(least)}, the simulator accepts {sorted(ours)}"
    else:
        assert key not in NOT_LEAST, f"{key}: the file marks no least-privileged permission: drop NOT_LEAST"
    for perm, extra in ours.items():
        also = {x for g in grants if g.permission == perm for x in g.also_requires}
        xkey = (r.template, method, perm)
        if extra and perm in granted and set(extra) - also:
            assert xkey in ALSO_REQUIRED, f"{key}: {perm} needs {extra} here, the file's AlsoRequires is {sorted(also)}"
        else:
            assert xkey not in ALSO_REQUIRED, f"{xkey}: no extra requirement beyond the file now: drop the entry"


def test_exceptions_name_served_routes_and_docs() -> None:
    served = {_key(r, m) for r, m in cases()}
    for table in (NOT_IN_FILE, NOT_LEAST):
        for key, why in table.items():
            assert key in served, f"{key}: no such route/method"
            assert "https://learn.microsoft.com/" in why, key
    for table3 in (NOT_GRANTED, ALSO_REQUIRED):
        for (t, m, perm), why in table3.items():
            assert (t, m) in served, f"{(t, m)}: no such route/method"
            assert "https://learn.microsoft.com/" in why, (t, m, perm)


# -- behaviour over HTTP -----------------------------------------------------------------------

UNRELATED = ("AuditLog.Read.All", "Organization.Read.All")  # grants nothing but audit logs / the organization


@pytest.fixture(scope="module")
def oracle() -> Iterator[Simulator]:
    s = Simulator(seed="demo")
    s.start(host="127.0.0.1", port=0)
    populate(s)
    yield s
    s.stop()


def populate(sim: Simulator) -> None:
    """One object in every container the sample addresses: a deleted item in each recycle bin, a token
    lifetime policy and PIM assignment and eligibility requests (the demo seed has none)."""
    beta = sim.graph_url.replace("/v1.0", "/beta")
    with httpx.Client(headers=ADMIN) as c:
        r = c.post(f"{beta}/identity/conditionalAccess/namedLocations", json={
            "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "probe", "isTrusted": False,
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "192.0.2.0/24"}]})
        assert r.status_code == 201, r.text
        for live in ("identity/conditionalAccess/policies", "identity/conditionalAccess/namedLocations",
                     "policies/crossTenantAccessPolicy/partners"):
            # the first deletable one (a trusted named location must be untrusted first)
            codes = (c.delete(f"{beta}/{live}/{o.get('tenantId') or o['id']}").status_code
                     for o in c.get(f"{beta}/{live}").json()["value"])
            assert 204 in codes, live
        custom = c.post(f"{sim.graph_url}/roleManagement/directory/roleDefinitions", json={
            "displayName": "probe role", "isEnabled": True,
            "rolePermissions": [{"allowedResourceActions": ["microsoft.directory/groups/basic/update"]}]}).json()
        assert c.delete(f"{sim.graph_url}/roleManagement/directory/roleDefinitions/{custom['id']}").status_code == 204
        r = c.post(f"{sim.graph_url}/policies/tokenLifetimePolicies",
                   json={"displayName": "probe", "definition": ['{"TokenLifetimePolicy":{"Version":1}}']})
        assert r.status_code == 201, r.text
        user = c.get(f"{sim.graph_url}/users").json()["value"][0]["id"]
        roles = [d["id"] for d in c.get(f"{sim.graph_url}/roleManagement/directory/roleDefinitions").json()["value"]]
        codes = (c.post(f"{sim.graph_url}/roleManagement/directory/roleAssignmentScheduleRequests", json={
            "action": "adminAssign", "principalId": user, "roleDefinitionId": role, "directoryScopeId": "/",
            "justification": "probe", "scheduleInfo": {"startDateTime": "2026-01-01T00:00:00Z",
                                                       "expiration": {"type": "noExpiration"}}}).status_code
                 for role in roles)
        assert 201 in codes, "no role left to assign"
        r = c.post(f"{sim.graph_url}/roleManagement/directory/roleEligibilityScheduleRequests", json={
            "action": "adminAssign", "principalId": user, "roleDefinitionId": roles[-1], "directoryScopeId": "/",
            "justification": "probe", "scheduleInfo": {"expiration": {"type": "noExpiration"}}})
        assert r.status_code == 201, r.text
        for coll in ("eligibilityScheduleRequests", "assignmentScheduleRequests"):  # PIM for Groups
            r = c.post(f"{sim.graph_url}/identityGovernance/privilegedAccess/group/{coll}", json={
                "action": "adminAssign", "groupId": pim_group(sim), "principalId": user, "accessId": "member"})
            assert r.status_code == 201, r.text


def pim_group(sim: Simulator) -> str:
    """The group populate() gives PIM for Groups schedules: the first assigned (not dynamic) one."""
    groups = httpx.get(f"{sim.graph_url}/groups", headers=ADMIN).json()["value"]
    return str(next(g["id"] for g in groups if "DynamicMembership" not in g.get("groupTypes", [])))


_tokens: dict[tuple[int, frozenset[str]], str] = {}


def app_token(sim: Simulator, perms: frozenset[str]) -> str:
    """A client-credentials token holding exactly `perms`, for a new app (one per permission set)."""
    cached = _tokens.get((id(sim), perms))
    if cached:
        return cached
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        graph = c.get("/servicePrincipals", params={"$filter": "displayName eq 'Microsoft Graph'"}).json()["value"][0]
        app = c.post("/applications", json={"displayName": f"perm-probe-{len(_tokens)}"}).json()
        sp = c.post("/servicePrincipals", json={"appId": app["appId"]}).json()
        for p in sorted(perms):
            r = c.post(f"/servicePrincipals/{graph['id']}/appRoleAssignedTo",
                       json={"principalId": sp["id"], "resourceId": graph["id"], "appRoleId": GRAPH_PERMISSIONS[p]})
            assert r.status_code == 201, r.text
        secret = c.post(f"/applications/{app['id']}/addPassword", json={"passwordCredential": {}}).json()["secretText"]
    tok = httpx.post(sim.token_url, data={"grant_type": "client_credentials", "client_id": app["appId"],
                                          "client_secret": secret, "scope": "https://graph.microsoft.com/.default"})
    _tokens[(id(sim), perms)] = tok.json()["access_token"]
    return _tokens[(id(sim), perms)]


def chosen(r: Route, method: str) -> frozenset[str]:
    """The token for a call: the file's least-privileged permission the simulator accepts (else one the file
    grants, else the simulator's own), mintable in the seed, with what the simulator needs on top."""
    assert r.perms is not None
    ours = accepted(r.perms, method)
    grants = metadata.grants(method, file_path(r.template))
    least = [g.permission for g in grants if g.least]
    granted = [g.permission for g in grants]
    for pool in (least, granted, list(ours)):
        for p in pool:
            if p in ours and p in GRAPH_PERMISSIONS and all(x in GRAPH_PERMISSIONS for x in ours[p]):
                return frozenset((p, *ours[p]))
    if not any(p in GRAPH_PERMISSIONS for p in ours):
        # Policy.Read/ReadWrite.DeviceConfiguration: no source we hold publishes their app role ids.
        pytest.skip(f"{method} {r.template}: no published app role id for any of {sorted(ours)}")
    raise AssertionError(f"{method} {r.template}: no mintable permission among {sorted(ours)}")


def url(sim: Simulator, r: Route) -> str:
    """The route with each key filled by an object the tenant holds (the listing before it), else a fresh id:
    the simulator looks the object up before checking the caller's permissions."""
    root = sim.graph_url.replace("/v1.0", "/beta") if r.beta_only else sim.graph_url
    path = r.template.replace("({altKey}='{value}')", "/{id}")
    while "{" in path:
        head, _, tail = path.partition("{")
        _, _, tail = tail.partition("}")
        scoped = next((x.list_filter_required for x in RESOURCES if x.path == head.rstrip("/")), "")
        if any(x.list_filter_one_of for x in RESOURCES if x.path == head.rstrip("/")):
            scoped = f"groupId eq '{pim_group(sim)}'"
        listing = httpx.get(f"{root}/{head.rstrip('/')}", headers=ADMIN,
                            params={"$filter": scoped} if scoped else None)
        values = listing.json().get("value", []) if listing.status_code == 200 else []
        key = next((v.get("id") or v.get("tenantId") for v in values), None) or str(uuid.uuid4())
        path = head + key + tail
    return f"{root}/{path}"


def call(sim: Simulator, r: Route, method: str, token: str) -> httpx.Response:
    body = None if method in ("GET", "DELETE") else {}
    return httpx.request(method, url(sim, r), json=body, headers={"Authorization": f"Bearer {token}"})


def sample() -> list[tuple[Route, str]]:
    """One GET and one write per distinct Perms object, and every app_only_ok=False route and method."""
    out: list[tuple[Route, str]] = []
    seen: set[tuple[Perms, bool]] = set()
    for r, m in cases():
        if r.perms is None or not r.app_only_ok or not_a_permission_decision(r, m):
            continue
        k = (r.perms, m == "GET")
        if k not in seen and (m == "GET" or r.perms.write):
            seen.add(k)
            out.append((r, m))
    return out


@pytest.mark.parametrize("case", sample(), ids=lambda c: f"{c[1]} {c[0].template}")
def test_least_privileged_token_is_let_through_and_unrelated_refused(oracle: Simulator, case) -> None:
    metadata.require()
    r, method = case
    perms = chosen(r, method)
    unrelated = frozenset(p for p in UNRELATED if p not in implied(set(accepted(r.perms, method))))  # type: ignore[arg-type]
    no = call(oracle, r, method, app_token(oracle, unrelated))
    assert no.status_code == 403, f"{method} {r.template} with {sorted(unrelated)}: {no.status_code}"
    assert no.json()["error"]["code"] == "Authorization_RequestDenied"
    ok = call(oracle, r, method, app_token(oracle, perms))
    assert ok.status_code not in (401, 403), f"{method} {r.template} with {sorted(perms)}: {ok.status_code} {ok.text}"


@pytest.mark.parametrize("case", [(r, m) for r, m in cases() if not r.app_only_ok],
                         ids=lambda c: f"{c[1]} {c[0].template}")
def test_delegated_only_routes_refuse_every_app_token(oracle: Simulator, case) -> None:
    """Restore and purge (and terms of use) refuse app tokens holding every permission; reading one deleted item
    stays readable with the read permission, as the container's list is (https://learn.microsoft.com/graph/api/conditionalaccessroot-list-deleteditems?view=graph-rest-beta)."""
    r, method = case
    assert r.perms is not None
    everything = frozenset(p for need in r.perms.write for p in need) | frozenset(r.perms.read)
    resp = call(oracle, r, method, app_token(oracle, everything))
    if method == "GET" and BY_NAME[r.resource or ""].app_only_ok:  # a recycle bin's read
        assert resp.status_code == 200, resp.text
        return
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "Authorization_RequestDenied", resp.text


@pytest.mark.parametrize("case", [(r, m) for r, m in cases() if not_a_permission_decision(r, m)],
                         ids=lambda c: f"{c[1]} {c[0].template}")
def test_methods_graph_does_not_serve_answer_405(oracle: Simulator, case) -> None:
    r, method = case
    resp = httpx.request(method, url(oracle, r), json={}, headers=ADMIN)  # even the dev token: no such method
    assert resp.status_code == 405, resp.text


def test_per_object_deleted_item_rules(oracle: Simulator) -> None:
    """directory/deletedItems/{id}: the deleted object's kind decides (https://learn.microsoft.com/graph/api/directory-deleteditems-get,
    .../directory-deleteditems-restore): a group needs Group.Read.All to read, Group.ReadWrite.All to restore."""
    with httpx.Client(base_url=oracle.graph_url, headers=ADMIN) as c:
        gid = c.post("/groups", json={"displayName": "probe", "mailEnabled": False, "mailNickname": "probe-perm",
                                      "securityEnabled": True}).json()["id"]
        assert c.delete(f"/groups/{gid}").status_code == 204
    item = f"{oracle.graph_url}/directory/deletedItems/{gid}"

    def h(*perms: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {app_token(oracle, frozenset(perms))}"}

    assert httpx.get(item, headers=h("Group.Read.All")).status_code == 200
    assert httpx.get(item, headers=h("User.Read.All")).status_code == 403
    assert httpx.post(f"{item}/restore", headers=h("User.ReadWrite.All")).status_code == 403
    assert httpx.post(f"{item}/restore", headers=h("Group.Read.All")).status_code == 403
    assert httpx.post(f"{item}/restore", headers=h("Group.ReadWrite.All")).status_code == 200
