"""What every Entra tenant has before anyone touches it: Graph's SP, built-in roles, default policies."""

from __future__ import annotations

import uuid
from typing import Any

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
MICROSOFT_TENANT_ID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # appOwnerOrganizationId of first-party apps

# Microsoft first-party applications: registered in Microsoft's own tenant, so a customer tenant
# holds only their service principals. appIds are global; display names are Graph's.
# https://learn.microsoft.com/troubleshoot/entra/entra-id/governance/verify-first-party-apps-sign-in
FIRST_PARTY_APPS: dict[str, str] = {
    GRAPH_APP_ID: "Microsoft Graph",
    "00000002-0000-0ff1-ce00-000000000000": "Office 365 Exchange Online",
    "00000003-0000-0ff1-ce00-000000000000": "Office 365 SharePoint Online",
    "00000004-0000-0ff1-ce00-000000000000": "Skype for Business Online",
    "0000000a-0000-0000-c000-000000000000": "Microsoft Intune",
    "d4ebce55-015a-49b5-a083-c84d1797ae8c": "Microsoft Intune Enrollment",
    "c44b4083-3bb0-49c1-b47d-974e53cbdf3c": "Azure Portal",
    "797f4846-ba00-4fd7-ba43-dac1f8f63013": "Windows Azure Service Management API",
    "00000002-0000-0000-c000-000000000000": "Windows Azure Active Directory",
    "00000009-0000-0000-c000-000000000000": "Power BI Service",
    "00000007-0000-0000-c000-000000000000": "Dynamics CRM Online",
    "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe": "Microsoft Teams Services",
    "1fec8e78-bce4-4aaf-ab1b-5451cc387264": "Microsoft Teams",
    "0000000c-0000-0000-c000-000000000000": "Microsoft App Access Panel",
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
    "1950a258-227b-4e31-a9cf-717495945fc2": "Microsoft Azure PowerShell",
    "14d82eec-204b-4c2f-b7e8-296a70dab67e": "Microsoft Graph Command Line Tools",
    "de8bc8b5-d9f9-48b1-a8ad-b748da725064": "Graph Explorer",
    "d3590ed6-52b3-4102-aeff-aad2292ab01c": "Microsoft Office",
    "4765445b-32c6-49b0-83e6-1d93765276ca": "OfficeHome",
}

# Application permission value -> appRole id on the Microsoft Graph SP. These ids are the
# same in every tenant (https://learn.microsoft.com/graph/permissions-reference).
GRAPH_PERMISSIONS: dict[str, str] = {
    "AdministrativeUnit.Read.All": "134fd756-38ce-4afd-ba33-e9623dbe66c2",
    "AdministrativeUnit.ReadWrite.All": "5eb59dd3-1da2-4329-8733-9dabdc435916",
    # Graph's SP lists them as app roles, yet the terms of use APIs say "Application: Not supported".
    "Agreement.Read.All": "2f3e6f8c-093b-4c57-a58b-ba5ce494a169",
    "Agreement.ReadWrite.All": "c9090d00-6101-42f0-a729-c41074260d47",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    "Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
    "AuthenticationContext.Read.All": "381f742f-e1f8-4309-b4ab-e3d91ae4c5c1",
    "AuthenticationContext.ReadWrite.All": "a88eef72-fed0-4bf7-a2a9-f19df33f8b83",
    "CustomSecAttributeDefinition.Read.All": "b185aa14-d8d2-42c1-a685-0f5596613624",
    "CustomSecAttributeDefinition.ReadWrite.All": "12338004-21f4-4896-bf5e-b75dfaf1016d",
    "DelegatedPermissionGrant.Read.All": "81b4724a-58aa-41c1-8a55-84ef97466587",
    "DelegatedPermissionGrant.ReadWrite.All": "8e8e4742-1d95-4f68-9d56-6ee75648c72a",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
    "EntraBackup.Read.All": "c16f30f0-3121-4976-bafe-66cb042f4f80",
    "Group.Create": "bf7b1a76-6e77-406b-b258-bf5c7720e98f",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
    "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09",
    "GroupMember.Read.All": "98830695-27a2-44f7-8c18-0c3ebc9698f6",
    "GroupMember.ReadWrite.All": "dbaae8cf-10b5-4b86-a4a1-f871c94c6695",
    "GroupSettings.Read.All": "c6292d16-2dbe-4cb6-8f3c-63a7a3d4ac1c",
    "GroupSettings.ReadWrite.All": "546168c3-1183-4281-9491-fafb24dea37e",
    "IdentityProvider.Read.All": "e321f0bb-e7f7-481e-bb28-e3b0b32d4bd0",
    "IdentityProvider.ReadWrite.All": "90db2b9a-d928-4d33-a4dd-8442ae3d41e4",
    "Member.Read.Hidden": "658aa5d8-239f-45c4-aa12-864f4fc7e490",
    "Organization.Read.All": "498476ce-e0fe-48b0-b801-37ba7e2685c6",
    "Organization.ReadWrite.All": "292d869f-3427-49a8-9dab-8c70152b74e9",
    # microsoftgraph/microsoft-graph-docs.ru-RU concepts/includes/permissions-ids.md (Application rows).
    "EntitlementManagement.Read.All": "c74fd47d-ed3c-45c3-9a9e-b8676de685d2",
    "EntitlementManagement.ReadWrite.All": "9acd699f-1e81-4958-b001-93b1d2506e19",
    # Graph permissions reference, AccessReview.* Application identifiers.
    "AccessReview.Read.All": "d07a8cc0-3d51-4b77-b3b0-32704d1f69fa",
    "AccessReview.ReadWrite.All": "ef5f7d5c-338f-44b0-86c3-351f46c8bb5f",
    "Policy.Read.All": "246dd0d5-5bd0-4def-940b-0421030a5b68",
    # Confirmed against several published permission tables (Graph SP appRoles dumps), 2026-11.
    "Policy.Read.AuthenticationMethod": "8e3bc81b-d2f3-4b7b-838c-32c88218d2f0",
    "Policy.Read.ConditionalAccess": "37730810-e9ba-4e46-b07e-8ca78d182097",
    "Policy.Read.PermissionGrant": "9e640839-a198-48fb-8b9a-013fd6f6cbcd",
    "Policy.ReadWrite.ApplicationConfiguration": "be74164b-cff1-491c-8741-e671cb536e13",
    "Policy.ReadWrite.AuthenticationMethod": "29c18626-4985-4dcd-85c0-193eef327366",
    "Policy.ReadWrite.AuthenticationFlows": "25f85f3c-f66c-4205-8cd5-de92dd7f0cec",
    "Policy.ReadWrite.Authorization": "fb221be6-99f2-473f-bd32-01c6a0e9ca3b",
    "Policy.ReadWrite.ConditionalAccess": "01c0a623-fc9b-48e9-b794-0756f8e8f067",
    "Policy.ReadWrite.ConsentRequest": "999f8c63-0a38-4f1b-91fd-ed1947bdd1a9",
    "Policy.ReadWrite.CrossTenantAccess": "338163d7-f101-4c92-94ba-ca46fe52447c",
    # merill/graph-permissions-explorer permission/Policy.ReadWrite.ExternalIdentities.md, "Application
    # Permission" Id, 2026-12; permissions.json names it with no id.
    "Policy.ReadWrite.ExternalIdentities": "03cc4f92-788e-4ede-b93f-199424d144a5",
    "Policy.ReadWrite.PermissionGrant": "a402ca1c-2696-4531-972d-6e5ee4aa11ea",
    "Policy.ReadWrite.SecurityDefaults": "1c6e93a6-28e2-4cbb-9f64-1a46a821124d",
    # PIM for Groups app roles, from merill/graph-permissions-explorer (permission/<name>.md, "Application
    # Permission" Id), 2026-12; Microsoft's permissions.json lists the names but no ids.
    "PrivilegedAssignmentSchedule.Read.AzureADGroup": "cd4161cb-f098-48f8-a884-1eda9a42434c",
    "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup": "41202f2c-f7ab-45be-b001-85c9728b9d69",
    "PrivilegedEligibilitySchedule.Read.AzureADGroup": "edb419d6-7edc-42a3-9345-509bfdf5d87c",
    "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup": "618b6020-bca8-4de6-99f6-ef445fa4d857",
    "RoleAssignmentSchedule.Read.Directory": "d5fe8ce8-684c-4c83-a52c-46e882ce4be1",
    "RoleAssignmentSchedule.ReadWrite.Directory": "dd199f4a-f148-40a4-a2ec-f0069cc799ec",
    "RoleEligibilitySchedule.Read.Directory": "ff278e11-4a33-4d0c-83d2-d01dc58929a5",
    "RoleEligibilitySchedule.ReadWrite.Directory": "fee28b28-e1f3-4841-818e-2704dc62245f",
    "RoleManagement.Read.All": "c7fbd983-d9aa-4fa7-84b8-17382c103bc4",
    "RoleManagement.Read.Directory": "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
    "RoleManagement.ReadWrite.Directory": "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "User.ReadBasic.All": "97235f07-e226-4f63-ace3-39588e11d3a1",
    "User.ReadWrite.All": "741f803b-c850-494e-b5df-cde7c675a1ca",
}

# Delegated scopes on the Graph SP (value -> oauth2PermissionScope id).
GRAPH_SCOPES: dict[str, str] = {
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "User.ReadBasic.All": "b340eb25-3456-403f-be2f-af7a0d370277",
    "Directory.Read.All": "06da0dbc-49e2-44d2-8312-53f166ab848a",
    "Group.Read.All": "5f8c59db-677d-491f-a6b8-5f174b11ec1d",
    "Policy.Read.All": "572fea84-0151-49b2-9301-11cb16974376",
    # Native backup (https://learn.microsoft.com/graph/permissions-reference#entrabackupreadall);
    # creating preview and recovery jobs exists only as these delegated scopes.
    "EntraBackup.Read.All": "e3dbb094-f3f9-4625-bf6a-32e96856f34c",
    "EntraBackup.ReadWrite.Preview": "1266f280-49c3-4d32-91a5-bf4db4fbff48",
    "EntraBackup.ReadWrite.Recovery": "6daf3aaf-bb77-4397-9dd6-e6d8b75727c2",
}

# Built-in directory role displayName -> role template id (== role definition id for built-ins).
ROLE_TEMPLATES: dict[str, str] = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "Conditional Access Administrator": "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Exchange Administrator": "29232cdf-9323-42fd-ade2-1d097af3e4de",
    "SharePoint Administrator": "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    "Helpdesk Administrator": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
    "Application Developer": "cf1c38e5-3621-4004-a7cb-879624dced7c",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
    "Security Operator": "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f",
    "Billing Administrator": "b0f54661-2d74-4c50-afa3-1ec803f12efe",
    "Intune Administrator": "3a2c62db-5318-420d-8d74-23affee5d9d5",
    "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "Authentication Policy Administrator": "0526716b-113d-4c15-b2c8-68e3c22b9f80",
    "Groups Administrator": "fdd7a751-b60b-444a-984c-02652fe8fa1c",
    "Teams Administrator": "69091246-20e8-4a56-aa4d-066075b2a7a8",
    "Directory Readers": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
    "Directory Writers": "9360feb5-f418-4baa-8175-e2a00bac4301",
    "Guest Inviter": "95e79109-95c0-4d8e-aee3-d01accf2d47b",
    "Compliance Administrator": "17315797-102d-40b4-93e0-432062caca18",
    "Reports Reader": "4a5d8f65-41da-4de4-8968-e035b65339cf",
    "Password Administrator": "966707d0-3269-4727-9be2-8c3a10f19b9d",
    "License Administrator": "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
    "Hybrid Identity Administrator": "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
    "Identity Governance Administrator": "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e",
    "Service Support Administrator": "f023fd81-a637-4b56-95fd-791ac0226033",
    "Message Center Reader": "790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b",
    "Cloud Device Administrator": "7698a772-787b-4ac8-901f-60d6b08affd2",
    "Global Secure Access Administrator": "ac434307-12b9-4fa1-a708-88bf58caabc1",
    "Attack Simulation Administrator": "c430b396-e693-46cc-96f3-db01bf8bb62a",
    "Dynamics 365 Administrator": "44367163-eba1-44c3-98af-f5787879f96a",
    "Power Platform Administrator": "11648597-926c-4cf3-9c36-bcebb0ba8dcc",
    "Azure DevOps Administrator": "e3973bdf-4987-49ae-837a-ba8e231c7286",
    "Office Apps Administrator": "2b745bdf-0803-4d80-aa65-822c4493daac",
    "Domain Name Administrator": "8329153b-31d0-4727-b945-745eb3bc5f31",
    "Microsoft Entra Backup Administrator": "b6a27b2b-f905-4b2e-81b5-0d90e0ef1fdb",
    "Microsoft Entra Backup Reader": "f42252d9-5400-4d7b-b9ef-cc582dbb8577",
    "External Identity Provider Administrator": "be2f45a1-457d-42af-a067-6ec1fa63bc45",
}

_SIM_NS = uuid.UUID("0b5e7a1e-5e1d-4c0d-9a7e-51a1ab0c0001")
BUILTIN_CREATED = "2021-12-01T00:00:00Z"


def graph_sp_id(tenant_id: str) -> str:
    """The tenant-local object id of the Microsoft Graph service principal (stable per tenant)."""
    return str(uuid.uuid5(_SIM_NS, f"{tenant_id}/sp/{GRAPH_APP_ID}"))


def _graph_sp(tenant_id: str) -> dict[str, Any]:
    app_roles = [
        {
            "allowedMemberTypes": ["Application"],
            "description": f"Allows the app to use {value} without a signed-in user.",
            "displayName": value,
            "id": rid,
            "isEnabled": True,
            "origin": "Application",
            "value": value,
        }
        for value, rid in sorted(GRAPH_PERMISSIONS.items())
    ]
    scopes = [
        {
            "adminConsentDescription": f"Allows the app to use {value} on behalf of the signed-in user.",
            "adminConsentDisplayName": value,
            "id": sid,
            "isEnabled": True,
            "type": "User"
            if value in {"User.Read", "openid", "profile", "offline_access", "email"}
            else "Admin",
            "userConsentDescription": None,
            "userConsentDisplayName": None,
            "value": value,
        }
        for value, sid in sorted(GRAPH_SCOPES.items())
    ]
    return {
        "id": graph_sp_id(tenant_id),
        "accountEnabled": True,
        "appDisplayName": "Microsoft Graph",
        "appId": GRAPH_APP_ID,
        "appOwnerOrganizationId": MICROSOFT_TENANT_ID,
        "appRoleAssignmentRequired": False,
        "appRoles": app_roles,
        "createdDateTime": BUILTIN_CREATED,
        "deletedDateTime": None,
        "description": None,
        "displayName": "Microsoft Graph",
        "oauth2PermissionScopes": scopes,
        "servicePrincipalNames": [
            GRAPH_APP_ID,
            "https://graph.microsoft.com",
            "https://graph.microsoft.com/",
        ],
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMultipleOrgs",
        "tags": [],
    }


def _role_definitions() -> list[dict[str, Any]]:
    return [
        {
            "id": tid,
            "description": f"Built-in role: {name}.",
            "displayName": name,
            "isBuiltIn": True,
            "isEnabled": True,
            "resourceScopes": ["/"],
            "templateId": tid,
            "version": "1",
            "rolePermissions": [
                {"allowedResourceActions": ["microsoft.directory/*/read"], "condition": None}
            ],
            "inheritsPermissionsFrom": [],
        }
        for name, tid in ROLE_TEMPLATES.items()
    ]


_MFA = [
    "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush",
    "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse", "password,microsoftAuthenticatorPush",
    "password,softwareOath", "password,hardwareOath", "password,x509CertificateSingleFactor",
    "password,x509CertificateMultiFactor", "password,sms", "password,voice", "federatedMultiFactor",
    "microsoftAuthenticatorPush,federatedSingleFactor", "softwareOath,federatedSingleFactor",
    "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor",
]  # fmt: skip


def _strengths() -> list[dict[str, Any]]:
    # Shapes and texts from shared/corpus authenticationStrengthPolicies/graphdocs-v1-builtin-*.
    rows = [
        ("2", "Multifactor authentication", "Combinations of methods that satisfy strong authentication, such as a password + SMS", _MFA),
        ("3", "Passwordless MFA", "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator", _MFA[:4]),
        ("4", "Phishing resistant MFA", "Phishing resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key", _MFA[:3]),
    ]  # fmt: skip
    return [
        {
            "id": f"00000000-0000-0000-0000-00000000000{n}",
            "createdDateTime": BUILTIN_CREATED,
            "modifiedDateTime": BUILTIN_CREATED,
            "displayName": name,
            "description": desc,
            "policyType": "builtIn",
            "requirementsSatisfied": "mfa",
            "allowedCombinations": list(combos),
            "combinationConfigurations": [],
        }
        for n, name, desc, combos in rows
    ]


def _all_users(**extra: Any) -> list[dict[str, Any]]:
    return [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False, **extra}]


def _builtin_grant_policies() -> list[dict[str, Any]]:
    """Microsoft's own permission grant policies (https://learn.microsoft.com/graph/api/permissiongrantpolicy-get:
    microsoft-user-default-low as its example shows it; -legacy is what authorizationPolicy assigns)."""
    low = {"permissionClassification": "low", "permissionType": "delegated", "resourceApplication": "any",
           "permissions": ["all"], "clientApplicationIds": ["all"], "clientApplicationTenantIds": ["all"],
           "clientApplicationPublisherIds": ["all"], "clientApplicationsFromVerifiedPublisherOnly": True}
    legacy = {**low, "permissionClassification": "all", "clientApplicationsFromVerifiedPublisherOnly": False}
    return [
        {"id": "microsoft-user-default-low", "displayName": "Default User Low Risk Policy",
         "description": "All low risk permissions are consentable by member type users by default.",
         "includes": [{"id": "8ce99f96-730c-4ebd-8397-07ee65942b97", **low}], "excludes": []},
        {"id": "microsoft-user-default-legacy", "displayName": "Default User Legacy Policy",
         "description": "All permissions are consentable by member type users by default.",
         "includes": [{"id": "2a3b4c5d-0000-4000-8000-00000000a001", **legacy}], "excludes": []},
    ]


def _method_configs() -> list[dict[str, Any]]:
    def cfg(type_: str, id_: str, state: str, **props: Any) -> dict[str, Any]:
        base = {
            "@odata.type": f"#microsoft.graph.{type_}AuthenticationMethodConfiguration",
            "id": id_,
            "state": state,
            "excludeTargets": [],
        }
        return {**base, "includeTargets": _all_users(), **props}

    return [
        cfg("fido2", "Fido2", "disabled", isSelfServiceRegistrationAllowed=True, isAttestationEnforced=True,
            keyRestrictions={"isEnforced": False, "enforcementType": "block", "aaGuids": []}),
        cfg("microsoftAuthenticator", "MicrosoftAuthenticator", "enabled", isSoftwareOathEnabled=False,
            includeTargets=_all_users(authenticationMode="any")),
        cfg("sms", "Sms", "disabled", includeTargets=_all_users(isUsableForSignIn=False)),
        cfg("temporaryAccessPass", "TemporaryAccessPass", "disabled", defaultLifetimeInMinutes=60, defaultLength=8,
            minimumLifetimeInMinutes=60, maximumLifetimeInMinutes=480, isUsableOnce=False),
        cfg("hardwareOath", "HardwareOath", "disabled"),
        cfg("softwareOath", "SoftwareOath", "disabled"),
        cfg("voice", "Voice", "disabled", isOfficePhoneAllowed=False),
        cfg("email", "Email", "enabled", allowExternalIdToUseEmailOtp="default"),
        cfg("x509Certificate", "X509Certificate", "disabled", certificateUserBindings=[], authenticationModeConfiguration={
            "x509CertificateAuthenticationDefaultMode": "x509CertificateSingleFactor", "rules": []}),
    ]  # fmt: skip


def _b2b(access: str = "allowed") -> dict[str, Any]:
    return {
        "usersAndGroups": {
            "accessType": access,
            "targets": [{"target": "AllUsers", "targetType": "user"}],
        },
        "applications": {
            "accessType": access,
            "targets": [{"target": "AllApplications", "targetType": "application"}],
        },
    }


def default_cross_tenant_default() -> dict[str, Any]:
    """The service default of crossTenantAccessPolicy/default (also what resetToSystemDefault restores)."""
    return {
        "isServiceDefault": True,
        "inboundTrust": {
            "isMfaAccepted": False,
            "isCompliantDeviceAccepted": False,
            "isHybridAzureADJoinedDeviceAccepted": False,
        },
        "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
        "b2bCollaborationInbound": _b2b(),
        "b2bCollaborationOutbound": _b2b(),
        "b2bDirectConnectInbound": _b2b("blocked"),
        "b2bDirectConnectOutbound": _b2b("blocked"),
        "invitationRedemptionIdentityProviderConfiguration": {
            "primaryIdentityProviderPrecedenceOrder": [
                "externalFederation",
                "azureActiveDirectory",
                "socialIdentityProviders",
            ],
            "fallbackIdentityProvider": "defaultConfiguredIdp",
        },
        "tenantRestrictions": None,
    }


def _builtin_identity_providers() -> list[dict[str, Any]]:
    """Built-in providers of a workforce tenant, as identitycontainer-list-identityproviders shows them."""
    return [{"@odata.type": "#microsoft.graph.builtInIdentityProvider", "id": id_, "displayName": name,
             "identityProviderType": type_}
            for id_, name, type_ in (("AADSignup-OAUTH", "Microsoft Entra ID Sign up", "AADSignup"),
                                     ("EmailOtpSignup-OAUTH", "Email One Time Passcode", "EmailOTP"),
                                     ("MSASignup-OAUTH", "MicrosoftAccount", "MicrosoftAccount"))]


def _setting(name: str, default: str, type_: str = "System.String", description: str = "") -> dict[str, Any]:
    return {"name": name, "type": type_, "defaultValue": default, "description": description or name}


# https://learn.microsoft.com/entra/identity/users/groups-settings-cmdlets (template ids and values);
# https://learn.microsoft.com/graph/api/resources/groupsettingtemplate.
GROUP_SETTING_TEMPLATES: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    "62375ab9-6b52-47ed-826b-58e47e0e304b": ("Group.Unified", "Setting templates define the different settings "
                                             "that can be used for the associated ObjectSettings.", [
        _setting("CustomBlockedWordsList", ""), _setting("EnableMSStandardBlockedWords", "false", "System.Boolean"),
        _setting("ClassificationDescriptions", ""), _setting("DefaultClassification", ""),
        _setting("PrefixSuffixNamingRequirement", ""),
        _setting("AllowGuestsToBeGroupOwner", "false", "System.Boolean"),
        _setting("AllowGuestsToAccessGroups", "true", "System.Boolean"), _setting("GuestUsageGuidelinesUrl", ""),
        _setting("GroupCreationAllowedGroupId", "", "System.Guid"),
        _setting("AllowToAddGuests", "true", "System.Boolean"), _setting("UsageGuidelinesUrl", ""),
        _setting("ClassificationList", ""), _setting("EnableGroupCreation", "true", "System.Boolean"),
        _setting("NewUnifiedGroupWritebackDefault", "true", "System.Boolean"),
    ]),
    "08d542b9-071f-4e16-94b0-74abb372e3d9": ("Group.Unified.Guest", "Settings for a specific Unified Group", [
        _setting("AllowToAddGuests", "true", "System.Boolean"),
    ]),
    "5cf42378-d67d-4f36-ba46-e8b86229381d": ("Password Rule Settings", "Settings for managing tenant-wide "
                                             "password rule settings.", [
        _setting("BannedPasswordCheckOnPremisesMode", "Audit"),
        _setting("EnableBannedPasswordCheckOnPremises", "True", "System.Boolean"),
        _setting("EnableBannedPasswordCheck", "True", "System.Boolean"),
        _setting("LockoutDurationInSeconds", "60", "System.Int32"),
        _setting("LockoutThreshold", "10", "System.Int32"),
        _setting("BannedPasswordList", ""),
    ]),
}


def _group_setting_templates() -> list[dict[str, Any]]:
    return [{"id": tid, "deletedDateTime": None, "displayName": name, "description": desc, "values": values}
            for tid, (name, desc, values) in GROUP_SETTING_TEMPLATES.items()]


def builtin_state(tenant_id: str) -> dict[str, list[dict[str, Any]]]:
    """Seed-format state of a brand-new tenant; seeds merge on top of it."""
    return {
        "organization": [
            {
                "id": tenant_id,
                "displayName": "Contoso (simulated)",
                "tenantType": "AAD",
                "countryLetterCode": "US",
                "createdDateTime": BUILTIN_CREATED,
                "verifiedDomains": [
                    {
                        "capabilities": "Email, OfficeCommunicationsOnline",
                        "isDefault": True,
                        "isInitial": True,
                        "name": "contoso.example",
                        "type": "Managed",
                    }
                ],
            }
        ],  # fmt: skip
        "servicePrincipals": [_graph_sp(tenant_id)],
        "roleDefinitions": _role_definitions(),
        "authenticationStrengthPolicies": _strengths(),
        "authorizationPolicy": [
            {
                "id": "authorizationPolicy",
                "displayName": "Authorization Policy",
                "description": "Used to manage authorization related settings across the company.",
                "allowInvitesFrom": "everyone",
                "allowedToSignUpEmailBasedSubscriptions": True,
                "allowedToUseSSPR": True,
                "allowEmailVerifiedUsersToJoinOrganization": True,
                "allowUserConsentForRiskyApps": False,
                "blockMsolPowerShell": False,
                "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
                "defaultUserRolePermissions": {
                    "allowedToCreateApps": True,
                    "allowedToCreateSecurityGroups": True,
                    "allowedToCreateTenants": True,
                    "allowedToReadBitlockerKeysForOwnedDevice": True,
                    "allowedToReadOtherUsers": True,
                    "permissionGrantPoliciesAssigned": [
                        "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"
                    ],
                },
            }
        ],  # fmt: skip
        "authenticationMethodsPolicy": [
            {
                "id": "authenticationMethodsPolicy",
                "displayName": "Authentication Methods Policy",
                "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
                "lastModifiedDateTime": BUILTIN_CREATED,
                "policyVersion": "1.5",
                "policyMigrationState": "preMigration",
                "registrationEnforcement": {
                    "authenticationMethodsRegistrationCampaign": {
                        "snoozeDurationInDays": 1,
                        "enforceRegistrationAfterAllowedSnoozes": True,
                        "state": "default",
                        "excludeTargets": [],
                        "includeTargets": [
                            {
                                "id": "all_users",
                                "targetType": "group",
                                "targetedAuthenticationMethod": "microsoftAuthenticator",
                            }
                        ],
                    }
                },
                "reportSuspiciousActivitySettings": {
                    "state": "default",
                    "voiceReportingCode": 0,
                    "includeTarget": {"id": "all_users", "targetType": "group"},
                },
                "systemCredentialPreferences": {
                    "state": "default",
                    "excludeTargets": [],
                    "includeTargets": [{"id": "all_users", "targetType": "group"}],
                },
            }
        ],  # fmt: skip
        "authenticationMethodConfigurations": _method_configs(),
        "identityProviders": _builtin_identity_providers(),
        "groupSettingTemplates": _group_setting_templates(),
        "crossTenantAccessPolicy": [
            {
                "displayName": "CrossTenantAccessPolicy",
                "allowedCloudEndpoints": [],
            }
        ],  # fmt: skip
        "crossTenantAccessPolicyDefault": [default_cross_tenant_default()],
        # Defaults as the Graph reference pages show them (authenticationflowspolicy-get,
        # adminconsentrequestpolicy-get, deviceregistrationpolicy-get).
        "authenticationFlowsPolicy": [
            {
                "id": "authenticationFlowsPolicy",
                "displayName": "Authentication flows policy",
                "description": "Authentication flows policy allows modification of settings related to authentication flows in AAD tenant, such as self-service sign up configuration.",
                "selfServiceSignUp": {"isEnabled": False},
            }
        ],  # fmt: skip
        # Beta only. Values of the get page's example (externalidentitiespolicy-get?view=graph-rest-beta,
        # id included); the docs name no other default. That example wraps the object in "value", which a
        # singleton GET does not: the object is served as every other singleton is.
        "externalIdentitiesPolicy": [
            {
                "id": "externalIdentityPolicy",
                "deletedDateTime": None,
                "displayName": "External Identities Policy",
                "allowExternalIdentitiesToLeave": True,
                "allowDeletedIdentitiesDataRemoval": False,
            }
        ],  # fmt: skip
        "adminConsentRequestPolicy": [
            {
                "id": "adminConsentRequestPolicy",
                "isEnabled": False,
                "notifyReviewers": False,
                "remindersEnabled": False,
                "requestDurationInDays": 30,
                "version": 0,
                "reviewers": [],
            }
        ],  # fmt: skip
        "deviceRegistrationPolicy": [
            {
                "id": "deviceRegistrationPolicy",
                "displayName": "Device Registration Policy",
                "description": "Tenant-wide policy that manages initial provisioning controls using quota restrictions, additional authentication and authorization checks",
                "userDeviceQuota": 50,
                "multiFactorAuthConfiguration": "notRequired",
                "azureADRegistration": {
                    "isAdminConfigurable": False,
                    "allowedToRegister": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"},
                },
                "azureADJoin": {
                    "isAdminConfigurable": True,
                    "allowedToJoin": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"},
                    "localAdmins": {
                        "enableGlobalAdmins": True,
                        "registeringUsers": {"@odata.type": "#microsoft.graph.allDeviceRegistrationMembership"},
                    },
                },
                "localAdminPassword": {"isEnabled": False},
            }
        ],  # fmt: skip
        # https://learn.microsoft.com/graph/api/tenantappmanagementpolicy-get (its example response)
        "defaultAppManagementPolicy": [
            {
                "id": "00000000-0000-0000-0000-000000000000",
                "displayName": "Default app management tenant policy",
                "description": "Default tenant policy that enforces app management restrictions on applications and service principals. To apply policy to targeted resources, create a new policy under appManagementPolicies collection.",
                "isEnabled": False,
                "applicationRestrictions": {"passwordCredentials": [], "keyCredentials": []},
                "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []},
            }
        ],  # fmt: skip
        "permissionGrantPolicies": _builtin_grant_policies(),
        "identitySecurityDefaultsEnforcementPolicy": [
            {
                "id": "00000000-0000-0000-0000-000000000005",
                "displayName": "Security Defaults",
                "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.",
                "isEnabled": False,
            }
        ],  # fmt: skip
    }
