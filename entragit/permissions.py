"""The Graph application permissions entragit needs, derived from the Kind table (one manifest)."""

from __future__ import annotations

from collections.abc import Iterable

from entragit import kinds as kindmod
from entragit.kinds import Kind

# Not tied to one kind: apply checks the token's tenant (GET /organization); export names the
# people behind changes from the directory audit log (optional: skipped with a note without it).
APPLY_EXTRA = ("Organization.Read.All",)
EXPORT_OPTIONAL = ("AuditLog.Read.All",)


def for_export(kinds: Iterable[Kind]) -> list[str]:
    """Least-privilege read permissions: the first (narrowest) alternative of each kind."""
    return sorted({k.read_perm[0] for k in kinds})


def for_apply(kinds: Iterable[Kind]) -> list[str]:
    """Write permissions, plus what apply reads before writing."""
    ks = list(kinds)
    return sorted(set(for_export(ks)) | {p for k in ks for p in k.write_perm} | set(APPLY_EXTRA))


def table() -> list[tuple[str, str, str]]:
    """(kind, read, write) rows for docs and `entragit permissions`."""
    return [(k.name, " or ".join(k.read_perm), " + ".join(k.write_perm) or "-") for k in kindmod.KINDS]
