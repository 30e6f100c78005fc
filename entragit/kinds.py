"""The Kind table: every per-kind fact in one declarative row. Adding a kind is adding a row."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from entragit import keywords

KeyType = Literal["id", "appId", "templateId", "tenantId"]
# An object id as Graph writes it (one pattern for validation, references and rendering).
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@dataclass(frozen=True)
class Ref:
    """A place in a body that holds the key of another object.

    `path` is dotted; `[]` marks a list (`conditions.users.includeGroups[]`).
    `targets` are candidate kinds (a principal may be a user, group or SP).
    `key` names the target's field the value matches (object id, appId, role template id).
    `sentinels` are literal values that are not references (`All`, `None`, ...).
    `prefix` is for ids at the end of a string (`/administrativeUnits/{id}`).
    `pattern` is a regex with one group, matched from the start of the value, for an id inside a
    longer string (a query: `/groups/{id}/transitiveMembers`): the group is the reference, the text
    around it is kept when the id is rewritten; values that do not match name nothing.
    `only_guids`: only GUID-shaped values are references (an identifier URI `api://{appId}` is,
    `api://finance.contoso.com` is a name, not a reference).
    `guid`: values are GUIDs, so any other value is a keyword (documented or not), not a reference.
    """

    path: str
    targets: tuple[str, ...]
    key: KeyType = "id"
    sentinels: frozenset[str] = frozenset()
    prefix: str = ""
    only_guids: bool = False
    guid: bool = True
    pattern: str = ""


@dataclass(frozen=True)
class SystemOwned:
    """Objects of a kind that Microsoft creates and owns in the tenant (matched on their fields).

    Also objects another system masters (on-premises AD, Exchange): Graph refuses to write them.
    Plan never creates (unless `creatable`) or deletes them and never writes `locked` fields (None:
    no field at all, the object and its relationships are read-only); it reports them as left alone
    with `reason`. A match needs every `equals` value, every `prefix`, every `present` field, and no
    `lacks` item in its list field.
    """

    reason: str
    equals: tuple[tuple[str, object], ...] = ()
    prefix: tuple[tuple[str, str], ...] = ()
    present: tuple[str, ...] = ()
    lacks: tuple[tuple[str, str], ...] = ()
    locked: frozenset[str] | None = None
    creatable: bool = False  # Graph lets a tenant bring it back (a first-party SP by appId)

    def matches(self, body: Mapping[str, object]) -> bool:
        return (all(body.get(f) == v for f, v in self.equals)
                and all(str(body.get(f) or "").startswith(p) for f, p in self.prefix)
                and all(body.get(f) not in (None, "") for f in self.present)
                and all(v not in (body.get(f) or ()) for f, v in self.lacks))  # type: ignore[operator]


@dataclass(frozen=True)
class Relation:
    """A relationship read and written apart from the body (`members`, `owners`)."""

    name: str
    # (field, value): skip when body[field] equals or contains value (dynamic groups' members
    # come from their rule and cannot be written)
    unless: tuple[str, str] | None = None
    targets: tuple[str, ...] = ("users", "groups", "servicePrincipals")  # kinds a member may be
    # Graph writes the link from the member's side: POST `{member}/{via}/$ref` naming this object
    # (an app management policy's appliesTo is assigned on the application or service principal).
    via: str = ""

    def skipped(self, body: Mapping[str, object]) -> bool:
        """Not read or written for this object (a dynamic group's members)."""
        if not self.unless:
            return False
        v = body.get(self.unless[0])
        return v == self.unless[1] or (isinstance(v, list) and self.unless[1] in v)


@dataclass(frozen=True)
class SubCollection:
    """A list field Graph holds as its own collection below the object: read inline, written item
    by item (POST / PATCH / DELETE on `{object}/{field}`), never in the object's own PATCH.

    Item ids are Graph's, so files leave them out and items are matched by `match` instead."""

    field: str
    match: tuple[str, ...]
    # Graph makes the items with the object and keeps them (a PIM policy's rules, one per id): they are
    # only patched, never posted or deleted; an item a file leaves out is left as it is.
    fixed: bool = False
    # Graph has no PATCH for the items (permission grant condition sets): `match` names every field, so
    # a changed item is one deleted and one posted.
    patch: bool = True

    def key(self, item: Mapping[str, object]) -> str:
        values = [item.get(f) for f in self.match]
        return json.dumps([sorted(v, key=str) if isinstance(v, list) else v for v in values], default=str)


@dataclass(frozen=True)
class Child:
    """One object Graph holds below the object at `{object}/{field}` (a partner's identity sync policy),
    kept inline as `field`: read by GET with the object (404 = none), written by PUT after the object's
    create or change, DELETE when a file drops it. Never part of the object's own POST or PATCH."""

    field: str
    graph_type: str  # its entity type (schemas and metadata checks)


@dataclass(frozen=True)
class Transient:
    """Live objects another collection marks as time-bound: named, never owned, never restored.

    A PIM activation shows up in roleAssignments like a standing assignment; exporting it would
    let a restore turn a one-hour activation into a permanent admin."""

    path: str  # collection that marks them (read with `filter`)
    filter: str
    match: tuple[str, ...]  # fields equal on the marker and the object
    version: Literal["v1.0", "beta"] = "v1.0"


@dataclass(frozen=True)
class Requests:
    """A kind Graph writes only through a request collection (PIM schedules have no POST or DELETE
    of their own): create POSTs the body with `action: assign` to `path`, delete POSTs the object's
    natural key with `action: remove`. The answer is the request; `id_field` names the object it made
    (https://learn.microsoft.com/graph/api/rbacapplication-post-roleeligibilityschedulerequests)."""

    path: str
    assign: str = "adminAssign"
    remove: str = "adminRemove"
    id_field: str = "targetScheduleId"  # "": the answer names only the request; the object is read back
    action_field: str = "action"  # the field that says assign or remove (catalog resources: requestType)
    # The object nested under `wrap` and its parent named as {"id": ...} under `parent`, instead of the
    # object's fields at the top (https://learn.microsoft.com/graph/api/entitlementmanagement-post-resourcerequests:
    # {"requestType": "adminAdd", "resource": {...}, "catalog": {"id": ...}}).
    wrap: str = ""
    parent: str = ""
    remove_key: tuple[str, ...] = ()  # what a remove names the object by; () = its natural key

    def body(self, action: str, obj: Mapping[str, object], parent: object = None) -> dict[str, object]:
        """The request that assigns (or removes) `obj`."""
        out: dict[str, object] = {self.action_field: action}
        if self.wrap:
            out[self.wrap] = dict(obj)
        else:
            out.update(obj)
        if self.parent:
            out[self.parent] = {"id": parent}
        return out


@dataclass(frozen=True)
class Delta:
    """A v1.0 delta function that reports every change the export writes of a kind, with the
    relationships it tracks when they are selected (incremental export, entragit/delta.py).

    Kinds without one are read in full: applications and service principals (their delta does not
    document owner changes, which the files hold), delegated permission grants
    (oauth2permissiongrant-delta wants Directory.Read.All, more than the reader holds), and the
    small collections, a few requests each."""

    path: str
    tracks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kind:
    """One kind of Entra configuration object and everything export/plan/apply need to know."""

    name: str  # folder name and selector: tenants/<t>/<name>/<slug>.yaml
    path: str  # Graph path below the version root; `{parent}` for child collections
    title: str  # human name, singular
    graph_type: str = ""  # Graph's entity type (schemas are generated from its model)
    version: Literal["v1.0", "beta"] = "v1.0"
    singleton: bool = False
    parent: str | None = None  # kind whose ids fill `{parent}` in path
    id_field: str = "id"
    guid_id: bool = True  # Graph's ids for the kind are GUIDs (assignments and grants have other shapes)
    name_field: str = "displayName"
    natural_key: tuple[str, ...] = ("displayName",)
    label: tuple[str, ...] = ()  # fields (refs resolved to names) that make the slug when no name
    polymorphic: bool = False  # keep entity-level @odata.type (writes need it)
    strip: frozenset[str] = frozenset()  # server-managed / read-only / secret fields (dotted)
    create_only: frozenset[str] = frozenset()  # settable on create, never patched
    readonly: frozenset[str] = frozenset()  # kept in files (refs match on them) but never written
    refs: tuple[Ref, ...] = ()
    relations: tuple[Relation, ...] = ()
    relation_version: Literal["v1.0", "beta", ""] = ""  # API version relationships are read from ("" = version)
    # Field that, when true, makes the object a restricted container: an app may no longer change its
    # members (restricted management administrative units). Its memberships are written after every
    # other kind's, so an object gets its own members and owners before it joins one.
    restricts_members: str = ""
    # Lists whose order Graph documents as meaningful: kept as given, compared by order (dotted paths,
    # `[]` for list items); every other list is a set and sorted.
    ordered: frozenset[str] = frozenset()
    # Fields kept in files but never written back, with what a recreated object needs instead
    # (Graph never returns a certificate's key on list reads, so apply cannot upload it again).
    lost_on_create: Mapping[str, str] = field(default_factory=dict)
    transient: Transient | None = None
    # (field, value, kinds): a write that sets `field` to `value` runs after the writes of `kinds`
    # (Graph refuses to enable security defaults while a CA policy is on, and the reverse).
    after_when: tuple[str, object, tuple[str, ...]] | None = None
    delete_first: tuple[str, ...] = ()  # child resources Graph wants deleted before the object (404 = none)
    skip_when: Mapping[str, object] = field(default_factory=dict)  # built-ins we never own
    soft_delete: Literal["directory", "policy-beta", "roleDefinitions"] | None = None
    odata_cast: str = ""  # microsoft.graph.<type> for directory/deletedItems
    create: Literal["post", "upsert"] | None = "post"  # upsert = PATCH by client-chosen id
    requests: Requests | None = None  # created and deleted through a request collection instead
    licence: str = ""  # what a tenant needs for Graph to serve the kind (skipped, with a warning, without it)
    # put: Graph replaces the object whole (PUT with every writable field), never a partial PATCH
    update: Literal["patch", "put"] | None = "patch"
    client_id: bool = False  # id chosen by the client (c1, Fido2, partner tenantId)
    paced: bool = False  # CA family: 1 request/second/tenant, 429 without Retry-After
    read_perm: tuple[str, ...] = ("Policy.Read.All",)  # alternatives, narrowest first
    read_also: tuple[str, ...] = ()  # needed on top of read_perm (hidden memberships)
    write_perm: tuple[str, ...] = ()
    # write permission -> broader ones Graph documents for every write this kind makes with it
    # (permissions.json; tests/test_metadata_permissions.py checks each entry). apply's permission
    # check accepts them; `entragit permissions` still lists the narrow one.
    write_broader: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    depends: tuple[str, ...] = ()
    default_on: bool = True  # users are opt-in (privacy)
    top: int = 0  # page size for list reads (directory collections allow 999); 0 = Graph's default
    # $select for list reads, where Graph's default property set leaves out what we manage (users:
    # accountEnabled, mailNickname, department... are only returned when selected). Empty = default set.
    select: tuple[str, ...] = ()
    # $expand for list reads: navigation properties kept in the object's file (agreement files).
    expand: tuple[str, ...] = ()
    # $filter Graph requires on list reads (PIM policies: 400 without a scope), never used to leave objects out.
    list_filter: str = ""
    # (kind, field): nameless objects named after the object of `kind` whose `field` holds their id
    # (a PIM policy is called by the role its policy assignment names).
    named_by: tuple[str, str] | None = None
    # Graph serves the kind to signed-in users only ("Application: Not supported"): an app-only
    # identity leaves it out of its default kinds, and the app's manifest does not list it.
    delegated_only: bool = False
    # Graph lets apps read the kind but only signed-in users write it (PIM policy rules): the app's
    # manifest leaves out its write permissions, and apply refuses an app token before writing one.
    writes_delegated_only: bool = False
    parent_field: str = ""  # body field holding the parent's id (appRoleAssignments: resourceId)
    # Graph's body never names the parent (an app's federatedIdentityCredentials): export fills
    # parent_field in from the path it read, plan carries it on every write, apply builds the path from it
    # and never sends it.
    parent_in_path: bool = False
    # A collection Graph lists only per parent through a required $filter (PIM for groups: `groupId eq
    # '{parent}'`) instead of a `{parent}` path: read with one filtered GET per parent, in $batch.
    parent_filter: str = ""
    # (field, value): parents whose `field` equals or contains `value` hold no objects of the kind and
    # are not read (dynamic and on-premises synced groups cannot be managed in PIM for Groups).
    parent_unless: tuple[tuple[str, object], ...] = ()
    deleted_list: str = ""  # where Entra keeps soft-deleted objects of this kind
    deleted_item: str = ""  # one soft-deleted object; `{id}` filled in; `/restore` restores it
    # Restore needs a signed-in admin: "Application: Not supported" (CA policies, named locations,
    # https://learn.microsoft.com/graph/api/conditionalaccesspolicy-restore?view=graph-rest-beta).
    # An app-only identity plans a recreate instead.
    restore_app_only: bool = True
    actions: Mapping[str, str] = field(default_factory=dict)  # field -> POST action that writes it
    subcollections: tuple[SubCollection, ...] = ()
    children: tuple[Child, ...] = ()
    typed_paths: tuple[str, ...] = ()  # nested places whose @odata.type is a derived type to keep
    only_id: tuple[str, ...] = ()  # expanded navigation objects written back as {id} only
    # Graph requires a password to create a user; apply makes a random one at execution time
    # (never in a plan, file or log) and forces a change at next sign-in.
    initial_password: bool = False
    # Write-only secrets Graph requires on create and never returns (a social identity provider's
    # clientSecret): stripped from files; apply sends a random value at execution time (never in a
    # plan, file or log) so the object, its id and what names it come back, and plan warns, through
    # lost_on_create, that a person must set the real one.
    random_on_create: tuple[str, ...] = ()
    system_owned: tuple[SystemOwned, ...] = ()  # Microsoft's own objects in the tenant
    # Fields that, like delete and restore, Graph lets only a higher administrator write when the
    # object holds a directory role ("who can perform sensitive actions":
    # https://learn.microsoft.com/graph/api/resources/users); application permissions are not enough.
    sensitive: frozenset[str] = frozenset()
    # (field, kind): when no file of `kind` holds the object's `field` value, the object names an app
    # of another tenant (Microsoft first-party, multi-tenant) and is created from that value alone
    # (POST {appId}); the rest follows by PATCH.
    instantiate: tuple[str, str] | None = None
    # Fields naming a directory object whose restore from the recycle bin brings this object back
    # with it, same id: Entra keeps a soft-deleted object's relationships (a user's or group's role
    # and app assignments; a service principal's own assignments and grants) and restores them with
    # it (https://learn.microsoft.com/entra/architecture/recover-from-deletions). Memberships
    # (Kind.relations) always come back with either end.
    restored_with: tuple[str, ...] = ()
    delta: Delta | None = None
    # Read even when not exported, for the names of what references it (built-in roles, never
    # exported, name the roles CA policies and role assignments use).
    read_for_names: bool = False
    # Another kind holding the same Graph objects under another view: enabling both would write each
    # object twice on a restore (a POST to roleAssignments and an adminAssign request for one assignment).
    same_objects_as: str | None = None

    def reads_parent(self, parent: Mapping[str, object]) -> bool:
        """Whether objects of this child kind are read below `parent` (Kind.parent_unless)."""
        for f, v in self.parent_unless:
            got = parent.get(f)
            if got == v or (isinstance(got, list) and v in got):
                return False
        return True

    def owner(self, body: Mapping[str, object]) -> SystemOwned | None:
        """The rule that makes `body` one of Microsoft's own objects, if any."""
        return next((r for r in self.system_owned if r.matches(body)), None)


PRINCIPALS = ("users", "groups", "servicePrincipals")


def _subject_set_refs(*lists: str) -> tuple[Ref, ...]:
    """References in entitlement management subjectSets: a singleUser names a user, groupMembers a group."""
    return tuple(r for p in lists for r in (Ref(f"{p}.userId", ("users",)), Ref(f"{p}.groupId", ("groups",))))

# Custom security attribute sets and definitions: Graph creates and updates them but has no delete
# (https://learn.microsoft.com/graph/api/resources/customsecurityattributedefinition); a file removed is
# left alone, never a failed DELETE.
_NO_DELETE = SystemOwned("Graph cannot delete it (deactivate a definition with status: Deprecated)",
                         creatable=True, locked=frozenset())
# PIM makes one role management policy (and its assignment) per role and never deletes it
# (https://learn.microsoft.com/graph/api/resources/unifiedrolemanagementpolicy): only the rules change.
_PIM_OWNED = SystemOwned("PIM makes one per role: Graph neither creates nor deletes it (its rules are updated)",
                         locked=frozenset())
_PIM_GROUP_UNLESS: tuple[tuple[str, object], ...] = (("groupTypes", "DynamicMembership"), ("onPremisesSyncEnabled", True))
_TS = frozenset({"createdDateTime", "modifiedDateTime", "deletedDateTime", "lastModifiedDateTime"})


def _ca_user_refs() -> tuple[Ref, ...]:
    u = "conditions.users."
    refs = [
        Ref(u + "includeUsers[]", ("users",), sentinels=keywords.ca("includeUsers")),
        Ref(u + "excludeUsers[]", ("users",), sentinels=keywords.ca("excludeUsers")),
        Ref(u + "includeGroups[]", ("groups",)),
        Ref(u + "excludeGroups[]", ("groups",)),
        Ref(u + "includeRoles[]", ("roleDefinitions",), key="templateId"),
        Ref(u + "excludeRoles[]", ("roleDefinitions",), key="templateId"),
    ]
    a = "conditions.applications."
    apps = ("applications", "servicePrincipals")
    refs += [
        Ref(a + "includeApplications[]", apps, key="appId", sentinels=keywords.ca("includeApplications")),
        Ref(a + "excludeApplications[]", apps, key="appId", sentinels=keywords.ca("excludeApplications")),
        # Authentication context ids are client-chosen short strings (c1..c99), not GUIDs.
        Ref(a + "includeAuthenticationContextClassReferences[]", ("authenticationContextClassReferences",),
            guid=False),
    ]
    c = "conditions.clientApplications."
    refs += [
        Ref(c + "includeServicePrincipals[]", ("servicePrincipals",),
            sentinels=keywords.ca("includeServicePrincipals")),
        Ref(c + "excludeServicePrincipals[]", ("servicePrincipals",),
            sentinels=keywords.ca("excludeServicePrincipals")),
    ]
    loc = "conditions.locations."
    refs += [
        Ref(loc + "includeLocations[]", ("namedLocations",), sentinels=keywords.ca("includeLocations")),
        Ref(loc + "excludeLocations[]", ("namedLocations",), sentinels=keywords.ca("excludeLocations")),
        Ref("grantControls.authenticationStrength.id", ("authenticationStrengthPolicies",)),
        Ref("grantControls.termsOfUse[]", ("termsOfUseAgreements",)),
    ]
    return tuple(refs)


def _xtap_refs() -> tuple[Ref, ...]:
    refs = []
    for side in ("b2bCollaborationInbound", "b2bCollaborationOutbound",
                 "b2bDirectConnectInbound", "b2bDirectConnectOutbound"):
        refs.append(Ref(f"{side}.usersAndGroups.targets[].target", ("groups", "users"),
                        sentinels=frozenset({"AllUsers"})))
        refs.append(Ref(f"{side}.applications.targets[].target", ("applications", "servicePrincipals"),
                        key="appId", sentinels=frozenset({"AllApplications", "Office365"})))
    return tuple(refs)


def _query_refs(*paths: str) -> tuple[Ref, ...]:
    """Ids inside the Graph queries of access reviews and consent reviewers (accessReviewQueryScope,
    accessReviewReviewerScope: `/users/{id}`, `/groups/{id}/transitiveMembers`, a role's
    `/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '{id}'`), optionally under
    /v1.0 or /beta; relative queries (`./manager`, `./owners`) and filters name nothing."""
    v = r"^(?:/v1\.0|/beta)?"
    role = rf"{v}/roleManagement/directory/roleAssignments\?\$filter=roleDefinitionId eq '([^']+)'"
    shapes: tuple[tuple[tuple[str, ...], KeyType, str], ...] = (
        (("users",), "id", rf"{v}/users/([^/?]+)"), (("groups",), "id", rf"{v}/groups/([^/?]+)"),
        (("roleDefinitions",), "templateId", role))
    return tuple(Ref(p, targets, key=key, pattern=rx, only_guids=True) for p in paths for targets, key, rx in shapes)


_DEVICE_MEMBERSHIPS = ("azureADRegistration.allowedToRegister", "azureADJoin.allowedToJoin",
                       "azureADJoin.localAdmins.registeringUsers")


# Writable, identity-relevant user properties that list reads support (properties such as aboutMe or
# birthday are single-user only, and signInActivity/mailboxSettings need other permissions).
_USER_SELECT = (
    "id", "accountEnabled", "ageGroup", "businessPhones", "city", "companyName", "consentProvidedForMinor",
    "country", "department", "displayName", "employeeHireDate", "employeeId", "employeeOrgData", "employeeType",
    "faxNumber", "givenName", "jobTitle", "mailNickname", "mobilePhone", "officeLocation", "otherMails",
    "passwordPolicies", "postalCode", "preferredDataLocation", "preferredLanguage", "showInAddressList", "state",
    "streetAddress", "surname", "usageLocation", "userPrincipalName", "userType", "onPremisesSyncEnabled",
)
_CA_WRITE = ("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess")
_GROUP_STRIP = frozenset({
    "mail", "proxyAddresses", "securityIdentifier", "onPremisesDomainName", "onPremisesLastSyncDateTime",
    "onPremisesNetBiosName", "onPremisesProvisioningErrors", "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier", "renewedDateTime", "expirationDateTime",
    "membershipRuleProcessingStatus", "organizationId", "createdByAppId", "serviceProvisioningErrors",
    "isManagementRestricted", "infoCatalogs", "writebackConfiguration",
    "resourceBehaviorOptions", "uniqueName", "cloudLicensing", "isArchived",
} | _TS)
_APP_STRIP = frozenset({
    "publisherDomain", "createdByAppId", "certification", "verifiedPublisher",
    "disabledByMicrosoftStatus", "passwordCredentials", "uniqueName", "signInAudienceRestrictions",
} | _TS)
_SP_STRIP = frozenset({
    "appDisplayName", "applicationTemplateId",
    "signInAudience", "publisherName", "appRoles", "oauth2PermissionScopes", "servicePrincipalNames",
    "passwordCredentials", "appDescription", "verifiedPublisher", "info", "resourceSpecificApplicationPermissions",
    "disabledByMicrosoftStatus", "homepage", "replyUrls", "logoutUrl", "samlMetadataUrl",
} | _TS)
_USER_STRIP = frozenset({
    "passwordProfile", "proxyAddresses", "signInActivity", "lastPasswordChangeDateTime", "creationType",
    "securityIdentifier", "externalUserState", "externalUserStateChangeDateTime", "onPremisesDistinguishedName",
    "onPremisesDomainName", "onPremisesImmutableId", "onPremisesLastSyncDateTime", "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier", "onPremisesUserPrincipalName",
    "onPremisesProvisioningErrors", "onPremisesExtensionAttributes", "mail", "imAddresses",
    "refreshTokensValidFromDateTime", "signInSessionsValidFromDateTime", "identities", "assignedLicenses",
    "assignedPlans", "provisionedPlans", "licenseAssignmentStates",
} | _TS)

# "Collection of identity providers in priority order of preference"
# (https://learn.microsoft.com/graph/api/resources/defaultinvitationredemptionidentityproviderconfiguration).
_PRECEDENCE = frozenset({"invitationRedemptionIdentityProviderConfiguration.primaryIdentityProviderPrecedenceOrder"})
# keyCredential.key is "returned only on $select for a single object ... otherwise, it's always null"
# (https://learn.microsoft.com/graph/api/resources/keycredential): files keep the public metadata only.
_KEYS_LOST = {"keyCredentials": "its certificates must be uploaded again (the files keep no key)"}

# Writes to directory-synced objects: 400 "Unable to update the specified properties for on-premises
# mastered Directory Sync objects" (https://github.com/microsoftgraph/microsoft-graph-docs/issues/7301).
_SYNCED = SystemOwned("synced from on-premises Active Directory: change it there (Graph refuses writes)",
                      equals=(("onPremisesSyncEnabled", True),))
# "Mail-enabled security groups and distribution groups ... are read-only through Microsoft Graph"
# (https://learn.microsoft.com/graph/office365-groups-concept-overview).
_EXCHANGE = SystemOwned("mail-enabled security group or distribution list: Exchange manages it",
                        equals=(("mailEnabled", True),), lacks=(("groupTypes", "Unified"),))
# Guests are invited (https://learn.microsoft.com/graph/api/invitation-post); POST /users cannot make
# one, so a deleted guest is invited again by a person, never recreated from its file.
_GUEST = SystemOwned("guest: its account lives in its home tenant; invite it again (POST /invitations) if it is gone",
                     equals=(("userType", "Guest"),), locked=frozenset())
# A permission grant condition set has no PATCH: all its fields identify it.
_CONDITION_MATCH = ("permissionClassification", "permissionType", "resourceApplication", "permissions",
                    "clientApplicationIds", "clientApplicationTenantIds", "clientApplicationPublisherIds",
                    "clientApplicationsFromVerifiedPublisherOnly")
MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # owner of Microsoft's first-party apps


# Where an access review definition names groups, users and roles: its scope's and reviewers' queries.
_REVIEW_QUERIES = ("scope.query", "scope.principalScopes[].query", "scope.resourceScopes[].query",
                   "instanceEnumerationScope.query", "reviewers[].query", "fallbackReviewers[].query",
                   "additionalNotificationRecipients[].notificationRecipientScope.query")

KINDS: tuple[Kind, ...] = (
    Kind(
        name="namedLocations", graph_type="namedLocation", title="named location", version="beta",
        path="/identity/conditionalAccess/namedLocations", polymorphic=True, paced=True,
        typed_paths=("ipRanges[]",),
        # Beta-only, created by Global Secure Access; CA policies reference it, nobody writes it.
        # https://learn.microsoft.com/graph/api/resources/compliantnetworknamedlocation?view=graph-rest-beta
        system_owned=(SystemOwned(
            "compliant network location: Global Secure Access creates and manages it",
            equals=(("@odata.type", "#microsoft.graph.compliantNetworkNamedLocation"),)),),
        soft_delete="policy-beta", write_perm=_CA_WRITE, strip=_TS,
        deleted_list="/identity/conditionalAccess/deletedItems/namedLocations",
        deleted_item="/identity/conditionalAccess/deletedItems/namedLocations/{id}",
        restore_app_only=False,
    ),
    Kind(
        name="authenticationContextClassReferences", guid_id=False, graph_type="authenticationContextClassReference", title="authentication context",
        path="/identity/conditionalAccess/authenticationContextClassReferences",
        create="upsert", client_id=True,
        read_perm=("AuthenticationContext.Read.All", "Policy.Read.ConditionalAccess"),
        write_perm=("AuthenticationContext.ReadWrite.All",),
    ),
    Kind(
        name="authenticationStrengthPolicies", graph_type="authenticationStrengthPolicy", title="authentication strength",
        path="/policies/authenticationStrengthPolicies",
        strip=frozenset({"policyType", "requirementsSatisfied", "combinationConfigurations[].id"} | _TS),
        skip_when={"policyType": "builtIn"},
        # https://learn.microsoft.com/graph/api/authenticationstrengthroot-list-policies: least privileged
        # read is Policy.Read.AuthenticationMethod (permissions.json agrees).
        read_perm=("Policy.Read.AuthenticationMethod", "Policy.Read.All"),
        write_perm=("Policy.ReadWrite.ConditionalAccess",),
        actions={"allowedCombinations": "updateAllowedCombinations"},
        # combinationConfigurations are polymorphic (fido2 / x509CertificateCombinationConfiguration); a create
        # must name the derived type: https://learn.microsoft.com/graph/api/authenticationstrengthpolicy-post-combinationconfigurations
        # The policy's PATCH "cannot update" them (authenticationstrengthpolicy-update): their own collection.
        typed_paths=("combinationConfigurations[]",),
        subcollections=(SubCollection("combinationConfigurations", ("@odata.type", "appliesToCombinations")),),
    ),
    Kind(
        name="users", select=_USER_SELECT, graph_type="user", top=999, title="user", path="/users", default_on=False, initial_password=True,
        natural_key=("userPrincipalName",), strip=_USER_STRIP, soft_delete="directory",
        readonly=frozenset({"onPremisesSyncEnabled"}), system_owned=(_SYNCED, _GUEST),
        sensitive=frozenset({"accountEnabled", "businessPhones", "mobilePhone", "otherMails", "passwordProfile"}),
        odata_cast="microsoft.graph.user",
        deleted_list="/directory/deletedItems/microsoft.graph.user", deleted_item="/directory/deletedItems/{id}", read_perm=("User.Read.All",), write_perm=("User.ReadWrite.All",),
    ),
    Kind(
        name="groups", graph_type="group", top=999, title="group", path="/groups", natural_key=("displayName", "mailNickname"),
        # https://learn.microsoft.com/graph/api/group-delta: members and owners when selected.
        delta=Delta("/groups/delta", ("members", "owners")),
        strip=_GROUP_STRIP, readonly=frozenset({"onPremisesSyncEnabled"}), system_owned=(_SYNCED, _EXCHANGE),
        # visibility: "can be set only ... when the groups are created. It can't be updated later"
        # (https://learn.microsoft.com/graph/api/resources/group).
        create_only=frozenset({"isAssignableToRole", "resourceProvisioningOptions", "visibility"}),
        relations=(Relation("owners"), Relation("members", unless=("groupTypes", "DynamicMembership"))),
        # v1.0 does not list service principals as group members or owners, beta does
        # (https://learn.microsoft.com/graph/api/group-list-members, .../group-list-owners).
        relation_version="beta",
        soft_delete="directory", odata_cast="microsoft.graph.group",
        deleted_list="/directory/deletedItems/microsoft.graph.group", deleted_item="/directory/deletedItems/{id}",
        # Hidden-membership groups list their members only with Member.Read.Hidden
        # (https://learn.microsoft.com/graph/api/group-list-members); role-assignable groups are
        # written only with RoleManagement.ReadWrite.Directory on top
        # (https://learn.microsoft.com/graph/api/group-delete, .../group-update, .../group-post-members).
        read_perm=("Group.Read.All", "Directory.Read.All"), read_also=("Member.Read.Hidden",),
        write_perm=("Group.ReadWrite.All", "RoleManagement.ReadWrite.Directory"),
        depends=("users",),
    ),
    Kind(
        name="administrativeUnits", graph_type="administrativeUnit", top=999, title="administrative unit", path="/directory/administrativeUnits",
        delta=Delta("/administrativeUnits/delta", ("members",)),  # administrativeunit-delta
        relations=(Relation("members", unless=("membershipType", "dynamic")),), soft_delete="directory",
        odata_cast="microsoft.graph.administrativeUnit",
        deleted_list="/directory/deletedItems/microsoft.graph.administrativeUnit", deleted_item="/directory/deletedItems/{id}", strip=_TS,
        # Fixed when the unit is created (https://learn.microsoft.com/entra/identity/role-based-access-control/admin-units-restricted-management).
        create_only=frozenset({"isMemberManagementRestricted", "visibility"}),
        restricts_members="isMemberManagementRestricted",
        # Members of a HiddenMembership AU need Member.Read.Hidden
        # (https://learn.microsoft.com/graph/api/administrativeunit-list-members).
        read_perm=("AdministrativeUnit.Read.All", "Directory.Read.All"), read_also=("Member.Read.Hidden",),
        write_perm=("AdministrativeUnit.ReadWrite.All",), depends=("users", "groups"),
    ),
    Kind(
        name="applications", graph_type="application", top=999, title="application", path="/applications",
        natural_key=("displayName", "identifierUris"), strip=_APP_STRIP,
        readonly=frozenset({"appId", "keyCredentials"}), lost_on_create=_KEYS_LOST,
        refs=(
            # The portal's default App ID URI embeds the app's own appId; a recreated app has a new
            # one and Graph accepts only its own (https://learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions).
            Ref("identifierUris[]", ("applications",), key="appId", prefix="api://", only_guids=True),
            Ref("requiredResourceAccess[].resourceAppId", ("applications", "servicePrincipals"), key="appId"),
            Ref("api.preAuthorizedApplications[].appId", ("applications", "servicePrincipals"), key="appId"),
            Ref("api.knownClientApplications[]", ("applications", "servicePrincipals"), key="appId"),
        ),
        relations=(Relation("owners"),), soft_delete="directory", odata_cast="microsoft.graph.application",
        deleted_list="/directory/deletedItems/microsoft.graph.application", deleted_item="/directory/deletedItems/{id}",
        read_perm=("Application.Read.All", "Directory.Read.All"), write_perm=("Application.ReadWrite.All",),
        depends=("users",),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/federatedidentitycredential: workload identity
        # federation (a GitHub Actions job signs in as the app with no secret). Graph lists them only per
        # app (application-list-federatedidentitycredentials), names each by `name` (unique per app,
        # never changed: federatedidentitycredential-update) and writes them with POST / PATCH / DELETE.
        # Their body never names the app: `applicationId` is filled in from the parent at read time and
        # kept in files (a recreated app gets them back under its new id); it builds the path and is never
        # sent. A credential never moves to another app (create-only).
        # Restore: the restore docs (directory-deleteditems-restore) do not say whether an app's FICs come
        # back with it. They are part of the application object (no recycle bin of their own), so plan
        # treats them as restored with the app (restored_with); one missing afterwards is planned as a
        # create on the next plan, so this reading never loses one. A hard-deleted app is recreated and
        # its FICs are created again on the new id.
        name="federatedIdentityCredentials", graph_type="federatedIdentityCredential",
        title="federated identity credential", parent="applications",
        path="/applications/{parent}/federatedIdentityCredentials", name_field="name",
        natural_key=("applicationId", "name"), parent_field="applicationId",
        parent_in_path=True, create_only=frozenset({"name", "applicationId"}),
        refs=(Ref("applicationId", ("applications",)),), restored_with=("applicationId",),
        # https://learn.microsoft.com/graph/api/application-list-federatedidentitycredentials,
        # .../application-post-federatedidentitycredentials
        read_perm=("Application.Read.All", "Directory.Read.All"), write_perm=("Application.ReadWrite.All",),
        depends=("applications",),
    ),
    Kind(
        name="servicePrincipals", graph_type="servicePrincipal", top=999, title="service principal", path="/servicePrincipals",
        natural_key=("appId",), strip=_SP_STRIP, create_only=frozenset({"appId"}),
        readonly=frozenset({"keyCredentials", "servicePrincipalType", "appOwnerOrganizationId"}),
        lost_on_create=_KEYS_LOST,
        # https://learn.microsoft.com/graph/api/serviceprincipal-post-serviceprincipals
        instantiate=("appId", "applications"),
        system_owned=(
            SystemOwned("managed identity: Azure creates and deletes it with its resource",
                        equals=(("servicePrincipalType", "ManagedIdentity"),)),
            SystemOwned("Microsoft first-party app: the tenant may disable it, never delete it "
                        "(re-created by appId if it goes missing)",
                        equals=(("appOwnerOrganizationId", MICROSOFT_TENANT),), locked=frozenset(), creatable=True),
        ),
        # An app registered in another tenant (first-party, multi-tenant) is named by its own SP.
        refs=(Ref("appId", ("applications", "servicePrincipals"), key="appId"),),
        relations=(Relation("owners"),), soft_delete="directory",
        odata_cast="microsoft.graph.servicePrincipal",
        deleted_list="/directory/deletedItems/microsoft.graph.servicePrincipal", deleted_item="/directory/deletedItems/{id}",
        read_perm=("Application.Read.All", "Directory.Read.All"), write_perm=("Application.ReadWrite.All",),
        write_broader={"Application.ReadWrite.All": ("Directory.ReadWrite.All",)},
        depends=("applications",),
    ),
    Kind(
        name="appRoleAssignments", guid_id=False, graph_type="appRoleAssignment", title="app role assignment", parent="servicePrincipals",
        path="/servicePrincipals/{parent}/appRoleAssignedTo", name_field="",
        natural_key=("principalId", "resourceId", "appRoleId"), label=("principalId", "resourceId", "appRoleId"),
        strip=frozenset({"principalDisplayName", "principalType", "resourceDisplayName"} | _TS),
        refs=(Ref("principalId", PRINCIPALS), Ref("resourceId", ("servicePrincipals",))),
        update=None, parent_field="resourceId", restored_with=("principalId", "resourceId"),
        read_perm=("Application.Read.All", "Directory.Read.All"),
        write_perm=("AppRoleAssignment.ReadWrite.All",), depends=("users", "groups", "servicePrincipals"),
    ),
    Kind(
        name="oauth2PermissionGrants", guid_id=False, graph_type="oAuth2PermissionGrant", title="delegated permission grant", path="/oauth2PermissionGrants",
        # A directory collection: pages of up to 999 ("supports the OData query parameters",
        # https://learn.microsoft.com/graph/api/oauth2permissiongrant-list); Graph's default page is 100.
        top=999,
        name_field="", natural_key=("clientId", "resourceId", "consentType", "principalId"),
        label=("clientId", "resourceId", "principalId"), strip=_TS,
        create_only=frozenset({"clientId", "consentType", "principalId", "resourceId"}),
        refs=(Ref("clientId", ("servicePrincipals",)), Ref("resourceId", ("servicePrincipals",)),
              Ref("principalId", ("users",))),
        restored_with=("clientId", "resourceId"),
        # https://learn.microsoft.com/graph/api/oauth2permissiongrant-list: Application least privileged
        # is Directory.Read.All; there is no DelegatedPermissionGrant.Read.All application permission.
        read_perm=("Directory.Read.All",),
        write_perm=("DelegatedPermissionGrant.ReadWrite.All",), depends=("users", "servicePrincipals"),
        write_broader={"DelegatedPermissionGrant.ReadWrite.All": ("Directory.ReadWrite.All",)},
    ),
    Kind(
        name="roleDefinitions", graph_type="unifiedRoleDefinition", title="custom role", path="/roleManagement/directory/roleDefinitions",
        strip=frozenset({"isBuiltIn", "inheritsPermissionsFrom", "version", "resourceScopes", "isPrivileged"} | _TS),
        skip_when={"isBuiltIn": True}, soft_delete="roleDefinitions", read_for_names=True,
        deleted_list="/roleManagement/directory/deletedItems/roleDefinitions",
        deleted_item="/roleManagement/directory/deletedItems/roleDefinitions/{id}",
        read_perm=("RoleManagement.Read.Directory", "Directory.Read.All"),
        write_perm=("RoleManagement.ReadWrite.Directory",),
    ),
    Kind(
        name="roleAssignments", guid_id=False, graph_type="unifiedRoleAssignment", title="role assignment", path="/roleManagement/directory/roleAssignments",
        name_field="", natural_key=("principalId", "roleDefinitionId", "directoryScopeId"),
        label=("roleDefinitionId", "principalId", "directoryScopeId"), update=None, restored_with=("principalId",),
        # resourceScope: deprecated, still returned next to directoryScopeId; principalOrganizationId: beta
        # (https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignments).
        strip=frozenset({"resourceScope", "principalOrganizationId"} | _TS),
        # https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignmentscheduleinstances
        # (RoleManagement.Read.Directory reads it too, so the manifest needs nothing more).
        transient=Transient("/roleManagement/directory/roleAssignmentScheduleInstances",
                            "assignmentType eq 'Activated'", ("principalId", "roleDefinitionId", "directoryScopeId")),
        refs=(
            Ref("principalId", PRINCIPALS),
            Ref("roleDefinitionId", ("roleDefinitions",), key="templateId"),
            Ref("directoryScopeId", ("administrativeUnits",), prefix="/administrativeUnits/",
                sentinels=frozenset({"/"})),
            # An app-scoped assignment: "/{application object id}"
            # (https://learn.microsoft.com/entra/identity/role-based-access-control/custom-overview#scope).
            Ref("directoryScopeId", ("applications",), prefix="/", only_guids=True, sentinels=frozenset({"/"})),
        ),
        read_perm=("RoleManagement.Read.Directory", "Directory.Read.All"),
        write_perm=("RoleManagement.ReadWrite.Directory",),
        depends=("users", "groups", "servicePrincipals", "roleDefinitions", "administrativeUnits"),
    ),
    Kind(
        name="roleEligibilitySchedules", licence="Entra ID P2 / Governance", graph_type="unifiedRoleEligibilitySchedule", title="eligible role assignment",
        path="/roleManagement/directory/roleEligibilitySchedules", name_field="",
        natural_key=("principalId", "roleDefinitionId", "directoryScopeId"),
        label=("roleDefinitionId", "principalId", "directoryScopeId"), update=None,
        requests=Requests("/roleManagement/directory/roleEligibilityScheduleRequests"),
        # createdUsing names the request that made it; a start left out of a request is "now", so the
        # start of a recreated eligibility is the apply's time and not worth a diff.
        strip=frozenset({"status", "createdUsing", "memberType", "scheduleInfo.startDateTime"} | _TS),
        refs=(
            Ref("principalId", PRINCIPALS),
            Ref("roleDefinitionId", ("roleDefinitions",), key="templateId"),
            Ref("directoryScopeId", ("administrativeUnits",), prefix="/administrativeUnits/",
                sentinels=frozenset({"/"})),
        ),
        # https://learn.microsoft.com/graph/api/rbacapplication-list-roleeligibilityschedules
        read_perm=("RoleEligibilitySchedule.Read.Directory", "RoleManagement.Read.Directory"),
        write_perm=("RoleEligibilitySchedule.ReadWrite.Directory",),
        depends=("users", "groups", "servicePrincipals", "roleDefinitions", "administrativeUnits"),
    ),
    Kind(
        # Active role assignments as PIM schedules, so a time-bound one comes back time-bound
        # (https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignmentschedules); written with
        # adminAssign / adminRemove requests (rbacapplication-post-roleassignmentschedulerequests).
        # Activations are PIM's, never owned. Opt-in: it holds the same active assignments roleAssignments
        # does, so a tenant that manages them as schedules lists this kind instead of that one.
        name="roleAssignmentSchedules", licence="Entra ID P2 / Governance", graph_type="unifiedRoleAssignmentSchedule", title="active role assignment",
        guid_id=False,  # a standing assignment's schedule has the assignment's id
        path="/roleManagement/directory/roleAssignmentSchedules", name_field="",
        natural_key=("principalId", "roleDefinitionId", "directoryScopeId"),
        label=("roleDefinitionId", "principalId", "directoryScopeId"), update=None,
        requests=Requests("/roleManagement/directory/roleAssignmentScheduleRequests"),
        same_objects_as="roleAssignments",
        skip_when={"assignmentType": "Activated"},
        strip=frozenset({"status", "createdUsing", "memberType", "assignmentType", "scheduleInfo.startDateTime"}
                        | _TS),
        refs=(
            Ref("principalId", PRINCIPALS),
            Ref("roleDefinitionId", ("roleDefinitions",), key="templateId"),
            Ref("directoryScopeId", ("administrativeUnits",), prefix="/administrativeUnits/",
                sentinels=frozenset({"/"})),
        ),
        read_perm=("RoleAssignmentSchedule.Read.Directory", "RoleManagement.Read.Directory"),
        write_perm=("RoleAssignmentSchedule.ReadWrite.Directory",), default_on=False,
        depends=("users", "groups", "servicePrincipals", "roleDefinitions", "administrativeUnits"),
    ),
    # PIM for Groups (https://learn.microsoft.com/graph/api/resources/privilegedidentitymanagement-for-groups-api-overview):
    # who may become a member or owner of a group (eligible) and who is one for a time (active). Graph
    # lists both only with a $filter on groupId or principalId (privilegedaccessgroup-list-eligibilityschedules,
    # privilegedaccessgroup-list-assignmentschedules), so they are read per group; written only through the
    # request collections with adminAssign / adminRemove (privilegedaccessgroup-post-eligibilityschedulerequests).
    # Security and Microsoft 365 groups only: "Dynamic groups and groups synchronized from on-premises
    # environment cannot be managed in PIM for Groups"
    # (https://learn.microsoft.com/entra/id-governance/privileged-identity-management/groups-discover-groups).
    # Opt-in: PIM needs Entra ID P2 or Governance licences, and each group costs a read.
    Kind(
        name="groupEligibilitySchedules", licence="Entra ID P2 / Governance", graph_type="privilegedAccessGroupEligibilitySchedule",
        title="eligible group membership", path="/identityGovernance/privilegedAccess/group/eligibilitySchedules",
        guid_id=False, name_field="", natural_key=("groupId", "principalId", "accessId"), label=("groupId", "accessId", "principalId"),
        parent="groups", parent_field="groupId", parent_filter="groupId eq '{parent}'",
        parent_unless=_PIM_GROUP_UNLESS, update=None,
        requests=Requests("/identityGovernance/privilegedAccess/group/eligibilityScheduleRequests"),
        strip=frozenset({"status", "createdUsing", "memberType", "scheduleInfo.startDateTime"} | _TS),
        refs=(Ref("groupId", ("groups",)), Ref("principalId", ("users", "groups"))),
        read_perm=("PrivilegedEligibilitySchedule.Read.AzureADGroup",),
        write_perm=("PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",), default_on=False,
        depends=("users", "groups"),
    ),
    Kind(
        # Activations (assignmentType "activated") are PIM's: never owned, like roleAssignmentSchedules.
        name="groupAssignmentSchedules", licence="Entra ID P2 / Governance", graph_type="privilegedAccessGroupAssignmentSchedule",
        title="active group membership", path="/identityGovernance/privilegedAccess/group/assignmentSchedules",
        guid_id=False, name_field="", natural_key=("groupId", "principalId", "accessId"), label=("groupId", "accessId", "principalId"),
        parent="groups", parent_field="groupId", parent_filter="groupId eq '{parent}'",
        parent_unless=_PIM_GROUP_UNLESS, update=None, skip_when={"assignmentType": "activated"},
        requests=Requests("/identityGovernance/privilegedAccess/group/assignmentScheduleRequests"),
        strip=frozenset({"status", "createdUsing", "memberType", "assignmentType", "scheduleInfo.startDateTime"}
                        | _TS),
        refs=(Ref("groupId", ("groups",)), Ref("principalId", ("users", "groups"))),
        read_perm=("PrivilegedAssignmentSchedule.Read.AzureADGroup",),
        write_perm=("PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup",), default_on=False,
        depends=("users", "groups"),
    ),
    Kind(
        # PIM settings of each directory role (https://learn.microsoft.com/graph/api/resources/unifiedrolemanagementpolicy):
        # Graph makes one policy per role and never lets a client create or delete one. Only its rules
        # (approval, activation MFA and justification, maximum durations, notifications) are written, each
        # by PATCH (unifiedrolemanagementpolicyrule-update: "Application: Not supported").
        # The list requires the scope filter (policyroot-list-rolemanagementpolicies).
        name="roleManagementPolicies", graph_type="unifiedRoleManagementPolicy", title="role management policy",
        path="/policies/roleManagementPolicies", guid_id=False, name_field="", natural_key=("id",),
        list_filter="scopeId eq '/' and scopeType eq 'DirectoryRole'", expand=("rules",),
        named_by=("roleManagementPolicyAssignments", "policyId"),
        strip=frozenset({"lastModifiedBy", "effectiveRules"} | _TS),
        readonly=frozenset({"displayName", "description", "isOrganizationDefault", "scopeId", "scopeType"}),
        typed_paths=("rules[]",), subcollections=(SubCollection("rules", ("id",), fixed=True),),
        create=None, system_owned=(_PIM_OWNED,),
        # permissions.json grants RoleManagementPolicy.Read.Directory and .ReadWrite. to signed-in users only
        # (the docs' list table names the Read one for apps too); RoleManagement.Read.Directory is what both
        # grant an app, and the app holds it already for role definitions.
        read_perm=("RoleManagement.Read.Directory",),
        write_perm=("RoleManagementPolicy.ReadWrite.Directory",), writes_delegated_only=True,
    ),
    Kind(
        # Which policy applies to which role (https://learn.microsoft.com/graph/api/resources/unifiedrolemanagementpolicyassignment):
        # Graph's, read-only; kept so the policy files name their roles and a reviewer sees the pairing.
        name="roleManagementPolicyAssignments", graph_type="unifiedRoleManagementPolicyAssignment",
        title="role management policy assignment", path="/policies/roleManagementPolicyAssignments",
        guid_id=False, name_field="", natural_key=("roleDefinitionId",), label=("roleDefinitionId",),
        list_filter="scopeId eq '/' and scopeType eq 'DirectoryRole'",
        refs=(Ref("roleDefinitionId", ("roleDefinitions",), key="templateId"),),
        create=None, update=None, system_owned=(SystemOwned(_PIM_OWNED.reason),),
        read_perm=("RoleManagement.Read.Directory",),
        depends=("roleDefinitions",),
    ),
    Kind(
        name="authenticationMethodsPolicy", graph_type="authenticationMethodsPolicy", title="authentication methods policy", singleton=True,
        path="/policies/authenticationMethodsPolicy",
        strip=frozenset({"policyVersion", "displayName", "description", "authenticationMethodConfigurations",
                         "reconfirmationInDays"} | _TS),
        refs=(
            # Groups first, as in authenticationMethodConfigurations: an id that resolves to nothing is
            # written as its first target kind, and these targets are mostly groups.
            Ref("registrationEnforcement.authenticationMethodsRegistrationCampaign.includeTargets[].id",
                ("groups", "users"), sentinels=frozenset({"all_users"})),
            Ref("registrationEnforcement.authenticationMethodsRegistrationCampaign.excludeTargets[].id",
                ("groups", "users"), sentinels=frozenset({"all_users"})),
        ),
        create=None, read_perm=("Policy.Read.AuthenticationMethod", "Policy.Read.All"),
        write_perm=("Policy.ReadWrite.AuthenticationMethod",),
    ),
    Kind(
        name="authenticationMethodConfigurations", guid_id=False, graph_type="authenticationMethodConfiguration", title="authentication method",
        path="/policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
        name_field="id", natural_key=("id",), polymorphic=True, client_id=True, create=None, strip=_TS,
        refs=(
            Ref("includeTargets[].id", ("groups", "users"), sentinels=frozenset({"all_users"})),
            Ref("excludeTargets[].id", ("groups", "users"), sentinels=frozenset({"all_users"})),
        ),
        read_perm=("Policy.Read.AuthenticationMethod", "Policy.Read.All"),
        write_perm=("Policy.ReadWrite.AuthenticationMethod",), depends=("groups",),
    ),
    Kind(
        name="authorizationPolicy", graph_type="authorizationPolicy", title="authorization policy", singleton=True,
        path="/policies/authorizationPolicy", strip=frozenset({"id"} | _TS), create=None,
        write_perm=("Policy.ReadWrite.Authorization",),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/authenticationflowspolicy: self-service sign-up
        # for guests through user flows; displayName and description are Graph's.
        name="authenticationFlowsPolicy", graph_type="authenticationFlowsPolicy", title="authentication flows policy",
        singleton=True, path="/policies/authenticationFlowsPolicy",
        strip=frozenset({"id", "displayName", "description"} | _TS), create=None,
        write_perm=("Policy.ReadWrite.AuthenticationFlows",),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/adminconsentrequestpolicy-update: PUT only; reviewers are
        # accessReviewReviewerScope queries naming users, groups and roles by id, so they are references.
        name="adminConsentRequestPolicy", graph_type="adminConsentRequestPolicy", title="admin consent request policy",
        singleton=True, path="/policies/adminConsentRequestPolicy", update="put",
        strip=frozenset({"id", "version"} | _TS), create=None, refs=_query_refs("reviewers[].query"),
        read_perm=("Policy.Read.All", "Directory.Read.All"), write_perm=("Policy.ReadWrite.ConsentRequest",),
        write_broader={"Policy.ReadWrite.ConsentRequest": ("Directory.ReadWrite.All",)},
        depends=("users", "groups", "roleDefinitions"),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/deviceregistrationpolicy-update: v1.0 replaces it with PUT;
        # allowedToRegister / allowedToJoin / registeringUsers are derived membership types naming users
        # and groups (enumeratedDeviceRegistrationMembership).
        name="deviceRegistrationPolicy", graph_type="deviceRegistrationPolicy", title="device registration policy",
        singleton=True, path="/policies/deviceRegistrationPolicy", update="put",
        strip=frozenset({"id", "displayName", "description"} | _TS), create=None,
        typed_paths=_DEVICE_MEMBERSHIPS, refs=tuple(
            Ref(f"{m}.{side}[]", (side,)) for m in _DEVICE_MEMBERSHIPS for side in ("users", "groups")),
        read_perm=("Policy.Read.DeviceConfiguration",), write_perm=("Policy.ReadWrite.DeviceConfiguration",),
        # Opt-in: Microsoft publishes no application role id for the two DeviceConfiguration permissions
        # yet (permissions.json lists them by name only), so the default app could not be granted them.
        depends=("users", "groups"), default_on=False,
    ),
    Kind(
        # Whether guests may leave the tenant by themselves (My Account, Organizations). Beta only: v1.0 has
        # no externalIdentitiesPolicy (https://learn.microsoft.com/graph/api/resources/externalidentitiespolicy?view=graph-rest-beta);
        # GET and PATCH, 204 (externalidentitiespolicy-update?view=graph-rest-beta). displayName and
        # description are Graph's. Not covered yet: b2bManagementPolicy, also beta, whose settings are a JSON
        # string in `definition` (https://learn.microsoft.com/graph/api/resources/b2bmanagementpolicy?view=graph-rest-beta).
        name="externalIdentitiesPolicy", graph_type="externalIdentitiesPolicy", title="external identities policy",
        version="beta", singleton=True, path="/policies/externalIdentitiesPolicy",
        strip=frozenset({"id", "displayName", "description"} | _TS), create=None,
        write_perm=("Policy.ReadWrite.ExternalIdentities",),
    ),
    Kind(
        name="crossTenantAccessPolicy", graph_type="crossTenantAccessPolicy", title="cross-tenant access policy", singleton=True,
        path="/policies/crossTenantAccessPolicy", strip=frozenset({"id", "displayName", "definition",
                                                                   "isOrganizationDefault"} | _TS),
        create=None, write_perm=("Policy.ReadWrite.CrossTenantAccess",),
    ),
    Kind(
        name="crossTenantAccessDefault", graph_type="crossTenantAccessPolicyConfigurationDefault", title="cross-tenant access default", singleton=True,
        path="/policies/crossTenantAccessPolicy/default", name_field="", strip=frozenset({"isServiceDefault", "id"} | _TS),
        ordered=_PRECEDENCE,
        refs=_xtap_refs(), create=None, write_perm=("Policy.ReadWrite.CrossTenantAccess",),
    ),
    Kind(
        name="crossTenantAccessPartners", graph_type="crossTenantAccessPolicyConfigurationPartner", title="cross-tenant partner",
        path="/policies/crossTenantAccessPolicy/partners", id_field="tenantId", name_field="",
        natural_key=("tenantId",), label=("tenantId",), client_id=True,
        # identitySynchronization.tenantId repeats the partner's key.
        strip=frozenset({"isServiceProvider", "isInMultiTenantOrganization", "identitySynchronization.tenantId"} | _TS),
        refs=_xtap_refs(), write_perm=("Policy.ReadWrite.CrossTenantAccess",), ordered=_PRECEDENCE,
        # https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-put-identitysynchronization
        children=(Child("identitySynchronization", "crossTenantIdentitySyncPolicyPartner"),),
        # https://learn.microsoft.com/graph/api/crosstenantaccesspolicyconfigurationpartner-delete
        delete_first=("identitySynchronization",),
    ),
    Kind(
        name="securityDefaults", graph_type="identitySecurityDefaultsEnforcementPolicy", title="security defaults", singleton=True,
        path="/policies/identitySecurityDefaultsEnforcementPolicy",
        strip=frozenset({"id", "displayName", "description"} | _TS), create=None,
        write_perm=("Policy.ReadWrite.SecurityDefaults",),
        # "Security Defaults is enabled in the tenant. You must disable Security defaults before enabling
        # a Conditional Access policy" (https://github.com/j0eyv/ConditionalAccessBaseline/issues/17).
        after_when=("isEnabled", True, ("conditionalAccessPolicies",)),
    ),
    Kind(
        # The four sts policies list the apps they are assigned to by appliesTo (stspolicy-list-appliesto); an
        # assignment is written on the app's side (application-post-tokenlifetimepolicies, serviceprincipal-
        # post-claimsmappingpolicies, ...), which also needs Application.ReadWrite.All (permissions.json).
        name="tokenLifetimePolicies", graph_type="tokenLifetimePolicy", title="token lifetime policy", path="/policies/tokenLifetimePolicies",
        strip=_TS, relations=(Relation("appliesTo", targets=("applications", "servicePrincipals"), via="tokenLifetimePolicies"),),
        write_perm=("Policy.ReadWrite.ApplicationConfiguration", "Application.ReadWrite.All"),
        depends=("applications", "servicePrincipals"),
    ),
    Kind(
        name="claimsMappingPolicies", graph_type="claimsMappingPolicy", title="claims mapping policy", path="/policies/claimsMappingPolicies",
        strip=_TS, relations=(Relation("appliesTo", targets=("servicePrincipals",), via="claimsMappingPolicies"),),
        write_perm=("Policy.ReadWrite.ApplicationConfiguration", "Application.ReadWrite.All"), depends=("servicePrincipals",),
    ),
    Kind(
        name="homeRealmDiscoveryPolicies", graph_type="homeRealmDiscoveryPolicy", title="home realm discovery policy",
        path="/policies/homeRealmDiscoveryPolicies", strip=_TS,
        relations=(Relation("appliesTo", targets=("servicePrincipals",), via="homeRealmDiscoveryPolicies"),),
        write_perm=("Policy.ReadWrite.ApplicationConfiguration", "Application.ReadWrite.All"), depends=("servicePrincipals",),
    ),
    Kind(
        name="tokenIssuancePolicies", graph_type="tokenIssuancePolicy", title="token issuance policy",
        path="/policies/tokenIssuancePolicies", strip=_TS, relations=(Relation("appliesTo", targets=("applications",), via="tokenIssuancePolicies"),),
        write_perm=("Policy.ReadWrite.ApplicationConfiguration", "Application.ReadWrite.All"), depends=("applications",),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/permissiongrantpolicy: the id is chosen by the
        # tenant on POST; Microsoft's built-in policies (ids "microsoft-...") are kept for review, never
        # written. includes / excludes are condition sets, read with the policy and written item by item
        # (permissiongrantpolicy-post-includes, ...-delete-includes; Graph has no PATCH for them, so every
        # field matches and a changed set is replaced).
        name="permissionGrantPolicies", graph_type="permissionGrantPolicy", title="permission grant policy",
        path="/policies/permissionGrantPolicies", guid_id=False, client_id=True,
        strip=frozenset({"includes[].id", "excludes[].id"} | _TS),
        system_owned=(SystemOwned("built-in permission grant policy: Microsoft's own, Graph refuses to change it",
                                  prefix=(("id", "microsoft-"),)),),
        subcollections=tuple(SubCollection(side, _CONDITION_MATCH, patch=False) for side in ("includes", "excludes")),
        refs=tuple(r for side in ("includes", "excludes") for r in (
            Ref(f"{side}[].clientApplicationIds[]", ("applications", "servicePrincipals"), key="appId",
                sentinels=frozenset({"all"})),
            Ref(f"{side}[].resourceApplication", ("applications", "servicePrincipals"), key="appId",
                sentinels=frozenset({"any"})),
        )),
        read_perm=("Policy.Read.PermissionGrant",), write_perm=("Policy.ReadWrite.PermissionGrant",),
        depends=("applications", "servicePrincipals"),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/appmanagementpolicy: appliesTo lists the
        # applications and service principals it is assigned to (appmanagementpolicy-list-appliesto); an
        # assignment is written on the app's side (appmanagementpolicy-post-appliesto), which also needs
        # Application.Read.All.
        name="appManagementPolicies", graph_type="appManagementPolicy", title="app management policy",
        path="/policies/appManagementPolicies", strip=_TS,
        relations=(Relation("appliesTo", targets=("applications", "servicePrincipals"), via="appManagementPolicies"),),
        read_perm=("Policy.Read.All",), read_also=("Application.Read.All",),
        write_perm=("Policy.ReadWrite.ApplicationConfiguration", "Application.Read.All"),
        depends=("applications", "servicePrincipals"),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/tenantappmanagementpolicy
        name="defaultAppManagementPolicy", graph_type="tenantAppManagementPolicy",
        title="default app management policy", singleton=True, path="/policies/defaultAppManagementPolicy",
        strip=frozenset({"id"} | _TS), create=None, write_perm=("Policy.ReadWrite.ApplicationConfiguration",),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/identityproviderbase: social providers (Google,
        # Facebook) a tenant federates with, and Microsoft's built-in ones (one per type, ids "{type}-OAUTH").
        # clientSecret is write-only: a read returns "******", so files never hold it.
        name="identityProviders", graph_type="identityProviderBase", title="identity provider",
        path="/identity/identityProviders", guid_id=False, polymorphic=True,
        strip=frozenset({"clientSecret"} | _TS),
        create_only=frozenset({"identityProviderType"}), random_on_create=("clientSecret",),
        lost_on_create={"clientSecret": "set the provider's client secret again (Graph never returns it; "
                                        "apply created it with a random one, so sign-ins through it fail until then)"},
        system_owned=(SystemOwned(
            "built-in identity provider: Microsoft's own; Graph refuses to create, change or delete it",
            equals=(("@odata.type", "#microsoft.graph.builtInIdentityProvider"),)),),
        # https://learn.microsoft.com/graph/api/identitycontainer-list-identityproviders
        read_perm=("IdentityProvider.Read.All",), write_perm=("IdentityProvider.ReadWrite.All",),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/groupsetting: tenant-wide directory settings made
        # from a template (Group.Unified, Password Rule Settings), one per template; displayName comes from
        # the template. GroupCreationAllowedGroupId names a group (the only GUID-shaped value).
        name="groupSettings", graph_type="groupSetting", title="directory setting", path="/settings",
        natural_key=("templateId",), create_only=frozenset({"templateId"}), readonly=frozenset({"displayName"}),
        refs=(Ref("values[].value", ("groups",), only_guids=True),),
        # https://learn.microsoft.com/graph/api/group-list-settings (tenant-wide settings)
        read_perm=("GroupSettings.Read.All", "Directory.Read.All"), write_perm=("GroupSettings.ReadWrite.All",),
        write_broader={"GroupSettings.ReadWrite.All": ("Directory.ReadWrite.All",)}, depends=("groups",),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/attributeset: the id is the set's name, chosen by
        # the tenant; Graph has no delete for sets.
        name="attributeSets", graph_type="attributeSet", title="custom security attribute set",
        path="/directory/attributeSets", guid_id=False, client_id=True, name_field="id", natural_key=("id",),
        system_owned=(_NO_DELETE,),
        read_perm=("CustomSecAttributeDefinition.Read.All",), write_perm=("CustomSecAttributeDefinition.ReadWrite.All",),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/customsecurityattributedefinition: id is
        # "{attributeSet}_{name}"; predefined values (allowedValues, read with $expand) are created inline;
        # a definition is never deleted, only deactivated (status: Deprecated).
        name="customSecurityAttributeDefinitions", graph_type="customSecurityAttributeDefinition",
        title="custom security attribute", path="/directory/customSecurityAttributeDefinitions", guid_id=False,
        name_field="id", natural_key=("attributeSet", "name"),
        expand=("allowedValues",),
        create_only=frozenset({"attributeSet", "name", "type", "isCollection", "isSearchable", "allowedValues"}),
        refs=(Ref("attributeSet", ("attributeSets",), guid=False),), system_owned=(_NO_DELETE,),
        read_perm=("CustomSecAttributeDefinition.Read.All",), write_perm=("CustomSecAttributeDefinition.ReadWrite.All",),
        depends=("attributeSets",),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/agreement: files are agreementFileLocalization
        # objects, created inline with the agreement and read with $expand=files; their bytes
        # (fileData.data, base64) stay in the YAML. New versions are POSTed to /files, never PATCHed.
        name="termsOfUseAgreements", graph_type="agreement", title="terms of use agreement",
        path="/identityGovernance/termsOfUse/agreements", expand=("files",), delegated_only=True,
        strip=frozenset({"files[].id", "files[].createdDateTime"} | _TS), create_only=frozenset({"files"}),
        read_perm=("Agreement.Read.All",), write_perm=("Agreement.ReadWrite.All",),
    ),
    # Entitlement management (https://learn.microsoft.com/graph/api/resources/entitlementmanagement-overview):
    # catalogs and the access packages in them. Opt-in: it needs Entra ID Governance (or P2) licences.
    Kind(
        # https://learn.microsoft.com/graph/api/resources/accesspackagecatalog: the tenant's "General"
        # catalog (catalogType serviceDefault) is Entra's; catalogs other services make are theirs.
        name="accessPackageCatalogs", licence="Entra ID P2 / Governance", graph_type="accessPackageCatalog", title="access package catalog",
        path="/identityGovernance/entitlementManagement/catalogs", strip=_TS, create_only=frozenset({"catalogType"}),
        system_owned=(
            SystemOwned("the tenant's default catalog: Entra makes it and never deletes it",
                        equals=(("catalogType", "serviceDefault"),), locked=frozenset({"catalogType"})),
            SystemOwned("made and managed by another Microsoft service", equals=(("catalogType", "serviceManaged"),)),
        ),
        read_perm=("EntitlementManagement.Read.All",), write_perm=("EntitlementManagement.ReadWrite.All",),
        default_on=False,
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/accesspackage: the catalog is a navigation property,
        # read with $expand=catalog, set on create as {"id": ...} (accesspackage-post) and never moved.
        name="accessPackages", licence="Entra ID P2 / Governance", graph_type="accessPackage", title="access package",
        path="/identityGovernance/entitlementManagement/accessPackages", strip=_TS,
        expand=("catalog",), only_id=("catalog",), create_only=frozenset({"catalog"}),
        refs=(Ref("catalog.id", ("accessPackageCatalogs",)),),
        read_perm=("EntitlementManagement.Read.All",), write_perm=("EntitlementManagement.ReadWrite.All",),
        default_on=False, depends=("accessPackageCatalogs",),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/accesspackageresource: the groups, applications
        # (service principals) and SharePoint Online sites added to a catalog, listed per catalog
        # (accesspackagecatalog-list-resources). Graph has no POST, PATCH or DELETE of them: they are added
        # and removed only through resource requests, adminAdd naming the origin, adminRemove naming the
        # resource's id (entitlementmanagement-post-resourcerequests); the answer is the request, so the
        # resource made is read back by its origin. originId is the group's or service principal's id (a
        # site's URL): a recreated group is added again under its new id. Adding a group app-only also needs
        # Group.ReadWrite.All ("the application requesting to add the group should also be assigned the
        # Group.ReadWrite.All permission"). displayName and description are the origin's, not the catalog's.
        name="accessPackageCatalogResources", licence="Entra ID P2 / Governance", graph_type="accessPackageResource",
        title="catalog resource", parent="accessPackageCatalogs",
        path="/identityGovernance/entitlementManagement/catalogs/{parent}/resources", name_field="",
        natural_key=("catalogId", "originSystem", "originId"), label=("originId",), parent_field="catalogId",
        parent_in_path=True, update=None,
        requests=Requests("/identityGovernance/entitlementManagement/resourceRequests", assign="adminAdd",
                          id_field="", action_field="requestType", wrap="resource", parent="catalog",
                          remove_key=("id",)),
        strip=frozenset({"displayName", "description", "attributes", "environment", "roles", "scopes"} | _TS),
        refs=(Ref("catalogId", ("accessPackageCatalogs",)),
              Ref("originId", ("groups", "servicePrincipals"), only_guids=True)),
        read_perm=("EntitlementManagement.Read.All",),
        write_perm=("EntitlementManagement.ReadWrite.All", "Group.ReadWrite.All"),
        default_on=False, depends=("accessPackageCatalogs", "groups", "servicePrincipals"),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/accesspackageresourcerolescope: a role of a catalog
        # resource (a group's Member or Owner, an app role, a site role) that an access package grants.
        # Listed per package with the role and scope expanded (accesspackage-list-resourcerolescopes; the
        # role's resource too, which a create names), created by POST with the role's resource as {"id": ...}
        # (accesspackage-post-resourcerolescopes), removed by DELETE, never updated. The role and scope
        # ids are Graph's and change when the resource is added again, so files keep the origins only. A
        # group role's originId embeds the group's id (`Member_{id}`).
        name="accessPackageResourceRoleScopes", licence="Entra ID P2 / Governance",
        graph_type="accessPackageResourceRoleScope", title="access package resource role",
        parent="accessPackages", guid_id=False,  # `{role id}_{scope id}`
        path="/identityGovernance/entitlementManagement/accessPackages/{parent}/resourceRoleScopes", name_field="",
        natural_key=("accessPackageId", "role", "scope"), label=("accessPackageId",),
        parent_field="accessPackageId", parent_in_path=True, update=None,
        expand=("role($expand=resource)", "scope"), only_id=("role.resource",),
        strip=frozenset({"role.id", "role.displayName", "role.description", "scope.id", "scope.displayName",
                         "scope.description"} | _TS),
        refs=(Ref("accessPackageId", ("accessPackages",)),
              Ref("role.resource.id", ("accessPackageCatalogResources",)),
              Ref("role.originId", ("groups",), pattern=r"^(?:Member|Owner)_(.+)$", only_guids=True),
              Ref("scope.originId", ("groups", "servicePrincipals"), only_guids=True)),
        read_perm=("EntitlementManagement.Read.All",), write_perm=("EntitlementManagement.ReadWrite.All",),
        default_on=False, depends=("accessPackages", "accessPackageCatalogResources", "groups", "servicePrincipals"),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/accesspackageassignmentpolicy: who may request an
        # access package, who approves and who reviews. Users and groups appear as subjectSets
        # (singleUser.userId, groupMembers.groupId). Updated by PUT of the whole policy
        # (accesspackageassignmentpolicy-update); the package is set on create and never moved.
        name="accessPackageAssignmentPolicies", licence="Entra ID P2 / Governance", graph_type="accessPackageAssignmentPolicy",
        title="access package assignment policy",
        path="/identityGovernance/entitlementManagement/assignmentPolicies", strip=_TS,
        expand=("accessPackage",), only_id=("accessPackage",), create_only=frozenset({"accessPackage"}),
        refs=(Ref("accessPackage.id", ("accessPackages",)), *_subject_set_refs(
            "specificAllowedTargets[]", "requestorSettings.onBehalfRequestors[]",
            "requestApprovalSettings.stages[].primaryApprovers[]",
            "requestApprovalSettings.stages[].fallbackPrimaryApprovers[]",
            "requestApprovalSettings.stages[].escalationApprovers[]",
            "requestApprovalSettings.stages[].fallbackEscalationApprovers[]",
            "reviewSettings.primaryReviewers[]", "reviewSettings.fallbackReviewers[]")),
        update="put",
        read_perm=("EntitlementManagement.Read.All",), write_perm=("EntitlementManagement.ReadWrite.All",),
        default_on=False, depends=("accessPackages", "groups", "users"),
    ),
    Kind(
        # https://learn.microsoft.com/graph/api/resources/accessreviewscheduledefinition: the definition is
        # configuration; its instances and decisions are history and never exported. Groups and users are
        # named inside query strings (`/groups/{id}/transitiveMembers`, `/users/{id}`), kept as refs so a
        # recreated group is remapped. Graph updates a definition by PUT of the whole object
        # (accessreviewscheduledefinition-update). Opt-in: Entra ID P2 / Governance licences.
        name="accessReviewDefinitions", licence="Entra ID P2 / Governance", graph_type="accessReviewScheduleDefinition", title="access review",
        path="/identityGovernance/accessReviews/definitions", update="put",
        strip=frozenset({"createdBy", "status"} | _TS),
        refs=_query_refs(*_REVIEW_QUERIES), read_perm=("AccessReview.Read.All",), write_perm=("AccessReview.ReadWrite.All",),
        default_on=False, depends=("groups", "users"),
    ),
    Kind(
        # One per tenant (https://learn.microsoft.com/graph/api/grouplifecyclepolicy-post-grouplifecyclepolicies);
        # groups of a "Selected" policy are added by action (addGroup) and are not kept here.
        name="groupLifecyclePolicies", graph_type="groupLifecyclePolicy", title="group expiration policy",
        path="/groupLifecyclePolicies", name_field="", natural_key=("managedGroupTypes",),
        label=("managedGroupTypes",), strip=_TS,
        # Graph grants these to apps only through Directory.Read.All / Directory.ReadWrite.All
        # (group-list-lifecyclepolicies): opt-in (`kinds:` in tenant.yaml), so the default reader and
        # writer never need directory-wide permissions for one setting.
        read_perm=("Directory.Read.All",), write_perm=("Directory.ReadWrite.All",), default_on=False,
    ),
    Kind(
        name="conditionalAccessPolicies", graph_type="conditionalAccessPolicy", title="conditional access policy", version="beta",
        path="/identity/conditionalAccess/policies", paced=True, soft_delete="policy-beta",
        deleted_list="/identity/conditionalAccess/deletedItems/policies",
        deleted_item="/identity/conditionalAccess/deletedItems/policies/{id}",
        restore_app_only=False,
        strip=frozenset({"partialEnablementStrategy"} | _TS), readonly=frozenset({"templateId"}),
        # https://learn.microsoft.com/entra/identity/conditional-access/managed-policies
        system_owned=(SystemOwned(
            "Microsoft-managed policy: Microsoft creates it, and Entra forbids deleting or renaming it "
            "(its state and exclusions may change)",
            prefix=(("displayName", "Microsoft-managed:"),), present=("templateId",),
            locked=frozenset({"displayName"})),),
        refs=_ca_user_refs(), write_perm=_CA_WRITE, only_id=("grantControls.authenticationStrength",),
        typed_paths=tuple(f"conditions.users.{s}GuestsOrExternalUsers.externalTenants" for s in ("include", "exclude")),
        depends=("namedLocations", "authenticationContextClassReferences", "authenticationStrengthPolicies",
                 "termsOfUseAgreements", "users", "groups", "applications", "servicePrincipals", "roleDefinitions"),
    ),
)

BY_NAME: Mapping[str, Kind] = {k.name: k for k in KINDS}

# Paths in the 1 request/second/tenant Conditional Access throttle family (their recycle bins too).
PACED_PATHS: tuple[str, ...] = tuple(k.path for k in KINDS if k.paced) + tuple(
    k.deleted_list for k in KINDS if k.paced and k.deleted_list)


def get(name: str) -> Kind:
    """The kind called `name`; raises KeyError with the known names."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown kind {name!r}; known: {', '.join(BY_NAME)}") from None


def overlaps(names: Iterable[str]) -> list[str]:
    """One sentence per pair of kinds among `names` that hold the same objects (Kind.same_objects_as)."""
    on = set(names)
    return [f"kinds lists both {k.same_objects_as} and {k.name}, which hold the same {k.title}s "
            f"(one deleted live would be written twice); keep one"
            for k in KINDS if k.name in on and k.same_objects_as in on]


def apply_order() -> list[Kind]:
    """Kinds in dependency order (creates/updates); deletes run it reversed."""
    done: list[Kind] = []
    seen: set[str] = set()

    def visit(k: Kind) -> None:
        if k.name in seen:
            return
        seen.add(k.name)
        for d in k.depends:
            visit(BY_NAME[d])
        if k.parent:
            visit(BY_NAME[k.parent])
        done.append(k)

    for k in KINDS:
        visit(k)
    return done


@functools.cache
def needs(name: str) -> frozenset[str]:
    """Kinds whose writes go before this kind's, transitively: its `depends`, its parent, and the
    kinds an `after_when` write waits for (either direction of it, to be safe)."""
    k = BY_NAME[name]
    direct = {*k.depends, *([k.parent] if k.parent else []), *(k.after_when[2] if k.after_when else ())}
    return frozenset(direct).union(*(needs(d) for d in direct if d != name))


def related(a: str, b: str) -> bool:
    """Whether writes of one of the two kinds must land before the other's (`needs`)."""
    return a != b and (a in needs(b) or b in needs(a))
