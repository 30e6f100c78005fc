"""The ``enterprise`` seed: Northwind Enterprise, a hybrid tenant with what real tenants carry.

Made up for entragit, shaped like real Graph GET payloads (v1.0 property names on v1.0
collections, beta-shaped CA policies as the demo). Deterministic: uuid5 ids (``sid``) and fixed
timestamps (``ts``). Beyond the demo story (a role-assignable group named by 12 CA policies, an app
to soft-delete, a CA100 policy to weaken) it holds: users and groups synced from on-premises AD, a
distribution list and a mail-enabled security group, ~250 Microsoft first-party service principals,
managed identities, a restricted administrative unit with hidden membership holding the tier-0
group, apps with certificates and ``api://<appId>`` URIs, service principals as group members and
owner, PIM-activated and PIM-assigned role assignments, directory roles held by the automation app.

``entragit-automation`` holds ``AUTOMATION_PERMISSIONS``; ``entragit-reader`` holds
``READER_PERMISSIONS``; tests mint their secrets with ``addPassword`` as on the demo seed.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

from entragit_sim.seeds.builders import (
    ADMIN_ROLES,
    AUTOMATION_PERMISSIONS,
    AZURE_MANAGEMENT_APP_ID,
    DEMO_TENANT_ID,
    EXCHANGE_ONLINE_APP_ID,
    INTUNE_ENROLLMENT_APP_ID,
    MICROSOFT_TENANT_ID,
    PHISHING_RESISTANT_STRENGTH_ID,
    READER_PERMISSIONS,
    SHAREPOINT_ONLINE_APP_ID,
    Obj,
    Seed,
    authorization_policy,
    builtin_strength,
    builtins,
    ca_policy,
    country_location,
    first_party_sp,
    ip_location,
    make_app_role_assignment,
    make_application,
    make_group,
    make_role_assignment,
    make_user,
    role_assignment_id,
    service_principal_for,
    sid,
    sign_in_frequency,
    ts,
)

COMPANY = "Northwind Enterprise"
DOMAIN = "northwindenterprise.onmicrosoft.com"
WEB_DOMAIN = "northwind-enterprise.example"  # reserved TLD: never resolves
AD_DOMAIN = "corp.northwind-enterprise.example"  # the on-premises AD forest synced by Entra Connect
AD_NETBIOS = "NORTHWIND"
AD_SID_PREFIX = "S-1-5-21-3623811015-3361044348-30300820"  # the AD domain's SID (made up)
LAST_SYNC = ts(200, 25)  # Entra Connect's last delta sync

TIER0_GROUP = "Tier0 - Identity Admins"  # the demo story's group to hard-delete
SOFT_DELETED_APP = "Northwind Payroll"  # the demo story's app to soft-delete
FIRST_PARTY_COUNT = 250
MANAGED_IDENTITY_COUNT = 20

# Well-known Microsoft first-party applications (global appIds). Microsoft Graph itself comes
# with the simulator's built-in tenant.
KNOWN_FIRST_PARTY = {
    EXCHANGE_ONLINE_APP_ID: "Office 365 Exchange Online",
    SHAREPOINT_ONLINE_APP_ID: "Office 365 SharePoint Online",
    INTUNE_ENROLLMENT_APP_ID: "Microsoft Intune Enrollment",
    AZURE_MANAGEMENT_APP_ID: "Windows Azure Service Management API",
    "c44b4083-3bb0-49c1-b47d-974e53cbdf3c": "Azure Portal",
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46": "Microsoft Azure CLI",
    "14d82eec-204b-4c2f-b7e8-296a70dab67e": "Microsoft Graph Command Line Tools",
    "1950a258-227b-4e31-a9cf-717495945fc2": "Microsoft Azure PowerShell",
    "00000002-0000-0000-c000-000000000000": "Windows Azure Active Directory",
    "1fec8e78-bce4-4aaf-ab1b-5451cc387264": "Microsoft Teams",
    "5e3ce6c0-2b1f-4285-8d4b-75ee78787346": "Microsoft Teams Web Client",
    "d3590ed6-52b3-4102-aeff-aad2292ab01c": "Microsoft Office",
    "00000004-0000-0ff1-ce00-000000000000": "Skype for Business Online",
    "0000000a-0000-0000-c000-000000000000": "Microsoft Intune",
    "00000009-0000-0000-c000-000000000000": "Power BI Service",
    "c5393580-f805-4401-95e8-94b7a6ef2fc2": "Office 365 Management APIs",
    "29d9ed98-a469-4536-ade2-f981bc1d605e": "Microsoft Authentication Broker",
    "0000000c-0000-0000-c000-000000000000": "Microsoft App Access Panel",
    "27922004-5251-4030-b22d-91ecd9a37ea4": "Outlook Mobile",
}
# The rest of the ~250 are SYNTHETIC first-party service principals: Microsoft-owned
# (appOwnerOrganizationId = Microsoft's tenant) with generated appIds and names made of these
# words, standing in for the long tail of first-party apps a real tenant lists.
_FP_AREAS = ("Azure", "Office 365", "Microsoft 365", "Dynamics", "Power Platform", "Defender",
             "Purview", "Intune", "Teams", "Exchange")  # fmt: skip
_FP_ROLES = ("Service", "Connector", "Insights", "Sync", "Gateway", "Analytics", "Provisioning",
             "Notifications", "Compliance", "Portal", "Backend", "Telemetry", "Reporting",
             "Scheduler", "Search", "Broker", "Agent", "Workflow", "Auditing", "Licensing",
             "Diagnostics", "Migration", "Automation", "Discovery", "Protection")  # fmt: skip

# Public X.509 certificates (DER, base64) generated once for this seed with `cryptography`
# (self-signed RSA 2048, valid 2024-06-01..2026-06-01). Their private keys were never kept.
CERTS = {
    "orders-api": ("CN=orders-api.northwind-enterprise.example", (
        "MIIC8DCCAdigAwIBAgIUZJ8e1l1lRxahM/7ZoCbs3V5RiwUwDQYJKoZIhvcNAQELBQAwMjEwMC4GA1UEAwwnb3JkZXJzLWFw"
        "aS5ub3J0aHdpbmQtZW50ZXJwcmlzZS5leGFtcGxlMB4XDTI0MDYwMTAwMDAwMFoXDTI2MDYwMTAwMDAwMFowMjEwMC4GA1UE"
        "Awwnb3JkZXJzLWFwaS5ub3J0aHdpbmQtZW50ZXJwcmlzZS5leGFtcGxlMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKC"
        "AQEA9snIM/3TWiV2yB+5qCqp2qo7ALwm/JL/6QrYzUCc+1y7gEtTW/tLho+M3q6+SKxXTwG9NwsMU9kFD98PQs/cgBIAb5mc"
        "XBrJsBl9g8jnFKr+z9+oDzM7By/Uf56qAgP+P74laJCbIoI5sJ6+dI6a6BQUR5c1jkenTAWSJi5rhUg9tF5dfVMZwHb/s2R7"
        "aG5KMpYG+EhqY4sG8LxQ1RQRkOzCLuo96v1pV6RB4ODLIoCj1lXhegfdW+mMCH3k0xGQVo3IZ5g902ptO8d5REZBjeDNJTs9"
        "afuH/mhgKDv9BhNIVFXIPWkVMyhvHuBgitUeqPXaNLWQ3UgQprwvBm9SDQIDAQABMA0GCSqGSIb3DQEBCwUAA4IBAQCGnlTI"
        "TOSSn3lQUpAyOtWMBr3sAAhI3TT0DDc4lqk9+APBsDt7wUFt159gmB0M+yZnWGI4aeP7AH5VuSUnkf97FEjwKjebTS5K337x"
        "qV6jrYqRAnHl7yQFJyfuuIlaNaaMgagVNGjacGDzN7Z/GXMiBHXdjQd0e/VuzBkOaN4LNuKvPwV4aaMF8p+DhBqbnqPupcsl"
        "vvfYXt9MJcPmAD408svl0HaBeB8WR8EM9Fq+sLGbUPBz6aGnxh2KQpP7rsyut+R+j/lypUhn8Sq1mLUEX5BO8yku0+vw9BLu"
        "tIF3oqYeFmwqQBfRTVCxZpdq5MJsYCFL7wXD7MDnvEqehltO")),
    "entragit-automation": ("CN=entragit-automation.northwind-enterprise.example", (
        "MIIDAjCCAeqgAwIBAgIUAP1QatVhJ8K7y9W1ihH1dy7AYvYwDQYJKoZIhvcNAQELBQAwOzE5MDcGA1UEAwwwZW50cmFnaXQt"
        "YXV0b21hdGlvbi5ub3J0aHdpbmQtZW50ZXJwcmlzZS5leGFtcGxlMB4XDTI0MDYwMTAwMDAwMFoXDTI2MDYwMTAwMDAwMFow"
        "OzE5MDcGA1UEAwwwZW50cmFnaXQtYXV0b21hdGlvbi5ub3J0aHdpbmQtZW50ZXJwcmlzZS5leGFtcGxlMIIBIjANBgkqhkiG"
        "9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwEHGw+Dk5kp56JSrdNrbgO90+LapG8uZWHFSLqGXBugsN7buYOdg9AfAZds2QvbtabCz"
        "Dr47Adj4/O379LPL31kIbOxEH8bWlIJd6E7MaXEMqy1d8XcEIBtsU4QXJE2rPu+v9E7lPSzaPpBTGJVv4CMBmGBPPeLtP60t"
        "FWeJyU/g/zNC06drGkOHmY3lxO6HQlYNkCCm5nvZzvG/cYBDaxnJapp0xzXwsrMFeJMcNLV5yJ5nbBdbUKWH5jTS5/TZYo5E"
        "OkDKsK2bKl7xC9mLff6mFB8PI846KR5b1E+wQx+1uqxX1sLR0DSfp0FXzqBkog+DOW0fmoeVMDbJ6CQXdwIDAQABMA0GCSqG"
        "SIb3DQEBCwUAA4IBAQAmu62VR1nGFbenYIySSDWe6sw2nGn9ITq0wkIwgXU3Cd5QDLjXuKMtsx2CYPmHojzNIawVX0RqHVWN"
        "b6vDHiNJemiR6ThGdBE36mWmp/LHblunIi9pKvAYokp8tWWPQlc2UOxrnbl1WJnonCIljAR0iUrV77sBl82hcfamYfojnYyR"
        "x7T0ub7jC6Wl4YgTPrLyEtxgtBoZUEUf5RC0MpEQxhUp9MHEl+QNK9220JVoxnYVcc5QDQVuiDzWlpXNBTuzD1sOqizkmMzt"
        "dzQZCQKEHR7BWFGyKbw4/wJnKw5mSTUQbm2t4O9DruYz+k6gYj4nKFOO/uQuTorcqApBngdG")),
}

# key, given, surname, department, title (all synced from AD)
_STAFF = [
    ("anna.berg", "Anna", "Berg", "IT", "Director of Infrastructure"),
    ("omar.haddad", "Omar", "Haddad", "IT", "Identity Architect"),
    ("julia.novak", "Julia", "Novak", "IT", "Security Engineer"),
    ("peter.lund", "Peter", "Lund", "IT", "Service Desk Engineer"),
    ("maria.garcia", "Maria", "Garcia", "Finance", "Controller"),
    ("ben.carter", "Ben", "Carter", "Finance", "Accounts Payable Lead"),
    ("li.wei", "Li", "Wei", "Sales", "Regional Sales Manager"),
    ("sara.nilsen", "Sara", "Nilsen", "Sales", "Account Manager"),
    ("tom.baker", "Tom", "Baker", "HR", "HR Business Partner"),
    ("eva.kowalski", "Eva", "Kowalski", "Operations", "Operations Manager"),
    ("ahmed.farouk", "Ahmed", "Farouk", "Operations", "Logistics Planner"),
    ("nina.petrova", "Nina", "Petrova", "Engineering", "Platform Engineer"),
]


def _rid(name: str) -> int:
    """A stable AD relative id (RID) for an on-premises account."""
    return 1100 + int(hashlib.sha256(name.encode()).hexdigest()[:6], 16) % 90000


def _synced(obj: Obj, sam: str, *, user: bool) -> Obj:
    """Mark a directory object as synced from AD by Entra Connect (its source of authority)."""
    obj.update({
        "onPremisesDomainName": AD_DOMAIN,
        "onPremisesLastSyncDateTime": LAST_SYNC,
        "onPremisesSamAccountName": sam,
        "onPremisesSecurityIdentifier": f"{AD_SID_PREFIX}-{_rid(sam)}",
        "onPremisesSyncEnabled": True,
    })  # fmt: skip
    if user:
        # ms-DS-ConsistencyGuid: base64 of the AD objectGUID bytes.
        guid = uuid.uuid5(uuid.NAMESPACE_DNS, f"{sam}.{AD_DOMAIN}")
        obj["onPremisesImmutableId"] = base64.b64encode(guid.bytes_le).decode()
        obj["onPremisesDistinguishedName"] = f"CN={obj['displayName']},OU=Users,OU=Northwind,DC=corp,DC=northwind-enterprise,DC=example"
        obj["onPremisesUserPrincipalName"] = f"{sam}@{AD_DOMAIN}"
    else:
        obj["onPremisesNetBiosName"] = AD_NETBIOS
    return obj


def _key_credential(t: str, key: str) -> Obj:
    name, der = CERTS[key]
    raw = base64.b64decode(der)
    return {
        "customKeyIdentifier": hashlib.sha1(raw).hexdigest().upper(),  # the thumbprint
        "displayName": name,
        "endDateTime": "2026-06-01T00:00:00Z",
        "key": der,
        "keyId": sid(t, "keyCredential", key),
        "startDateTime": "2024-06-01T00:00:00Z",
        "type": "AsymmetricX509Cert",
        "usage": "Verify",
    }


class _Enterprise:
    def __init__(self, tenant_id: str) -> None:
        self.t = tenant_id
        self.b = builtins()
        self.seed: Seed = {}

    def add(self, collection: str, obj: Obj) -> Obj:
        self.seed.setdefault(collection, []).append(obj)
        return obj

    def role(self, name: str) -> str:
        return str(self.b.ROLE_TEMPLATES[name])

    def users(self) -> None:
        t = self.t
        self.u: dict[str, Obj] = {}
        for i, n in enumerate(("01", "02")):  # cloud-only: break-glass never depends on AD
            self.u[f"bg{n}"] = self.add("users", make_user(
                t, f"bg-admin-{n}", given=None, surname=None, display=f"Break Glass Admin {n}",
                title="Emergency access account", created=ts(0, i), domain=DOMAIN, company=COMPANY))  # fmt: skip
        for i, (key, given, surname, dept, title) in enumerate(_STAFF):
            u = make_user(t, key, given=given, surname=surname, department=dept, title=title,
                          office="Seattle" if i % 2 else "Amsterdam", created=ts(2 + i // 4, 10 * i),
                          domain=DOMAIN, company=COMPANY)  # fmt: skip
            self.u[key] = self.add("users", _synced(u, key.replace(".", "")[:20], user=True))
        self.u["svc-backup"] = self.add("users", make_user(
            t, "svc-backup", given=None, surname=None, display="Service - Backup Agent",
            title="Backup service account", created=ts(12), domain=DOMAIN, company=COMPANY))  # fmt: skip

    def uid(self, *keys: str) -> list[str]:
        return [self.u[k]["id"] for k in keys]

    def groups(self) -> None:
        t, u = self.t, self.uid
        self.g: dict[str, Obj] = {}
        staff = [s[0] for s in _STAFF]

        def g(key: str, display: str, day: int, **kw: Any) -> Obj:
            self.g[key] = self.add("groups", make_group(
                t, key, display, nickname=key, created=ts(day), domain=DOMAIN, **kw))  # fmt: skip
            return self.g[key]

        g("breakglass", "CA-BreakGlassAccounts - Exclude", 0, members=u("bg01", "bg02"),
          description="Emergency access accounts. Excluded from every Conditional Access policy.")
        g("tier0", TIER0_GROUP, 20, role_assignable=True, members=u("anna.berg", "omar.haddad"),
          owners=u("anna.berg"), description="Tier-0 identity administrators (Entra and AD).")
        g("all-employees", "All Employees", 2, rule='(user.userType -eq "Member") -and (user.department -ne null)',
          description="Every employee with a department (dynamic).")
        for dept in sorted({s[3] for s in _STAFF}):  # security groups synced from AD
            grp = g(f"gg-{dept.lower()}", f"GG-{dept}-Users", 3,
                    members=u(*(s[0] for s in _STAFF if s[3] == dept)),
                    description=f"{dept} users (synced from {AD_DOMAIN}).")
            _synced(grp, f"GG-{dept}-Users", user=False)
        dl = g("dl-all-staff", "DL - All Staff", 4, members=u(*staff), description="All staff distribution list.")
        dl.update({"mailEnabled": True, "securityEnabled": False, "mail": f"allstaff@{WEB_DOMAIN}",
                   "proxyAddresses": [f"SMTP:allstaff@{WEB_DOMAIN}", f"smtp:dl-all-staff@{DOMAIN}"]})
        _synced(dl, "DL-AllStaff", user=False)
        mesg = g("mesg-finance-approvers", "MESG - Finance Approvers", 5, members=u("maria.garcia", "ben.carter"),
                 description="Mail-enabled security group: invoice approvers.")
        mesg.update({"mailEnabled": True, "securityEnabled": True, "mail": f"finance-approvers@{WEB_DOMAIN}",
                     "proxyAddresses": [f"SMTP:finance-approvers@{WEB_DOMAIN}"]})
        g("m365-operations", "Operations Team", 6, unified=True, team=True, members=u("eva.kowalski", "ahmed.farouk"),
          owners=u("eva.kowalski"), description="Operations team workspace.")
        g("app-payroll-users", "APP - Northwind Payroll Users", 30, members=u("maria.garcia", "tom.baker"),
          description="Can use Northwind Payroll.")
        g("workload-apps", "SG - Workload Identities", 31, description="Service principals of line-of-business workloads.")
        for n in range(1, 11):  # exclusion groups the CA policies name
            g(f"ca-exclude-{n:02d}", f"CA{100 + n:03d} - Exclude", 14, members=[],
              description="Temporary exceptions (ticket required).")

    def admin_units(self) -> None:
        self.au = {}
        for key, display, members, restricted in (
            ("tier0", "Tier0 - Restricted", [self.g["tier0"]["id"], *self.uid("anna.berg", "omar.haddad")], True),
            ("emea", "Region - EMEA", self.uid(*(s[0] for i, s in enumerate(_STAFF) if not i % 2)), False),
        ):
            self.au[key] = self.add("administrativeUnits", {
                "id": sid(self.t, "administrativeUnit", key), "deletedDateTime": None, "displayName": display,
                "description": "Managed only by Privileged Role Administrators." if restricted else "EMEA staff.",
                "isMemberManagementRestricted": restricted, "membershipRule": None,
                "membershipRuleProcessingState": None, "membershipType": None,
                "visibility": "HiddenMembership" if restricted else None, "members": sorted(members)})  # fmt: skip

    def apps(self) -> None:
        t = self.t
        self.app: dict[str, Obj] = {}
        self.sp: dict[str, Obj] = {}
        common: dict[str, Any] = {"publisher_domain": DOMAIN}
        orders = make_application(t, "orders-api", "Northwind Orders API", created=ts(25),
                                  description="Order management API.", graph_scopes=("User.Read",), **common)
        payroll = make_application(t, "payroll", SOFT_DELETED_APP, created=ts(26),
                                   web_redirects=[f"https://payroll.{WEB_DOMAIN}/signin-oidc"],
                                   graph_scopes=("openid", "profile", "User.Read"), **common)
        automation = make_application(t, "entragit-automation", "entragit-automation", created=ts(90),
                                      graph_roles=AUTOMATION_PERMISSIONS, owners=self.uid("omar.haddad"), **common)
        reader = make_application(t, "entragit-reader", "entragit-reader", created=ts(90, 5),
                                  graph_roles=READER_PERMISSIONS, owners=self.uid("omar.haddad"), **common)
        for key, app, cert in (("orders-api", orders, "orders-api"), ("payroll", payroll, None),
                               ("entragit-automation", automation, "entragit-automation"),
                               ("entragit-reader", reader, None)):  # fmt: skip
            app["identifierUris"] = [f"api://{app['appId']}"]
            if cert:
                app["keyCredentials"] = [_key_credential(t, cert)]
            self.app[key] = self.add("applications", app)
            sp = service_principal_for(t, app, key=key)
            sp["keyCredentials"] = [dict(k, key=None) for k in app["keyCredentials"]]
            self.sp[key] = self.add("servicePrincipals", sp)
        for i, (app_id, name) in enumerate(self.first_party()):
            self.sp[app_id] = self.add("servicePrincipals", first_party_sp(t, app_id, name, created=ts(0, i % 600)))
        for i in range(MANAGED_IDENTITY_COUNT):
            self.add("servicePrincipals", self.managed_identity(i))
        # service principals as group members, and one as an owner
        self.g["workload-apps"]["members"] = sorted([self.sp["orders-api"]["id"], self.sp["payroll"]["id"]])
        self.g["workload-apps"]["owners"] = [self.sp["entragit-automation"]["id"]]
        self.g["app-payroll-users"]["members"] = sorted([*self.g["app-payroll-users"]["members"],
                                                        self.sp["orders-api"]["id"]])

    def first_party(self) -> list[tuple[str, str]]:
        out = sorted(KNOWN_FIRST_PARTY.items())
        names = {n for _, n in out}
        i = 0
        while len(out) < FIRST_PARTY_COUNT:  # synthetic first-party SPs (see _FP_AREAS)
            name = f"{_FP_AREAS[i % len(_FP_AREAS)]} {_FP_ROLES[i // len(_FP_AREAS) % len(_FP_ROLES)]}"
            if name not in names:
                out.append((str(uuid.uuid5(uuid.UUID(MICROSOFT_TENANT_ID), name)), name))
                names.add(name)
            i += 1
        return out

    def managed_identity(self, i: int) -> Obj:
        t = self.t
        name = f"mi-{('orders', 'payroll', 'backup', 'etl', 'web')[i % 5]}-{i:02d}"
        app_id = sid(t, "managedIdentityAppId", name)
        resource = (f"/subscriptions/{sid(t, 'subscription', 'prod')}/resourceGroups/rg-prod-{i % 4}"
                    f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}")
        sp = first_party_sp(t, app_id, name, created=ts(100 + i))
        sp.update({"id": sid(t, "servicePrincipal", name), "appOwnerOrganizationId": None,
                   "alternativeNames": ["isExplicit=True", resource], "servicePrincipalType": "ManagedIdentity",
                   "signInAudience": "AzureADMyOrg", "appDisplayName": None,
                   "servicePrincipalNames": [app_id, f"https://identity.azure.net/{base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()}"]})  # fmt: skip
        return sp

    def assignments(self) -> None:
        t, b = self.t, self.b
        graph_sp = {"id": b.graph_sp_id(t), "displayName": "Microsoft Graph"}
        for key, perms in (("entragit-automation", AUTOMATION_PERMISSIONS), ("entragit-reader", READER_PERMISSIONS)):
            for i, p in enumerate(p for p in perms if p in b.GRAPH_PERMISSIONS):
                self.add("appRoleAssignments", make_app_role_assignment(
                    t, self.sp[key], "ServicePrincipal", graph_sp, b.GRAPH_PERMISSIONS[p], created=ts(91, i)))  # fmt: skip
        auto, role = self.sp["entragit-automation"]["id"], self.role
        for role_id, principal, scope in (
            (role("Global Administrator"), self.u["bg01"]["id"], "/"),
            (role("Global Administrator"), self.u["bg02"]["id"], "/"),
            (role("Privileged Role Administrator"), self.g["tier0"]["id"], "/"),
            (role("Privileged Authentication Administrator"), auto, "/"),
            (role("User Administrator"), auto, f"/administrativeUnits/{self.au['emea']['id']}"),
            (role("Helpdesk Administrator"), self.u["peter.lund"]["id"], f"/administrativeUnits/{self.au['emea']['id']}"),
        ):  # fmt: skip
            self.add("roleAssignments", make_role_assignment(role_id, principal, scope))
        # PIM: two activations (eligible users elevated for a few hours) and one PIM-managed standing assignment.
        for n, (role_name, user, kind) in enumerate((
            ("Security Administrator", "julia.novak", "Activated"),
            ("Exchange Administrator", "peter.lund", "Activated"),
            ("Groups Administrator", "omar.haddad", "Assigned"),
        )):  # fmt: skip
            ra = self.add("roleAssignments", make_role_assignment(role(role_name), self.u[user]["id"]))
            start = ts(200, 60 * n)
            self.add("roleAssignmentScheduleInstances", {
                "id": role_assignment_id(role(role_name), self.u[user]["id"], f"pim/{kind}"),
                "principalId": ra["principalId"], "roleDefinitionId": ra["roleDefinitionId"],
                "directoryScopeId": "/", "appScopeId": None, "startDateTime": start,
                "endDateTime": ts(200, 60 * n + 480) if kind == "Activated" else None,
                "assignmentType": kind, "memberType": "Direct", "roleAssignmentOriginId": ra["id"],
                "roleAssignmentScheduleId": sid(self.t, "roleAssignmentSchedule", f"{user}/{role_name}")})  # fmt: skip

    def conditional_access(self) -> None:
        t, g = self.t, self.g
        bg, tier0 = g["breakglass"]["id"], g["tier0"]["id"]
        loc = {
            "hq": ip_location(t, "Northwind HQ", ["203.0.113.0/24"], trusted=True, created=ts(8)),
            "dc": ip_location(t, "Northwind Datacenter", ["198.51.100.0/24"], trusted=True, created=ts(8, 5)),
            "blocked": country_location(t, "Blocked Countries", ["KP", "IR"], created=ts(9), unknown=True),
        }
        for loc_obj in loc.values():
            self.add("namedLocations", loc_obj)
        admin_roles = tuple(self.b.ROLE_TEMPLATES[n] for n in ADMIN_ROLES if n in self.b.ROLE_TEMPLATES)
        phish = builtin_strength(t, PHISHING_RESISTANT_STRENGTH_ID)
        bg_users = tuple(self.uid("bg01", "bg02"))

        def ca(n: int, name: str, **kw: Any) -> None:
            self.add("conditionalAccessPolicies", ca_policy(
                t, name, created=ts(100 + n), modified=ts(120 + n), break_glass_group=bg, **kw))  # fmt: skip

        ca(0, "CA000-Global-IdentityProtection-AnyApp-AnyPlatform-MFA", include_users=("All",), grant=("mfa",),
           exclude_users=(self.u["svc-backup"]["id"],))
        ca(1, "CA001-Global-AttackSurfaceReduction-AnyApp-AnyPlatform-BLOCK-HighRiskCountries",
           include_users=("All",), locations=((loc["blocked"]["id"],), ()), grant=("block",))
        ca(2, "CA100-Admins-IdentityProtection-AdminPortals-AnyPlatform-MFA", include_roles=admin_roles,
           exclude_users=bg_users, include_apps=("MicrosoftAdminPortals", AZURE_MANAGEMENT_APP_ID), grant=("mfa",))
        # The tier-0 group is named by 12 policies: deleting it breaks all of them at once.
        for n in range(12):
            excl = (g[f"ca-exclude-{n % 10 + 1:02d}"]["id"],)
            ca(10 + n, f"CA{101 + n:03d}-Tier0-IdentityProtection-{('AnyApp', 'AdminPortals', 'AzureManagement')[n % 3]}-Control{n:02d}",
               include_groups=(tier0,), exclude_groups=excl, exclude_users=bg_users,
               include_apps=(("All",), ("MicrosoftAdminPortals",), (AZURE_MANAGEMENT_APP_ID,))[n % 3],
               locations=None if n % 2 else (("All",), (loc["hq"]["id"], loc["dc"]["id"])),
               strength=phish if n % 4 == 0 else None, grant=None if n % 4 == 0 else ("mfa",),
               session=sign_in_frequency(4, "hours") if n % 3 == 1 else None,
               state="enabledForReportingButNotEnforced" if n % 5 == 4 else "enabled")  # fmt: skip
        ca(30, "CA500-WorkloadIdentities-AttackSurfaceReduction-AnyApp-BLOCK-UntrustedLocations",
           include_users=("None",), client_sps=((self.sp["entragit-automation"]["id"],), ()),
           locations=(("All",), ("AllTrusted",)), grant=("block",), state="enabledForReportingButNotEnforced")

    def policies(self) -> None:
        t = self.t
        self.add("organization", {
            "id": t, "deletedDateTime": None, "businessPhones": ["+1 206 555 0100"], "city": "Seattle",
            "country": "United States", "countryLetterCode": "US", "createdDateTime": ts(0), "displayName": COMPANY,
            "marketingNotificationEmails": [], "onPremisesLastSyncDateTime": LAST_SYNC, "onPremisesSyncEnabled": True,
            "postalCode": "98101", "preferredLanguage": "en", "privacyProfile": None,
            "securityComplianceNotificationMails": [f"security@{WEB_DOMAIN}"], "securityComplianceNotificationPhones": [],
            "state": "WA", "street": "1 Example Way", "technicalNotificationMails": [f"it@{WEB_DOMAIN}"],
            "tenantType": "AAD",
            "verifiedDomains": [
                {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": False, "isInitial": True,
                 "name": DOMAIN, "type": "Managed"},
                {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": True, "isInitial": False,
                 "name": WEB_DOMAIN, "type": "Managed"}],
        })  # fmt: skip
        self.add("authorizationPolicy", authorization_policy())


def enterprise_seed(tenant_id: str = DEMO_TENANT_ID) -> Seed:
    """Northwind Enterprise for `tenant_id`; same tenant id, same state, every time."""
    e = _Enterprise(tenant_id)
    e.users()
    e.groups()
    e.admin_units()
    e.apps()
    e.assignments()
    e.conditional_access()
    e.policies()
    return e.seed
