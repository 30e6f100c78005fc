"""The Graph application permissions entragit needs, derived from the Kind table (one manifest)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from entragit import kinds as kindmod
from entragit.kinds import Kind

# Not tied to one kind: export and apply check the token's tenant (GET /organization); export names
# the people behind changes from the directory audit log (optional: skipped with a note without it).
# The tenant check's alternatives app-only, narrowest first
# (https://learn.microsoft.com/graph/api/organization-get); a signed-in user reads their own
# organization with User.Read, so only app-only tokens are checked for it.
TENANT_CHECK = ("Organization.Read.All", "Directory.Read.All", "User.Read.All")
READ_EXTRA = TENANT_CHECK[:1]  # what the manifest lists for the tenant check
EXPORT_OPTIONAL = ("AuditLog.Read.All",)
# Opt-in (`permissions --native`): it lets the app enumerate every preview job's changes, i.e. the
# snapshot values of users, apps and policies the export's own permissions may not cover
# (https://learn.microsoft.com/graph/permissions-reference#entrabackupreadall), so it stays out of
# the least-privilege default.
NATIVE_READ = ("EntraBackup.Read.All",)
# Difference reports and recoveries: delegated scopes only, no application permission exists
# (https://learn.microsoft.com/graph/api/entrarecoveryservices-snapshot-post-recoverypreviewjobs).
NATIVE_DELEGATED = ("EntraBackup.ReadWrite.Preview", "EntraBackup.ReadWrite.Recovery")
# Microsoft's two roles (https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference)
# and the native commands each lets a signed-in person run: (role, template id, scopes, commands).
NATIVE_ROLES = (
    ("Microsoft Entra Backup Reader", "f42252d9-5400-4d7b-b9ef-cc582dbb8577", NATIVE_READ,
     ("native snapshots",)),
    ("Microsoft Entra Backup Administrator", "b6a27b2b-f905-4b2e-81b5-0d90e0ef1fdb", NATIVE_READ + NATIVE_DELEGATED,
     ("native snapshots", "native diff", "native plan", "native apply", "plan --native-marks",
      "apply --via native")),
)


def native_table() -> list[str]:
    """Who may run which native command: the app (read only) and Microsoft's two roles."""
    lines = [f"app (application permission): {' '.join(NATIVE_READ)}",
             "    native snapshots; the snapshot id in export commits (no application permission creates jobs)"]
    for role, template, scopes, commands in NATIVE_ROLES:
        lines += [f"{role} ({template}), delegated: {' '.join(scopes)}", f"    {', '.join(commands)}"]
    lines.append("native apply (apply --via native) also writes what entragit applies: the person needs those "
                 "roles too")
    return lines


def for_export(kinds: Iterable[Kind]) -> list[str]:
    """Least-privilege read permissions: the first (narrowest) alternative of each kind, and what it needs on top.

    Kinds Graph serves to signed-in users only are left out: granting them to an app does nothing."""
    return sorted({p for k in kinds if not k.delegated_only for p in (k.read_perm[0], *k.read_also)}
                  | set(READ_EXTRA))


def for_apply(kinds: Iterable[Kind]) -> list[str]:
    """Write permissions, plus what apply reads before writing."""
    ks = list(kinds)
    return sorted(set(for_export(ks)) | {p for k in ks if not (k.delegated_only or k.writes_delegated_only)
                                         for p in k.write_perm})


def table() -> list[tuple[str, str, str]]:
    """(kind, read, write) rows for docs and `entragit permissions`; delegated-only kinds say so."""
    def tag(k: Kind, text: str) -> str:
        return f"{text} (delegated only)" if k.delegated_only and text != "-" else text

    def tag_write(k: Kind, text: str) -> str:
        return f"{text} (delegated only)" if k.writes_delegated_only and text != "-" else tag(k, text)

    return [(k.name, tag(k, " + ".join([" or ".join(k.read_perm), *k.read_also])),
             tag_write(k, " + ".join(k.write_perm) or "-")) for k in kindmod.KINDS]


def held(claims: Mapping[str, Any]) -> tuple[bool, frozenset[str]]:
    """(app-only?, permissions) of a token: app-only tokens carry `roles`, delegated ones `scp`."""
    app = claims.get("idtyp") == "app" or ("scp" not in claims and "roles" in claims)
    if app:
        return True, frozenset(str(r) for r in claims.get("roles") or ())
    return False, frozenset(str(claims.get("scp") or "").split())


def covered(alternatives: Iterable[str], have: Collection[str]) -> bool:
    """Does `have` hold one of `alternatives`? X.ReadWrite.Y covers X.Read.Y, as Graph grants it."""
    return any(p in have or (".Read." in p and p.replace(".Read.", ".ReadWrite.", 1) in have)
               for p in alternatives)


def write_needs(kind: Kind) -> list[tuple[str, ...]]:
    """Each write permission of `kind` with the broader ones that stand in for it (all are needed)."""
    return [(p, *kind.write_broader.get(p, ())) for p in kind.write_perm]
