"""Built-in directory roles -> the Graph permission names they cover (delegated rights = scopes ∩ roles).

A delegated token acts as the signed-in user: Graph grants an operation only when the app holds the
delegated scope AND the user, through a directory role, may do it ("effective permissions",
https://learn.microsoft.com/graph/auth/auth-concepts#delegated-access). What each role may do is in
https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference; this
table restates it in Graph permission names (fnmatch patterns), coarsely: one row per role, only the
permissions the simulator's resources check. A role not listed here (including every custom role)
grants nothing through delegated tokens. ReadWrite implies Read, as for app permissions."""

from __future__ import annotations

from fnmatch import fnmatchcase

from entragit_sim.builtins import ROLE_TEMPLATES

_READ_DIRECTORY = ("Directory.Read.All", "User.Read.All", "User.ReadBasic.All", "Group.Read.All",
                   "GroupMember.Read.All", "Application.Read.All", "AdministrativeUnit.Read.All")  # fmt: skip
_APPS = ("Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
         "DelegatedPermissionGrant.ReadWrite.All", "Policy.Read.All", "Policy.Read.PermissionGrant",
         *_READ_DIRECTORY)  # fmt: skip

# Role display name (builtins.ROLE_TEMPLATES) -> permission patterns. Sources: the role's section
# of the permissions reference above.
_BY_NAME: dict[str, tuple[str, ...]] = {
    # "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities."
    "Global Administrator": ("*",),
    # "Can read everything that a Global Administrator can, but not update anything."
    "Global Reader": ("*.Read.*", "*.ReadBasic.*", "*.Read"),
    # "Can manage Conditional Access capabilities." (policies, named locations, authentication
    # contexts) and read the applications, groups and directory they point at.
    "Conditional Access Administrator": (
        "Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "AuthenticationContext.ReadWrite.All",
        "Application.Read.All", "Group.Read.All", "Directory.Read.All",
    ),
    # "Can read security information and reports, and manage configuration in Microsoft Entra ID
    # and Office 365." Includes Conditional Access and security defaults.
    "Security Administrator": (
        "Policy.Read.All", "Policy.ReadWrite.ConditionalAccess", "Policy.ReadWrite.SecurityDefaults",
        "AuthenticationContext.ReadWrite.All", "AuditLog.Read.All", "RoleManagement.Read.Directory",
        *_READ_DIRECTORY,
    ),
    # "Can read security information and reports in Microsoft Entra ID and Office 365."
    "Security Reader": ("Policy.Read.All", "AuditLog.Read.All", "RoleManagement.Read.Directory",
                        "AuthenticationContext.Read.All", *_READ_DIRECTORY),
    # "Can create and manage all aspects of app registrations and enterprise apps." Real Graph
    # further refuses this role consent to Microsoft Graph app roles (Privileged Role Administrator
    # only); the simulator does not model that split.
    "Application Administrator": ("Policy.ReadWrite.ApplicationConfiguration", *_APPS),
    # "Can create and manage all aspects of app registrations and enterprise apps except App Proxy."
    "Cloud Application Administrator": _APPS,
    # "Members of this role can create/manage groups, create/manage groups settings like naming and
    # expiration policies, and view groups activity and audit reports."
    "Groups Administrator": ("Group.Create", "Group.ReadWrite.All", "GroupMember.ReadWrite.All",
                             "AuditLog.Read.All", *_READ_DIRECTORY),
    # "Can manage all aspects of users and groups, including resetting passwords for limited admins."
    "User Administrator": ("User.ReadWrite.All", "Group.Create", "Group.ReadWrite.All",
                           "GroupMember.ReadWrite.All", *_READ_DIRECTORY),
    # "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity
    # Management." Also grants consent (app role assignments, delegated grants, consent policies).
    "Privileged Role Administrator": (
        "RoleManagement.ReadWrite.Directory", "AppRoleAssignment.ReadWrite.All",
        "DelegatedPermissionGrant.ReadWrite.All", "Policy.ReadWrite.PermissionGrant", "Policy.Read.All",
        "AdministrativeUnit.ReadWrite.All", *_READ_DIRECTORY,
    ),
    # "Can create and manage the authentication methods policy, tenant-wide MFA settings, password
    # protection policy, and verifiable credentials."
    "Authentication Policy Administrator": ("Policy.ReadWrite.AuthenticationMethod", "Policy.Read.All",
                                            "Directory.Read.All"),
    # "Can access to view, set and reset authentication method information for any user (admin or non-admin)."
    "Privileged Authentication Administrator": ("UserAuthenticationMethod.ReadWrite.All", "User.Read.All",
                                                "Policy.Read.All", "Directory.Read.All"),
    # Backup and recovery (https://learn.microsoft.com/entra/backup/overview): the administrator
    # creates and cancels preview and recovery jobs (microsoft.directory/backup/*), the reader views
    # backups, difference reports and recovery history. Neither reads the directory itself.
    "Microsoft Entra Backup Administrator": ("EntraBackup.*",),
    "Microsoft Entra Backup Reader": ("EntraBackup.Read.All",),
    # "Can read basic directory information."
    "Directory Readers": _READ_DIRECTORY,
}  # fmt: skip

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {ROLE_TEMPLATES[n]: p for n, p in _BY_NAME.items()}


def allows(template_ids: frozenset[str], perm: str) -> bool:
    """Does any of these directory roles cover `perm` (X.ReadWrite.Y covering X.Read.Y)?"""
    wanted = {perm}
    if ".Read." in perm:
        wanted.add(perm.replace(".Read.", ".ReadWrite.", 1))
    return any(
        fnmatchcase(w, pattern)
        for tid in template_ids
        for pattern in ROLE_PERMISSIONS.get(tid, ())
        for w in wanted
    )
