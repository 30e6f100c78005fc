"""The ``synthetic:N`` seed: a generated tenant of about N objects for benchmarks.

Same shapes as the demo seed (both are built with ``builders.py``) and a realistic reference density:
users and groups make up most of the tenant (~40% each), Conditional Access policies ~1.5% (capped
at 200) referencing groups, users, roles, apps, named locations and service principals; every
policy excludes the break-glass group. Deterministic for (n, tenant_id, seed): a
``random.Random(seed)`` drives every choice and ids are ``uuid5`` over stable names.

The total object count (sum of all collection lengths; members/owners links are not objects) is
exactly n for n >= 100; tiny n still get the fixed skeleton of ~80 objects.
The two entragit automation apps of the demo (``entragit-automation``, ``entragit-reader``) are
included with the same permissions, so benchmarks can use real client-credential tokens.
"""

from __future__ import annotations

import random
from typing import Any

from entragit_sim.seeds.builders import (
    AUTOMATION_PERMISSIONS,
    DEFAULT_ACCESS_ROLE_ID,
    EXCHANGE_ONLINE_APP_ID,
    INTUNE_ENROLLMENT_APP_ID,
    PHISHING_RESISTANT_STRENGTH_ID,
    READER_PERMISSIONS,
    SECURITY_DEFAULTS_ID,
    SHAREPOINT_ONLINE_APP_ID,
    all_guests,
    app_role,
    authorization_policy,
    builtins,
    ca_policy,
    country_location,
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
)

Seed = dict[str, list[dict[str, Any]]]
Obj = dict[str, Any]

DOMAIN = "contososynth.onmicrosoft.com"

_GIVEN = (
    "Ava", "Ben", "Carla", "Dev", "Elif", "Farah", "Gabriel", "Hiro", "Isla", "Jonas", "Kofi", "Lucia",
    "Mateo", "Nadia", "Omar", "Paula", "Quinn", "Rosa", "Stefan", "Tara", "Umar", "Vera", "Wei", "Ximena",
    "Yara", "Zoran", "Amara", "Bruno", "Chiara", "Dmitri", "Esme", "Felix", "Greta", "Hassan", "Ingrid",
)  # fmt: skip
_SURNAMES = (
    "Adams", "Bakker", "Costa", "Dubois", "Eriksen", "Fernandes", "Garcia", "Hughes", "Ivanova", "Jansen",
    "Kowalski", "Larsen", "Moreno", "Nakamura", "Olsen", "Petrov", "Quint", "Ramos", "Silva", "Tanaka",
    "Ueda", "Visser", "Wagner", "Xu", "Yilmaz", "Zimmermann", "Achterberg", "Bianchi", "Claes", "Dijkstra",
)  # fmt: skip
_DEPTS = (
    "Finance", "Sales", "HR", "Marketing", "Engineering", "IT", "Legal", "Operations", "Support",
    "Procurement", "Research", "Facilities",
)  # fmt: skip
_OFFICES = ("Amsterdam", "Seattle", None)
_TOPICS = (
    "Project", "Team", "Access", "Licensing", "Distribution", "Workspace", "Approvers", "Readers",
    "Contributors", "Owners", "Pilot", "Rollout",
)  # fmt: skip
_APP_WORDS = (
    "Portal", "Connector", "Dashboard", "API", "Sync", "Bot", "Reporting", "Gateway", "Scheduler",
    "Integration", "Analytics", "Billing",
)  # fmt: skip
_COUNTRIES = (
    "NL",
    "BE",
    "DE",
    "FR",
    "GB",
    "IE",
    "US",
    "CA",
    "ES",
    "IT",
    "SE",
    "DK",
    "NO",
    "PL",
    "PT",
    "CH",
)
_BLOCKED = ("KP", "IR", "SY", "CU")
_ADMIN_ROLES = (
    "Global Administrator", "Privileged Role Administrator", "Security Administrator",
    "Conditional Access Administrator", "User Administrator", "Helpdesk Administrator",
    "Application Administrator", "Cloud Application Administrator", "Exchange Administrator",
    "SharePoint Administrator", "Intune Administrator", "Groups Administrator", "Authentication Administrator",
)  # fmt: skip
_GRAPH_USER_SCOPES = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "User.Read",
    "User.ReadBasic.All",
)


def _plan(n: int) -> dict[str, int]:
    """How many objects of each collection a tenant of about n objects has."""

    def clamp(x: float, lo: int, hi: int) -> int:
        return max(lo, min(hi, round(x)))

    counts = {
        "conditionalAccessPolicies": clamp(n * 0.015, 3, 200),
        "namedLocations": clamp(n * 0.004, 3, 60),
        "authenticationStrengthPolicies": clamp(n / 3000, 1, 15),
        "authenticationContextClassReferences": clamp(n / 2500, 2, 25),
        "applications": clamp(n * 0.025, 3, 2000),  # incl. the 2 entragit apps
        "appRoleAssignments": clamp(
            n * 0.04, 2, 100000
        ),  # plus the entragit apps' Graph permissions
        "oauth2PermissionGrants": clamp(n * 0.015, 1, 50000),
        "roleDefinitions": clamp(n / 1000, 1, 30),
        "roleAssignments": clamp(n * 0.008, 3, 5000),
        "administrativeUnits": clamp(n / 500, 1, 100),
        "crossTenantPartners": clamp(n / 2000, 1, 20),
    }
    counts["servicePrincipals"] = counts["applications"] + 3  # first-party SPs
    fixed = (
        4  # organization, authorizationPolicy, security defaults, authentication methods policy
        + 4  # authentication method configurations
        + len(AUTOMATION_PERMISSIONS)
        + len(READER_PERMISSIONS)
    )
    rest = n - fixed - sum(counts.values())
    counts["users"] = max(6, rest - rest // 2)
    counts["groups"] = max(4, rest // 2)
    return counts


class _Synth:
    def __init__(self, n: int, tenant_id: str, seed: int) -> None:
        self.t = tenant_id
        self.rng = random.Random(f"entragit-synthetic:{seed}")
        self.tag = f"syn{seed}"
        self.b = builtins()
        self.counts = _plan(n)
        self.seed: Seed = {}

    def id(self, kind: str, name: str) -> str:
        return sid(self.t, kind, f"{self.tag}:{name}")

    def put(self, collection: str, obj: Obj) -> Obj:
        self.seed.setdefault(collection, []).append(obj)
        return obj

    # ---- directory -----------------------------------------------------------------------------
    def users(self) -> None:
        rng, t = self.rng, self.t
        total = self.counts["users"]
        self.users_list: list[Obj] = []
        for i in (1, 2):
            self.users_list.append(
                self.put(
                    "users",
                    make_user(
                        t,
                        f"bg-admin-0{i}",
                        given=None,
                        surname=None,
                        display=f"Break Glass Admin 0{i}",
                        title="Emergency access account",
                        created=ts(0, i),
                        domain=DOMAIN,
                    ),
                )
            )
        guests = max(1, total // 20)
        for i in range(total - 2):
            given, surname = rng.choice(_GIVEN), rng.choice(_SURNAMES)
            key = f"{given.lower()}.{surname.lower()}{i}"
            created = ts(rng.randrange(1, 900), rng.randrange(0, 1440))
            if i < guests:
                user = make_user(
                    t,
                    f"{self.tag}:guest:{i}",
                    given=given,
                    surname=surname,
                    user_type="Guest",
                    external_mail=f"{key}@partner{i % 7}.example",
                    created=created,
                    domain=DOMAIN,
                )
            else:
                dept = rng.choice(_DEPTS)
                user = make_user(
                    t,
                    key,
                    given=given,
                    surname=surname,
                    department=dept,
                    title=f"{dept} {rng.choice(('Specialist', 'Analyst', 'Manager', 'Lead', 'Associate'))}",
                    office=rng.choice(_OFFICES),
                    created=created,
                    enabled=rng.random() > 0.03,
                    domain=DOMAIN,
                )
                user["id"] = self.id("user", key)
            self.users_list.append(self.put("users", user))
        self.user_ids = [u["id"] for u in self.users_list]
        self.members_only = self.user_ids[2 + guests :] or self.user_ids

    def _pick_users(self, k: int) -> list[str]:
        pool = self.members_only
        return self.rng.sample(pool, min(k, len(pool)))

    def groups(self) -> None:
        rng, t = self.rng, self.t
        total = self.counts["groups"]
        it = self._pick_users(3)
        self.groups_list: list[Obj] = []
        self.breakglass = self.put(
            "groups",
            make_group(
                t,
                f"{self.tag}:breakglass",
                "CA-BreakGlassAccounts - Exclude",
                nickname="ca-breakglassaccounts-exclude",
                created=ts(0),
                members=self.user_ids[:2],
                owners=it[:1],
                domain=DOMAIN,
            ),
        )
        self.groups_list.append(self.breakglass)
        self.assignable: list[str] = []
        self.static_groups: list[str] = []
        for i in range(total - 1):
            roll = rng.random()
            topic, dept = rng.choice(_TOPICS), rng.choice(_DEPTS)
            display = f"{dept} {topic} {i:05d}"
            nickname = f"{dept.lower()}-{topic.lower()}-{i:05d}"
            created = ts(rng.randrange(0, 900))
            owners = self._pick_users(rng.choice((1, 1, 2)))
            k = min(300, int(rng.paretovariate(1.3) * 3))
            kw: dict[str, Any] = {}
            if roll < 0.05:  # dynamic
                kw["rule"] = f'(user.department -eq "{dept}")'
                kw["unified"] = rng.random() < 0.3
            elif roll < 0.25:  # Microsoft 365
                kw["unified"] = True
                kw["members"] = self._pick_users(k)
                kw["team"] = rng.random() < 0.5
            elif roll < 0.27 and len(self.assignable) < 40:  # role-assignable
                kw["role_assignable"] = True
                kw["members"] = self._pick_users(min(k, 10))
            else:  # assigned security group, sometimes nesting other groups
                members = self._pick_users(k)
                if self.static_groups and rng.random() < 0.1:
                    members += rng.sample(
                        self.static_groups, min(len(self.static_groups), rng.randint(1, 3))
                    )
                kw["members"] = members
                display = f"SG - {display}"
            group = make_group(
                t,
                f"{self.tag}:group:{i}",
                display,
                nickname=nickname,
                created=created,
                owners=owners,
                domain=DOMAIN,
                description=f"{topic} group for {dept}.",
                **kw,
            )
            self.groups_list.append(self.put("groups", group))
            if kw.get("role_assignable"):
                self.assignable.append(group["id"])
            elif not kw.get("rule") and not kw.get("unified"):
                self.static_groups.append(group["id"])
        self.group_ids = [g["id"] for g in self.groups_list[1:]] or [self.breakglass["id"]]

    def admin_units(self) -> None:
        self.au_ids = []
        for i in range(self.counts["administrativeUnits"]):
            au = self.put(
                "administrativeUnits",
                {
                    "id": self.id("administrativeUnit", str(i)),
                    "deletedDateTime": None,
                    "displayName": f"Region {i:03d}",
                    "description": f"Users managed by the region {i:03d} service desk.",
                    "isMemberManagementRestricted": False,
                    "membershipRule": None,
                    "membershipRuleProcessingState": None,
                    "membershipType": None,
                    "visibility": None,
                    "members": sorted(self._pick_users(self.rng.randint(5, 60))),
                },
            )
            self.au_ids.append(au["id"])

    # ---- apps ------------------------------------------------------------------------------------
    def apps(self) -> None:
        rng, t = self.rng, self.t
        self.sps: list[Obj] = []
        self.role_sps: list[Obj] = []  # SPs with appRoles (resources for assignments)
        self.scope_sps: list[Obj] = []  # SPs exposing delegated scopes
        for key, display, perms in (
            ("entragit-automation", "entragit-automation", AUTOMATION_PERMISSIONS),
            ("entragit-reader", "entragit-reader", READER_PERMISSIONS),
        ):
            app = make_application(
                t,
                key,
                display,
                created=ts(90),
                graph_roles=perms,
                owners=self._pick_users(1),
                secrets=[("pipeline", 90, 180)],
            )
            self.put("applications", app)
            self.sps.append(self.put("servicePrincipals", service_principal_for(t, app, key=key)))
        self.automation_sps = list(self.sps)
        for i in range(self.counts["applications"] - 2):
            key = f"{self.tag}:app:{i}"
            word = rng.choice(_APP_WORDS)
            dept = rng.choice(_DEPTS)
            roles = [
                app_role(
                    self.id("appRole", f"{i}/{r}"),
                    f"{dept}.{r}",
                    f"{dept} {r.lower()}",
                    f"{r} access to the {dept} {word}.",
                    ("User", "Application") if r == "Admin" else ("User",),
                )
                for r in rng.sample(("Reader", "Writer", "Approver", "Admin"), rng.randint(0, 3))
            ]
            scopes = []
            if rng.random() < 0.2:
                scopes = [
                    {
                        "adminConsentDescription": f"Access the {dept} {word} as the signed-in user.",
                        "adminConsentDisplayName": f"Access {dept} {word}",
                        "id": self.id("oauth2PermissionScope", str(i)),
                        "isEnabled": True,
                        "type": "User",
                        "userConsentDescription": None,
                        "userConsentDisplayName": None,
                        "value": "access_as_user",
                    }
                ]
            host = f"{dept.lower()}-{word.lower()}-{i}.contososynth.example"
            app = make_application(
                t,
                key,
                f"{dept} {word} {i:04d}",
                created=ts(rng.randrange(10, 900)),
                app_roles=roles,
                scopes=scopes,
                identifier_uris=[f"api://{host}"] if scopes or roles else [],
                web_redirects=[f"https://{host}/signin-oidc"] if rng.random() < 0.6 else [],
                graph_scopes=tuple(rng.sample(_GRAPH_USER_SCOPES, rng.randint(1, 4))),
                graph_roles=tuple(
                    rng.sample(("User.Read.All", "Group.Read.All"), rng.randint(0, 1))
                ),
                owners=self._pick_users(rng.randint(1, 2)),
                secrets=[("client secret", rng.randrange(100, 600), 365)]
                if rng.random() < 0.5
                else None,
            )
            self.put("applications", app)
            sp = self.put(
                "servicePrincipals",
                service_principal_for(
                    t, app, key=key, assignment_required=bool(roles) and rng.random() < 0.5
                ),
            )
            self.sps.append(sp)
            if roles:
                self.role_sps.append(sp)
            if scopes:
                self.scope_sps.append(sp)
        self.first_party = {}
        for j, (app_id, display) in enumerate(
            (
                (EXCHANGE_ONLINE_APP_ID, "Office 365 Exchange Online"),
                (SHAREPOINT_ONLINE_APP_ID, "Office 365 SharePoint Online"),
                (INTUNE_ENROLLMENT_APP_ID, "Microsoft Intune Enrollment"),
            )
        ):
            self.first_party[app_id] = self.put(
                "servicePrincipals", first_party_sp(t, app_id, display, created=ts(0, j))
            )
        self.own_app_ids = [sp["appId"] for sp in self.sps[2:]]

    def assignments(self) -> None:
        rng, t, b = self.rng, self.t, self.b
        graph_sp = {"id": b.graph_sp_id(t), "displayName": "Microsoft Graph"}
        for sp, perms in zip(
            self.automation_sps, (AUTOMATION_PERMISSIONS, READER_PERMISSIONS), strict=True
        ):
            for p in (p for p in perms if p in b.GRAPH_PERMISSIONS):
                self.put(
                    "appRoleAssignments",
                    make_app_role_assignment(
                        t, sp, "ServicePrincipal", graph_sp, b.GRAPH_PERMISSIONS[p], created=ts(91)
                    ),
                )
        users = {u["id"]: u for u in self.users_list}
        groups = {g["id"]: g for g in self.groups_list}
        resources = self.role_sps or self.sps
        seen: set[tuple[str, str, str]] = set()
        target = self.counts["appRoleAssignments"]
        made = 0
        while made < target:
            resource = rng.choice(resources)
            roles = [r["id"] for r in resource["appRoles"]] or [DEFAULT_ACCESS_ROLE_ID]
            if rng.random() < 0.55:
                principal, ptype = groups[rng.choice(self.group_ids)], "Group"
            else:
                principal, ptype = users[rng.choice(self.members_only)], "User"
            role_id = rng.choice(roles)
            if (principal["id"], resource["id"], role_id) in seen:
                continue
            seen.add((principal["id"], resource["id"], role_id))
            self.put(
                "appRoleAssignments",
                make_app_role_assignment(
                    t, principal, ptype, resource, role_id, created=ts(rng.randrange(30, 900))
                ),
            )
            made += 1

        grants: set[tuple[str, str, str | None]] = set()
        made = 0
        clients = self.sps[2:] or self.sps
        while made < self.counts["oauth2PermissionGrants"]:
            client = rng.choice(clients)
            if self.scope_sps and rng.random() < 0.2:
                resource_id, scopes = rng.choice(self.scope_sps)["id"], ["access_as_user"]
            else:
                resource_id = graph_sp["id"]
                scopes = rng.sample(_GRAPH_USER_SCOPES, rng.randint(1, 4))
            principal_id = rng.choice(self.members_only) if rng.random() < 0.3 else None
            if (client["id"], resource_id, principal_id) in grants or client["id"] == resource_id:
                continue
            grants.add((client["id"], resource_id, principal_id))
            self.put(
                "oauth2PermissionGrants", make_grant(client["id"], resource_id, scopes, principal_id)
            )
            made += 1

    def roles(self) -> None:
        rng, b = self.rng, self.b
        custom = []
        for i in range(self.counts["roleDefinitions"]):
            rid = self.id("roleDefinition", str(i))
            custom.append(
                self.put(
                    "roleDefinitions",
                    {
                        "id": rid,
                        "description": f"Custom role {i:03d}.",
                        "displayName": f"Custom App Manager {i:03d}",
                        "isBuiltIn": False,
                        "isEnabled": True,
                        "resourceScopes": ["/"],
                        "templateId": rid,
                        "version": None,
                        "rolePermissions": [
                            {
                                "allowedResourceActions": rng.sample(
                                    [
                                        "microsoft.directory/applications/allProperties/read",
                                        "microsoft.directory/applications/credentials/update",
                                        "microsoft.directory/applications/basic/update",
                                        "microsoft.directory/applications/owners/update",
                                        "microsoft.directory/servicePrincipals/appRoleAssignedTo/update",
                                    ],
                                    rng.randint(1, 3),
                                ),
                                "condition": None,
                            }
                        ],
                        "inheritsPermissionsFrom": [],
                    },
                )
            )
        ga = b.ROLE_TEMPLATES["Global Administrator"]
        seen: set[str] = set()
        for bg in self.user_ids[:2]:
            ra = self.put("roleAssignments", make_role_assignment(ga, bg))
            seen.add(ra["id"])
        builtin_roles = [b.ROLE_TEMPLATES[r] for r in _ADMIN_ROLES if r in b.ROLE_TEMPLATES]
        custom_ids = [c["id"] for c in custom]
        made = 2
        while made < self.counts["roleAssignments"]:
            role = (
                rng.choice(custom_ids)
                if custom_ids and rng.random() < 0.2
                else rng.choice(builtin_roles)
            )
            roll = rng.random()
            if roll < 0.15 and self.assignable:
                principal = rng.choice(self.assignable)
            elif roll < 0.2:
                principal = rng.choice(self.sps)["id"]
            else:
                principal = rng.choice(self.members_only)
            scope = "/"
            if rng.random() < 0.15 and self.au_ids and role != ga:
                scope = f"/administrativeUnits/{rng.choice(self.au_ids)}"
            ra = make_role_assignment(role, principal, scope)
            if ra["id"] in seen:
                continue
            seen.add(ra["id"])
            self.put("roleAssignments", ra)
            made += 1

    # ---- conditional access ----------------------------------------------------------------------
    def conditional_access(self) -> None:
        rng, t, b = self.rng, self.t, self.b
        locs = []
        for i in range(self.counts["namedLocations"]):
            kind = i % 3
            if kind == 0:
                third = i % 250
                loc = ip_location(
                    t,
                    f"Office {i:03d}",
                    [f"198.18.{third}.0/24", f"2001:db8:{i:x}::/48"],
                    trusted=rng.random() < 0.7,
                    created=ts(rng.randrange(5, 400)),
                )
            elif kind == 1:
                loc = country_location(
                    t,
                    f"Allowed Countries {i:03d}",
                    rng.sample(_COUNTRIES, rng.randint(1, 8)),
                    created=ts(9),
                )
            else:
                loc = country_location(
                    t,
                    f"Blocked Countries {i:03d}",
                    list(_BLOCKED),
                    created=ts(9),
                    unknown=rng.random() < 0.5,
                )
            loc["id"] = self.id("namedLocation", str(i))
            locs.append(self.put("namedLocations", loc)["id"])
        strengths = [PHISHING_RESISTANT_STRENGTH_ID]
        builtin_strengths = {
            s["id"]: s for s in b.builtin_state(t).get("authenticationStrengthPolicies", [])
        }
        custom_strengths = {}
        for i in range(self.counts["authenticationStrengthPolicies"]):
            s = self.put(
                "authenticationStrengthPolicies",
                {
                    "id": self.id("authenticationStrengthPolicy", str(i)),
                    "createdDateTime": ts(50 + i),
                    "modifiedDateTime": ts(50 + i),
                    "displayName": f"Custom strength {i:02d}",
                    "description": "Phishing-resistant methods or Authenticator push.",
                    "policyType": "custom",
                    "requirementsSatisfied": "mfa",
                    "allowedCombinations": rng.sample(
                        [
                            "windowsHelloForBusiness",
                            "fido2",
                            "x509CertificateMultiFactor",
                            "password,microsoftAuthenticatorPush",
                            "password,softwareOath",
                            "deviceBasedPush",
                        ],
                        rng.randint(2, 5),
                    ),  # fmt: skip
                    "combinationConfigurations": [],
                },
            )
            custom_strengths[s["id"]] = s
        strengths += list(custom_strengths)
        contexts = [f"c{i + 1}" for i in range(self.counts["authenticationContextClassReferences"])]
        for c in contexts:
            self.put(
                "authenticationContextClassReferences",
                {
                    "id": c,
                    "displayName": f"Step-up {c}",
                    "description": f"Authentication context {c}.",
                    "isAvailable": True,
                },
            )
        roles = [b.ROLE_TEMPLATES[r] for r in _ADMIN_ROLES if r in b.ROLE_TEMPLATES]
        apps = self.own_app_ids + [EXCHANGE_ONLINE_APP_ID, SHAREPOINT_ONLINE_APP_ID]
        bg = self.breakglass["id"]

        def some(pool: list[str], lo: int, hi: int) -> tuple[str, ...]:
            return tuple(rng.sample(pool, min(len(pool), rng.randint(lo, hi)))) if pool else ()

        for i in range(self.counts["conditionalAccessPolicies"]):
            kw: dict[str, Any] = {}
            persona = rng.choice(
                ("Global", "Admins", "Internals", "Internals", "Guests", "Apps", "Workload")
            )
            if persona == "Global":
                kw["include_users"] = ("All",)
                kw["exclude_groups"] = some(self.group_ids, 0, 2)
            elif persona == "Admins":
                kw["include_roles"] = some(roles, 2, len(roles))
                kw["include_groups"] = some(self.assignable, 0, 2)
                kw["exclude_users"] = tuple(self.user_ids[:2])
            elif persona == "Internals":
                kw["include_groups"] = some(self.group_ids, 1, 3)
                kw["exclude_groups"] = some(self.group_ids, 0, 3)
                kw["exclude_users"] = some(self.members_only, 0, 2)
            elif persona == "Guests":
                kw["include_guests"] = all_guests()
            elif persona == "Apps":
                kw["include_groups"] = some(self.group_ids, 1, 2)
                kw["include_apps"] = some(apps, 1, 3)
            else:
                kw["include_users"] = ("None",)
                kw["client_sps"] = (some([s["id"] for s in self.sps], 1, 3), ())
            control = rng.random()
            if control < 0.35:
                kw["grant"] = ("mfa",)
            elif control < 0.55:
                kw["grant"] = ("block",)
            elif control < 0.65:
                kw["grant"] = ("compliantDevice", "domainJoinedDevice")
            elif control < 0.8:
                sid_ = rng.choice(strengths)
                kw["strength"] = custom_strengths.get(sid_) or builtin_strengths.get(sid_)
            else:
                kw["session"] = sign_in_frequency(rng.choice((1, 4, 8, 12)), "hours")
            if persona != "Workload" and rng.random() < 0.25 and locs:
                kw["locations"] = (
                    ("All",),
                    some(locs, 1, 2) + (("AllTrusted",) if rng.random() < 0.3 else ()),
                )
            if (
                persona != "Workload"
                and rng.random() < 0.1
                and contexts
                and "include_apps" not in kw
            ):
                kw["auth_contexts"] = (rng.choice(contexts),)
            if rng.random() < 0.15:
                kw["platforms"] = (
                    rng.sample(("android", "iOS", "windows", "macOS"), rng.randint(1, 2)),
                    (),
                )
            if rng.random() < 0.1:
                kw["sign_in_risk"] = ("medium", "high")
            state = rng.choices(
                ("enabled", "enabledForReportingButNotEnforced", "disabled"), (70, 20, 10)
            )[0]
            self.put(
                "conditionalAccessPolicies",
                ca_policy(
                    t,
                    f"CA{i:03d}-{persona}-Synthetic-{i:03d}",
                    state=state,
                    created=ts(100 + i % 500),
                    modified=ts(120 + i % 500),
                    break_glass_group=bg,
                    **kw,
                ),
            )
            self.seed["conditionalAccessPolicies"][-1]["id"] = self.id(
                "conditionalAccessPolicy", str(i)
            )

    # ---- singletons ----------------------------------------------------------------------------
    def singletons(self) -> None:
        t, rng = self.t, self.rng
        self.put(
            "organization",
            {
                "id": t,
                "deletedDateTime": None,
                "businessPhones": [],
                "countryLetterCode": "NL",
                "createdDateTime": ts(0),
                "displayName": "Contoso Synthetic",
                "tenantType": "AAD",
                "verifiedDomains": [
                    {
                        "capabilities": "Email, OfficeCommunicationsOnline",
                        "isDefault": True,
                        "isInitial": True,
                        "name": DOMAIN,
                        "type": "Managed",
                    }
                ],  # fmt: skip
            },
        )
        self.put("authorizationPolicy", authorization_policy(members_create_security_groups=True))
        self.put(
            "identitySecurityDefaultsEnforcementPolicy",
            {
                "id": SECURITY_DEFAULTS_ID,
                "displayName": "Security Defaults",
                "description": None,
                "isEnabled": False,
            },
        )
        self.put(
            "authenticationMethodsPolicy",
            {
                "id": "authenticationMethodsPolicy",
                "displayName": "Authentication Methods Policy",
                "description": None,
                "lastModifiedDateTime": ts(58),
                "policyVersion": "1.5",
                "policyMigrationState": "migrationComplete",
                "registrationEnforcement": {
                    "authenticationMethodsRegistrationCampaign": {
                        "snoozeDurationInDays": 1,
                        "enforceRegistrationAfterAllowedSnoozes": True,
                        "state": "enabled",
                        "excludeTargets": [{"id": self.breakglass["id"], "targetType": "group"}],
                        "includeTargets": [
                            {
                                "id": "all_users",
                                "targetType": "group",
                                "targetedAuthenticationMethod": "microsoftAuthenticator",
                            }
                        ],
                    }
                },
            },
        )

        def target(gid: str) -> Obj:
            return {"targetType": "group", "id": gid, "isRegistrationRequired": False}

        groups = self.static_groups or self.group_ids
        for type_, cid, state, include, extra in (
            ("fido2", "Fido2", "enabled", [target(rng.choice(groups))],
             {"isSelfServiceRegistrationAllowed": True, "isAttestationEnforced": True,
              "keyRestrictions": {"isEnforced": False, "enforcementType": "block", "aaGuids": []}}),
            ("microsoftAuthenticator", "MicrosoftAuthenticator", "enabled", [target("all_users")],
             {"isSoftwareOathEnabled": False}),
            ("sms", "Sms", "disabled", [target("all_users")], {}),
            ("temporaryAccessPass", "TemporaryAccessPass", "enabled", [target(rng.choice(groups))],
             {"defaultLifetimeInMinutes": 60, "defaultLength": 8, "minimumLifetimeInMinutes": 60,
              "maximumLifetimeInMinutes": 480, "isUsableOnce": True}),
        ):  # fmt: skip
            self.put(
                "authenticationMethodConfigurations",
                {
                    "@odata.type": f"#microsoft.graph.{type_}AuthenticationMethodConfiguration",
                    "id": cid,
                    "state": state,
                    **extra,
                    "excludeTargets": [],
                    "includeTargets": include,
                },
            )
        for i in range(self.counts["crossTenantPartners"]):
            self.put(
                "crossTenantPartners",
                {
                    "tenantId": self.id("partnerTenant", str(i)),
                    "isServiceProvider": False,
                    "isInMultiTenantOrganization": False,
                    "inboundTrust": {
                        "isMfaAccepted": rng.random() < 0.5,
                        "isCompliantDeviceAccepted": False,
                        "isHybridAzureADJoinedDeviceAccepted": False,
                    },  # fmt: skip
                    "automaticUserConsentSettings": {
                        "inboundAllowed": False,
                        "outboundAllowed": False,
                    },
                    "b2bCollaborationInbound": {
                        "usersAndGroups": {
                            "accessType": "allowed",
                            "targets": [{"target": "AllUsers", "targetType": "user"}],
                        },
                        "applications": {
                            "accessType": "allowed",
                            "targets": [{"target": "Office365", "targetType": "application"}],
                        },
                    },  # fmt: skip
                    "b2bCollaborationOutbound": None,
                    "b2bDirectConnectInbound": None,
                    "b2bDirectConnectOutbound": None,
                    "tenantRestrictions": None,
                },
            )


def synthetic_seed(n: int, tenant_id: str, seed: int = 0) -> Seed:
    """A tenant of about `n` objects (exactly n for n >= 100), deterministic for (n, tenant_id, seed)."""
    if n < 0:
        raise ValueError("synthetic seed size must be >= 0")
    s = _Synth(n, tenant_id, seed)
    s.users()
    s.groups()
    s.admin_units()
    s.apps()
    s.assignments()
    s.roles()
    s.conditional_access()
    s.singletons()
    return s.seed
