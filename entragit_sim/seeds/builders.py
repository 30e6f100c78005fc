"""Reusable seed builders: users, groups, apps and service principals, CA policies, role
assignments... in the shapes of real Graph GET payloads, with deterministic uuid5 ids and fixed
timestamps (``sid``, ``ts``). The demo and synthetic seeds are built from these.

Only ``entragit_sim.builtins`` is imported from the rest of the package, lazily.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

Seed = dict[str, list[dict[str, Any]]]
Obj = dict[str, Any]

# Same value as the simulator's default tenant (entragit_sim.seeds.DEFAULT_TENANT_ID), so the demo
# started without --tenant-id gives the golden ids.
DEMO_TENANT_ID = "2d6b1f4e-7c3a-4e85-9f20-6a1b3c5d7e90"
SEED_NAMESPACE = uuid.UUID("024887cd-c929-594d-9513-cc46f7bf6a23")  # uuid5(URL, entragit sim seeds)

COMPANY = "Contoso Demo"
DOMAIN = "contosodemo.onmicrosoft.com"
WEB_DOMAIN = "contosodemo.example"  # app URLs (reserved TLD: never resolves)
MICROSOFT_TENANT_ID = (
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # owner org of Microsoft first-party apps
)

# First-party applications (global appIds) that the demo's CA policies name.
EXCHANGE_ONLINE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
SHAREPOINT_ONLINE_APP_ID = "00000003-0000-0ff1-ce00-000000000000"
INTUNE_ENROLLMENT_APP_ID = "d4ebce55-015a-49b5-a083-c84d1797ae8c"
AZURE_MANAGEMENT_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
FIRST_PARTY_APPS = {
    EXCHANGE_ONLINE_APP_ID: "Office 365 Exchange Online",
    SHAREPOINT_ONLINE_APP_ID: "Office 365 SharePoint Online",
    INTUNE_ENROLLMENT_APP_ID: "Microsoft Intune Enrollment",
    AZURE_MANAGEMENT_APP_ID: "Windows Azure Service Management API",
}

# Non-id values that may appear where CA policies and other objects hold references.
CA_SENTINELS = frozenset({
    "All", "None", "GuestsOrExternalUsers", "AllTrusted", "Office365", "MicrosoftAdminPortals",
    "ServicePrincipalsInMyTenant", "all_users",
})  # fmt: skip

PHISHING_RESISTANT_STRENGTH_ID = "00000000-0000-0000-0000-000000000004"
SECURITY_DEFAULTS_ID = "00000000-0000-0000-0000-000000000005"
GUEST_USER_ROLE_ID = "10dae51f-b6af-4016-8d66-8c2a99b929b3"  # "Guest User" role template
DEFAULT_ACCESS_ROLE_ID = "00000000-0000-0000-0000-000000000000"

# Graph section 7 "reader-only export profile".
READER_PERMISSIONS = (
    "Policy.Read.All", "Application.Read.All", "Group.Read.All", "User.Read.All",
    "RoleManagement.Read.Directory", "AdministrativeUnit.Read.All", "DelegatedPermissionGrant.Read.All",
    "AuthenticationContext.Read.All", "Policy.Read.AuthenticationMethod",
    # The demo RMAU "Finance - Restricted" hides its membership; listing it needs Member.Read.Hidden
    # (https://learn.microsoft.com/graph/api/administrativeunit-list-members?view=graph-rest-beta).
    "Member.Read.Hidden",
    "IdentityProvider.Read.All", "GroupSettings.Read.All", "CustomSecAttributeDefinition.Read.All",
    "Policy.Read.PermissionGrant",
)  # fmt: skip
# Write permissions for every kind entragit applies (graph-notes section 7, "Apply" column).
WRITER_PERMISSIONS = (
    "Policy.ReadWrite.ConditionalAccess", "AuthenticationContext.ReadWrite.All", "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All", "RoleManagement.ReadWrite.Directory",
    "AdministrativeUnit.ReadWrite.All", "Policy.ReadWrite.AuthenticationMethod",
    "Policy.ReadWrite.Authorization", "Policy.ReadWrite.CrossTenantAccess",
    "Policy.ReadWrite.SecurityDefaults", "Policy.ReadWrite.ApplicationConfiguration", "User.ReadWrite.All",
    "IdentityProvider.ReadWrite.All", "GroupSettings.ReadWrite.All", "CustomSecAttributeDefinition.ReadWrite.All",
    "Policy.ReadWrite.PermissionGrant",
)  # fmt: skip
AUTOMATION_PERMISSIONS = READER_PERMISSIONS + WRITER_PERMISSIONS

# Built-in roles the admin-persona CA policies target (by display name; ids from builtins).
ADMIN_ROLES = (
    "Global Administrator", "Privileged Role Administrator", "Privileged Authentication Administrator",
    "Security Administrator", "Conditional Access Administrator", "Authentication Administrator",
    "Authentication Policy Administrator", "User Administrator", "Helpdesk Administrator",
    "Password Administrator", "Groups Administrator", "Application Administrator",
    "Cloud Application Administrator", "Exchange Administrator", "SharePoint Administrator",
    "Teams Administrator", "Intune Administrator", "Billing Administrator", "Global Reader",
)  # fmt: skip

_BASE_TIME = datetime(2024, 3, 4, 8, 30, 0, tzinfo=timezone.utc)


# --------------------------------------------------------------------------------------------
# small helpers (shared with synthetic.py)


def builtins() -> Any:
    """`entragit_sim.builtins`, imported when a seed is built (never at module import)."""
    from entragit_sim import builtins as b

    return b


def sid(tenant_id: str, kind: str, name: str) -> str:
    """The seed's stable object id for (tenant, kind, name)."""
    return str(uuid.uuid5(SEED_NAMESPACE, f"{tenant_id}:{kind}:{name}"))


def ts(day: int, minute: int = 0) -> str:
    """A fixed timestamp `day` days (and `minute` minutes) after the demo's epoch."""
    return (_BASE_TIME + timedelta(days=day, minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _le(guid: str) -> bytes:
    return uuid.UUID(guid).bytes_le


def security_identifier(object_id: str) -> str:
    """Entra's group/user SID: S-1-12-1 followed by the object id's four little-endian dwords."""
    return "S-1-12-1-" + "-".join(str(n) for n in struct.unpack("<4I", _le(object_id)))


def app_role_assignment_id(
    tenant_id: str, principal_id: str, resource_id: str, app_role_id: str
) -> str:
    """Opaque 43-character id like Graph's (principal id bytes + 16 more)."""
    tail = sid(tenant_id, "appRoleAssignment", f"{principal_id}/{resource_id}/{app_role_id}")
    return _b64(_le(principal_id) + _le(tail))


def grant_id(client_id: str, resource_id: str, principal_id: str | None = None) -> str:
    """Opaque oauth2PermissionGrant id like Graph's (client + resource [+ principal] bytes)."""
    raw = _le(client_id) + _le(resource_id) + (_le(principal_id) if principal_id else b"")
    return _b64(raw)


def role_assignment_id(role_id: str, principal_id: str, scope: str) -> str:
    """Opaque unifiedRoleAssignment id like Graph's (role + principal bytes, '-1' suffix)."""
    raw = _le(role_id) + _le(principal_id)
    if scope != "/":
        raw += hashlib.sha256(scope.encode()).digest()[:6]
    return _b64(raw) + "-1"


# --------------------------------------------------------------------------------------------
# object builders (Graph GET shapes)


def make_user(
    tenant_id: str,
    key: str,
    *,
    given: str | None,
    surname: str | None,
    display: str | None = None,
    department: str | None = None,
    title: str | None = None,
    office: str | None = None,
    created: str,
    user_type: str = "Member",
    external_mail: str | None = None,
    enabled: bool = True,
    domain: str = DOMAIN,
    company: str = COMPANY,
) -> Obj:
    """A user as GET /users/{id}?$select=<the usual admin columns> returns it."""
    display = display or f"{given} {surname}"
    guest = user_type == "Guest"
    mail: str | None
    if guest:
        assert external_mail
        nick = external_mail.replace("@", "_") + "#EXT#"
        upn, mail = f"{nick}@{domain}", external_mail
    else:
        nick, upn = key, f"{key}@{domain}"
        mail = upn if department else None
    country, city, usage = {
        "Amsterdam": ("Netherlands", "Amsterdam", "NL"),
        "Seattle": ("United States", "Seattle", "US"),
    }.get(office or "", (None, None, "NL" if not guest else None))
    user: Obj = {
        "id": sid(tenant_id, "user", key),
        "accountEnabled": enabled,
        "businessPhones": [],
        "city": city,
        "companyName": None if guest else company,
        "country": country,
        "createdDateTime": created,
        "department": department,
        "displayName": display,
        "givenName": given,
        "jobTitle": title,
        "mail": mail,
        "mailNickname": nick,
        "mobilePhone": None,
        "officeLocation": office,
        "preferredLanguage": None if guest else "en-US",
        "surname": surname,
        "usageLocation": usage,
        "userPrincipalName": upn,
        "userType": user_type,
    }
    if guest:
        user["creationType"] = "Invitation"
        user["externalUserState"] = "Accepted"
        user["externalUserStateChangeDateTime"] = created
    return user


def make_group(
    tenant_id: str,
    key: str,
    display: str,
    *,
    nickname: str,
    created: str,
    description: str | None = None,
    unified: bool = False,
    rule: str | None = None,
    role_assignable: bool = False,
    visibility: str | None = None,
    members: list[str] | None = None,
    owners: list[str] | None = None,
    domain: str = DOMAIN,
    team: bool = False,
) -> Obj:
    """A group as GET /groups/{id} returns it (v1.0), plus the seed's members/owners lists."""
    gid = sid(tenant_id, "group", key)
    group_types = (["Unified"] if unified else []) + (["DynamicMembership"] if rule else [])
    mail = f"{nickname}@{domain}" if unified else None
    group: Obj = {
        "id": gid,
        "deletedDateTime": None,
        "classification": None,
        "createdDateTime": created,
        "description": description,
        "displayName": display,
        "expirationDateTime": None,
        "groupTypes": group_types,
        "isAssignableToRole": True if role_assignable else None,
        "mail": mail,
        "mailEnabled": unified,
        "mailNickname": nickname,
        "membershipRule": rule,
        "membershipRuleProcessingState": "On" if rule else None,
        "onPremisesDomainName": None,
        "onPremisesLastSyncDateTime": None,
        "onPremisesNetBiosName": None,
        "onPremisesSamAccountName": None,
        "onPremisesSecurityIdentifier": None,
        "onPremisesSyncEnabled": None,
        "preferredDataLocation": None,
        "preferredLanguage": None,
        "proxyAddresses": [f"SMTP:{mail}"] if mail else [],
        "renewedDateTime": created,
        "resourceBehaviorOptions": [],
        "resourceProvisioningOptions": ["Team"] if team else [],
        "securityEnabled": not unified or role_assignable,
        "securityIdentifier": security_identifier(gid),
        "theme": None,
        "visibility": visibility or ("Private" if unified else None),
        "onPremisesProvisioningErrors": [],
        "serviceProvisioningErrors": [],
    }
    if not rule:
        group["members"] = sorted(members or [])
    group["owners"] = sorted(owners or [])
    return group


def ip_location(tenant_id: str, name: str, cidrs: list[str], *, trusted: bool, created: str) -> Obj:
    return {
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "id": sid(tenant_id, "namedLocation", name),
        "displayName": name,
        "createdDateTime": created,
        "modifiedDateTime": created,
        "isTrusted": trusted,
        "ipRanges": [
            {
                "@odata.type": "#microsoft.graph.iPv6CidrRange"
                if ":" in c
                else "#microsoft.graph.iPv4CidrRange",
                "cidrAddress": c,
            }
            for c in cidrs
        ],
    }


def country_location(
    tenant_id: str, name: str, countries: list[str], *, created: str, unknown: bool = False
) -> Obj:
    return {
        "@odata.type": "#microsoft.graph.countryNamedLocation",
        "id": sid(tenant_id, "namedLocation", name),
        "displayName": name,
        "createdDateTime": created,
        "modifiedDateTime": created,
        "countriesAndRegions": sorted(countries),
        "includeUnknownCountriesAndRegions": unknown,
        "countryLookupMethod": "clientIpAddress",
    }


def app_role(
    role_id: str, value: str, display: str, description: str, members: tuple[str, ...] = ("User",)
) -> Obj:
    return {
        "allowedMemberTypes": list(members),
        "description": description,
        "displayName": display,
        "id": role_id,
        "isEnabled": True,
        "origin": "Application",
        "value": value,
    }


def make_application(
    tenant_id: str,
    key: str,
    display: str,
    *,
    created: str,
    description: str | None = None,
    app_roles: list[Obj] | None = None,
    scopes: list[Obj] | None = None,
    identifier_uris: list[str] | None = None,
    web_redirects: list[str] | None = None,
    spa_redirects: list[str] | None = None,
    home_page: str | None = None,
    graph_scopes: tuple[str, ...] = (),
    graph_roles: tuple[str, ...] = (),
    extra_access: list[Obj] | None = None,
    secrets: list[tuple[str, int, int]] | None = None,
    certificates: list[tuple[str, int, int]] | None = None,
    owners: list[str] | None = None,
    group_claims: str | None = None,
    tags: list[str] | None = None,
    pre_authorized: list[Obj] | None = None,
    notes: str | None = None,
    publisher_domain: str = DOMAIN,
) -> Obj:
    """An app registration as GET /applications/{id} returns it (never a secretText)."""
    b = builtins()
    app_id = sid(tenant_id, "appId", key)
    access: list[Obj] = []
    graph_access = [
        {"id": b.GRAPH_SCOPES[s], "type": "Scope"} for s in graph_scopes if s in b.GRAPH_SCOPES
    ]
    graph_access += [
        {"id": b.GRAPH_PERMISSIONS[r], "type": "Role"}
        for r in graph_roles
        if r in b.GRAPH_PERMISSIONS
    ]
    if graph_access:
        access.append({"resourceAppId": b.GRAPH_APP_ID, "resourceAccess": graph_access})
    access += extra_access or []
    password_credentials = [
        {
            "customKeyIdentifier": None,
            "displayName": name,
            "endDateTime": ts(start + days),
            "hint": hashlib.sha256(f"{tenant_id}:{key}:{name}".encode()).hexdigest()[:3],
            "keyId": sid(tenant_id, "passwordCredential", f"{key}/{name}"),
            "startDateTime": ts(start),
        }
        for name, start, days in (secrets or [])
    ]
    key_credentials = [
        {
            "customKeyIdentifier": base64.b64encode(
                hashlib.sha1(f"{tenant_id}:{key}:{name}".encode()).digest()
            ).decode(),
            "displayName": name,
            "endDateTime": ts(start + days),
            "key": None,
            "keyId": sid(tenant_id, "keyCredential", f"{key}/{name}"),
            "startDateTime": ts(start),
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
        }
        for name, start, days in (certificates or [])
    ]
    return {
        "id": sid(tenant_id, "application", key),
        "deletedDateTime": None,
        "appId": app_id,
        "applicationTemplateId": None,
        "disabledByMicrosoftStatus": None,
        "createdDateTime": created,
        "displayName": display,
        "description": description,
        "groupMembershipClaims": group_claims,
        "identifierUris": identifier_uris or [],
        "isDeviceOnlyAuthSupported": None,
        "isFallbackPublicClient": None,
        "notes": notes,
        "publisherDomain": publisher_domain,
        "serviceManagementReference": None,
        "signInAudience": "AzureADMyOrg",
        "tags": tags or [],
        "tokenEncryptionKeyId": None,
        "samlMetadataUrl": None,
        "defaultRedirectUri": None,
        "certification": None,
        "optionalClaims": None,
        "addIns": [],
        "api": {
            "acceptMappedClaims": None,
            "knownClientApplications": [],
            "requestedAccessTokenVersion": 2 if scopes else None,
            "oauth2PermissionScopes": scopes or [],
            "preAuthorizedApplications": pre_authorized or [],
        },
        "appRoles": app_roles or [],
        "info": {
            "logoUrl": None,
            "marketingUrl": None,
            "privacyStatementUrl": None,
            "supportUrl": None,
            "termsOfServiceUrl": None,
        },  # fmt: skip
        "keyCredentials": key_credentials,
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": password_credentials,
        "publicClient": {"redirectUris": []},
        "requiredResourceAccess": access,
        "verifiedPublisher": {
            "displayName": None,
            "verifiedPublisherId": None,
            "addedDateTime": None,
        },
        "web": {
            "homePageUrl": home_page,
            "logoutUrl": None,
            "redirectUris": web_redirects or [],
            "implicitGrantSettings": {
                "enableAccessTokenIssuance": False,
                "enableIdTokenIssuance": bool(web_redirects),
            },
            "redirectUriSettings": [{"uri": u, "index": None} for u in (web_redirects or [])],
        },
        "spa": {"redirectUris": spa_redirects or []},
        "owners": sorted(owners or []),
    }


def service_principal_for(tenant_id: str, app: Obj, *, key: str, assignment_required: bool = False,
                          owners: list[str] | None = None, created: str | None = None) -> Obj:  # fmt: skip
    """The home-tenant SP of an app registration (appRoles/scopes mirrored, as Graph does)."""
    return {
        "id": sid(tenant_id, "servicePrincipal", key),
        "deletedDateTime": None,
        "accountEnabled": True,
        "alternativeNames": [],
        "appDescription": None,
        "appDisplayName": app["displayName"],
        "appId": app["appId"],
        "applicationTemplateId": None,
        "appOwnerOrganizationId": tenant_id,
        "appRoleAssignmentRequired": assignment_required,
        "appRoles": [dict(r) for r in app["appRoles"]],
        "createdDateTime": created or app["createdDateTime"],
        "description": None,
        "disabledByMicrosoftStatus": None,
        "displayName": app["displayName"],
        "homepage": app["web"]["homePageUrl"],
        "info": dict(app["info"]),
        "keyCredentials": [],
        "loginUrl": None,
        "logoutUrl": None,
        "notes": None,
        "notificationEmailAddresses": [],
        "oauth2PermissionScopes": [dict(s) for s in app["api"]["oauth2PermissionScopes"]],
        "passwordCredentials": [],
        "preferredSingleSignOnMode": None,
        "preferredTokenSigningKeyThumbprint": None,
        "replyUrls": list(app["web"]["redirectUris"]) + list(app["spa"]["redirectUris"]),
        "resourceSpecificApplicationPermissions": [],
        "samlSingleSignOnSettings": None,
        "servicePrincipalNames": [app["appId"], *app["identifierUris"]],
        "servicePrincipalType": "Application",
        "signInAudience": app["signInAudience"],
        "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
        "tokenEncryptionKeyId": None,
        "verifiedPublisher": {
            "displayName": None,
            "verifiedPublisherId": None,
            "addedDateTime": None,
        },
        "owners": sorted(owners or []),
    }


def first_party_sp(tenant_id: str, app_id: str, display: str, *, created: str) -> Obj:
    """A Microsoft first-party SP as it appears in a customer tenant (roles/scopes left out)."""
    return {
        "id": sid(tenant_id, "servicePrincipal", app_id),
        "deletedDateTime": None,
        "accountEnabled": True,
        "alternativeNames": [],
        "appDescription": None,
        "appDisplayName": display,
        "appId": app_id,
        "applicationTemplateId": None,
        "appOwnerOrganizationId": MICROSOFT_TENANT_ID,
        "appRoleAssignmentRequired": False,
        "appRoles": [],
        "createdDateTime": created,
        "description": None,
        "disabledByMicrosoftStatus": None,
        "displayName": display,
        "homepage": None,
        "info": {
            "logoUrl": None,
            "marketingUrl": None,
            "privacyStatementUrl": None,
            "supportUrl": None,
            "termsOfServiceUrl": None,
        },  # fmt: skip
        "keyCredentials": [],
        "loginUrl": None,
        "logoutUrl": None,
        "notes": None,
        "notificationEmailAddresses": [],
        "oauth2PermissionScopes": [],
        "passwordCredentials": [],
        "preferredSingleSignOnMode": None,
        "preferredTokenSigningKeyThumbprint": None,
        "replyUrls": [],
        "resourceSpecificApplicationPermissions": [],
        "samlSingleSignOnSettings": None,
        "servicePrincipalNames": [app_id],
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMultipleOrgs",
        "tags": [],
        "tokenEncryptionKeyId": None,
        "verifiedPublisher": {
            "displayName": None,
            "verifiedPublisherId": None,
            "addedDateTime": None,
        },
        "owners": [],
    }


def make_app_role_assignment(tenant_id: str, principal: Obj, principal_type: str, resource_sp: Obj,
                             app_role_id: str, *, created: str) -> Obj:  # fmt: skip
    return {
        "id": app_role_assignment_id(tenant_id, principal["id"], resource_sp["id"], app_role_id),
        "deletedDateTime": None,
        "appRoleId": app_role_id,
        "createdDateTime": created,
        "principalDisplayName": principal["displayName"],
        "principalId": principal["id"],
        "principalType": principal_type,
        "resourceDisplayName": resource_sp["displayName"],
        "resourceId": resource_sp["id"],
    }


def authorization_policy(*, members_create_security_groups: bool = False) -> Obj:
    """The tenant-wide authorization policy: guests restricted, no user consent to risky apps."""
    return {
        "id": "authorizationPolicy",
        "displayName": "Authorization Policy",
        "description": "Used to manage authorization related settings across the company.",
        "allowInvitesFrom": "adminsAndGuestInviters",
        "allowedToSignUpEmailBasedSubscriptions": False,
        "allowedToUseSSPR": True,
        "allowEmailVerifiedUsersToJoinOrganization": False,
        "allowUserConsentForRiskyApps": False,
        "blockMsolPowerShell": True,
        "guestUserRoleId": GUEST_USER_ROLE_ID,
        "defaultUserRolePermissions": {
            "allowedToCreateApps": False,
            "allowedToCreateSecurityGroups": members_create_security_groups,
            "allowedToCreateTenants": False,
            "allowedToReadBitlockerKeysForOwnedDevice": True,
            "allowedToReadOtherUsers": True,
            "permissionGrantPoliciesAssigned": ["ManagePermissionGrantsForSelf.microsoft-user-default-low"],
        },
    }


def make_grant(
    client_sp_id: str, resource_sp_id: str, scopes: list[str], principal_id: str | None = None
) -> Obj:
    return {
        "id": grant_id(client_sp_id, resource_sp_id, principal_id),
        "clientId": client_sp_id,
        "consentType": "Principal" if principal_id else "AllPrincipals",
        "principalId": principal_id,
        "resourceId": resource_sp_id,
        "scope": " ".join(scopes),
    }


def make_role_assignment(role_id: str, principal_id: str, scope: str = "/") -> Obj:
    return {
        "id": role_assignment_id(role_id, principal_id, scope),
        "directoryScopeId": scope,
        "principalId": principal_id,
        "roleDefinitionId": role_id,
    }


def ca_policy(
    tenant_id: str,
    name: str,
    *,
    state: str = "enabled",
    created: str,
    modified: str | None = None,
    break_glass_group: str,
    include_users: tuple[str, ...] = (),
    exclude_users: tuple[str, ...] = (),
    include_groups: tuple[str, ...] = (),
    exclude_groups: tuple[str, ...] = (),
    include_roles: tuple[str, ...] = (),
    exclude_roles: tuple[str, ...] = (),
    include_guests: Obj | None = None,
    include_apps: tuple[str, ...] = ("All",),
    exclude_apps: tuple[str, ...] = (),
    user_actions: tuple[str, ...] = (),
    auth_contexts: tuple[str, ...] = (),
    client_app_types: tuple[str, ...] = ("all",),
    platforms: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    locations: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    device_filter: tuple[str, str] | None = None,
    user_risk: tuple[str, ...] = (),
    sign_in_risk: tuple[str, ...] = (),
    sp_risk: tuple[str, ...] | None = None,
    client_sps: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    auth_flows: str | None = None,
    grant: tuple[str, ...] | None = None,
    operator: str = "OR",
    strength: Obj | None = None,
    session: Obj | None = None,
    terms_of_use: tuple[str, ...] = (),
) -> Obj:
    """A CA policy as the beta GET returns it (authenticationStrength expanded); excludes break-glass."""
    if user_actions or auth_contexts:
        include_apps = ()
    users: Obj = {
        "includeUsers": list(include_users),
        "excludeUsers": list(exclude_users),
        "includeGroups": list(include_groups),
        "excludeGroups": [
            break_glass_group,
            *(g for g in exclude_groups if g != break_glass_group),
        ],
        "includeRoles": list(include_roles),
        "excludeRoles": list(exclude_roles),
        "includeGuestsOrExternalUsers": include_guests,
        "excludeGuestsOrExternalUsers": None,
    }
    conditions: Obj = {
        "userRiskLevels": list(user_risk),
        "signInRiskLevels": list(sign_in_risk),
        "clientAppTypes": list(client_app_types),
        "platforms": None if platforms is None else {
            "includePlatforms": list(platforms[0]), "excludePlatforms": list(platforms[1])},
        "locations": None if locations is None else {
            "includeLocations": list(locations[0]), "excludeLocations": list(locations[1])},
        "times": None,
        "deviceStates": None,
        "devices": None if device_filter is None else {
            "includeDeviceStates": [], "excludeDeviceStates": [], "includeDevices": [], "excludeDevices": [],
            "deviceFilter": {"mode": device_filter[0], "rule": device_filter[1]}},
        "clientApplications": None if client_sps is None else {
            "includeServicePrincipals": list(client_sps[0]), "excludeServicePrincipals": list(client_sps[1]),
            "servicePrincipalFilter": None},
        "applications": {
            "includeApplications": list(include_apps),
            "excludeApplications": list(exclude_apps),
            "includeUserActions": list(user_actions),
            "includeAuthenticationContextClassReferences": list(auth_contexts),
            "applicationFilter": None,
        },
        "users": users,
    }  # fmt: skip
    if sp_risk is not None:
        conditions["servicePrincipalRiskLevels"] = list(sp_risk)
    if auth_flows is not None:
        conditions["authenticationFlows"] = {"transferMethods": auth_flows}
    grant_controls = None
    if grant is not None or strength is not None:
        grant_controls = {
            "operator": operator,
            "builtInControls": list(grant or ()),
            "customAuthenticationFactors": [],
            "termsOfUse": list(terms_of_use),
            "authenticationStrength": strength,
        }
    session_controls = None
    if session:
        session_controls = {
            "disableResilienceDefaults": None,
            "applicationEnforcedRestrictions": None,
            "cloudAppSecurity": None,
            "signInFrequency": None,
            "persistentBrowser": None,
            "continuousAccessEvaluation": None,
            "secureSignInSession": None,
            **session,
        }
    return {
        "id": sid(tenant_id, "conditionalAccessPolicy", name.split("-", 1)[0]),
        "templateId": None,
        "displayName": name,
        "createdDateTime": created,
        "modifiedDateTime": modified,
        "state": state,
        "deletedDateTime": None,
        "partialEnablementStrategy": None,
        "sessionControls": session_controls,
        "conditions": conditions,
        "grantControls": grant_controls,
    }


def sign_in_frequency(value: int | None, unit: str | None, *, every_time: bool = False) -> Obj:
    return {"signInFrequency": {
        "value": None if every_time else value,
        "type": None if every_time else unit,
        "authenticationType": "primaryAndSecondaryAuthentication",
        "frequencyInterval": "everyTime" if every_time else "timeBased",
        "isEnabled": True,
    }}  # fmt: skip


def all_guests(
    types: str = "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider",
) -> Obj:
    return {"guestOrExternalUserTypes": types,
            "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                                "membershipKind": "all"}}  # fmt: skip


def enumerated_guests(
    tenant_ids: list[str], types: str = "b2bCollaborationGuest,b2bCollaborationMember"
) -> Obj:
    return {"guestOrExternalUserTypes": types,
            "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                                "membershipKind": "enumerated", "members": list(tenant_ids)}}  # fmt: skip


def builtin_strength(tenant_id: str, strength_id: str) -> Obj:
    """A built-in authentication strength, as CA GET embeds it (taken from the builtins)."""
    for s in builtins().builtin_state(tenant_id).get("authenticationStrengthPolicies", []):
        if s.get("id") == strength_id:
            return {k: v for k, v in s.items() if not k.startswith("@")}
    raise LookupError(
        f"built-in authentication strength {strength_id} missing from entragit_sim.builtins"
    )


def xtenant_partner(
    tenant_id: str, partner_tid: str, inbound: Obj | None, outbound: Obj | None, mfa: bool
) -> Obj:
    return {
        "tenantId": partner_tid,
        "isServiceProvider": False,
        "isInMultiTenantOrganization": False,
        "inboundTrust": {"isMfaAccepted": mfa, "isCompliantDeviceAccepted": False,
                         "isHybridAzureADJoinedDeviceAccepted": False},
        "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
        "b2bCollaborationInbound": inbound,
        "b2bCollaborationOutbound": outbound,
        "b2bDirectConnectInbound": None,
        "b2bDirectConnectOutbound": None,
        "tenantRestrictions": None,
    }  # fmt: skip


def xtenant_access(access: str, targets: list[tuple[str, str]], apps: list[str]) -> Obj:
    return {
        "usersAndGroups": {"accessType": access,
                           "targets": [{"target": t, "targetType": k} for t, k in targets]},
        "applications": {"accessType": access,
                         "targets": [{"target": a, "targetType": "application"} for a in apps]},
    }  # fmt: skip
