"""The simulator's resource table: one row per Graph resource, written from Graph's docs (graph-notes 1, 2, 4, 5, 7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from entragit_sim.builtins import ROLE_TEMPLATES

# Server-managed on every kind (graph-notes 2: "always strip"); writes carrying them are rejected.
ALWAYS_READ_ONLY = ("createdDateTime", "modifiedDateTime", "deletedDateTime")


@dataclass(frozen=True)
class Perms:
    """Application permissions: any one of `read` grants GET; any one tuple of `write` (all of it) grants writes."""

    read: tuple[str, ...]
    write: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class View:
    """A nested route over a flat collection, e.g. servicePrincipals/{parent}/appRoleAssignedTo."""

    path: str  # with one {parent} placeholder
    parent: str  # resource name the {parent} id belongs to
    fk: str  # property of the child that holds the parent id
    writable: bool = True


@dataclass(frozen=True)
class Licence:
    """What Graph answers, for every request, a tenant without the licence a resource needs
    (Simulator(unlicensed=True)). Graph documents none of these answers: each comes from a reported one."""

    status: int
    code: str
    message: str


# Entitlement management: GET .../beta/identityGovernance/entitlementManagement/settings on an unlicensed
# tenant (https://github.com/AzureAD/AzureAD-Governance-Assessment/issues/2).
EM_LICENCE = Licence(
    403, "NoLicense", "User is not authorized to perform the operation. Reason: Tenant does not meet license requirement!"
)
# PIM: the message is what privilegedAccess/azureResources answered a tenant with P1 only
# (https://github.com/microsoft/EntraExporter/issues/61) and what Microsoft365DSC matches for directory-role
# eligibility (Modules/Microsoft365DSC/DSCResources/MSFT_AADRoleEligibilityScheduleRequest/*.psm1); the code is
# the one Microsoft365DSC matches beside it for PIM of Azure roles (MSFT_AzureRoleAssignmentScheduleRequest/*.psm1,
# https://github.com/microsoft/Microsoft365DSC). Neither source shows the status: 403 is assumed.
PIM_LICENCE = Licence(403, "AadPremiumLicenseRequired", "The tenant needs an AAD Premium 2 license.")
# Access reviews: no source shows what an unlicensed tenant gets; assumed to be entitlement management's
# answer (both identityGovernance, both need Entra ID P2 or Governance).
REVIEW_LICENCE = EM_LICENCE


@dataclass(frozen=True)
class Resource:
    """One Graph resource. Code branches on these fields, never on `name`."""

    name: str  # store collection, == seed key
    path: str | None  # route under /v1.0 and /beta; None = only reachable through views
    odata_type: str  # entity type, e.g. "#microsoft.graph.group"
    perms: Perms
    singleton: bool = False
    fixed_id: str = ""  # store key of a singleton
    key: str = "id"  # property that is the URL key (partners: tenantId)
    id_style: str = "guid"  # guid | opaque | client (URL chooses it) | key (body property `key`)
    create: str = "POST"  # POST | PATCH (upsert by URL id) | PUT (child singleton) | "" (no create)
    # PATCH | PUT, the body being the whole object ("A PUT request expects the full object to be passed
    # in": https://learn.microsoft.com/graph/api/accessreviewscheduledefinition-update). On an item, a
    # property with a default that the body leaves out goes back to it; a singleton merges the body (the
    # docs do not say what a left-out property becomes).
    update: str = "PATCH"
    # The update answers 200 with the updated object instead of 204 (accesspackageassignmentpolicy-update,
    # deviceregistrationpolicy-update).
    update_answers_object: bool = False
    deletable: bool = True
    updatable: bool = True
    # What a tenant without the licence this needs is answered (Simulator(unlicensed=True)); None: no licence.
    licence: Licence | None = None
    required: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()
    create_only: tuple[str, ...] = ()  # settable on POST, rejected on PATCH
    polymorphic: tuple[
        str, ...
    ] = ()  # allowed @odata.type values; non-empty: required on POST and PATCH
    directory: bool = False  # a directoryObject: Request_* error codes, $count rules
    soft_delete: str = ""  # "" hard | the Store.deleted key of its RECYCLE_BINS row
    throttle: str = "ru"  # ru (resource units) | ca (1 rps per tenant) | none
    rels: tuple[str, ...] = ()  # $ref relationships to directory objects
    alt_keys: tuple[str, ...] = ()  # /resource(alt='value') addressing
    aliases: tuple[str, ...] = ()  # more paths for the same collection (beta-only routes)
    beta_only_aliases: bool = True
    # `path` exists on beta only: v1.0 answers 400 BadRequest "Resource not found for the segment
    # '<last segment>'." (Graph's answer to a beta resource called on v1.0, quoted in
    # https://github.com/microsoftgraph/microsoft-graph-docs/issues/4900).
    beta_only: bool = False
    views: tuple[View, ...] = ()
    parent: str = ""  # for child singletons: the parent resource name (URL {parent})
    builtin: tuple[str, Any] | None = None  # (prop, value) marking read-only built-in objects
    unique: tuple[str, ...] = ()  # properties whose values must be unique in the tenant
    # What a v1.0 GET returns without $select when that is a documented subset, not every property.
    default_select: tuple[str, ...] = ()
    max_top: int = 999
    audit: tuple[str, str] = ("Policy", "Policy")  # (category, targetResources type)
    defaults: dict[str, Any] = field(default_factory=dict)  # properties Graph fills on create
    hook: str = ""  # name of a narrow hook in hooks.py
    ru_list_cost: int = 1  # base RU of a list GET (graph-notes 6.5)
    rel_perms: Perms | None = None  # permissions for $ref relationships when narrower ones exist
    purgeable: bool = True  # may be permanently deleted from deleted items
    # Kinds of directory object that v1.0 `$ref` relationship lists leave out (beta lists them).
    v1_rel_hidden: tuple[str, ...] = ()
    # Application permission an app token needs, on top of rel_perms, to list the members of an
    # object whose `visibility` is "HiddenMembership" ("" = no such rule).
    hidden_members_perm: str = ""
    # Objects with onPremisesSyncEnabled true are mastered on-premises: PATCH, DELETE and $ref
    # writes are refused (users and groups synced by Entra Connect).
    sync_mastered: bool = False
    # Soft-deleted objects keep holding their `unique` values until purged (applications).
    deleted_reserve: bool = False
    # A boolean property that, when true on one of these objects, makes its `members` writable only
    # by callers holding a directory role at its scope (restricted management AUs).
    restricts_members: str = ""
    # Navigation properties held with the object but returned only with $expand (agreement files).
    expandable: tuple[str, ...] = ()
    app_only_ok: bool = True  # application tokens may call it (False: "Application: Not supported")
    # A $filter every list must carry, as the docs give it: a list whose filter leaves out a property
    # this names is refused with 400 (PIM policies must be scoped by scopeId and scopeType).
    list_filter_required: str = ""
    # Properties of which a list's $filter must name at least one (PIM for groups: groupId or principalId).
    list_filter_one_of: tuple[str, ...] = ()


def _p(read: tuple[str, ...], *write: tuple[str, ...]) -> Perms:
    return Perms(read=read, write=tuple(write))


DIR_READ = "Directory.Read.All"
DIR_WRITE = "Directory.ReadWrite.All"
# Reads: Policy.Read.All only; Policy.Read.ConditionalAccess does not grant the policies
# (https://learn.microsoft.com/graph/api/conditionalaccessroot-list-policies).
CA_PERMS = _p(
    ("Policy.Read.All",),
    ("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"),
)
NL_PERMS = _p(("Policy.Read.All",), ("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"))
XTENANT_PERMS = _p(("Policy.Read.All",), ("Policy.ReadWrite.CrossTenantAccess",))
AUTHMETHOD_PERMS = _p(
    ("Policy.Read.AuthenticationMethod", "Policy.Read.All"),
    ("Policy.ReadWrite.AuthenticationMethod",),
)
APP_PERMS = _p(
    ("Application.Read.All", DIR_READ),
    ("Application.ReadWrite.All",),
    ("Application.ReadWrite.OwnedBy",),
    (DIR_WRITE,),
)
ROLE_PERMS = _p(
    ("RoleManagement.Read.Directory", "RoleManagement.Read.All", DIR_READ),
    ("RoleManagement.ReadWrite.Directory",),
)
# Role assignments: RoleManagement.Read.All is not among the read permissions
# (https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignments).
ROLE_ASSIGNMENT_PERMS = _p(
    ("RoleManagement.Read.Directory", DIR_READ), ("RoleManagement.ReadWrite.Directory",)
)

# https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignmentscheduleinstances
PIM_PERMS = _p(
    ("RoleAssignmentSchedule.Read.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All"),
    ("RoleAssignmentSchedule.ReadWrite.Directory",),
    ("RoleManagement.ReadWrite.Directory",),
)
# Schedule requests are read with the ReadWrite permissions only: no Read permission is listed
# (https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignmentschedulerequests).
PIM_REQUEST_PERMS = _p(
    ("RoleAssignmentSchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"),
    *PIM_PERMS.write,
)

# https://learn.microsoft.com/graph/api/rbacapplication-list-roleeligibilityschedules
ELIGIBILITY_PERMS = _p(
    ("RoleEligibilitySchedule.Read.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All"),
    ("RoleEligibilitySchedule.ReadWrite.Directory",),
    ("RoleManagement.ReadWrite.Directory",),
)
# As for assignments, requests are read with the ReadWrite permissions only
# (https://learn.microsoft.com/graph/api/rbacapplication-list-roleeligibilityschedulerequests).
ELIGIBILITY_REQUEST_PERMS = _p(
    ("RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"),
    *ELIGIBILITY_PERMS.write,
)

# PIM for Groups (https://learn.microsoft.com/graph/api/privilegedaccessgroup-list-eligibilityschedules,
# .../privilegedaccessgroup-list-assignmentschedules): Read or ReadWrite of the same family, apps included.
GROUP_ELIGIBILITY_PERMS = _p(
    ("PrivilegedEligibilitySchedule.Read.AzureADGroup", "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup"),
    ("PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",),
)
GROUP_ASSIGNMENT_PERMS = _p(
    ("PrivilegedAssignmentSchedule.Read.AzureADGroup", "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup"),
    ("PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",),
)
# Requests are listed with the Read permission too (privilegedaccessgroup-list-eligibilityschedulerequests).
GROUP_PIM_FILTER = ("groupId", "principalId")

# Access reviews (accessreviewset-list-definitions, accessreviewset-post-definitions, ...-update, ...-delete).
REVIEW_PERMS = _p(("AccessReview.Read.All", "AccessReview.ReadWrite.All"), ("AccessReview.ReadWrite.All",))

EM_PERMS = _p(
    ("EntitlementManagement.Read.All", "EntitlementManagement.ReadWrite.All"), ("EntitlementManagement.ReadWrite.All",),
)

# PIM policies for directory roles (https://learn.microsoft.com/graph/api/policyroot-list-rolemanagementpolicies):
# apps read them with these; rules are written by signed-in users only
# (https://learn.microsoft.com/graph/api/unifiedrolemanagementpolicyrule-update: "Application: Not supported").
# The docs also list RoleManagementPolicy.Read/ReadWrite.Directory; Microsoft's permissions.json has them for
# signed-in users only and the Graph SP here has no app role for them, so they are left out.
PIM_POLICY_PERMS = _p(
    ("RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory"),
    ("RoleManagement.ReadWrite.Directory",),
)

# https://learn.microsoft.com/graph/api/directory-list-customsecurityattributedefinitions (and attributeSets)
CSA_PERMS = _p(
    ("CustomSecAttributeDefinition.Read.All", "CustomSecAttributeDefinition.ReadWrite.All"),
    ("CustomSecAttributeDefinition.ReadWrite.All",),
)

_GROUP_DEFAULTS: dict[str, Any] = {
    "classification": None, "description": None, "expirationDateTime": None, "groupTypes": [],
    "isAssignableToRole": None, "membershipRule": None, "membershipRuleProcessingState": None,
    "onPremisesDomainName": None, "onPremisesLastSyncDateTime": None, "onPremisesNetBiosName": None,
    "onPremisesSamAccountName": None, "onPremisesSecurityIdentifier": None, "onPremisesSyncEnabled": None,
    "preferredDataLocation": None, "preferredLanguage": None, "proxyAddresses": [], "resourceBehaviorOptions": [],
    "resourceProvisioningOptions": [], "theme": None, "visibility": None, "onPremisesProvisioningErrors": [],
    "serviceProvisioningErrors": [],
}  # fmt: skip
_APP_DEFAULTS: dict[str, Any] = {
    "description": None, "identifierUris": [], "isFallbackPublicClient": None, "notes": None, "signInAudience": "AzureADMyOrg",
    "tags": [], "tokenEncryptionKeyId": None, "uniqueName": None, "verifiedPublisher": {}, "addIns": [],
    "api": {"acceptMappedClaims": None, "knownClientApplications": [], "requestedAccessTokenVersion": None,
            "oauth2PermissionScopes": [], "preAuthorizedApplications": []},
    "appRoles": [], "info": {}, "keyCredentials": [], "optionalClaims": None, "parentalControlSettings": {},
    "passwordCredentials": [], "publicClient": {"redirectUris": []}, "requiredResourceAccess": [],
    "spa": {"redirectUris": []}, "web": {"homePageUrl": None, "logoutUrl": None, "redirectUris": [],
    "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}},
}  # fmt: skip
_SP_DEFAULTS: dict[str, Any] = {
    "accountEnabled": True, "alternativeNames": [], "appRoleAssignmentRequired": False, "appRoles": [],
    "description": None, "homepage": None, "keyCredentials": [], "loginUrl": None, "logoutUrl": None, "notes": None,
    "notificationEmailAddresses": [], "oauth2PermissionScopes": [], "passwordCredentials": [],
    "preferredSingleSignOnMode": None, "replyUrls": [], "servicePrincipalType": "Application", "tags": [],
}  # fmt: skip

# The stsPolicy kinds (https://learn.microsoft.com/graph/api/resources/stspolicy): one shape, written with
# Policy.ReadWrite.ApplicationConfiguration (resources/tokenlifetimepolicy, claimsmappingpolicy,
# homerealmdiscoverypolicy, tokenissuancepolicy). Each differs only by name, entity type and the objects
# it is assigned on (ASSIGNED_ON below).
STS_POLICIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("tokenLifetimePolicies", "tokenLifetimePolicy", ("applications", "servicePrincipals")),
    ("claimsMappingPolicies", "claimsMappingPolicy", ("servicePrincipals",)),
    ("homeRealmDiscoveryPolicies", "homeRealmDiscoveryPolicy", ("servicePrincipals",)),
    ("tokenIssuancePolicies", "tokenIssuancePolicy", ("applications",)),
)


def _sts_policy(name: str, odata_type: str) -> Resource:
    return Resource(
        name=name,
        path=f"policies/{name}",
        odata_type=f"#microsoft.graph.{odata_type}",
        perms=_p(("Policy.Read.All",), ("Policy.ReadWrite.ApplicationConfiguration",)),
        required=("displayName", "definition"),
        defaults={"isOrganizationDefault": False, "description": None},
    )


RESOURCES: tuple[Resource, ...] = (
    Resource(
        name="conditionalAccessPolicies",
        path="identity/conditionalAccess/policies",
        odata_type="#microsoft.graph.conditionalAccessPolicy",
        perms=CA_PERMS,
        required=("displayName", "state", "conditions"),
        read_only=("templateId",),
        soft_delete="beta",
        throttle="ca",
        hook="ca_policy",
        audit=("Policy", "Policy"),
        defaults={"templateId": None, "sessionControls": None, "grantControls": None},
    ),
    Resource(
        name="namedLocations",
        path="identity/conditionalAccess/namedLocations",
        odata_type="#microsoft.graph.namedLocation",
        perms=NL_PERMS,
        required=("displayName",),
        soft_delete="beta",
        throttle="ca",
        hook="named_location",
        polymorphic=(
            "#microsoft.graph.ipNamedLocation",
            "#microsoft.graph.countryNamedLocation",
            "#microsoft.graph.compliantNetworkNamedLocation",
        ),
    ),
    Resource(
        name="authenticationStrengthPolicies",
        path="policies/authenticationStrengthPolicies",
        odata_type="#microsoft.graph.authenticationStrengthPolicy",
        perms=_p(
            (
                "Policy.Read.All",
                "Policy.Read.AuthenticationMethod",
                "Policy.ReadWrite.ConditionalAccess",
            ),
            ("Policy.ReadWrite.ConditionalAccess",),
            ("Policy.ReadWrite.AuthenticationMethod",),
        ),
        required=("displayName", "allowedCombinations"),
        read_only=("policyType", "requirementsSatisfied"),
        aliases=("identity/conditionalAccess/authenticationStrength/policies",),
        throttle="none",
        builtin=("policyType", "builtIn"),
        hook="auth_strength",
        defaults={
            "description": None,
            "policyType": "custom",
            "requirementsSatisfied": "mfa",
            "combinationConfigurations": [],
        },
    ),
    Resource(
        name="authenticationContextClassReferences",
        path="identity/conditionalAccess/authenticationContextClassReferences",
        odata_type="#microsoft.graph.authenticationContextClassReference",
        perms=_p(
            # Policy.Read.All is not listed; Policy.Read.ConditionalAccess is
            # (https://learn.microsoft.com/graph/api/conditionalaccessroot-list-authenticationcontextclassreferences).
            ("AuthenticationContext.Read.All", "Policy.Read.ConditionalAccess"),
            ("AuthenticationContext.ReadWrite.All",),
            ("Policy.ReadWrite.ConditionalAccess",),
        ),
        id_style="client",
        create="PATCH",
        throttle="none",
        defaults={"displayName": None, "description": None, "isAvailable": False},
    ),
    Resource(
        name="groups",
        path="groups",
        odata_type="#microsoft.graph.group",
        # Group.ReadBasic.All is the least-privileged read (https://learn.microsoft.com/graph/api/group-list).
        perms=_p(("Group.Read.All", "Group.ReadBasic.All", DIR_READ), ("Group.ReadWrite.All",), (DIR_WRITE,)),
        required=("displayName", "mailEnabled", "mailNickname", "securityEnabled"),
        read_only=(
            "mail",
            "proxyAddresses",
            "securityIdentifier",
            "renewedDateTime",
            "expirationDateTime",
            "onPremisesSyncEnabled",
            "onPremisesLastSyncDateTime",
            "onPremisesSecurityIdentifier",
            "onPremisesDomainName",
            "onPremisesNetBiosName",
            "onPremisesSamAccountName",
            "membershipRuleProcessingStatus",
            "createdByAppId",
            "organizationId",
        ),
        # visibility "can be set only ... when the groups are created. It can't be updated":
        # https://learn.microsoft.com/graph/api/resources/group
        create_only=("isAssignableToRole", "resourceProvisioningOptions", "visibility"),
        directory=True,
        soft_delete="directory",
        rels=("members", "owners"),
        unique=("mailNickname",),
        # "service principals are not listed as group members in v1.0" (and not as owners):
        # https://learn.microsoft.com/graph/api/group-list-members
        # https://learn.microsoft.com/graph/api/group-list-owners
        v1_rel_hidden=("servicePrincipals",),
        sync_mastered=True,
        # Hidden-membership groups list members to apps only with Member.Read.Hidden (the same
        # rule as administrative units; Get-EntraGroupMember and group-list-members permissions):
        # https://learn.microsoft.com/graph/api/group-list-members
        hidden_members_perm="Member.Read.Hidden",
        hook="group",
        audit=("GroupManagement", "Group"),
        defaults=_GROUP_DEFAULTS,
        rel_perms=_p(
            ("Group.Read.All", "GroupMember.Read.All", DIR_READ),
            ("Group.ReadWrite.All",),
            ("GroupMember.ReadWrite.All",),
            (DIR_WRITE,),
        ),
    ),
    Resource(
        name="applications",
        path="applications",
        odata_type="#microsoft.graph.application",
        perms=APP_PERMS,
        required=("displayName",),
        read_only=(
            "appId",
            "publisherDomain",
            "createdByAppId",
            "uniqueName",
            "certification",
            "verifiedPublisher",
            "disabledByMicrosoftStatus",
            "passwordCredentials",
            "federatedIdentityCredentials",  # navigation property: its own routes
        ),
        directory=True,
        soft_delete="directory",
        rels=("owners",),
        alt_keys=("appId", "uniqueName"),
        unique=("identifierUris", "uniqueName"),
        # A deleted app keeps its uniqueName (and identifierUris) for its 30 days in deleted items;
        # a new app reusing them gets 400 Request_BadRequest, not 409:
        # https://learn.microsoft.com/graph/api/resources/application (uniqueName: "unique ... immutable")
        # https://github.com/byte5ai/omadia/issues/916
        deleted_reserve=True,
        hook="application",
        audit=("ApplicationManagement", "Application"),
        defaults=_APP_DEFAULTS,
        ru_list_cost=2,
    ),
    Resource(
        name="servicePrincipals",
        path="servicePrincipals",
        odata_type="#microsoft.graph.servicePrincipal",
        perms=APP_PERMS,
        required=("appId",),
        read_only=(
            "appDisplayName",
            "appOwnerOrganizationId",
            "applicationTemplateId",
            "servicePrincipalType",
            "signInAudience",
            "publisherName",
            "passwordCredentials",
        ),
        create_only=("appId",),
        directory=True,
        soft_delete="directory",
        rels=("owners",),
        alt_keys=("appId",),
        hook="service_principal",
        audit=("ApplicationManagement", "ServicePrincipal"),
        defaults=_SP_DEFAULTS,
    ),
    Resource(
        name="appRoleAssignments",
        path=None,
        odata_type="#microsoft.graph.appRoleAssignment",
        perms=_p(
            ("Application.Read.All", DIR_READ),
            ("AppRoleAssignment.ReadWrite.All", "Application.Read.All"),
            ("AppRoleAssignment.ReadWrite.All", DIR_READ),
            (DIR_WRITE,),
        ),
        id_style="opaque",
        required=("principalId", "resourceId", "appRoleId"),
        read_only=(
            "principalDisplayName",
            "principalType",
            "resourceDisplayName",
            "creationTimestamp",
        ),
        updatable=False,
        directory=True,
        hook="app_role_assignment",
        audit=("ApplicationManagement", "ServicePrincipal"),
        views=(
            View("servicePrincipals/{parent}/appRoleAssignedTo", "servicePrincipals", "resourceId"),
            View(
                "servicePrincipals/{parent}/appRoleAssignments", "servicePrincipals", "principalId"
            ),
            View("users/{parent}/appRoleAssignments", "users", "principalId"),
            View("groups/{parent}/appRoleAssignments", "groups", "principalId"),
        ),
    ),
    Resource(
        name="oauth2PermissionGrants",
        path="oauth2PermissionGrants",
        odata_type="#microsoft.graph.oAuth2PermissionGrant",
        perms=_p(
            # https://learn.microsoft.com/graph/api/oauth2permissiongrant-list: Directory.Read.All or
            # DelegatedPermissionGrant.ReadWrite.All (no DelegatedPermissionGrant.Read.All app role exists).
            # finding: fix in seed: the demo seed's entragit-reader app still holds
            # DelegatedPermissionGrant.Read.All (seeds/demo.py); drop it here once the seed grants Directory.Read.All.
            (DIR_READ, "DelegatedPermissionGrant.ReadWrite.All", "DelegatedPermissionGrant.Read.All"),
            ("DelegatedPermissionGrant.ReadWrite.All",),
            (DIR_WRITE,),
        ),
        id_style="opaque",
        required=("clientId", "consentType", "resourceId"),
        directory=True,
        hook="oauth2_grant",
        audit=("ApplicationManagement", "ServicePrincipal"),
        ru_list_cost=2,
        views=(
            View(
                "servicePrincipals/{parent}/oauth2PermissionGrants",
                "servicePrincipals",
                "clientId",
                writable=False,
            ),
        ),
    ),
    Resource(
        name="roleAssignments",
        path="roleManagement/directory/roleAssignments",
        odata_type="#microsoft.graph.unifiedRoleAssignment",
        perms=ROLE_ASSIGNMENT_PERMS,
        id_style="opaque",
        required=("principalId", "roleDefinitionId"),
        updatable=False,
        hook="role_assignment",
        audit=("RoleManagement", "Role"),
        defaults={"directoryScopeId": "/"},
    ),
    # PIM (https://learn.microsoft.com/graph/api/resources/privilegedidentitymanagementv3-overview):
    # a schedule request assigns or activates a role; the active result shows up both as a
    # roleAssignment and as a schedule instance whose assignmentType says Assigned or Activated.
    Resource(
        name="roleAssignmentScheduleRequests", licence=PIM_LICENCE,
        path="roleManagement/directory/roleAssignmentScheduleRequests",
        odata_type="#microsoft.graph.unifiedRoleAssignmentScheduleRequest",
        perms=PIM_REQUEST_PERMS,
        required=("action", "principalId", "roleDefinitionId"),
        updatable=False,
        deletable=False,
        hook="role_schedule_request",
        audit=("RoleManagement", "Role"),
        defaults={"directoryScopeId": "/", "justification": None, "scheduleInfo": None},
    ),
    Resource(
        name="roleAssignmentScheduleInstances", licence=PIM_LICENCE,
        path="roleManagement/directory/roleAssignmentScheduleInstances",
        odata_type="#microsoft.graph.unifiedRoleAssignmentScheduleInstance",
        perms=PIM_PERMS,
        id_style="opaque",
        create="",
        updatable=False,
        deletable=False,
        audit=("RoleManagement", "Role"),
    ),
    # Active assignments as schedules: every active assignment (standing, time-bound or activated)
    # has one; assignmentType says Assigned or Activated
    # (https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignmentschedules).
    Resource(
        name="roleAssignmentSchedules", licence=PIM_LICENCE,
        path="roleManagement/directory/roleAssignmentSchedules",
        odata_type="#microsoft.graph.unifiedRoleAssignmentSchedule",
        perms=PIM_PERMS,
        id_style="opaque",
        create="",
        updatable=False,
        deletable=False,
        audit=("RoleManagement", "Role"),
    ),
    # Eligible assignments: a request with action adminAssign makes the principal eligible (a
    # schedule), adminRemove revokes it; nothing shows up in roleAssignments until activation
    # (https://learn.microsoft.com/graph/api/rbacapplication-post-roleeligibilityschedulerequests).
    Resource(
        name="roleEligibilityScheduleRequests", licence=PIM_LICENCE,
        path="roleManagement/directory/roleEligibilityScheduleRequests",
        odata_type="#microsoft.graph.unifiedRoleEligibilityScheduleRequest",
        perms=ELIGIBILITY_REQUEST_PERMS,
        required=("action", "principalId", "roleDefinitionId"),
        updatable=False,
        deletable=False,
        hook="role_eligibility_request",
        audit=("RoleManagement", "Role"),
        defaults={
            "directoryScopeId": "/", "appScopeId": None, "justification": None, "scheduleInfo": None,
            "isValidationOnly": False, "approvalId": None, "customData": None, "completedDateTime": None,
            "ticketInfo": {"ticketNumber": None, "ticketSystem": None},
        },
    ),
    Resource(
        # Made by Graph, one per role: no create, no delete, no PATCH of the policy itself in v1.0; rules
        # are read with $expand=rules and written through their own route (ACTIONS below, pimpolicy.py).
        name="roleManagementPolicies",
        path="policies/roleManagementPolicies",
        odata_type="#microsoft.graph.unifiedRoleManagementPolicy",
        perms=PIM_POLICY_PERMS,
        id_style="opaque",
        create="",
        deletable=False,
        updatable=False,
        expandable=("rules",),
        list_filter_required="scopeId eq '/' and scopeType eq 'DirectoryRole'",
        throttle="none",
        audit=("RoleManagement", "Policy"),
    ),
    Resource(
        # https://learn.microsoft.com/graph/api/policyroot-list-rolemanagementpolicyassignments: read-only.
        name="roleManagementPolicyAssignments",
        path="policies/roleManagementPolicyAssignments",
        odata_type="#microsoft.graph.unifiedRoleManagementPolicyAssignment",
        perms=PIM_POLICY_PERMS,
        id_style="opaque",
        create="",
        deletable=False,
        updatable=False,
        list_filter_required="scopeId eq '/' and scopeType eq 'DirectoryRole'",
        throttle="none",
        audit=("RoleManagement", "Policy"),
    ),
    Resource(
        name="roleEligibilitySchedules", licence=PIM_LICENCE,
        path="roleManagement/directory/roleEligibilitySchedules",
        odata_type="#microsoft.graph.unifiedRoleEligibilitySchedule",
        perms=ELIGIBILITY_PERMS,
        create="",
        updatable=False,
        deletable=False,
        audit=("RoleManagement", "Role"),
    ),
    # PIM for Groups: a request with adminAssign makes a principal an eligible (or active) member or owner
    # of a group, adminRemove ends it; lists must be filtered by groupId or principalId
    # (https://learn.microsoft.com/graph/api/privilegedaccessgroup-post-eligibilityschedulerequests,
    # .../privilegedaccessgroup-post-assignmentschedulerequests, .../privilegedaccessgroup-list-eligibilityschedules).
    Resource(
        name="groupEligibilityScheduleRequests", licence=PIM_LICENCE,
        path="identityGovernance/privilegedAccess/group/eligibilityScheduleRequests",
        odata_type="#microsoft.graph.privilegedAccessGroupEligibilityScheduleRequest",
        perms=GROUP_ELIGIBILITY_PERMS, required=("action", "accessId", "principalId", "groupId"),
        updatable=False, deletable=False, hook="group_eligibility_request", list_filter_one_of=GROUP_PIM_FILTER,
        audit=("GroupManagement", "Group"),
        defaults={"justification": None, "scheduleInfo": None, "isValidationOnly": False, "approvalId": None,
                  "customData": None, "completedDateTime": None, "targetScheduleId": None,
                  "ticketInfo": {"ticketNumber": None, "ticketSystem": None}},
    ),
    Resource(
        name="groupEligibilitySchedules", licence=PIM_LICENCE,
        path="identityGovernance/privilegedAccess/group/eligibilitySchedules",
        odata_type="#microsoft.graph.privilegedAccessGroupEligibilitySchedule",
        perms=GROUP_ELIGIBILITY_PERMS, id_style="opaque", create="", updatable=False, deletable=False,
        list_filter_one_of=GROUP_PIM_FILTER, audit=("GroupManagement", "Group"),
    ),
    Resource(
        name="groupAssignmentScheduleRequests", licence=PIM_LICENCE,
        path="identityGovernance/privilegedAccess/group/assignmentScheduleRequests",
        odata_type="#microsoft.graph.privilegedAccessGroupAssignmentScheduleRequest",
        perms=GROUP_ASSIGNMENT_PERMS, required=("action", "accessId", "principalId", "groupId"),
        updatable=False, deletable=False, hook="group_assignment_request", list_filter_one_of=GROUP_PIM_FILTER,
        audit=("GroupManagement", "Group"),
        defaults={"justification": None, "scheduleInfo": None, "isValidationOnly": False, "approvalId": None,
                  "customData": None, "completedDateTime": None, "targetScheduleId": None,
                  "ticketInfo": {"ticketNumber": None, "ticketSystem": None}},
    ),
    Resource(
        name="groupAssignmentSchedules", licence=PIM_LICENCE,
        path="identityGovernance/privilegedAccess/group/assignmentSchedules",
        odata_type="#microsoft.graph.privilegedAccessGroupAssignmentSchedule",
        perms=GROUP_ASSIGNMENT_PERMS, id_style="opaque", create="", updatable=False, deletable=False,
        list_filter_one_of=GROUP_PIM_FILTER, audit=("GroupManagement", "Group"),
    ),
    Resource(
        name="roleDefinitions",
        path="roleManagement/directory/roleDefinitions",
        odata_type="#microsoft.graph.unifiedRoleDefinition",
        perms=ROLE_PERMS,
        required=("displayName", "rolePermissions", "isEnabled"),
        read_only=("isBuiltIn", "inheritsPermissionsFrom", "version"),
        soft_delete="roleDefinitions",
        builtin=("isBuiltIn", True),
        hook="role_definition",
        audit=("RoleManagement", "Role"),
        defaults={
            "description": None,
            "isBuiltIn": False,
            "resourceScopes": ["/"],
            "version": None,
            "inheritsPermissionsFrom": [],
        },
    ),
    Resource(
        name="administrativeUnits",
        path="directory/administrativeUnits",
        odata_type="#microsoft.graph.administrativeUnit",
        perms=_p(
            ("AdministrativeUnit.Read.All", DIR_READ),
            ("AdministrativeUnit.ReadWrite.All",),
            (DIR_WRITE,),
        ),
        required=("displayName",),
        directory=True,
        soft_delete="directory",
        rels=("members",),
        # "To view the members with a hidden membership in an administrative unit, the app must be
        # granted the Member.Read.Hidden ... application permission":
        # https://learn.microsoft.com/graph/api/administrativeunit-list-members?view=graph-rest-beta
        hidden_members_perm="Member.Read.Hidden",
        # "Applications can't modify objects in restricted management administrative units by
        # default"; the flag and the AU's visibility can't be changed once the AU exists:
        # https://learn.microsoft.com/entra/identity/role-based-access-control/admin-units-restricted-management
        restricts_members="isMemberManagementRestricted",
        create_only=("isMemberManagementRestricted", "visibility"),
        aliases=("administrativeUnits",),
        audit=("AdministrativeUnit", "AdministrativeUnit"),
        purgeable=False,
        defaults={
            "description": None,
            "visibility": None,
            "membershipType": None,
            "membershipRule": None,
            "membershipRuleProcessingState": None,
            "isMemberManagementRestricted": None,
        },
    ),
    Resource(
        name="authenticationMethodsPolicy",
        path="policies/authenticationMethodsPolicy",
        odata_type="#microsoft.graph.authenticationMethodsPolicy",
        perms=AUTHMETHOD_PERMS,
        singleton=True,
        fixed_id="authenticationMethodsPolicy",
        create="",
        deletable=False,
        throttle="none",
        hook="auth_methods_policy",
        read_only=("lastModifiedDateTime", "policyVersion", "authenticationMethodConfigurations"),
    ),
    Resource(
        name="authenticationMethodConfigurations",
        path="policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
        odata_type="#microsoft.graph.authenticationMethodConfiguration",
        perms=AUTHMETHOD_PERMS,
        id_style="client",
        create="POST",
        throttle="none",
        hook="auth_method_config",
        polymorphic=tuple(
            f"#microsoft.graph.{t}AuthenticationMethodConfiguration"
            for t in (
                "fido2",
                "microsoftAuthenticator",
                "sms",
                "temporaryAccessPass",
                "hardwareOath",
                "softwareOath",
                "voice",
                "email",
                "x509Certificate",
                "external",
                "qrCodePin",
            )
        ),
    ),
    Resource(
        name="authorizationPolicy",
        path="policies/authorizationPolicy",
        odata_type="#microsoft.graph.authorizationPolicy",
        perms=_p(("Policy.Read.All",), ("Policy.ReadWrite.Authorization",)),
        singleton=True,
        fixed_id="authorizationPolicy",
        create="",
        deletable=False,
        throttle="none",
    ),
    Resource(
        # https://learn.microsoft.com/graph/api/authenticationflowspolicy-update (PATCH selfServiceSignUp)
        name="authenticationFlowsPolicy",
        path="policies/authenticationFlowsPolicy",
        odata_type="#microsoft.graph.authenticationFlowsPolicy",
        perms=_p(("Policy.Read.All",), ("Policy.ReadWrite.AuthenticationFlows",)),
        singleton=True,
        fixed_id="authenticationFlowsPolicy",
        create="",
        deletable=False,
        throttle="none",
        read_only=("displayName", "description"),
    ),
    Resource(
        # Beta only (https://learn.microsoft.com/graph/api/resources/externalidentitiespolicy?view=graph-rest-beta):
        # GET with Policy.Read.All or Policy.ReadWrite.ExternalIdentities, PATCH (204) with the ReadWrite one
        # (externalidentitiespolicy-get / -update?view=graph-rest-beta). The fixed id is the get example's.
        name="externalIdentitiesPolicy",
        path="policies/externalIdentitiesPolicy",
        odata_type="#microsoft.graph.externalIdentitiesPolicy",
        perms=_p(
            ("Policy.Read.All", "Policy.ReadWrite.ExternalIdentities"),
            ("Policy.ReadWrite.ExternalIdentities",),
        ),
        singleton=True,
        fixed_id="externalIdentityPolicy",
        beta_only=True,
        create="",
        deletable=False,
        throttle="none",
        # The update page lists allowExternalIdentitiesToLeave alone; displayName and description are
        # Graph's (as on its sibling policies). allowDeletedIdentitiesDataRemoval, "reserved for future
        # use", is not documented as refused, so it is accepted.
        read_only=("displayName", "description"),
    ),
    Resource(
        # https://learn.microsoft.com/graph/api/adminconsentrequestpolicy-update: PUT, "version" is read-only
        name="adminConsentRequestPolicy",
        path="policies/adminConsentRequestPolicy",
        odata_type="#microsoft.graph.adminConsentRequestPolicy",
        perms=_p(("Policy.Read.All", "Directory.Read.All"), ("Policy.ReadWrite.ConsentRequest",)),
        singleton=True,
        fixed_id="adminConsentRequestPolicy",
        create="",
        update="PUT",
        deletable=False,
        throttle="none",
        read_only=("version",),
    ),
    Resource(
        # https://learn.microsoft.com/graph/api/deviceregistrationpolicy-update: PUT in v1.0, 200 with the policy
        name="deviceRegistrationPolicy",
        path="policies/deviceRegistrationPolicy",
        odata_type="#microsoft.graph.deviceRegistrationPolicy",
        perms=_p(("Policy.Read.DeviceConfiguration",), ("Policy.ReadWrite.DeviceConfiguration",)),
        singleton=True,
        fixed_id="deviceRegistrationPolicy",
        create="",
        update="PUT",
        update_answers_object=True,  # "returns a 200 OK response code and an updated deviceRegistrationPolicy"
        deletable=False,
        throttle="none",
        read_only=("displayName", "description"),
    ),
    Resource(
        name="crossTenantAccessPolicy",
        path="policies/crossTenantAccessPolicy",
        odata_type="#microsoft.graph.crossTenantAccessPolicy",
        perms=XTENANT_PERMS,
        singleton=True,
        fixed_id="crossTenantAccessPolicy",
        create="",
        deletable=False,
        throttle="none",
    ),
    Resource(
        name="crossTenantAccessPolicyDefault",
        path="policies/crossTenantAccessPolicy/default",
        odata_type="#microsoft.graph.crossTenantAccessPolicyConfigurationDefault",
        perms=XTENANT_PERMS,
        singleton=True,
        fixed_id="default",
        create="",
        deletable=False,
        throttle="none",
        read_only=("isServiceDefault",),
    ),
    Resource(
        name="crossTenantPartners",
        path="policies/crossTenantAccessPolicy/partners",
        odata_type="#microsoft.graph.crossTenantAccessPolicyConfigurationPartner",
        perms=XTENANT_PERMS,
        key="tenantId",
        id_style="key",
        required=("tenantId",),
        create_only=("tenantId",),
        read_only=("isServiceProvider", "isInMultiTenantOrganization"),
        soft_delete="beta",
        throttle="none",
        hook="xtap_partner",
        defaults={
            "isServiceProvider": False,
            "isInMultiTenantOrganization": False,
            "inboundTrust": None,
            "automaticUserConsentSettings": {"inboundAllowed": None, "outboundAllowed": None},
            "b2bCollaborationInbound": None,
            "b2bCollaborationOutbound": None,
            "b2bDirectConnectInbound": None,
            "b2bDirectConnectOutbound": None,
            "tenantRestrictions": None,
        },
    ),
    Resource(
        name="crossTenantIdentitySync",
        path="policies/crossTenantAccessPolicy/partners/{parent}/identitySynchronization",
        odata_type="#microsoft.graph.crossTenantIdentitySyncPolicyPartner",
        perms=XTENANT_PERMS,
        singleton=True,
        parent="crossTenantPartners",
        key="tenantId",
        create="PUT",
        throttle="none",
    ),
    Resource(
        name="identitySecurityDefaultsEnforcementPolicy",
        path="policies/identitySecurityDefaultsEnforcementPolicy",
        odata_type="#microsoft.graph.identitySecurityDefaultsEnforcementPolicy",
        perms=_p(("Policy.Read.All",), ("Policy.ReadWrite.SecurityDefaults",)),
        singleton=True,
        fixed_id="identitySecurityDefaultsEnforcementPolicy",
        create="",
        deletable=False,
        throttle="none",
        read_only=("displayName", "description"),
        hook="security_defaults",
    ),
    *(_sts_policy(name, odata_type) for name, odata_type, _ in STS_POLICIES),
    # https://learn.microsoft.com/graph/api/resources/permissiongrantpolicy: the client chooses the id
    # (permissiongrantpolicy-post-permissiongrantpolicies); Microsoft's own policies (ids "microsoft-...")
    # are read-only. `includes` / `excludes` are condition sets, returned with the policy (the example
    # of permissiongrantpolicy-get) and written only through their own collections (ACTIONS below).
    Resource(
        name="permissionGrantPolicies",
        path="policies/permissionGrantPolicies",
        odata_type="#microsoft.graph.permissionGrantPolicy",
        perms=_p(("Policy.Read.PermissionGrant", "Policy.ReadWrite.PermissionGrant"),
                 ("Policy.ReadWrite.PermissionGrant",)),
        id_style="key",
        required=("id", "displayName"),
        create_only=("id",),
        read_only=("includes", "excludes"),
        throttle="none",
        hook="permission_grant_policy",
        defaults={"description": None, "includes": [], "excludes": []},
    ),
    # https://learn.microsoft.com/graph/api/resources/appmanagementpolicy: assigned to applications and
    # service principals through their appManagementPolicies $ref (one policy each), listed by appliesTo.
    Resource(
        name="appManagementPolicies",
        path="policies/appManagementPolicies",
        odata_type="#microsoft.graph.appManagementPolicy",
        perms=_p(("Policy.Read.All", "Policy.ReadWrite.ApplicationConfiguration"),
                 ("Policy.ReadWrite.ApplicationConfiguration",)),
        required=("displayName", "description"),
        throttle="none",
        defaults={"isEnabled": True, "restrictions": None},
    ),
    # https://learn.microsoft.com/graph/api/resources/tenantappmanagementpolicy (tenantappmanagementpolicy-update)
    Resource(
        name="defaultAppManagementPolicy",
        path="policies/defaultAppManagementPolicy",
        odata_type="#microsoft.graph.tenantAppManagementPolicy",
        perms=_p(("Policy.Read.All", "Policy.ReadWrite.ApplicationConfiguration"),
                 ("Policy.ReadWrite.ApplicationConfiguration",)),
        singleton=True,
        fixed_id="00000000-0000-0000-0000-000000000000",
        create="",
        deletable=False,
        throttle="none",
        read_only=("id",),
    ),
    Resource(
        # Terms of use: delegated only, "Application: Not supported"
        # (https://learn.microsoft.com/graph/api/termsofusecontainer-list-agreements,
        # https://learn.microsoft.com/graph/api/termsofusecontainer-post-agreements). Files are the
        # `files` navigation (agreementFileLocalization), given inline on create, read with $expand.
        name="termsOfUseAgreements",
        path="identityGovernance/termsOfUse/agreements",
        odata_type="#microsoft.graph.agreement",
        perms=_p(("Agreement.Read.All",), ("Agreement.ReadWrite.All",)),
        required=("displayName", "files"),
        create_only=("files",),
        expandable=("files",),
        app_only_ok=False,
        throttle="none",
        hook="agreement",
        defaults={"isViewingBeforeAcceptanceRequired": False, "isPerDeviceAcceptanceRequired": False,
                  "termsExpiration": None, "userReacceptRequiredFrequency": None},
    ),
    # Entitlement management (https://learn.microsoft.com/graph/api/entitlementmanagement-post-catalogs,
    # .../accesspackagecatalog-update, .../accesspackagecatalog-delete, .../entitlementmanagement-post-accesspackages,
    # .../accesspackage-update, .../accesspackage-delete): EntitlementManagement.Read.All to read,
    # EntitlementManagement.ReadWrite.All to write, apps included.
    Resource(
        name="accessPackageCatalogs", licence=EM_LICENCE,
        path="identityGovernance/entitlementManagement/catalogs",
        odata_type="#microsoft.graph.accessPackageCatalog",
        perms=EM_PERMS, required=("displayName",), create_only=("catalogType",), throttle="none",
        hook="access_package_catalog", audit=("EntitlementManagement", "AccessPackageCatalog"),
        defaults={"description": None, "catalogType": "userManaged", "state": "published",
                  "isExternallyVisible": False},
    ),
    Resource(
        name="accessPackages", licence=EM_LICENCE,
        path="identityGovernance/entitlementManagement/accessPackages",
        odata_type="#microsoft.graph.accessPackage",
        perms=EM_PERMS, required=("displayName", "catalog"), create_only=("catalog",), expandable=("catalog",),
        throttle="none", hook="access_package", audit=("EntitlementManagement", "AccessPackage"),
        defaults={"description": None, "isHidden": False},
    ),
    # Catalog resources (https://learn.microsoft.com/graph/api/resources/accesspackageresource): listed per
    # catalog (https://learn.microsoft.com/graph/api/accesspackagecatalog-list-resources), never written on
    # that path: resource requests add and remove them (below). `catalogId` is the simulator's own link to
    # the catalog, never returned (the v1.0 type has no such property).
    Resource(
        name="accessPackageCatalogResources", licence=EM_LICENCE,
        path=None, odata_type="#microsoft.graph.accessPackageResource", perms=EM_PERMS, create="",
        updatable=False, deletable=False, throttle="none", hook="access_package_resource",
        audit=("EntitlementManagement", "AccessPackageResource"),
        views=(View("identityGovernance/entitlementManagement/catalogs/{parent}/resources", "accessPackageCatalogs",
                    "catalogId", writable=False),),
    ),
    # https://learn.microsoft.com/graph/api/entitlementmanagement-post-resourcerequests: requestType adminAdd
    # adds a group, application (service principal) or SharePoint Online site to a catalog, adminRemove
    # removes one by its id; EntitlementManagement.ReadWrite.All, apps included (an app adding a group also
    # needs Group.ReadWrite.All: the hook checks it). Listed with the Read permission
    # (https://learn.microsoft.com/graph/api/entitlementmanagement-list-accesspackageresourcerequests).
    Resource(
        name="accessPackageResourceRequests", licence=EM_LICENCE,
        path="identityGovernance/entitlementManagement/resourceRequests",
        odata_type="#microsoft.graph.accessPackageResourceRequest", perms=EM_PERMS, required=("requestType",),
        read_only=("state",), updatable=False, deletable=False, throttle="none", hook="resource_request",
        audit=("EntitlementManagement", "AccessPackageResourceRequest"),
    ),
    # https://learn.microsoft.com/graph/api/resources/accesspackageresourcerolescope: a role of a catalog
    # resource an access package grants. Created by POST on the package
    # (https://learn.microsoft.com/graph/api/accesspackage-post-resourcerolescopes), listed with the package
    # (https://learn.microsoft.com/graph/api/accesspackage-list-resourcerolescopes), removed by DELETE
    # (https://learn.microsoft.com/graph/api/accesspackage-delete-resourcerolescopes); no update. `role` and
    # `scope` are navigation properties, returned with $expand; `accessPackageId` is the simulator's own link.
    Resource(
        name="accessPackageResourceRoleScopes", licence=EM_LICENCE,
        path=None, odata_type="#microsoft.graph.accessPackageResourceRoleScope", perms=EM_PERMS,
        required=("role", "scope"), id_style="opaque", updatable=False, expandable=("role", "scope"),
        throttle="none", hook="resource_role_scope", audit=("EntitlementManagement", "AccessPackageResourceRoleScope"),
        views=(View("identityGovernance/entitlementManagement/accessPackages/{parent}/resourceRoleScopes",
                    "accessPackages", "accessPackageId"),),
    ),
    # https://learn.microsoft.com/graph/api/resources/accessreviewscheduledefinition: created by POST,
    # updated by PUT of the whole definition (accessreviewscheduledefinition-update: "only the following
    # properties can be updated"; PATCH is not documented), deleted with its instances and decisions.
    Resource(
        name="accessReviewDefinitions", licence=REVIEW_LICENCE,
        path="identityGovernance/accessReviews/definitions",
        odata_type="#microsoft.graph.accessReviewScheduleDefinition",
        perms=REVIEW_PERMS, required=("displayName", "scope"), update="PUT", throttle="none",
        read_only=("createdBy", "status"), hook="access_review_definition",
        audit=("AccessReviews", "AccessReviewScheduleDefinition"),
        defaults={"descriptionForAdmins": None, "descriptionForReviewers": None, "instanceEnumerationScope": None,
                  "reviewers": [], "fallbackReviewers": [], "stageSettings": [],
                  "additionalNotificationRecipients": [], "settings": None},
    ),
    Resource(
        # https://learn.microsoft.com/graph/api/entitlementmanagement-post-assignmentpolicies (POST),
        # .../accesspackageassignmentpolicy-update (PUT of the whole policy, 200 with it),
        # .../accesspackageassignmentpolicy-delete: made for an existing access package, never moved.
        name="accessPackageAssignmentPolicies", licence=EM_LICENCE,
        path="identityGovernance/entitlementManagement/assignmentPolicies",
        odata_type="#microsoft.graph.accessPackageAssignmentPolicy",
        perms=EM_PERMS, required=("displayName", "accessPackage"), expandable=("accessPackage",), update="PUT",
        update_answers_object=True,
        throttle="none", hook="assignment_policy", audit=("EntitlementManagement", "AccessPackageAssignmentPolicy"),
        defaults={"description": None, "allowedTargetScope": "notSpecified", "specificAllowedTargets": [],
                  "automaticRequestSettings": None, "expiration": {"type": "noExpiration", "endDateTime": None,
                                                                    "duration": None},
                  "requestorSettings": None, "requestApprovalSettings": None, "reviewSettings": None},
    ),
    Resource(
        # https://learn.microsoft.com/graph/api/grouplifecyclepolicy-list (Directory.Read.All /
        # Directory.ReadWrite.All; the Group.* permissions are delegated-only there).
        name="groupLifecyclePolicies",
        path="groupLifecyclePolicies",
        odata_type="#microsoft.graph.groupLifecyclePolicy",
        perms=_p((DIR_READ,), (DIR_WRITE,)),
        required=("groupLifetimeInDays", "managedGroupTypes"),
        throttle="none",
        hook="group_lifecycle",
        audit=("GroupManagement", "Group"),
        defaults={"alternateNotificationEmails": None},
    ),
    Resource(
        # https://learn.microsoft.com/graph/api/directory-post-attributesets: the id is the set's name,
        # chosen by the caller (up to 32 characters, no spaces); sets cannot be deleted.
        name="attributeSets",
        path="directory/attributeSets",
        odata_type="#microsoft.graph.attributeSet",
        perms=CSA_PERMS,
        id_style="client",
        required=("id",),
        create_only=("id",),
        deletable=False,
        throttle="none",
        hook="attribute_set",
        audit=("CustomSecurityAttributes", "Other"),
        defaults={"description": None, "maxAttributesPerSet": None},
    ),
    Resource(
        # https://learn.microsoft.com/graph/api/directory-post-customsecurityattributedefinitions: id is
        # "{attributeSet}_{name}"; predefined values may be given inline (allowedValues, read with
        # $expand: directory-list-customsecurityattributedefinitions). Definitions cannot be deleted,
        # only deactivated (status Deprecated); only description, status and usePreDefinedValuesOnly change.
        name="customSecurityAttributeDefinitions",
        path="directory/customSecurityAttributeDefinitions",
        odata_type="#microsoft.graph.customSecurityAttributeDefinition",
        perms=CSA_PERMS,
        id_style="opaque",
        required=("attributeSet", "name", "type", "isCollection", "isSearchable", "status",
                  "usePreDefinedValuesOnly"),
        create_only=("attributeSet", "name", "type", "isCollection", "isSearchable", "allowedValues"),
        expandable=("allowedValues",),
        deletable=False,
        throttle="none",
        hook="attribute_definition",
        audit=("CustomSecurityAttributes", "Other"),
        defaults={"description": None},
    ),
    Resource(
        # https://learn.microsoft.com/graph/api/identitycontainer-list-identityproviders and
        # identitycontainer-post-identityproviders: social (Google, Facebook in a workforce tenant)
        # and built-in providers; ids are "{type}-OAUTH"; clientSecret is write-only, a read
        # returns "******". Built-in providers are Microsoft's: never created, changed or deleted.
        name="identityProviders",
        path="identity/identityProviders",
        odata_type="#microsoft.graph.identityProviderBase",
        perms=_p(("IdentityProvider.Read.All",), ("IdentityProvider.ReadWrite.All",)),
        id_style="opaque",
        required=("displayName",),
        create_only=("identityProviderType",),
        polymorphic=("#microsoft.graph.socialIdentityProvider", "#microsoft.graph.builtInIdentityProvider"),
        builtin=("@odata.type", "#microsoft.graph.builtInIdentityProvider"),
        throttle="none",
        hook="identity_provider",
    ),
    Resource(
        # Directory settings from a template (Group.Unified, Password Rule Settings...):
        # https://learn.microsoft.com/graph/api/group-post-settings,
        # https://learn.microsoft.com/graph/api/resources/groupsetting. One per template; displayName
        # comes from the template; GroupSettings.* is the least privileged (permissions.json).
        name="groupSettings",
        path="settings",
        odata_type="#microsoft.graph.groupSetting",
        perms=_p(("GroupSettings.Read.All", "GroupSettings.ReadWrite.All", DIR_READ),
                 ("GroupSettings.ReadWrite.All",), (DIR_WRITE,)),
        required=("templateId",),
        create_only=("templateId",),
        read_only=("displayName",),
        throttle="none",
        hook="group_setting",
        audit=("GroupManagement", "Directory"),
    ),
    Resource(
        # https://learn.microsoft.com/graph/api/groupsettingtemplate-list: Microsoft's, read-only.
        name="groupSettingTemplates",
        path="groupSettingTemplates",
        odata_type="#microsoft.graph.groupSettingTemplate",
        perms=_p(("GroupSettings.Read.All", "GroupSettings.ReadWrite.All", DIR_READ), ("GroupSettings.ReadWrite.All",)),
        create="",
        updatable=False,
        deletable=False,
        throttle="none",
    ),
    Resource(
        name="users",
        path="users",
        odata_type="#microsoft.graph.user",
        perms=_p(
            ("User.Read.All", "User.ReadBasic.All", DIR_READ), ("User.ReadWrite.All",), (DIR_WRITE,)
        ),
        required=(
            "accountEnabled",
            "displayName",
            "mailNickname",
            "passwordProfile",
            "userPrincipalName",
        ),
        read_only=(
            "proxyAddresses",
            "signInActivity",
            "lastPasswordChangeDateTime",
            "creationType",
            "securityIdentifier",
            "onPremisesSyncEnabled",
            "onPremisesSecurityIdentifier",
        ),
        directory=True,
        soft_delete="directory",
        unique=("userPrincipalName",),
        alt_keys=("userPrincipalName",),
        # "By default, only a limited set of properties are returned": https://learn.microsoft.com/graph/api/user-list
        default_select=("businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
                        "officeLocation", "preferredLanguage", "surname", "userPrincipalName"),
        sync_mastered=True,
        hook="user",
        audit=("UserManagement", "User"),
        ru_list_cost=2,
        defaults={
            "businessPhones": [],
            "givenName": None,
            "jobTitle": None,
            "mail": None,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": None,
            "surname": None,
            "userType": "Member",
        },
    ),
    Resource(
        name="organization",
        path="organization",
        odata_type="#microsoft.graph.organization",
        perms=_p(
            ("Organization.Read.All", DIR_READ, "User.Read.All"), ("Organization.ReadWrite.All",)
        ),
        create="",
        deletable=False,
        directory=True,
        audit=("DirectoryManagement", "Directory"),
    ),
)

BY_NAME: dict[str, Resource] = {r.name: r for r in RESOURCES}

@dataclass(frozen=True)
class RecycleBin:
    """One deleted-items container (graph-notes 5): where it lives, what it holds, who may empty it."""

    path: str  # URL of the container
    store: str  # Store.deleted key; == Resource.soft_delete of its kinds
    kinds: tuple[str, ...]  # resource names it holds
    cast: bool = False  # listing needs a microsoft.graph.{type} cast segment after `path`
    beta_only: bool = False
    # Application tokens may restore and permanently delete (False: only a signed-in user
    # holding one of `restore_roles`, plus the write permission, may).
    app_restore: bool = True
    restore_roles: tuple[str, ...] = ()  # directory role template ids


# Restore and permanent delete of deleted CA policies and named locations: "Application: Not
# supported"; the signed-in user needs the Conditional Access or Security Administrator role
# (https://learn.microsoft.com/graph/api/conditionalaccesspolicy-restore?view=graph-rest-beta,
# https://learn.microsoft.com/graph/api/policydeletableitem-delete?view=graph-rest-beta).
CA_RESTORE_ROLES = (
    ROLE_TEMPLATES["Conditional Access Administrator"],
    ROLE_TEMPLATES["Security Administrator"],
    ROLE_TEMPLATES["Global Administrator"],
)

RECYCLE_BINS: tuple[RecycleBin, ...] = (
    RecycleBin(
        path="directory/deletedItems",
        store="directory",
        kinds=("users", "groups", "applications", "servicePrincipals", "administrativeUnits"),
        cast=True,
    ),
    RecycleBin(
        path="roleManagement/directory/deletedItems/roleDefinitions",
        store="roleDefinitions",
        kinds=("roleDefinitions",),
    ),
    # Beta policy deleted-items containers (graph-notes 5.3).
    *(
        RecycleBin(
            path=f"identity/conditionalAccess/deletedItems/{segment}",
            store="beta",
            kinds=(kind,),
            beta_only=True,
            app_restore=False,
            restore_roles=CA_RESTORE_ROLES,
        )
        for segment, kind in (("policies", "conditionalAccessPolicies"), ("namedLocations", "namedLocations"))
    ),
    RecycleBin(
        path="policies/deletedItems/crossTenantPartners",
        store="beta",
        kinds=("crossTenantPartners",),
        beta_only=True,
    ),
)


def cast_of(kind: str) -> str:
    """The type cast segment of a kind, e.g. microsoft.graph.group."""
    return BY_NAME[kind].odata_type.lstrip("#")


@dataclass(frozen=True)
class Action:
    """A bound action or fixed sub-resource route; `handler` names a Router method."""

    template: str  # Graph path form, {id} = the resource's key
    methods: tuple[str, ...]
    resource: str  # resource name whose object the route addresses
    handler: str
    perms: Perms | None = None  # checked for reads / writes; None = the resource's perms
    regex: str = ""  # when the template's {id} -> key rule is not enough
    family: str = "ru"  # throttle family
    app_only_ok: bool = True  # application tokens may use it (False: "Application: Not supported")


# federatedIdentityCredentials: read with Application.Read.All (not Directory.Read.All), write with
# Application.ReadWrite.* (https://learn.microsoft.com/graph/api/application-list-federatedidentitycredentials).
FIC_PERMS = Perms(
    read=("Application.Read.All",), write=(("Application.ReadWrite.All",), ("Application.ReadWrite.OwnedBy",))
)

APP_POLICY_REF_PERMS = Perms(read=("Application.Read.All",), write=(("Application.Read.All", "Policy.ReadWrite.ApplicationConfiguration"),))
# Policy collection -> the objects it is assigned to, through the $ref named like the collection on the
# object. The sts policies' routes are the v1.0 navigation properties that permissions.json lists as
# writable (application-post-tokenlifetimepolicies, serviceprincipal-post-claimsmappingpolicies, ...);
# each policy lists them back by `appliesTo` (stspolicy-list-appliesto).
ASSIGNED_ON: dict[str, tuple[str, ...]] = {
    "appManagementPolicies": ("applications", "servicePrincipals"),
    **{name: owners for name, _, owners in STS_POLICIES},
}
# https://learn.microsoft.com/graph/api/serviceprincipal-post-claimsmappingpolicies, application-post-
# tokenlifetimepolicies, ...: Policy.Read.All with Application.ReadWrite.All or .OwnedBy (permissions.json:
# the app permission "AlsoRequires" Policy.Read.All).
STS_POLICY_REF_PERMS = Perms(read=("Policy.Read.All",),
                             write=(("Application.ReadWrite.All", "Policy.Read.All"),
                                    ("Application.ReadWrite.OwnedBy", "Policy.Read.All")))
APPLIES_TO_PERMS = Perms(read=("Application.Read.All", "Policy.Read.All", "Policy.ReadWrite.ApplicationConfiguration"),
                         write=())
# https://learn.microsoft.com/graph/api/permissiongrantpolicy-list-includes, ...-post-includes
CONDITION_SET_PERMS = Perms(read=("Policy.Read.PermissionGrant", DIR_READ), write=(("Policy.ReadWrite.PermissionGrant",),))

ACTIONS: tuple[Action, ...] = (
    Action(
        "applications/{id}/federatedIdentityCredentials",
        ("GET", "POST"),
        "applications",
        "_fic_list",
        perms=FIC_PERMS,
        regex=r"applications/(?P<key>[^/(]+)/federatedIdentityCredentials",
    ),
    Action(
        "applications/{id}/federatedIdentityCredentials/{federatedIdentityCredential-id}",
        ("GET", "PATCH", "DELETE"),
        "applications",
        "_fic_item",
        perms=FIC_PERMS,
        regex=r"applications/(?P<key>[^/(]+)/federatedIdentityCredentials"
        r"(?:/(?P<fid>[^/(]+)|\(name='(?P<fname>[^']*)'\))",
    ),
    Action("applications/{id}/addPassword", ("POST",), "applications", "_add_password"),
    Action("applications/{id}/removePassword", ("POST",), "applications", "_remove_password"),
    Action(
        "policies/authenticationStrengthPolicies/{id}/updateAllowedCombinations",
        ("POST",),
        "authenticationStrengthPolicies",
        "_update_combinations",
        family="none",
    ),
    Action(
        "policies/authenticationStrengthPolicies/{id}/combinationConfigurations",
        ("GET", "POST"),
        "authenticationStrengthPolicies",
        "_combination_list",
        family="none",
    ),
    Action(
        "policies/authenticationStrengthPolicies/{id}/combinationConfigurations/{id}",
        ("GET", "PATCH", "DELETE"),
        "authenticationStrengthPolicies",
        "_combination_item",
        regex=r"policies/authenticationStrengthPolicies/(?P<key>[^/(]+)/combinationConfigurations/(?P<cid>[^/(]+)",
        family="none",
    ),
    Action(
        "policies/authenticationStrengthPolicies/{id}/usage",
        ("GET",),
        "authenticationStrengthPolicies",
        "_strength_usage",
        family="none",
    ),
    Action(
        "policies/roleManagementPolicies/{id}/rules",
        ("GET",),
        "roleManagementPolicies",
        "_pim_rules",
        family="none",
    ),
    # One handler for a rule's GET and PATCH (the first row's regex matches both); the PATCH row says
    # that apps may not update rules (unifiedrolemanagementpolicyrule-update: "Application: Not supported").
    *(Action(
        "policies/roleManagementPolicies/{id}/rules/{id}",
        (method,),
        "roleManagementPolicies",
        "_pim_rule",
        regex=r"policies/roleManagementPolicies/(?P<key>[^/(]+)/rules/(?P<rid>[^/(]+)",
        family="none",
        app_only_ok=method == "GET",
    ) for method in ("GET", "PATCH")),
    # Condition sets: POST to add, DELETE to remove; Graph has no PATCH for them
    # (https://learn.microsoft.com/graph/api/permissiongrantpolicy-post-includes, ...-delete-includes).
    *(Action(
        f"policies/permissionGrantPolicies/{{id}}/{side}",
        ("GET", "POST"),
        "permissionGrantPolicies",
        "_condition_sets",
        perms=CONDITION_SET_PERMS,
        regex=rf"policies/permissionGrantPolicies/(?P<key>[^/(]+)/(?P<side>{side})",
        family="none",
    ) for side in ("includes", "excludes")),
    *(Action(
        f"policies/permissionGrantPolicies/{{id}}/{side}/{{id}}",
        ("DELETE",),
        "permissionGrantPolicies",
        "_condition_set",
        perms=CONDITION_SET_PERMS,
        regex=rf"policies/permissionGrantPolicies/(?P<key>[^/(]+)/(?P<side>{side})/(?P<cid>[^/(]+)",
        family="none",
    ) for side in ("includes", "excludes")),
    # https://learn.microsoft.com/graph/api/appmanagementpolicy-list-appliesto, stspolicy-list-appliesto
    *(Action(
        f"policies/{link}/{{id}}/appliesTo",
        ("GET",),
        link,
        "_applies_to",
        perms=APPLIES_TO_PERMS,
        regex=rf"policies/(?P<policies>{link})/(?P<key>[^/(]+)/appliesTo",
        family="none",
    ) for link in ASSIGNED_ON),
    # https://learn.microsoft.com/graph/api/appmanagementpolicy-post-appliesto,
    # .../appmanagementpolicy-delete-appliesto: both Application.Read.All and the policy permission; the
    # sts policies' $refs (serviceprincipal-post-claimsmappingpolicies, ...) need Application.ReadWrite.All.
    *(Action(
        f"{owner}/{{id}}/{link}{tail}",
        (method,),
        owner,
        "_app_policy_ref",
        perms=APP_POLICY_REF_PERMS if link == "appManagementPolicies" else STS_POLICY_REF_PERMS,
        regex=rf"(?P<owner>{owner})/(?P<key>[^/(]+)/(?P<policies>{link}){rx}",
    ) for link, owners in ASSIGNED_ON.items() for owner in owners for method, tail, rx in (
        ("POST", "/$ref", r"/\$ref"), ("DELETE", "/{id}/$ref", r"/(?P<pid>[^/(]+)/\$ref"))),
    Action(
        "policies/crossTenantAccessPolicy/default/resetToSystemDefault",
        ("POST",),
        "crossTenantAccessPolicyDefault",
        "_reset_default",
        family="none",
    ),
)

# Directory object kinds a $ref or principal id may point at, with their @odata.type.
DIRECTORY_OBJECT_KINDS = (
    "users",
    "groups",
    "servicePrincipals",
    "applications",
    "administrativeUnits",
)

AUDIT_PERMS = Perms(read=("AuditLog.Read.All",), write=())

# Soft-deleted items are purged after this (graph-notes 5.1).
DELETED_RETENTION_DAYS = 30
