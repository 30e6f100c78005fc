"""`entragit permissions` checked against Microsoft's permissions.json: every permission exists app-only,
and for every path a kind reads or writes, the manifest's permission is granted there and least-privileged."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from entragit import kinds as kindmod
from entragit import permissions
from entragit.kinds import Kind
from tests import metadata

DOCS = "https://learn.microsoft.com/graph/api/"


@dataclass(frozen=True)
class Call:
    """One request the client makes for a kind: read (export) or write (apply)."""

    method: str
    path: str  # Graph template as the client builds it; `{id}` for keys
    write: bool


def calls(kind: Kind) -> list[Call]:
    """The requests export and apply make for `kind`, from the same Kind fields the code branches on
    (entragit/snapshot.py, reconcile.py, apply.py)."""
    base = kind.path.replace("{parent}", "{id}")
    one = base if kind.singleton else base + "/{id}"
    out = [Call("GET", base, False)]
    out += [Call("GET", f"{one}/{r.name}", False) for r in kind.relations]
    if kind.deleted_list:
        out.append(Call("GET", kind.deleted_list, False))
    if kind.requests:  # create and delete are requests; a delete reads the object's key first
        out += [Call("POST", kind.requests.path, True), Call("GET", one, False)]
    elif kind.create == "post":
        out.append(Call("POST", base, True))
    if kind.create == "upsert":
        out.append(Call("PATCH", one, True))
    if kind.update:
        out.append(Call(kind.update.upper(), one, True))
    for sub in kind.subcollections:  # read inline; written item by item (apply.py _sync_items)
        out.append(Call("GET", f"{one}/{sub.field}", False))
        if sub.patch:
            out.append(Call("PATCH", f"{one}/{sub.field}/{{id}}", True))
        if not sub.fixed:
            out += [Call("POST", f"{one}/{sub.field}", True), Call("DELETE", f"{one}/{sub.field}/{{id}}", True)]
    for child in kind.children:  # read with the object; PUT creates or replaces, DELETE drops (apply.py _put_children)
        out += [Call(m, f"{one}/{child.field}", m != "GET") for m in ("GET", "PUT", "DELETE")]
    # A rule owning every object (custom security attributes: Graph has no delete) means no DELETE.
    deletes = kind.owner({}) is None
    if not kind.singleton and not kind.requests and (kind.create or kind.update) and deletes:
        out.append(Call("DELETE", one, True))
    out += [Call("POST", f"{one}/{action}", True) for action in kind.actions.values()]
    for r in kind.relations:
        # A `via` relation is written on the member: POST {member}/{via}/$ref naming this object.
        sides = [(f"{kindmod.get(t).path}/{{id}}", r.via) for t in r.targets] if r.via else [(one, r.name)]
        for at, rel in sides:
            out += [Call("POST", f"{at}/{rel}/$ref", True), Call("DELETE", f"{at}/{rel}/{{id}}/$ref", True)]
    if kind.deleted_item:
        out.append(Call("POST", kind.deleted_item + "/restore", True))
    return out


def _cases() -> list[tuple[Kind, Call]]:
    """Calls an app makes: delegated-only kinds are never in the app's manifest (test below)."""
    return [(k, c) for k in kindmod.KINDS if not k.delegated_only for c in calls(k)
            if not (c.write and k.writes_delegated_only)]


def _id(case: tuple[Kind, Call]) -> str:
    return f"{case[0].name}:{case[1].method}:{case[1].path}"


_RESTORE = DOCS + "directory-deleteditems-restore"
_DELETED_LIST = DOCS + "directory-deleteditems-list"
_CA_BIN = ("beta-only recycle bin; the v1.0-era file lacks it. Application: not supported (real-graph-findings "
           "row 1): " + DOCS + "conditionalaccesspolicy-restore?view=graph-rest-beta")
_OWNED_BY = ("Application.ReadWrite.OwnedBy reaches only apps the caller owns; entragit manages every app: "
             + DOCS + "application-update")
_SP_OWNED_BY = ("Application.ReadWrite.OwnedBy reaches only service principals the caller owns; entragit manages "
                "every one: " + DOCS + "serviceprincipal-post-serviceprincipals")
_EM_V1 = ("the file has this path only under its beta-era name; EntitlementManagement.Read.All reads, "
          "EntitlementManagement.ReadWrite.All writes: ")
_GROUP_ONE = ("Group.ReadWrite.All also covers create, update, delete, owners and members: one permission for every "
              "group path instead of Group.Create + GroupMember.ReadWrite.All: ")

# Paths the file lists for no Application scheme, with the docs page that grants them.
NOT_IN_FILE: dict[tuple[str, str, str], str] = {
    # The file lists POST/DELETE on applications' appManagementPolicies only without {id}, and nothing for
    # service principals; the docs give both, with Application.Read.All and
    # Policy.ReadWrite.ApplicationConfiguration together.
    **{("appManagementPolicies", m, f"/{owner}/{{id}}/appmanagementpolicies" + tail):
       "the file lacks this assignment path; Application.Read.All and Policy.ReadWrite.ApplicationConfiguration: "
       + DOCS + page
       for owner in ("applications", "serviceprincipals")
       for m, tail, page in (("POST", "", "appmanagementpolicy-post-appliesto"),
                             ("DELETE", "/{id}", "appmanagementpolicy-delete-appliesto"))
       if (owner, m) != ("applications", "POST")},
    **{("authenticationStrengthPolicies", m, "/policies/authenticationstrengthpolicies/{id}/combinationconfigurations"
        + tail): "the file has no combinationConfigurations paths; Policy.Read.AuthenticationMethod reads, "
       "Policy.ReadWrite.ConditionalAccess writes: " + DOCS + page
       for m, tail, page in (("GET", "", "authenticationstrengthpolicy-list-combinationconfigurations"),
                             ("POST", "", "authenticationstrengthpolicy-post-combinationconfigurations"),
                             ("PATCH", "/{id}", "authenticationcombinationconfiguration-update"),
                             ("DELETE", "/{id}", "authenticationstrengthpolicy-delete-combinationconfigurations"))},
    # The file lists entitlement management's catalog resources, resource requests and role scopes only under
    # their beta-era names (accesspackagecatalogs/{id}/accesspackageresources, accesspackageresourcerequests,
    # accesspackages/{id}/accesspackageresourcerolescopes), with the same EntitlementManagement permissions the
    # v1.0 pages give; adding a group app-only also needs Group.ReadWrite.All (the resource request page).
    **{(kind, m, path): _EM_V1 + DOCS + page for kind, m, path, page in (
        ("accessPackageCatalogResources", "GET", "/identitygovernance/entitlementmanagement/catalogs/{id}/resources",
         "accesspackagecatalog-list-resources"),
        ("accessPackageCatalogResources", "GET",
         "/identitygovernance/entitlementmanagement/catalogs/{id}/resources/{id}", "accesspackagecatalog-list-resources"),
        ("accessPackageCatalogResources", "POST", "/identitygovernance/entitlementmanagement/resourcerequests",
         "entitlementmanagement-post-resourcerequests"),
        ("accessPackageResourceRoleScopes", "GET",
         "/identitygovernance/entitlementmanagement/accesspackages/{id}/resourcerolescopes",
         "accesspackage-list-resourcerolescopes"),
        ("accessPackageResourceRoleScopes", "POST",
         "/identitygovernance/entitlementmanagement/accesspackages/{id}/resourcerolescopes",
         "accesspackage-post-resourcerolescopes"),
        ("accessPackageResourceRoleScopes", "DELETE",
         "/identitygovernance/entitlementmanagement/accesspackages/{id}/resourcerolescopes/{id}",
         "accesspackage-delete-resourcerolescopes"))},
    ("namedLocations", "GET", "/identity/conditionalaccess/deleteditems/namedlocations"): _CA_BIN,
    ("namedLocations", "POST", "/identity/conditionalaccess/deleteditems/namedlocations/{id}/restore"): _CA_BIN,
    ("conditionalAccessPolicies", "GET", "/identity/conditionalaccess/deleteditems/policies"): _CA_BIN,
    ("conditionalAccessPolicies", "POST", "/identity/conditionalaccess/deleteditems/policies/{id}/restore"): _CA_BIN,
    ("users", "GET", "/directory/deleteditems/microsoft.graph.user"): "User.Read.All: " + _DELETED_LIST,
    ("groups", "GET", "/directory/deleteditems/microsoft.graph.group"): "Group.Read.All: " + _DELETED_LIST,
    ("administrativeUnits", "GET", "/directory/deleteditems/microsoft.graph.administrativeunit"):
        "AdministrativeUnit.Read.All: " + _DELETED_LIST,
    ("applications", "GET", "/directory/deleteditems/microsoft.graph.application"):
        "Application.Read.All: " + _DELETED_LIST,
    ("servicePrincipals", "GET", "/directory/deleteditems/microsoft.graph.serviceprincipal"):
        "Application.Read.All: " + _DELETED_LIST,
    ("groups", "POST", "/groups/{id}/members"):
        "the file has no members/$ref; GroupMember.ReadWrite.All or Group.ReadWrite.All: " + DOCS + "group-post-members",
    ("authenticationMethodConfigurations", "GET", "/policies/authenticationmethodspolicy/authenticationmethodconfigurations"):
        "the file lists each configuration by id only; Policy.Read.AuthenticationMethod: "
        + DOCS + "authenticationmethodspolicy-get",
}

# Where the manifest's permission is not one the file grants: the file's restore path names user permissions
# only, the docs table grants each kind's own ReadWrite permission.
NOT_GRANTED: dict[tuple[str, str, str], str] = {
    ("groups", "POST", "/directory/deleteditems/{id}/restore"): "groups: Group.ReadWrite.All: " + _RESTORE,
    ("administrativeUnits", "POST", "/directory/deleteditems/{id}/restore"):
        "administrative units: AdministrativeUnit.ReadWrite.All: " + _RESTORE,
    ("applications", "POST", "/directory/deleteditems/{id}/restore"): "applications: Application.ReadWrite.All: " + _RESTORE,
    ("servicePrincipals", "POST", "/directory/deleteditems/{id}/restore"):
        "service principals: Application.ReadWrite.All: " + _RESTORE,
}

# Where the manifest deliberately holds a permission the file does not mark least-privileged.
NOT_LEAST: dict[tuple[str, str, str], str] = {
    ("roleManagementPolicyAssignments", "GET", "/policies/rolemanagementpolicyassignments"):
        "the file marks RoleManagement.Read.All (every RBAC provider); RoleManagement.Read.Directory is narrower, "
        "listed before it, and held for role definitions: " + DOCS + "policyroot-list-rolemanagementpolicyassignments",
    ("users", "GET", "/users"): "User.ReadBasic.All returns a basic profile only; export $selects accountEnabled, "
                                "department, employeeId...: User.Read.All is least for them: " + DOCS + "user-list",
    ("users", "POST", "/directory/deleteditems/{id}/restore"):
        "User.DeleteRestore.All restores only; User.ReadWrite.All (needed to create and update) covers it: " + _RESTORE,
    ("groups", "GET", "/groups"): "Group.ReadBasic.All leaves out properties entragit manages (membershipRule, "
                                  "visibility...); Group.Read.All: " + DOCS + "group-list",
    ("groups", "GET", "/groups/{id}/owners"): "one read permission for groups and their relations: " + DOCS + "group-list-owners",
    ("groups", "GET", "/groups/{id}/members"): "one read permission for groups and their relations: " + DOCS + "group-list-members",
    ("groups", "POST", "/groups"): _GROUP_ONE + DOCS + "group-post-groups",
    ("groups", "PATCH", "/groups/{id}"): "the file marks only Group-NestingSupport.ReadWrite.All least; the docs table "
                                         "says Group.ReadWrite.All: " + DOCS + "group-update",
    ("groups", "DELETE", "/groups/{id}/members/{id}"): _GROUP_ONE + DOCS + "group-delete-members",
    ("applications", "POST", "/applications"): "AppRegistration.Create creates only; " + _OWNED_BY,
    ("applications", "PATCH", "/applications/{id}"): _OWNED_BY,
    ("applications", "DELETE", "/applications/{id}"): _OWNED_BY,
    ("applications", "POST", "/applications/{id}/owners"): _OWNED_BY,
    ("applications", "DELETE", "/applications/{id}/owners/{id}"): _OWNED_BY,
    ("applications", "POST", "/directory/deleteditems/{id}/restore"): _OWNED_BY,
    # An sts policy's assignment: the file marks the OwnedBy scheme least (with Policy.Read.All); entragit assigns
    # policies to every app and service principal, so the policy permission and Application.ReadWrite.All.
    **{(kind, m, f"/{owner}/{{id}}/{kind.lower()}" + tail): _OWNED_BY if owner == "applications" else _SP_OWNED_BY
       for kind, owners in (("tokenLifetimePolicies", ("applications", "serviceprincipals")),
                            ("claimsMappingPolicies", ("serviceprincipals",)),
                            ("homeRealmDiscoveryPolicies", ("serviceprincipals",)),
                            ("tokenIssuancePolicies", ("applications",)))
       for owner in owners for m, tail in (("POST", ""), ("DELETE", "/{id}"))},
    ("federatedIdentityCredentials", "POST", "/applications/{id}/federatedidentitycredentials"): _OWNED_BY,
    ("federatedIdentityCredentials", "PATCH", "/applications/{id}/federatedidentitycredentials/{id}"): _OWNED_BY,
    ("federatedIdentityCredentials", "DELETE", "/applications/{id}/federatedidentitycredentials/{id}"): _OWNED_BY,
    ("servicePrincipals", "POST", "/serviceprincipals"): _SP_OWNED_BY,
    ("servicePrincipals", "PATCH", "/serviceprincipals/{id}"): _SP_OWNED_BY,
    ("servicePrincipals", "DELETE", "/serviceprincipals/{id}"): _SP_OWNED_BY,
    ("servicePrincipals", "POST", "/serviceprincipals/{id}/owners"): _SP_OWNED_BY,
    ("servicePrincipals", "DELETE", "/serviceprincipals/{id}/owners/{id}"): _SP_OWNED_BY,
    ("servicePrincipals", "POST", "/directory/deleteditems/{id}/restore"): _SP_OWNED_BY,
}

# Permissions the manifest asks for that the file grants on no path we call, from the docs alone.
DOCS_ONLY: dict[str, str] = {
    "Member.Read.Hidden": "hidden-membership groups and administrative units list members only with it: "
                          + DOCS + "administrativeunit-list-members",
    "RoleManagement.ReadWrite.Directory": "role-assignable groups are written only with it on top: "
                                          + DOCS + "group-delete",
}


def _manifest(kind: Kind, call: Call) -> frozenset[str]:
    """What `entragit permissions` has the app hold when it makes `call` for `kind`."""
    return frozenset(permissions.for_apply([kind]) if call.write else permissions.for_export([kind]))


def _key(kind: Kind, call: Call) -> tuple[str, str, str]:
    return kind.name, call.method, metadata.normalize(call.path)


def test_every_manifest_permission_is_an_application_permission() -> None:
    metadata.require()
    listed = set(permissions.for_apply(kindmod.KINDS)) | set(permissions.EXPORT_OPTIONAL)
    listed |= {p for k in kindmod.KINDS if not k.delegated_only for p in k.read_perm}
    unknown = sorted(listed - metadata.application_permissions())
    assert not unknown, f"not Application permissions in permissions.json: {unknown}"


def test_delegated_only_kinds_have_no_application_grant() -> None:
    """A kind marked delegated-only is one the file grants app-only on none of its paths (and stays
    out of the app's manifest); once Graph grants it to apps, the mark goes."""
    metadata.require()
    marked = [k for k in kindmod.KINDS if k.delegated_only]
    assert marked
    for kind in marked:
        assert not set(permissions.for_apply([kind])) - set(permissions.READ_EXTRA), kind.name
        for call in calls(kind):
            assert not metadata.granting(call.method, call.path), (kind.name, call.method, call.path)


def test_delegated_only_writes_have_no_application_grant() -> None:
    """A kind whose writes are marked delegated-only (PIM policy rules) is one the file grants to apps on
    none of its write paths, and the app's manifest carries none of its write permissions."""
    metadata.require()
    marked = [k for k in kindmod.KINDS if k.writes_delegated_only]
    assert marked
    for kind in marked:
        assert not set(kind.write_perm) & set(permissions.for_apply([kind])), kind.name
        for call in calls(kind):
            if call.write:
                assert not metadata.granting(call.method, call.path), (kind.name, call.method, call.path)


@pytest.mark.parametrize("case", _cases(), ids=_id)
def test_manifest_permission_is_granted_for_the_path(case: tuple[Kind, Call]) -> None:
    metadata.require()
    kind, call = case
    key = _key(kind, call)
    granted = metadata.granting(call.method, call.path)
    if not granted:
        assert key in NOT_IN_FILE, f"{key}: no Application permission in permissions.json; list it with a docs URL"
        return
    assert key not in NOT_IN_FILE, f"{key} is in permissions.json now: drop the NOT_IN_FILE entry"
    have = _manifest(kind, call) & granted
    if key in NOT_GRANTED:
        assert not have, f"{key}: the manifest is granted now; drop the NOT_GRANTED entry"
        return
    assert have, f"{kind.name} {key}: manifest {sorted(_manifest(kind, call))} grants none of {sorted(granted)}"


@pytest.mark.parametrize("case", _cases(), ids=_id)
def test_manifest_permission_is_least_privileged(case: tuple[Kind, Call]) -> None:
    metadata.require()
    kind, call = case
    key = _key(kind, call)
    least = metadata.least_privileged(call.method, call.path)
    if key in NOT_GRANTED:
        pytest.skip(f"{key}: the file's grants for this path do not cover this kind (NOT_GRANTED)")
    if not least:
        pytest.skip(f"permissions.json marks no least-privileged Application permission for {key}")
    ours = _manifest(kind, call)
    if key in NOT_LEAST:
        assert not ours & least, f"{key}: the manifest holds a least-privileged one now; drop the NOT_LEAST entry"
        return
    assert ours & least, f"{kind.name} {key}: least-privileged is {sorted(least)}, the manifest has {sorted(ours)}"


def test_exceptions_name_paths_the_client_calls() -> None:
    called = {_key(k, c) for k, c in _cases()}
    stale = sorted(k for table in (NOT_IN_FILE, NOT_GRANTED, NOT_LEAST) for k in table if k not in called)
    assert not stale, f"exceptions for paths no kind calls: {stale}"
    for table in (NOT_IN_FILE, NOT_GRANTED, NOT_LEAST):
        for k, why in table.items():
            assert "https://learn.microsoft.com/" in why, f"{k}: give the Graph docs URL that justifies it"


def test_docs_only_permissions_are_used_and_exist() -> None:
    metadata.require()
    everything = set(permissions.for_apply(kindmod.KINDS))
    for perm, why in DOCS_ONLY.items():
        assert perm in everything, f"{perm} is no longer in the manifest: drop the DOCS_ONLY entry"
        assert perm in metadata.application_permissions(), perm
        assert "https://learn.microsoft.com/" in why


def test_every_write_permission_grants_some_path_the_kind_writes() -> None:
    """No write permission is carried for nothing: each grants a write path of its kind (or is docs-only)."""
    metadata.require()
    for kind in kindmod.KINDS:
        writes = [c for c in calls(kind) if c.write]
        if kind.delegated_only or kind.writes_delegated_only:
            continue  # no Application grant at all: test_delegated_only_kinds_have_no_application_grant
        for perm in kind.write_perm:
            if perm in DOCS_ONLY or not writes:
                continue
            used = [c for c in writes if perm in metadata.granting(c.method, c.path)]
            assert used or all(_key(kind, c) in NOT_IN_FILE for c in writes), (
                f"{kind.name}: {perm} grants none of {[(c.method, c.path) for c in writes]}")


def test_broader_write_permissions_are_granted_wherever_they_stand_in() -> None:
    """apply's permission check accepts a kind's write_broader instead of its write permission: only
    where permissions.json grants the broader one on every write path the narrow one grants."""
    metadata.require()
    for kind in kindmod.KINDS:
        for perm, broader in kind.write_broader.items():
            assert perm in kind.write_perm, f"{kind.name}: {perm} is not a write permission of the kind"
            writes = [c for c in calls(kind) if c.write and perm in metadata.granting(c.method, c.path)]
            assert writes, f"{kind.name}: {perm} grants no write path"
            for b in broader:
                gaps = [(c.method, c.path) for c in writes if b not in metadata.granting(c.method, c.path)]
                assert not gaps, f"{kind.name}: {b} does not grant {gaps}"
