"""The ``demo`` seed: Contoso Demo, a small company written for entragit (not copied from anywhere).

The shapes follow real Graph GET payloads (beta-shaped Conditional Access policies like a
tenant export, v1.0 shapes for directory objects); the company, its people, apps and policies
are made up. Everything is deterministic: every id is ``uuid5(SEED_NAMESPACE,
f"{tenant_id}:{kind}:{stable-name}")`` and every timestamp is a fixed ISO string, so the same
tenant id gives byte-identical state at every start and an export of it can be a golden file.

The story the product demo tells: the role-assignable security group **Finance Admins**
(``mailNickname: finance-admins``) is referenced by 12 Conditional Access policies, holds the
Billing Administrator directory role, holds the ``Finance.Admin`` app role on ExpenseHub and is a
member of the restricted "Finance - Restricted" administrative unit. Deleting it breaks all of
that at once; restoring it from git puts it back.

Break-glass: ``bg-admin-01@`` / ``bg-admin-02@contosodemo.onmicrosoft.com`` hold Global
Administrator and are members of "CA-BreakGlassAccounts - Exclude", which every CA policy excludes.

Automation apps (tests mint secrets for them with ``addPassword``):
``entragit-automation`` holds every Graph application permission entragit needs to read and write
what it manages (``AUTOMATION_PERMISSIONS``); ``entragit-reader`` holds only the reader-only export
profile (``READER_PERMISSIONS``).

The builders it uses live in ``builders.py``.
"""

from __future__ import annotations

import base64
from typing import Any

from entragit_sim import pimpolicy
from entragit_sim.seeds.builders import (
    ADMIN_ROLES,
    AUTOMATION_PERMISSIONS,
    AZURE_MANAGEMENT_APP_ID,
    COMPANY,
    DEFAULT_ACCESS_ROLE_ID,
    DEMO_TENANT_ID,
    DOMAIN,
    EXCHANGE_ONLINE_APP_ID,
    FIRST_PARTY_APPS,
    INTUNE_ENROLLMENT_APP_ID,
    PHISHING_RESISTANT_STRENGTH_ID,
    READER_PERMISSIONS,
    SECURITY_DEFAULTS_ID,
    SHAREPOINT_ONLINE_APP_ID,
    WEB_DOMAIN,
    Obj,
    Seed,
    all_guests,
    app_role,
    authorization_policy,
    builtin_strength,
    builtins,
    ca_policy,
    country_location,
    enumerated_guests,
    first_party_sp,
    ip_location,
    make_app_role_assignment,
    make_application,
    make_grant,
    make_group,
    make_role_assignment,
    make_user,
    service_principal_for,
    sid,
    sign_in_frequency,
    ts,
    xtenant_access,
    xtenant_partner,
)

# Re-exported: tests and other seeds read the demo's well-known ids from here.
from entragit_sim.seeds.builders import CA_SENTINELS as CA_SENTINELS
from entragit_sim.seeds.builders import MICROSOFT_TENANT_ID as MICROSOFT_TENANT_ID

# --------------------------------------------------------------------------------------------
# the company

# key, given, surname, department, title, office
_STAFF = [
    ("priya.raman", "Priya", "Raman", "IT", "Head of IT", "Amsterdam"),
    ("tomas.ortega", "Tomas", "Ortega", "IT", "Identity Engineer", "Amsterdam"),
    ("hannah.schmidt", "Hannah", "Schmidt", "IT", "Security Analyst", "Amsterdam"),
    ("kwame.mensah", "Kwame", "Mensah", "IT", "Service Desk Lead", "Amsterdam"),
    ("lena.fischer", "Lena", "Fischer", "IT", "Cloud Engineer", "Seattle"),
    ("olivia.chen", "Olivia", "Chen", "Finance", "Chief Financial Officer", "Amsterdam"),
    ("marcus.reid", "Marcus", "Reid", "Finance", "Finance Manager", "Amsterdam"),
    ("sofia.rossi", "Sofia", "Rossi", "Finance", "Senior Accountant", "Amsterdam"),
    ("daniel.okafor", "Daniel", "Okafor", "Finance", "Payroll Specialist", "Seattle"),
    ("emma.lindqvist", "Emma", "Lindqvist", "Sales", "Sales Director", "Seattle"),
    ("jacob.turner", "Jacob", "Turner", "Sales", "Account Executive", "Seattle"),
    ("aisha.khan", "Aisha", "Khan", "Sales", "Account Executive", "Amsterdam"),
    ("grace.mwangi", "Grace", "Mwangi", "HR", "HR Manager", "Amsterdam"),
    ("noah.williams", "Noah", "Williams", "HR", "HR Generalist", "Seattle"),
    ("chloe.martin", "Chloe", "Martin", "Marketing", "Marketing Lead", "Amsterdam"),
    ("lucas.moreau", "Lucas", "Moreau", "Marketing", "Content Designer", "Amsterdam"),
    ("ravi.patel", "Ravi", "Patel", "Engineering", "Engineering Manager", "Seattle"),
    ("mia.johansson", "Mia", "Johansson", "Engineering", "Software Engineer", "Seattle"),
]
# key, given, surname, external mail, partner key (None: no cross-tenant partner)
_GUESTS = [
    ("ines.duarte", "Ines", "Duarte", "ines.duarte@fabrikam-audit.example", "fabrikam-audit"),
    (
        "sam.becker",
        "Sam",
        "Becker",
        "sam.becker@northwind-consulting.example",
        "northwind-consulting",
    ),
    ("yuki.tanaka", "Yuki", "Tanaka", "yuki.tanaka@adatum-design.example", None),
]
_DEPARTMENTS = ["IT", "Finance", "Sales", "HR", "Marketing", "Engineering"]


class _Demo:
    def __init__(self, tenant_id: str) -> None:
        self.t = tenant_id
        self.b = builtins()
        self.seed: Seed = {}

    def id(self, kind: str, name: str) -> str:
        return sid(self.t, kind, name)

    def role(self, name: str) -> str:
        return self.b.ROLE_TEMPLATES[name]

    def add(self, collection: str, obj: Obj) -> Obj:
        self.seed.setdefault(collection, []).append(obj)
        return obj

    # ---- directory -------------------------------------------------------------------------
    def users(self) -> None:
        t = self.t
        self.u: dict[str, Obj] = {}
        for i, n in enumerate(("01", "02")):
            self.u[f"bg{n}"] = self.add("users", make_user(
                t, f"bg-admin-{n}", given=None, surname=None, display=f"Break Glass Admin {n}",
                title="Emergency access account", created=ts(0, i)))  # fmt: skip
        for i, (key, given, surname, dept, title, office) in enumerate(_STAFF):
            self.u[key] = self.add("users", make_user(
                t, key, given=given, surname=surname, department=dept, title=title, office=office,
                created=ts(1 + i // 4, 10 * i)))  # fmt: skip
        self.u["svc-scanner"] = self.add("users", make_user(
            t, "svc-scanner", given=None, surname=None, display="Service - Scan to Email",
            title="Multifunction printer (SMTP)", office="Amsterdam", created=ts(12)))  # fmt: skip
        self.u["svc-hrsync"] = self.add("users", make_user(
            t, "svc-hrsync", given=None, surname=None, display="Service - HR Sync",
            title="HR system provisioning account", created=ts(12, 30)))  # fmt: skip
        for i, (key, given, surname, mail, _p) in enumerate(_GUESTS):
            self.u[key] = self.add("users", make_user(
                t, f"guest:{key}", given=given, surname=surname, user_type="Guest", external_mail=mail,
                created=ts(40 + 15 * i)))  # fmt: skip

    def uid(self, *keys: str) -> list[str]:
        return [self.u[k]["id"] for k in keys]

    def groups(self) -> None:
        t, u = self.t, self.uid
        staff = [s[0] for s in _STAFF]
        dept = {d: [s[0] for s in _STAFF if s[3] == d] for d in _DEPARTMENTS}
        self.g: dict[str, Obj] = {}

        def g(key: str, display: str, nickname: str, day: int, **kw: Any) -> Obj:
            self.g[key] = self.add(
                "groups", make_group(t, key, display, nickname=nickname, created=ts(day), **kw)
            )
            return self.g[key]

        owner = u("priya.raman")
        it_owners = u("priya.raman", "tomas.ortega")
        # Conditional Access scaffolding (j0eyv-style: one exclusion group per policy that needs one)
        g(
            "breakglass",
            "CA-BreakGlassAccounts - Exclude",
            "ca-breakglassaccounts-exclude",
            0,
            description="Emergency access accounts. Excluded from every Conditional Access policy.",
            members=u("bg01", "bg02"),
            owners=it_owners,
        )
        g(
            "serviceaccounts",
            "CA-ServiceAccounts",
            "ca-serviceaccounts",
            12,
            description="Non-interactive service accounts; targeted by the CA3xx policies.",
            members=u("svc-scanner", "svc-hrsync"),
            owners=it_owners,
        )
        g(
            "ca000-exclude",
            "CA000-Global-IdentityProtection-AnyApp-AnyPlatform-MFA - Exclude",
            "ca000-global-mfa-exclude",
            14,
            description="Temporary MFA exceptions (ticket required).",
            members=[],
            owners=it_owners,
        )
        g(
            "ca001-exclude",
            "CA001-Global-AttackSurfaceReduction-CountryWhitelist - Exclude",
            "ca001-global-countrywhitelist-exclude",
            14,
            description="Travellers allowed outside the allowed countries (time-boxed).",
            members=u("emma.lindqvist"),
            owners=it_owners,
        )
        g(
            "ca002-exclude",
            "CA002-Global-IdentityProtection-LegacyAuthentication - Exclude",
            "ca002-global-legacyauth-exclude",
            14,
            description="Devices that still need SMTP AUTH (scan to email).",
            members=u("svc-scanner"),
            owners=it_owners,
        )
        g(
            "ca200-exclude",
            "CA200-Internals-IdentityProtection-AnyApp-AnyPlatform-MFA - Exclude",
            "ca200-internals-mfa-exclude",
            14,
            members=[],
            owners=it_owners,
        )
        g(
            "ca205-exclude",
            "CA205-Internals-BaseProtection-Windows-Compliant - Exclude",
            "ca205-internals-windows-compliant-exclude",
            14,
            description="Lab and test devices that are not enrolled in Intune.",
            members=u("mia.johansson"),
            owners=it_owners,
        )
        g(
            "ca400-exclude",
            "CA400-GuestUsers-IdentityProtection-AnyApp-AnyPlatform-MFA - Exclude",
            "ca400-guests-mfa-exclude",
            14,
            members=[],
            owners=it_owners,
        )
        # role-assignable groups
        g(
            "finance-admins",
            "Finance Admins",
            "finance-admins",
            20,
            role_assignable=True,
            description="Finance administrators: billing, ExpenseHub administration, payment approvals.",
            members=u("olivia.chen", "marcus.reid"),
            owners=owner,
        )
        g(
            "role-ca-admins",
            "Role - Conditional Access Administrators",
            "role-ca-admins",
            20,
            role_assignable=True,
            description="Holds the Conditional Access Administrator role.",
            members=u("tomas.ortega", "hannah.schmidt"),
            owners=owner,
        )
        # dynamic groups
        g(
            "all-employees",
            "All Employees",
            "all-employees",
            2,
            rule='(user.userType -eq "Member") -and (user.accountEnabled -eq true) -and (user.department -ne null)',
            description="Every enabled employee with a department (dynamic).",
            owners=owner,
        )
        g(
            "all-guests",
            "All Guests",
            "all-guests",
            2,
            rule='(user.userType -eq "Guest")',
            description="Every guest account (dynamic).",
            owners=owner,
        )
        # departments
        for i, d in enumerate(_DEPARTMENTS):
            g(
                f"dept-{d.lower()}",
                f"Dept - {d}",
                f"dept-{d.lower()}",
                3 + i,
                description=f"{d} department (security group).",
                members=u(*dept[d]),
                owners=u(dept[d][0]),
            )
        # Microsoft 365 groups
        g(
            "m365-all-company",
            "All Company",
            "allcompany",
            1,
            unified=True,
            visibility="Public",
            team=True,
            description="Announcements and conversations for everyone at Contoso Demo.",
            members=u(*staff),
            owners=owner,
        )
        g(
            "m365-finance-team",
            "Finance Team",
            "financeteam",
            5,
            unified=True,
            team=True,
            description="Finance team workspace.",
            members=u(*dept["Finance"]),
            owners=u("olivia.chen"),
        )
        g(
            "m365-sales-team",
            "Sales Team",
            "salesteam",
            6,
            unified=True,
            team=True,
            description="Sales pipeline and customer collaboration.",
            members=u(*dept["Sales"]),
            owners=u("emma.lindqvist"),
        )
        g(
            "m365-it-operations",
            "IT Operations",
            "itoperations",
            4,
            unified=True,
            description="IT operations: changes, incidents, on-call.",
            members=u(*dept["IT"]),
            owners=owner,
        )
        g(
            "m365-project-aurora",
            "Project Aurora",
            "projectaurora",
            60,
            unified=True,
            description="Website relaunch with Northwind Consulting and Adatum Design.",
            members=u(
                "chloe.martin",
                "lucas.moreau",
                "ravi.patel",
                "mia.johansson",
                "sam.becker",
                "yuki.tanaka",
            ),
            owners=u("chloe.martin"),
        )
        # application access
        g(
            "app-expensehub-users",
            "APP - ExpenseHub Users",
            "app-expensehub-users",
            30,
            description="Can submit expenses in ExpenseHub.",
            members=u(*staff),
            owners=u("marcus.reid"),
        )
        g(
            "app-hrportal-editors",
            "APP - HR Portal Editors",
            "app-hrportal-editors",
            31,
            description="Can edit employee records in the HR Portal.",
            members=[self.g["dept-hr"]["id"], *u("priya.raman")],
            owners=u("grace.mwangi"),
        )
        g(
            "ext-fabrikam-auditors",
            "External - Fabrikam Auditors",
            "ext-fabrikam-auditors",
            45,
            description="External auditors (read-only access to ExpenseHub).",
            members=u("ines.duarte"),
            owners=u("olivia.chen"),
        )
        g(
            "sg-workstation-admins",
            "SG - Workstation Local Admins",
            "sg-workstation-admins",
            16,
            description="Local administrators on Intune-managed workstations.",
            members=u("tomas.ortega", "lena.fischer", "kwame.mensah"),
            owners=it_owners,
        )
        g(
            "lic-m365-e5",
            "LIC - Microsoft 365 E5",
            "lic-m365-e5",
            1,
            description="Group-based licensing: Microsoft 365 E5.",
            members=u(*staff),
            owners=owner,
        )
        # authentication methods rollout
        g(
            "authm-passkey-pilot",
            "AuthMethods - Passkey Pilot",
            "authmethods-passkey-pilot",
            50,
            description="Users enabled for FIDO2 security keys and passkeys.",
            members=u(*dept["IT"], "olivia.chen", "marcus.reid"),
            owners=it_owners,
        )
        g(
            "authm-tap-eligible",
            "AuthMethods - TAP Eligible",
            "authmethods-tap-eligible",
            50,
            description="Users who may receive a Temporary Access Pass for onboarding.",
            members=u("kwame.mensah", "mia.johansson", "noah.williams"),
            owners=it_owners,
        )

    def gid(self, *keys: str) -> list[str]:
        return [self.g[k]["id"] for k in keys]

    def admin_units(self) -> None:
        by_office = {o: [s[0] for s in _STAFF if s[5] == o] for o in ("Amsterdam", "Seattle")}
        self.au: dict[str, Obj] = {}
        for key, display, desc, members, restricted, hidden in (
            ("amsterdam", "Office - Amsterdam", "People and groups managed by the Amsterdam service desk.",
             self.uid(*by_office["Amsterdam"]), False, False),
            ("seattle", "Office - Seattle", "People and groups managed by the Seattle service desk.",
             self.uid(*by_office["Seattle"]), False, False),
            ("finance-restricted", "Finance - Restricted",
             "Finance leadership and Finance Admins: only Privileged Role Administrators can manage them.",
             self.uid("olivia.chen", "marcus.reid") + self.gid("finance-admins"), True, True),
        ):  # fmt: skip
            self.au[key] = self.add("administrativeUnits", {
                "id": self.id("administrativeUnit", key),
                "deletedDateTime": None,
                "displayName": display,
                "description": desc,
                "isMemberManagementRestricted": restricted,
                "membershipRule": None,
                "membershipRuleProcessingState": None,
                "membershipType": None,
                "visibility": "HiddenMembership" if hidden else None,
                "members": sorted(members),
            })  # fmt: skip

    # ---- apps --------------------------------------------------------------------------------
    def apps(self) -> None:
        t = self.t
        self.app: dict[str, Obj] = {}
        self.sp: dict[str, Obj] = {}
        self.roles: dict[str, str] = {}

        def r(key: str) -> str:
            self.roles[key] = self.id("appRole", key)
            return self.roles[key]

        def scope(
            key: str, value: str, admin_name: str, admin_desc: str, user_name: str, user_desc: str
        ) -> Obj:
            self.roles[key] = self.id("oauth2PermissionScope", key)
            return {"adminConsentDescription": admin_desc, "adminConsentDisplayName": admin_name,
                    "id": self.roles[key], "isEnabled": True, "type": "User",
                    "userConsentDescription": user_desc, "userConsentDisplayName": user_name, "value": value}  # fmt: skip

        finance_api = make_application(
            t, "finance-api", "Contoso Finance API", created=ts(25),
            description="Ledger and payments API used by ExpenseHub and finance tooling.",
            identifier_uris=[f"api://finance-api.{WEB_DOMAIN}"],
            scopes=[scope("finance-api/Ledger.Read", "Ledger.Read", "Read the ledger",
                          "Allows the app to read ledger entries on behalf of the signed-in user.",
                          "Read your ledger entries", "Allows the app to read ledger entries you can see.")],
            app_roles=[
                app_role(r("finance-api/Ledger.Read.All"), "Ledger.Read.All", "Read all ledger entries",
                         "Daemon apps can read every ledger entry.", ("Application",)),
                app_role(r("finance-api/Payments.Approve"), "Payments.Approve", "Approve payments",
                         "Can approve outgoing payments.", ("User", "Application")),
            ],
            graph_scopes=("User.Read",), owners=self.uid("marcus.reid", "lena.fischer"),
            secrets=[("Build pipeline 2025", 300, 365)], tags=["finance", "api"])  # fmt: skip
        expensehub = make_application(
            t, "expensehub", "ExpenseHub", created=ts(26),
            description="Expense claims, approvals and reimbursements.",
            identifier_uris=[f"api://expensehub.{WEB_DOMAIN}"],
            web_redirects=[f"https://expenses.{WEB_DOMAIN}/signin-oidc"], home_page=f"https://expenses.{WEB_DOMAIN}/",
            app_roles=[
                app_role(r("expensehub/Expense.Submit"), "Expense.Submit", "Submit expenses", "Can submit expense claims."),
                app_role(r("expensehub/Expense.Approve"), "Expense.Approve", "Approve expenses", "Can approve expense claims."),
                app_role(r("expensehub/Expense.Audit"), "Expense.Audit", "Audit expenses", "Read-only access to all claims for auditors."),
                app_role(r("expensehub/Finance.Admin"), "Finance.Admin", "Finance administrator",
                         "Full administration of ExpenseHub: policies, cost centres, payouts."),
            ],
            graph_scopes=("openid", "profile", "email", "offline_access", "User.Read"),
            extra_access=[{"resourceAppId": finance_api["appId"], "resourceAccess": [
                {"id": self.roles["finance-api/Ledger.Read"], "type": "Scope"},
                {"id": self.roles["finance-api/Ledger.Read.All"], "type": "Role"}]}],
            owners=self.uid("marcus.reid", "lena.fischer"), group_claims="SecurityGroup",
            secrets=[("Production web app", 200, 730)], tags=["finance"])  # fmt: skip
        finance_api["api"]["preAuthorizedApplications"] = [
            {
                "appId": expensehub["appId"],
                "delegatedPermissionIds": [self.roles["finance-api/Ledger.Read"]],
            }
        ]
        hr_portal = make_application(
            t, "hr-portal", "HR Portal", created=ts(27),
            description="Employee records, leave and onboarding.",
            identifier_uris=[f"api://hr-portal.{WEB_DOMAIN}"],
            web_redirects=[f"https://hr.{WEB_DOMAIN}/auth/callback"], home_page=f"https://hr.{WEB_DOMAIN}/",
            app_roles=[
                app_role(r("hr-portal/HR.Viewer"), "HR.Viewer", "Viewer", "Can view their own record and the org chart."),
                app_role(r("hr-portal/HR.Editor"), "HR.Editor", "Editor", "Can edit employee records."),
            ],
            graph_scopes=("openid", "profile", "User.Read", "User.ReadBasic.All"), graph_roles=("User.Read.All",),
            owners=self.uid("grace.mwangi", "lena.fischer"),
            certificates=[("CN=hr-portal.contosodemo.example", 150, 365)], tags=["hr"])  # fmt: skip
        sales = make_application(
            t, "sales-dashboard", "Sales Dashboard", created=ts(28),
            description="Single-page pipeline dashboard for the sales team.",
            spa_redirects=[f"https://sales.{WEB_DOMAIN}/", "http://localhost:5173/"],
            graph_scopes=("openid", "profile", "offline_access", "User.Read", "User.ReadBasic.All"),
            owners=self.uid("emma.lindqvist", "ravi.patel"), tags=["sales"])  # fmt: skip
        automation = make_application(
            t, "entragit-automation", "entragit-automation", created=ts(90),
            description="entragit plan/apply pipeline: reads and writes Entra configuration from git.",
            graph_roles=AUTOMATION_PERMISSIONS, owners=self.uid("tomas.ortega", "priya.raman"),
            certificates=[("CN=entragit-automation", 90, 365)], secrets=[("ci pipeline", 90, 180)],
            notes="Owned by Identity Engineering. Rotate credentials every 180 days.")  # fmt: skip
        # The pipeline signs in from GitHub Actions with no secret: workload identity federation
        # (https://learn.microsoft.com/graph/api/resources/federatedidentitycredential).
        automation["federatedIdentityCredentials"] = [{
            "id": sid(t, "federatedIdentityCredential", "github-main"), "name": "github-main",
            "issuer": "https://token.actions.githubusercontent.com",
            "subject": "repo:contosodemo/entra-config:ref:refs/heads/main",
            "description": "entragit apply from the main branch", "audiences": ["api://AzureADTokenExchange"]}]
        reader = make_application(
            t, "entragit-reader", "entragit-reader", created=ts(90, 5),
            description="entragit nightly export: read-only.",
            graph_roles=READER_PERMISSIONS, owners=self.uid("tomas.ortega"),
            secrets=[("nightly export", 90, 365)])  # fmt: skip

        for key, app, required, owners in (
            ("finance-api", finance_api, True, []),
            ("expensehub", expensehub, True, self.uid("marcus.reid")),
            ("hr-portal", hr_portal, True, []),
            ("sales-dashboard", sales, False, []),
            ("entragit-automation", automation, False, self.uid("tomas.ortega")),
            ("entragit-reader", reader, False, self.uid("tomas.ortega")),
        ):
            self.app[key] = self.add("applications", app)
            self.sp[key] = self.add("servicePrincipals", service_principal_for(
                t, app, key=key, assignment_required=required, owners=owners))  # fmt: skip
        for i, (app_id, display) in enumerate(FIRST_PARTY_APPS.items()):
            self.sp[app_id] = self.add(
                "servicePrincipals", first_party_sp(t, app_id, display, created=ts(0, 5 + i))
            )

    def app_role_assignments(self) -> None:
        t, b = self.t, self.b
        graph_sp = {"id": b.graph_sp_id(t), "displayName": "Microsoft Graph"}
        rows: list[tuple[Obj, str, Obj, str, int]] = [
            (self.g["app-expensehub-users"], "Group", self.sp["expensehub"], self.roles["expensehub/Expense.Submit"], 32),
            (self.g["dept-finance"], "Group", self.sp["expensehub"], self.roles["expensehub/Expense.Approve"], 32),
            (self.g["finance-admins"], "Group", self.sp["expensehub"], self.roles["expensehub/Finance.Admin"], 32),
            (self.g["ext-fabrikam-auditors"], "Group", self.sp["expensehub"], self.roles["expensehub/Expense.Audit"], 46),
            (self.u["marcus.reid"], "User", self.sp["finance-api"], self.roles["finance-api/Payments.Approve"], 33),
            (self.sp["expensehub"], "ServicePrincipal", self.sp["finance-api"], self.roles["finance-api/Ledger.Read.All"], 33),
            (self.g["all-employees"], "Group", self.sp["hr-portal"], self.roles["hr-portal/HR.Viewer"], 34),
            (self.g["app-hrportal-editors"], "Group", self.sp["hr-portal"], self.roles["hr-portal/HR.Editor"], 34),
            (self.g["m365-sales-team"], "Group", self.sp["sales-dashboard"], DEFAULT_ACCESS_ROLE_ID, 35),
            (self.u["ravi.patel"], "User", self.sp["sales-dashboard"], DEFAULT_ACCESS_ROLE_ID, 35),
            (self.sp["hr-portal"], "ServicePrincipal", graph_sp, b.GRAPH_PERMISSIONS["User.Read.All"], 34),
        ]  # fmt: skip
        for key, perms, day in (("entragit-automation", AUTOMATION_PERMISSIONS, 91),
                                ("entragit-reader", READER_PERMISSIONS, 91)):  # fmt: skip
            rows += [(self.sp[key], "ServicePrincipal", graph_sp, b.GRAPH_PERMISSIONS[p], day)
                     for p in perms if p in b.GRAPH_PERMISSIONS]  # fmt: skip
        for i, (principal, ptype, resource, role_id, day) in enumerate(rows):
            self.add(
                "appRoleAssignments",
                make_app_role_assignment(
                    t, principal, ptype, resource, role_id, created=ts(day, i)
                ),
            )

    def grants(self) -> None:
        graph = self.b.graph_sp_id(self.t)
        sp = self.sp
        for client, resource, scopes, principal in (
            (sp["expensehub"], graph, ["openid", "profile", "email", "offline_access", "User.Read"], None),
            (sp["expensehub"], sp["finance-api"]["id"], ["Ledger.Read"], None),
            (sp["hr-portal"], graph, ["openid", "profile", "User.Read", "User.ReadBasic.All"], None),
            (sp["finance-api"], graph, ["User.Read"], None),
            (sp["sales-dashboard"], graph, ["openid", "profile", "offline_access", "User.Read", "User.ReadBasic.All"],
             self.u["emma.lindqvist"]["id"]),
            (sp["sales-dashboard"], graph, ["openid", "profile", "User.Read"], self.u["jacob.turner"]["id"]),
        ):  # fmt: skip
            self.add(
                "oauth2PermissionGrants", make_grant(client["id"], resource, scopes, principal)
            )

    # ---- roles ---------------------------------------------------------------------------------
    def roles_and_assignments(self) -> None:
        custom = {}
        for key, display, desc, actions in (
            ("app-registration-reader", "Contoso Application Registration Reader",
             "Read every app registration, including owners and credentials metadata.",
             ["microsoft.directory/applications/allProperties/read"]),
            ("app-credential-rotator", "Contoso App Credential Rotator",
             "Rotate certificates and secrets of the app registrations in scope; nothing else.",
             ["microsoft.directory/applications/credentials/update",
              "microsoft.directory/applications/basic/read", "microsoft.directory/applications/owners/read"]),
        ):  # fmt: skip
            rid = self.id("roleDefinition", key)
            custom[key] = self.add("roleDefinitions", {
                "id": rid,
                "description": desc,
                "displayName": display,
                "isBuiltIn": False,
                "isEnabled": True,
                "resourceScopes": ["/"],
                "templateId": rid,
                "version": None,
                "rolePermissions": [{"allowedResourceActions": actions, "condition": None}],
                "inheritsPermissionsFrom": [],
            })  # fmt: skip
        role, u, g = self.role, self.u, self.g
        for role_id, principal, scope in (
            (role("Global Administrator"), u["bg01"]["id"], "/"),
            (role("Global Administrator"), u["bg02"]["id"], "/"),
            (role("Privileged Role Administrator"), u["priya.raman"]["id"], "/"),
            (role("Conditional Access Administrator"), g["role-ca-admins"]["id"], "/"),
            (role("Security Administrator"), u["hannah.schmidt"]["id"], "/"),
            (role("Application Administrator"), u["tomas.ortega"]["id"], "/"),
            (role("Exchange Administrator"), u["lena.fischer"]["id"], "/"),
            (role("Billing Administrator"), g["finance-admins"]["id"], "/"),
            (role("Helpdesk Administrator"), u["kwame.mensah"]["id"], f"/administrativeUnits/{self.au['amsterdam']['id']}"),
            (role("User Administrator"), u["lena.fischer"]["id"], f"/administrativeUnits/{self.au['seattle']['id']}"),
            (custom["app-registration-reader"]["id"], u["ravi.patel"]["id"], "/"),
            (custom["app-credential-rotator"]["id"], u["marcus.reid"]["id"], f"/{self.app['expensehub']['id']}"),
        ):  # fmt: skip
            self.add("roleAssignments", make_role_assignment(role_id, principal, scope))
        # PIM: the service desk lead may activate Security Administrator when an incident needs it.
        eid = self.id("roleEligibilitySchedule", "kwame.mensah/security-administrator")
        self.add("roleEligibilitySchedules", {
            "id": eid, "principalId": u["kwame.mensah"]["id"], "roleDefinitionId": role("Security Administrator"),
            "directoryScopeId": "/", "appScopeId": None, "createdUsing": eid, "createdDateTime": ts(40),
            "modifiedDateTime": "0001-01-01T08:00:00Z", "status": "Provisioned", "memberType": "Direct",
            "scheduleInfo": {"startDateTime": ts(40), "recurrence": None,
                             "expiration": {"type": "noExpiration", "endDateTime": None, "duration": None}},
        })  # fmt: skip
        # PIM for Groups: the service desk lead may also activate membership of Finance Admins (which holds
        # Billing Administrator) for an end-of-quarter close. Shaped as hooks.GroupPimRequest makes them.
        gid, rid = g["finance-admins"]["id"], self.id("groupEligibilityScheduleRequest", "kwame.mensah/finance-admins")
        self.add("groupEligibilitySchedules", {
            "id": f"{gid}_member_{rid}", "groupId": gid, "principalId": u["kwame.mensah"]["id"], "accessId": "member",
            "createdUsing": rid, "createdDateTime": ts(41), "modifiedDateTime": None, "status": "Provisioned",
            "memberType": "direct",
            "scheduleInfo": {"startDateTime": ts(41), "recurrence": None,
                             "expiration": {"type": "noExpiration", "endDateTime": None, "duration": None}},
        })  # fmt: skip
        # Entitlement management: Entra's default catalog, and Finance's catalog with the access package
        # new finance staff request for month-end close.
        self.add("accessPackageCatalogs", {
            "id": self.id("accessPackageCatalog", "general"), "displayName": "General",
            "description": "Built-in catalog.", "catalogType": "serviceDefault", "state": "published",
            "isExternallyVisible": True, "createdDateTime": ts(0), "modifiedDateTime": ts(0)})
        finance = self.add("accessPackageCatalogs", {
            "id": self.id("accessPackageCatalog", "finance"), "displayName": "Finance",
            "description": "Access for the finance department.", "catalogType": "userManaged",
            "state": "published", "isExternallyVisible": False, "createdDateTime": ts(42),
            "modifiedDateTime": ts(42)})
        self.add("accessPackages", {
            "id": self.id("accessPackage", "month-end-close"), "displayName": "Finance month-end close",
            "description": "ExpenseHub approver access for the close week.", "isHidden": False,
            "catalog": {"id": finance["id"]}, "createdDateTime": ts(43), "modifiedDateTime": ts(43)})
        # Finance admins may request it; Olivia approves.
        self.add("accessPackageAssignmentPolicies", {
            "id": self.id("accessPackageAssignmentPolicy", "month-end-close"), "displayName": "Finance admins",
            "description": "Finance admins request close-week access; the controller approves.",
            "allowedTargetScope": "specificDirectoryUsers",
            "specificAllowedTargets": [{"@odata.type": "#microsoft.graph.groupMembers",
                                        "groupId": g["finance-admins"]["id"], "description": "Finance admins"}],
            "automaticRequestSettings": None,
            "expiration": {"type": "afterDuration", "endDateTime": None, "duration": "P14D"},
            "requestorSettings": {
                "enableTargetsToSelfAddAccess": True, "enableTargetsToSelfUpdateAccess": False,
                "enableTargetsToSelfRemoveAccess": True, "allowCustomAssignmentSchedule": False,
                "enableOnBehalfRequestorsToAddAccess": False, "enableOnBehalfRequestorsToUpdateAccess": False,
                "enableOnBehalfRequestorsToRemoveAccess": False, "onBehalfRequestors": []},
            "requestApprovalSettings": {
                "isApprovalRequiredForAdd": True, "isApprovalRequiredForUpdate": False,
                "isRequestorJustificationRequired": True,
                "stages": [{"durationBeforeAutomaticDenial": "P2D", "isApproverJustificationRequired": False,
                            "isEscalationEnabled": False, "durationBeforeEscalation": "PT0S",
                            "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser",
                                                  "userId": u["olivia.chen"]["id"], "description": "Controller"}],
                            "fallbackPrimaryApprovers": [], "escalationApprovers": [],
                            "fallbackEscalationApprovers": []}]},
            "reviewSettings": None,
            "accessPackage": {"id": self.id("accessPackage", "month-end-close")},
            "createdDateTime": ts(43), "modifiedDateTime": ts(43)})
        # Access reviews: the CFO reviews Finance Admins' members every quarter (the group holds a
        # privileged role); its definition names both by id inside query strings.
        self.add("accessReviewDefinitions", {
            "id": self.id("accessReviewScheduleDefinition", "finance-admins-quarterly"),
            "displayName": "Finance Admins quarterly review", "status": "InProgress",
            "descriptionForAdmins": "Quarterly review of who holds Billing Administrator through Finance Admins.",
            "descriptionForReviewers": "Keep only people who still close the books.",
            "createdBy": {"id": u["olivia.chen"]["id"], "displayName": "Olivia Chen"},
            "createdDateTime": ts(44), "lastModifiedDateTime": ts(44),
            "scope": {"@odata.type": "#microsoft.graph.accessReviewQueryScope",
                      "query": f"/groups/{gid}/transitiveMembers", "queryType": "MicrosoftGraph", "queryRoot": None},
            "instanceEnumerationScope": None,
            "reviewers": [{"query": f"/users/{u['olivia.chen']['id']}", "queryType": "MicrosoftGraph", "queryRoot": None}],
            "fallbackReviewers": [], "stageSettings": [], "additionalNotificationRecipients": [],
            "settings": {"mailNotificationsEnabled": True, "reminderNotificationsEnabled": True,
                         "justificationRequiredOnApproval": True, "defaultDecisionEnabled": False,
                         "defaultDecision": "None", "instanceDurationInDays": 14, "autoApplyDecisionsEnabled": False,
                         "recommendationsEnabled": True,
                         "recurrence": {"pattern": {"type": "absoluteMonthly", "interval": 3, "dayOfMonth": 1},
                                        "range": {"type": "noEnd", "startDate": "2026-01-01"}}},
        })  # fmt: skip
        # PIM settings: Graph keeps one policy per role; the demo lists those of the built-in roles it
        # assigns or makes eligible, plus Global Administrator, with Graph's default rules.
        used = {a["roleDefinitionId"] for a in self.seed["roleAssignments"] + self.seed["roleEligibilitySchedules"]}
        names = {v: k for k, v in self.b.ROLE_TEMPLATES.items()}
        for template in sorted(used | {role("Global Administrator")}):
            if template not in names:
                continue  # custom roles: the demo leaves their policies out
            pol = self.add("roleManagementPolicies",
                           pimpolicy.policy(self.t, self.id("roleManagementPolicy", names[template])))
            self.add("roleManagementPolicyAssignments", pimpolicy.assignment(pol, template))

    # ---- conditional access --------------------------------------------------------------------
    def locations_strengths_contexts(self) -> None:
        t = self.t
        self.loc = {
            "hq": ip_location(t, "Contoso HQ - Amsterdam", ["203.0.113.0/24", "2001:db8:1000::/48"], trusted=True, created=ts(8)),
            "seattle": ip_location(t, "Contoso Office - Seattle", ["198.51.100.0/25", "2001:db8:2000::/48"], trusted=True, created=ts(8, 5)),
            "vpn": ip_location(t, "Azure VPN Gateway (egress)", ["192.0.2.16/28"], trusted=True, created=ts(8, 10)),
            "allowed": country_location(t, "Allowed Countries", ["NL", "BE", "DE", "FR", "GB", "IE", "US", "CA"], created=ts(9)),
            "allowed-svc": country_location(t, "Allowed Countries - Service Accounts", ["NL"], created=ts(9, 5)),
            "blocked": country_location(t, "Blocked Countries", ["KP", "IR", "SY", "CU"], created=ts(9, 10), unknown=True),
        }  # fmt: skip
        for loc in self.loc.values():
            self.add("namedLocations", loc)
        self.strength = {
            "fido2": self.add("authenticationStrengthPolicies", {
                "id": self.id("authenticationStrengthPolicy", "fido2-approved-keys"),
                "createdDateTime": ts(52),
                "modifiedDateTime": ts(52),
                "displayName": "Contoso Phishing-resistant (approved keys)",
                "description": "Windows Hello for Business or a FIDO2 key from the approved vendor list.",
                "policyType": "custom",
                "requirementsSatisfied": "mfa",
                "allowedCombinations": ["windowsHelloForBusiness", "fido2"],
                "combinationConfigurations": [{
                    "@odata.type": "#microsoft.graph.fido2CombinationConfiguration",
                    "id": self.id("authenticationCombinationConfiguration", "fido2-approved-keys/fido2"),
                    "appliesToCombinations": ["fido2"],
                    "allowedAAGUIDs": ["cb69481e-8ff7-4039-93ec-0a2729a154a8", "ee882879-721c-4913-9775-3dfcce97072a"],
                }],
            }),
            "mfa-no-sms": self.add("authenticationStrengthPolicies", {
                "id": self.id("authenticationStrengthPolicy", "mfa-no-telephony"),
                "createdDateTime": ts(53),
                "modifiedDateTime": ts(70),
                "displayName": "Contoso MFA (no SMS or voice)",
                "description": "Any multifactor method except SMS and voice calls.",
                "policyType": "custom",
                "requirementsSatisfied": "mfa",
                "allowedCombinations": [
                    "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush",
                    "temporaryAccessPassOneTime", "password,microsoftAuthenticatorPush", "password,softwareOath",
                    "password,hardwareOath"],
                "combinationConfigurations": [],
            }),
        }  # fmt: skip
        for cid, display, desc in (
            ("c1", "Finance - sensitive data", "Step-up for payment approvals and ledger exports."),
            ("c2", "Privileged actions", "Step-up before privileged operations in admin tools."),
        ):
            self.add("authenticationContextClassReferences",
                     {"id": cid, "displayName": display, "description": desc, "isAvailable": True})  # fmt: skip

    def app_policies(self) -> None:
        _app_policies(self)

    def terms_of_use(self) -> None:
        # Guests accept these before they reach any app (CA400 requires them).
        self.tou = self.add("termsOfUseAgreements", {
            "id": self.id("agreement", "guest-terms"), "displayName": "Contoso Guest Terms of Use",
            "isViewingBeforeAcceptanceRequired": True, "isPerDeviceAcceptanceRequired": False,
            "termsExpiration": None, "userReacceptRequiredFrequency": "P365D",
            "files": [{
                "id": self.id("agreementFile", "guest-terms-en"), "createdDateTime": ts(90),
                "fileName": "contoso-guest-terms.pdf", "displayName": "Contoso Guest Terms of Use",
                "language": "en-US", "isDefault": True, "isMajorVersion": False,
                "fileData": {"data": base64.b64encode(b"%PDF-1.4 Contoso guest terms of use").decode()},
            }],
        })

    def conditional_access(self) -> None:
        t, g, u, loc, sp = self.t, self.gid, self.uid, self.loc, self.sp
        bg = self.g["breakglass"]["id"]
        fa = self.g["finance-admins"]["id"]
        admin_roles = tuple(
            self.b.ROLE_TEMPLATES[n] for n in ADMIN_ROLES if n in self.b.ROLE_TEMPLATES
        )
        phish = builtin_strength(t, PHISHING_RESISTANT_STRENGTH_ID)
        app = {k: self.app[k]["appId"] for k in self.app}
        employees = g("all-employees")
        partners = [self.id("partnerTenant", p) for p in ("fabrikam-audit", "northwind-consulting")]
        unmanaged = ("exclude", 'device.isCompliant -eq True -or device.trustType -eq "ServerAD"')
        day = iter(range(100, 1000))

        def ca(name: str, **kw: Any) -> None:
            d = next(day)
            created = ts(d if d < 140 else d - 30)
            modified = ts(d + 21, 17) if d % 3 else created
            self.add(
                "conditionalAccessPolicies",
                ca_policy(t, name, created=created, modified=modified, break_glass_group=bg, **kw),
            )

        # --- CA0xx global ---------------------------------------------------------------------
        ca(
            "CA000-Global-IdentityProtection-AnyApp-AnyPlatform-MFA",
            include_users=("All",),
            exclude_groups=g("ca000-exclude", "serviceaccounts"),
            exclude_roles=tuple(
                self.b.ROLE_TEMPLATES.get(n)
                for n in ("Directory Synchronization Accounts",)
                if n in self.b.ROLE_TEMPLATES
            ),
            grant=("mfa",),
        )
        ca(
            "CA001-Global-AttackSurfaceReduction-AnyApp-AnyPlatform-BLOCK-CountryWhitelist",
            include_users=("All",),
            exclude_groups=g("ca001-exclude", "serviceaccounts"),
            locations=(("All",), (loc["allowed"]["id"],)),
            grant=("block",),
        )
        ca(
            "CA002-Global-IdentityProtection-AnyApp-AnyPlatform-BLOCK-LegacyAuthentication",
            include_users=("All",),
            exclude_groups=g("ca002-exclude"),
            client_app_types=("exchangeActiveSync", "other"),
            grant=("block",),
        )
        ca(
            "CA003-Global-BaseProtection-RegisterOrJoin-AnyPlatform-MFA",
            include_users=("All",),
            user_actions=("urn:user:registerdevice",),
            grant=("mfa",),
        )
        ca(
            "CA004-Global-IdentityProtection-AnyApp-AnyPlatform-BLOCK-AuthenticationFlows",
            include_users=("All",),
            auth_flows="deviceCodeFlow,authenticationTransfer",
            grant=("block",),
        )
        ca(
            "CA005-Global-AttackSurfaceReduction-AnyApp-AnyPlatform-BLOCK-HighRiskCountries",
            include_users=("All",),
            locations=((loc["blocked"]["id"],), ()),
            grant=("block",),
        )
        ca(
            "CA006-Global-BaseProtection-RegisterSecurityInfo-AnyPlatform-MFA-UntrustedLocations",
            include_users=("All",),
            exclude_groups=g("authm-tap-eligible"),
            user_actions=("urn:user:registersecurityinfo",),
            locations=(("All",), ("AllTrusted",)),
            grant=("mfa",),
            state="enabledForReportingButNotEnforced",
        )
        # --- CA1xx admins ---------------------------------------------------------------------
        bg_users = u("bg01", "bg02")
        ca(
            "CA100-Admins-IdentityProtection-AdminPortals-AnyPlatform-MFA",
            include_roles=admin_roles,
            exclude_users=bg_users,
            include_apps=("MicrosoftAdminPortals", AZURE_MANAGEMENT_APP_ID),
            grant=("mfa",),
        )
        ca(
            "CA101-Admins-IdentityProtection-AnyApp-AnyPlatform-PhishingResistantMFA",
            include_roles=admin_roles,
            include_groups=(fa, *g("role-ca-admins")),
            exclude_users=bg_users,
            strength=phish,
        )
        ca(
            "CA102-Admins-IdentityProtection-AllApps-AnyPlatform-SigninFrequency",
            include_roles=admin_roles,
            include_groups=(fa,),
            exclude_users=bg_users,
            session=sign_in_frequency(4, "hours"),
        )
        ca(
            "CA103-Admins-IdentityProtection-AllApps-AnyPlatform-PersistentBrowser",
            include_roles=admin_roles,
            include_groups=(fa,),
            exclude_users=bg_users,
            client_app_types=("browser",),
            session={"persistentBrowser": {"mode": "never", "isEnabled": True}},
        )
        ca(
            "CA104-Admins-AttackSurfaceReduction-AllApps-AnyPlatform-BLOCK-UntrustedLocations",
            include_roles=admin_roles,
            include_groups=(fa,),
            exclude_users=bg_users,
            locations=(("All",), ("AllTrusted",)),
            grant=("block",),
            state="enabledForReportingButNotEnforced",
        )
        ca(
            "CA105-Admins-IdentityProtection-AnyApp-AnyPlatform-BLOCK-SigninRisk",
            include_roles=admin_roles,
            exclude_users=bg_users,
            sign_in_risk=("low", "medium", "high"),
            grant=("block",),
        )
        ca(
            "CA106-Admins-BaseProtection-AnyApp-AnyPlatform-CompliantDevice",
            include_roles=admin_roles,
            include_groups=(fa,),
            exclude_users=bg_users,
            grant=("compliantDevice",),
            state="enabledForReportingButNotEnforced",
        )
        ca(
            "CA107-Admins-IdentityProtection-PrivilegedActions-AnyPlatform-AuthContextC2",
            include_roles=admin_roles,
            exclude_users=bg_users,
            auth_contexts=("c2",),
            strength=phish,
            session=sign_in_frequency(None, None, every_time=True),
        )
        # --- CA2xx internals --------------------------------------------------------------------
        ca(
            "CA200-Internals-IdentityProtection-AnyApp-AnyPlatform-MFA",
            include_groups=employees,
            exclude_groups=g("ca200-exclude"),
            strength=self.strength["mfa-no-sms"],
        )
        ca(
            "CA201-Internals-IdentityProtection-AnyApp-AnyPlatform-BLOCK-HighRiskUser",
            include_groups=employees,
            user_risk=("high",),
            grant=("block",),
        )
        ca(
            "CA202-Internals-IdentityProtection-AnyApp-AnyPlatform-PasswordChange-HighRiskUser",
            include_groups=employees,
            user_risk=("high",),
            grant=("mfa", "passwordChange"),
            operator="AND",
            session=sign_in_frequency(None, None, every_time=True),
            state="disabled",
        )

        ca(
            "CA204-Internals-AttackSurfaceReduction-AllApps-AnyPlatform-BLOCK-UnknownPlatforms",
            include_groups=employees,
            platforms=(("all",), ("android", "iOS", "windows", "macOS", "linux")),
            grant=("block",),
            state="enabledForReportingButNotEnforced",
        )
        ca(
            "CA205-Internals-BaseProtection-AnyApp-Windows-CompliantOrHybridJoined",
            include_groups=employees,
            exclude_groups=g("ca205-exclude"),
            exclude_apps=(INTUNE_ENROLLMENT_APP_ID,),
            platforms=(("windows",), ()),
            grant=("compliantDevice", "domainJoinedDevice"),
        )
        ca(
            "CA206-Internals-BaseProtection-AnyApp-macOS-Compliant",
            include_groups=employees,
            exclude_apps=(INTUNE_ENROLLMENT_APP_ID,),
            platforms=(("macOS",), ()),
            grant=("compliantDevice",),
        )
        ca(
            "CA207-Internals-DataProtection-Office365-iOSAndroid-AppProtection",
            include_groups=employees,
            include_apps=("Office365",),
            platforms=(("android", "iOS"), ()),
            grant=("compliantApplication",),
            state="enabledForReportingButNotEnforced",
        )
        ca(
            "CA208-Internals-IdentityProtection-AllApps-WindowsMacOS-SigninFrequency-UnmanagedDevices",
            include_groups=employees,
            platforms=(("windows", "macOS"), ()),
            device_filter=unmanaged,
            session=sign_in_frequency(12, "hours"),
        )

        ca(
            "CA210-Internals-DataProtection-ExchangeSharePoint-AnyPlatform-Browser-Unmanaged-AppEnforcedRestrictions",
            include_groups=g("lic-m365-e5"),
            include_apps=(EXCHANGE_ONLINE_APP_ID, SHAREPOINT_ONLINE_APP_ID),
            client_app_types=("browser",),
            device_filter=unmanaged,
            session={"applicationEnforcedRestrictions": {"isEnabled": True}},
        )
        ca(
            "CA211-Internals-AttackSurfaceReduction-SalesDashboard-AnyPlatform-BLOCK-NonSales",
            include_groups=employees,
            exclude_groups=g("dept-sales", "dept-it"),
            include_apps=(app["sales-dashboard"],),
            grant=("block",),
        )
        # --- CA3xx service accounts ---------------------------------------------------------------
        ca(
            "CA300-ServiceAccounts-AttackSurfaceReduction-AllApps-AnyPlatform-BLOCK-UntrustedLocations",
            include_groups=g("serviceaccounts"),
            locations=(("All",), (loc["allowed-svc"]["id"], loc["hq"]["id"])),
            grant=("block",),
        )
        # --- CA4xx guests -------------------------------------------------------------------------
        ca(
            "CA400-GuestUsers-IdentityProtection-AnyApp-AnyPlatform-MFA",
            include_guests=all_guests(),
            exclude_groups=g("ca400-exclude"),
            grant=("mfa",),
            operator="AND",
            terms_of_use=(self.tou["id"],),
        )
        ca(
            "CA401-GuestUsers-AttackSurfaceReduction-AllApps-AnyPlatform-BLOCK-NonGuestAppAccess",
            include_guests=all_guests(),
            exclude_apps=("Office365", app["expensehub"]),
            grant=("block",),
        )
        ca(
            "CA402-GuestUsers-IdentityProtection-AllApps-AnyPlatform-SigninFrequency",
            include_groups=g("all-guests"),
            session=sign_in_frequency(1, "days"),
        )
        ca(
            "CA403-PartnerGuests-AttackSurfaceReduction-FinanceApps-AnyPlatform-BLOCK",
            include_guests=enumerated_guests(partners),
            exclude_groups=g("ext-fabrikam-auditors"),
            include_apps=(app["expensehub"], app["finance-api"]),
            grant=("block",),
        )
        # --- CA5xx workload identities --------------------------------------------------------------
        ca(
            "CA500-WorkloadIdentities-AttackSurfaceReduction-AnyApp-BLOCK-UntrustedLocations",
            include_users=("None",),
            client_sps=((sp["entragit-automation"]["id"], sp["entragit-reader"]["id"]), ()),
            locations=(("All",), ("AllTrusted",)),
            grant=("block",),
            state="enabledForReportingButNotEnforced",
        )
        ca(
            "CA501-WorkloadIdentities-IdentityProtection-AnyApp-BLOCK-HighRisk",
            include_users=("None",),
            client_sps=(("ServicePrincipalsInMyTenant",), (sp["hr-portal"]["id"],)),
            sp_risk=("high",),
            grant=("block",),
            state="disabled",
        )
        # --- CA6xx finance (Finance Admins: 12 references with CA101-104, CA106) -----------------
        fin = (*g("dept-finance"), fa)
        fin_apps = (app["expensehub"], app["finance-api"])
        ca(
            "CA600-Finance-IdentityProtection-FinanceApps-AnyPlatform-PhishingResistantMFA",
            include_groups=(fa,),
            include_apps=fin_apps,
            strength=self.strength["fido2"],
        )
        ca(
            "CA601-Finance-BaseProtection-FinanceApps-AnyPlatform-CompliantDevice",
            include_groups=fin,
            include_apps=fin_apps,
            grant=("compliantDevice", "domainJoinedDevice"),
        )
        ca(
            "CA602-Finance-AttackSurfaceReduction-FinanceApps-AnyPlatform-BLOCK-UntrustedLocations",
            include_groups=fin,
            include_apps=fin_apps,
            locations=(("All",), ("AllTrusted",)),
            grant=("block",),
        )
        ca(
            "CA603-Finance-IdentityProtection-AllApps-AnyPlatform-SigninFrequency",
            include_groups=(fa,),
            session=sign_in_frequency(1, "hours"),
        )
        ca(
            "CA604-Finance-DataProtection-SensitiveData-AnyPlatform-AuthContextC1",
            include_groups=fin,
            auth_contexts=("c1",),
            strength=phish,
        )
        ca(
            "CA605-Finance-DataProtection-ExchangeSharePoint-AnyPlatform-Browser-Unmanaged-BlockDownloads",
            include_groups=fin,
            include_apps=(EXCHANGE_ONLINE_APP_ID, SHAREPOINT_ONLINE_APP_ID),
            client_app_types=("browser",),
            device_filter=unmanaged,
            session={
                "cloudAppSecurity": {"cloudAppSecurityType": "blockDownloads", "isEnabled": True}
            },
        )
        ca(
            "CA606-Finance-IdentityProtection-AnyApp-AnyPlatform-BLOCK-MediumSigninRisk",
            include_groups=(fa,),
            sign_in_risk=("medium", "high"),
            grant=("block",),
        )

    # ---- singletons and policies ----------------------------------------------------------------
    def policies(self) -> None:
        t, g = self.t, self.g
        # Guests from Gmail sign in with their Google account (a write-only secret Graph never returns).
        self.add("identityProviders", {
            "@odata.type": "#microsoft.graph.socialIdentityProvider", "id": "Google-OAUTH",
            "displayName": "Google", "identityProviderType": "Google",
            "clientId": "123456789012-contosodemo.apps.googleusercontent.com",
            "clientSecret": "demo-google-client-secret-not-real",
        })
        # Only IT Operations may create Microsoft 365 groups; guests may not own them.
        unified = "62375ab9-6b52-47ed-826b-58e47e0e304b"
        given = {"EnableGroupCreation": "false", "GroupCreationAllowedGroupId": g["m365-it-operations"]["id"],
                 "AllowGuestsToBeGroupOwner": "false", "UsageGuidelinesUrl": "https://intranet.contoso-demo.example/groups"}
        template = self.b.GROUP_SETTING_TEMPLATES[unified]
        self.add("groupSettings", {
            "id": self.id("groupSetting", "group-unified"), "displayName": template[0], "templateId": unified,
            "values": [{"name": d["name"], "value": given.get(d["name"], d["defaultValue"])} for d in template[2]],
        })
        # Custom security attributes (the docs' examples): engineering projects, a predefined list.
        self.add("attributeSets", {"id": "Engineering", "description": "Attributes for engineering team",
                                   "maxAttributesPerSet": 25})
        self.add("customSecurityAttributeDefinitions", {
            "id": "Engineering_Project", "attributeSet": "Engineering", "name": "Project",
            "description": "Active projects for user", "type": "String", "status": "Available",
            "isCollection": True, "isSearchable": True, "usePreDefinedValuesOnly": True,
            "allowedValues": [{"id": v, "isActive": True} for v in ("Alpine", "Baker", "Cascade")],
        })
        self.add("customSecurityAttributeDefinitions", {
            "id": "Engineering_ProjectDate", "attributeSet": "Engineering", "name": "ProjectDate",
            "description": "Target completion date", "type": "String", "status": "Available",
            "isCollection": False, "isSearchable": True, "usePreDefinedValuesOnly": False, "allowedValues": [],
        })
        # Microsoft 365 groups expire after a year unless an owner renews them.
        self.add("groupLifecyclePolicies", {
            "id": self.id("groupLifecyclePolicy", "m365-expiry"), "groupLifetimeInDays": 365,
            "managedGroupTypes": "All", "alternateNotificationEmails": "it-admins@contoso-demo.example",
        })
        self.add("organization", {
            "id": t,
            "deletedDateTime": None,
            "businessPhones": ["+31 20 555 0100"],
            "city": "Amsterdam",
            "country": "Netherlands",
            "countryLetterCode": "NL",
            "createdDateTime": ts(0),
            "displayName": COMPANY,
            "marketingNotificationEmails": [],
            "onPremisesLastSyncDateTime": None,
            "onPremisesSyncEnabled": None,
            "postalCode": "1012 AB",
            "preferredLanguage": "en",
            "privacyProfile": None,
            "securityComplianceNotificationMails": [f"security@{DOMAIN}"],
            "securityComplianceNotificationPhones": [],
            "state": None,
            "street": "Demo Street 1",
            "technicalNotificationMails": [f"it-alerts@{DOMAIN}"],
            "tenantType": "AAD",
            # The apps' identifierUris live on WEB_DOMAIN; Graph accepts only verified domains there
            # (https://learn.microsoft.com/entra/identity-platform/identifier-uri-restrictions).
            "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": True,
                                 "isInitial": True, "name": DOMAIN, "type": "Managed"},
                                {"capabilities": "None", "isDefault": False, "isInitial": False,
                                 "name": WEB_DOMAIN, "type": "Managed"}],
        })  # fmt: skip
        self.add("authorizationPolicy", authorization_policy())
        # Users ask IT Operations and the Cloud Application Administrators before an app gets consent.
        role = "/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '{}'"
        self.add("adminConsentRequestPolicy", {
            "id": "adminConsentRequestPolicy", "isEnabled": True, "notifyReviewers": True,
            "remindersEnabled": True, "requestDurationInDays": 14, "version": 2,
            "reviewers": [
                {"query": f"/groups/{self.g['m365-it-operations']['id']}/transitiveMembers",
                 "queryType": "MicrosoftGraph", "queryRoot": None},
                {"query": role.format(self.role("Cloud Application Administrator")),
                 "queryType": "MicrosoftGraph", "queryRoot": None},
            ],
        })  # fmt: skip
        self.add("authenticationFlowsPolicy", {
            "id": "authenticationFlowsPolicy", "displayName": "Authentication flows policy",
            "description": "Authentication flows policy allows modification of settings related to authentication flows in AAD tenant, such as self-service sign up configuration.",
            "selfServiceSignUp": {"isEnabled": False},
        })  # fmt: skip
        self.add("identitySecurityDefaultsEnforcementPolicy", {
            "id": SECURITY_DEFAULTS_ID,
            "displayName": "Security Defaults",
            "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.",
            "isEnabled": False,
        })  # fmt: skip
        bg = {"id": g["breakglass"]["id"], "targetType": "group"}
        self.add("authenticationMethodsPolicy", {
            "id": "authenticationMethodsPolicy",
            "displayName": "Authentication Methods Policy",
            "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
            "lastModifiedDateTime": ts(58),
            "policyVersion": "1.5",
            "policyMigrationState": "migrationComplete",
            "registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {
                "snoozeDurationInDays": 1, "enforceRegistrationAfterAllowedSnoozes": True, "state": "enabled",
                "excludeTargets": [bg, {"id": g["serviceaccounts"]["id"], "targetType": "group"}],
                "includeTargets": [{"id": "all_users", "targetType": "group",
                                    "targetedAuthenticationMethod": "microsoftAuthenticator"}]}},
            "reportSuspiciousActivitySettings": {"state": "enabled", "voiceReportingCode": 0,
                                                 "includeTarget": {"id": "all_users", "targetType": "group"}},
            "systemCredentialPreferences": {"state": "default", "excludeTargets": [],
                                            "includeTargets": [{"id": "all_users", "targetType": "group"}]},
        })  # fmt: skip

        def target(gid: str, **extra: Any) -> Obj:
            return {"targetType": "group", "id": gid, "isRegistrationRequired": False, **extra}

        def cfg(
            type_: str,
            id_: str,
            state: str,
            include: list[Obj],
            exclude: list[Obj] | None = None,
            **props: Any,
        ) -> None:
            self.add("authenticationMethodConfigurations", {
                "@odata.type": f"#microsoft.graph.{type_}AuthenticationMethodConfiguration", "id": id_,
                "state": state, **props, "excludeTargets": exclude or [], "includeTargets": include})  # fmt: skip

        svc = {"id": g["serviceaccounts"]["id"], "targetType": "group"}
        cfg(
            "fido2",
            "Fido2",
            "enabled",
            [target(g["authm-passkey-pilot"]["id"]), target(g["finance-admins"]["id"])],
            isSelfServiceRegistrationAllowed=True,
            isAttestationEnforced=True,
            keyRestrictions={
                "isEnforced": True,
                "enforcementType": "allow",
                "aaGuids": [
                    "cb69481e-8ff7-4039-93ec-0a2729a154a8",
                    "ee882879-721c-4913-9775-3dfcce97072a",
                ],
            },
        )
        cfg(
            "microsoftAuthenticator",
            "MicrosoftAuthenticator",
            "enabled",
            [target("all_users", authenticationMode="any")],
            [svc],
            isSoftwareOathEnabled=False,
            featureSettings={
                "displayAppInformationRequiredState": {
                    "state": "enabled",
                    "includeTarget": {"targetType": "group", "id": "all_users"},
                    "excludeTarget": {
                        "targetType": "group",
                        "id": "00000000-0000-0000-0000-000000000000",
                    },
                },
                "displayLocationInformationRequiredState": {
                    "state": "enabled",
                    "includeTarget": {"targetType": "group", "id": "all_users"},
                    "excludeTarget": {
                        "targetType": "group",
                        "id": "00000000-0000-0000-0000-000000000000",
                    },
                },
            },
        )
        cfg("sms", "Sms", "disabled", [target("all_users", isUsableForSignIn=False)])
        cfg("voice", "Voice", "disabled", [target("all_users")], isOfficePhoneAllowed=False)
        cfg(
            "email",
            "Email",
            "enabled",
            [target(g["all-guests"]["id"])],
            allowExternalIdToUseEmailOtp="enabled",
        )
        cfg(
            "temporaryAccessPass",
            "TemporaryAccessPass",
            "enabled",
            [target(g["authm-tap-eligible"]["id"])],
            defaultLifetimeInMinutes=60,
            defaultLength=8,
            minimumLifetimeInMinutes=60,
            maximumLifetimeInMinutes=480,
            isUsableOnce=True,
        )
        cfg("softwareOath", "SoftwareOath", "enabled", [target(g["dept-it"]["id"])])
        cfg("hardwareOath", "HardwareOath", "disabled", [target("all_users")])

        fabrikam = self.id("partnerTenant", "fabrikam-audit")
        northwind = self.id("partnerTenant", "northwind-consulting")
        self.add("crossTenantPartners", xtenant_partner(
            t, fabrikam, xtenant_access("allowed", [("AllUsers", "user")], [self.app["expensehub"]["appId"], "Office365"]),
            None, mfa=True))  # fmt: skip
        self.add("crossTenantPartners", xtenant_partner(
            t, northwind, xtenant_access("allowed", [("AllUsers", "user")], ["Office365"]),
            xtenant_access("allowed", [(g["m365-project-aurora"]["id"], "group")], ["AllApplications"]), mfa=True))  # fmt: skip
        # Users of Northwind may be synced in (crosstenantidentitysyncpolicypartner).
        self.add("crossTenantIdentitySync", {"tenantId": northwind, "displayName": "Northwind Consulting",
                                             "userSyncInbound": {"isSyncAllowed": True}})


def _app_policies(d: _Demo) -> None:
    """A consent policy naming ExpenseHub as its client app, a credential policy on HR Portal
    (https://learn.microsoft.com/graph/api/resources/permissiongrantpolicy, .../appmanagementpolicy)."""
    pid = d.id("appManagementPolicy", "no-long-secrets")
    d.add("appManagementPolicies", {
        "id": pid, "displayName": "No long-lived secrets", "isEnabled": True,
        "description": "Line-of-business apps: client secrets at most 90 days, no new symmetric keys.",
        "restrictions": {"passwordCredentials": [
            {"restrictionType": "passwordLifetime", "maxLifetime": "P90D",
             "restrictForAppsCreatedAfterDateTime": "2024-01-01T00:00:00Z"},
            {"restrictionType": "symmetricKeyAddition", "maxLifetime": None,
             "restrictForAppsCreatedAfterDateTime": "2024-01-01T00:00:00Z"}],
            "keyCredentials": []},
    })  # fmt: skip
    d.app["hr-portal"].setdefault("appManagementPolicies", []).append(pid)
    d.add("permissionGrantPolicies", {
        "id": "contoso-expensehub-consent", "displayName": "ExpenseHub self-consent",
        "description": "Users may consent to low-risk delegated permissions for ExpenseHub only.",
        "includes": [{"id": d.id("conditionSet", "expensehub-low"), "permissionClassification": "low",
                      "permissionType": "delegated", "resourceApplication": "any", "permissions": ["all"],
                      "clientApplicationIds": [d.app["expensehub"]["appId"]],
                      "clientApplicationTenantIds": ["all"], "clientApplicationPublisherIds": ["all"],
                      "clientApplicationsFromVerifiedPublisherOnly": False}],
        "excludes": [],
    })  # fmt: skip


def demo_seed(tenant_id: str = DEMO_TENANT_ID) -> Seed:
    """The demo company for `tenant_id`; same tenant id, same state, every time."""
    d = _Demo(tenant_id)
    d.users()
    d.groups()
    d.admin_units()
    d.apps()
    d.app_role_assignments()
    d.grants()
    d.roles_and_assignments()
    d.locations_strengths_contexts()
    d.terms_of_use()
    d.conditional_access()
    d.policies()
    d.app_policies()
    return d.seed
