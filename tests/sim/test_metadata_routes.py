"""Every route the simulator serves, method by method, against Microsoft's permissions.json.

For each (method, route) the application permissions the simulator accepts are compared with the
ones the file grants under the Application scheme: the file's least-privileged permission must be
accepted, nothing the file does not grant may be accepted, and a route the file does not list for
apps must be one the simulator refuses to apps (or an exception below). Each known difference is a
row of EXCEPTIONS with the docs page that explains it; a new difference, or a row that no longer
matches anything, fails. Behaviour (403 for app tokens on CA restore/purge) is pinned over HTTP in
tests/sim/test_recycle_bins.py; the per-object routes (perms=None) in test_deleted.py and
test_directory_objects.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from entragit_sim import Simulator
from tests import metadata

Diff = tuple[str, str, str]  # (what, method, template): what = no-app-grant | not-least | not-granted


@dataclass(frozen=True)
class Exception_:
    what: str
    template: str  # regex over the route template
    why: str
    docs: str
    methods: str = "GET|POST|PATCH|PUT|DELETE"


EXCEPTIONS = (
    Exception_("no-app-grant", r"identity/conditionalAccess/deletedItems/.*|policies/deletedItems/.*",
               "beta policy recycle bins: the file lists no Application grant; the docs page says Application "
               "is not supported for restore/purge (the simulator refuses apps there) and lists Policy.Read.All "
               "for listing", "https://learn.microsoft.com/graph/api/policydeletableitem-list?view=graph-rest-beta"),
    Exception_("no-app-grant", r"directory/deletedItems/microsoft\.graph\.\w+",
               "typed recycle-bin lists: the file only lists /directory/deleteditems/{id} forms",
               "https://learn.microsoft.com/graph/api/directory-deleteditems-list"),
    Exception_("no-app-grant", r"identity/conditionalAccess/authenticationStrength/policies.*",
               "beta-only alias of policies/authenticationStrengthPolicies",
               "https://learn.microsoft.com/graph/api/resources/authenticationstrengthpolicy?view=graph-rest-beta"),
    Exception_("no-app-grant", r"\w+\(\{altKey\}='\{value\}'\)",
               "alternate-key addressing (appId=, userPrincipalName=) is not spelled out in the file",
               "https://learn.microsoft.com/graph/api/application-get"),
    Exception_("no-app-grant", r"policies/authenticationMethodsPolicy/authenticationMethodConfigurations(/\$count)?",
               "the collection itself is not listed; only configurations by id",
               "https://learn.microsoft.com/graph/api/authenticationmethodspolicy-list-authenticationmethodconfigurations"),
    Exception_("no-app-grant", r"roleManagement/directory/(roleAssignments|roleAssignmentSchedule\w+)/\{id\}",
               "no PATCH in Graph: the route table lists the method, the handler answers 405",
               "https://learn.microsoft.com/graph/api/resources/unifiedroleassignment", "PATCH"),
    Exception_("no-app-grant", r"groups/\{id\}/members/\$ref|.*/appRole\w+/\{id\}|servicePrincipals/\{id\}/oauth2PermissionGrants/\{id\}",
               "finding: listed in the file only for other methods or in another form; docs grant the "
               "collection's permission", "https://learn.microsoft.com/graph/api/group-post-members"),
    Exception_("not-least", r"groups.*",
               "narrower group permissions (Group.ReadBasic.All, Group.Create, GroupMember.ReadBasic.All, "
               "Group-NestingSupport) are not modelled: the client never asks for them",
               "https://learn.microsoft.com/graph/api/group-list"),
    Exception_("not-least", r"organization.*",
               "the file marks a device-management permission least for /organization; the docs page names "
               "Organization.Read.All", "https://learn.microsoft.com/graph/api/organization-get"),
    Exception_("not-least", r"roleManagement/directory/roleAssignmentScheduleRequests.*",
               "finding: the file marks only ReadWrite permissions least for reads of schedule requests",
               "https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignmentschedulerequests"),
    Exception_("not-least", r"applications/\{id\}/federatedIdentityCredentials/.*",
               "Application.ReadWrite.OwnedBy is least for owned apps only; the simulator models tenant-wide access",
               "https://learn.microsoft.com/graph/api/federatedidentitycredential-get"),
    Exception_("not-granted", r".*", "Directory.Read.All / Directory.ReadWrite.All are the documented "
               "higher-privileged permissions for directory objects; the file leaves them out of some paths",
               "https://learn.microsoft.com/graph/permissions-reference#directoryreadwriteall"),
    Exception_("not-granted", r"organization/\{id\}", "the file lists Organization.Read.All for the list but "
               "not for the item; the docs page grants it for both", "https://learn.microsoft.com/graph/api/organization-get"),
    Exception_("not-granted", r"roleManagement/.*", "RoleManagement.Read.All is documented as a higher-privileged "
               "permission for directory role management reads",
               "https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignments"),
    Exception_("not-granted", r"identity/conditionalAccess/(policies|authenticationContextClassReferences).*",
               "finding: the simulator accepts Policy.Read.ConditionalAccess / Policy.Read.All (and "
               "Policy.ReadWrite.ConditionalAccess for contexts) where the file does not list them",
               "https://learn.microsoft.com/graph/api/conditionalaccessroot-list-policies"),
    Exception_("not-granted", r"(users|groups|servicePrincipals)/\{id\}/appRoleAssign\w+(/\{id\})?|groups/\{id\}/owners.*|applications/\{id\}/federatedIdentityCredentials.*",
               "finding: app role assignment views and group owners accept the collection's broader read "
               "permissions (Application.Read.All, GroupMember.ReadWrite.All)",
               "https://learn.microsoft.com/graph/api/user-list-approleassignments"),
)


@pytest.fixture(scope="module")
def routes() -> list:
    metadata.require()
    return list(Simulator(seed="empty").router.routes)


def _accepted(route, method: str) -> set[str]:
    perms = route.perms
    return set(perms.read) if method == "GET" else {p for need in perms.write for p in need}


def _path(template: str) -> str:
    return "/" + template.replace("/$count", "")


def _diffs(routes) -> list[tuple[str, str, str, tuple[str, ...]]]:
    out = []
    for r in routes:
        for m in r.methods:
            if r.perms is None:
                continue  # depends on the object found: pinned over HTTP elsewhere (module docstring)
            accepted, path = _accepted(r, m), _path(r.template)
            granted = metadata.granting(m, path)
            if not granted:
                if r.app_only_ok:
                    out.append(("no-app-grant", m, r.template, ()))
                continue
            least = metadata.least_privileged(m, path)
            if least and not least & accepted:
                out.append(("not-least", m, r.template, tuple(sorted(least))))
            extra = {p for p in accepted if p not in granted and p.replace(".Read.", ".ReadWrite.") not in granted}
            for p in sorted(extra):
                out.append(("not-granted", m, r.template, (p,)))
    return out


def _explained(d: tuple[str, str, str, tuple[str, ...]]) -> Exception_ | None:
    what, method, template, perms = d
    for e in EXCEPTIONS:
        if e.what != what or not re.fullmatch(e.methods, method) or not re.fullmatch(e.template, template):
            continue
        if what == "not-granted" and e.template == r".*" and not perms[0].startswith("Directory."):
            continue
        return e
    return None


def test_every_route_and_method_agrees_with_permissions_json_or_is_explained(routes) -> None:
    unexplained = [d for d in _diffs(routes) if _explained(d) is None]
    assert not unexplained, "\n".join(f"{w} {m} {t} {p}" for w, m, t, p in unexplained)


def test_no_exception_is_stale(routes) -> None:
    used = {_explained(d) for d in _diffs(routes)}
    stale = [e.template for e in EXCEPTIONS if e not in used]
    assert not stale, stale


def test_every_route_has_a_permission_decision(routes) -> None:
    """A new route without permissions must be one whose permission depends on the object it finds."""
    per_object = {"$batch", "directory/deletedItems", "directory/deletedItems/{cast}", "directory/deletedItems/{id}",
                  "directory/deletedItems/{id}/restore", "directoryObjects/getByIds", "directoryObjects/{id}"}
    assert {r.template for r in routes if r.perms is None} == per_object


def test_routes_apps_may_not_use_are_ones_the_file_grants_no_app(routes) -> None:
    for r in routes:
        if r.app_only_ok:
            continue
        for m in r.methods:
            assert not metadata.granting(m, _path(r.template)) or m == "GET", (m, r.template)
