"""The tenant state: objects per collection, $ref links, deleted items, secrets, audit log; one lock."""

from __future__ import annotations

import copy
import json
import threading
import time
from pathlib import Path
from typing import Any

from entragit_sim.table import DIRECTORY_OBJECT_KINDS, RESOURCES

Obj = dict[str, Any]


class Store:
    """In-memory tenant. Callers hold `lock` around read-modify-write sequences."""

    def __init__(self, tenant_id: str) -> None:
        self.lock = threading.RLock()
        self.tenant_id = tenant_id
        self.objects: dict[str, dict[str, Obj]] = {r.name: {} for r in RESOURCES}
        # "kind/id/rel" -> ordered target ids (group members/owners, app/SP owners, AU members)
        self.links: dict[str, list[str]] = {}
        # container ("directory" | "roleDefinitions" | "beta") -> id -> {"kind", "object"}
        self.deleted: dict[str, dict[str, dict[str, Any]]] = {
            "directory": {},
            "roleDefinitions": {},
            "beta": {},
        }
        # "appObjectId/keyId" -> sha256 of the secret text (secrets themselves are never kept)
        self.secrets: dict[str, str] = {}
        self.audit: list[Obj] = []
        # Native backup snapshots, newest first (backup.py): id, createdDateTime, objects, links.
        self.backups: list[Obj] = []
        # Their preview and recovery jobs by id (recovery.py), kept seven days after completion.
        self.backup_jobs: dict[str, Obj] = {}
        # The simulated clock after its last advance, so a restart with a state file resumes it.
        self.clock_now: str | None = None
        # id -> time.monotonic() of creation, for read-after-write lag faults (not persisted)
        self.created_at: dict[str, float] = {}
        # Delta links and their pending pages (delta.py), in memory only: a restart expires them.
        self.delta_states: dict[str, Any] = {}
        # Whether deleted security groups go to the recycle bin (Graph's docs disagree: findings row 14).
        self.security_groups_restorable = True

    # -- objects ---------------------------------------------------------------------------
    def get(self, kind: str, key: str) -> Obj | None:
        return self.objects[kind].get(key)

    def put(self, kind: str, key: str, obj: Obj) -> None:
        self.objects[kind][key] = obj

    def pop(self, kind: str, key: str) -> Obj | None:
        return self.objects[kind].pop(key, None)

    def all(self, kind: str) -> list[Obj]:
        return list(self.objects[kind].values())

    def find_directory_object(self, oid: str) -> tuple[str, Obj] | None:
        for kind in DIRECTORY_OBJECT_KINDS:
            obj = self.objects[kind].get(oid)
            if obj is not None:
                return kind, obj
        return None

    def is_soft_deleted(self, oid: str) -> bool:
        return oid in self.deleted["directory"]

    # -- links -----------------------------------------------------------------------------
    def link_ids(self, kind: str, oid: str, rel: str) -> list[str]:
        return self.links.setdefault(f"{kind}/{oid}/{rel}", [])

    def active_links(self, kind: str, oid: str, rel: str) -> list[tuple[str, Obj]]:
        """Targets of a relationship that currently exist (soft-deleted ones hide until restored)."""
        out = []
        for tid in self.links.get(f"{kind}/{oid}/{rel}", []):
            found = self.find_directory_object(tid)
            if found is not None:
                out.append(found)
        return out

    def purge_links(self, kind: str, oid: str) -> None:
        """Hard delete: the object's own links go, and it leaves every relationship it was in."""
        for key in [k for k in self.links if k.startswith(f"{kind}/{oid}/")]:
            del self.links[key]
        for ids in self.links.values():
            while oid in ids:
                ids.remove(oid)

    # -- persistence -----------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "objects": self.objects,
            "links": self.links,
            "deleted": self.deleted,
            "secrets": self.secrets,
            "audit": self.audit,
            "backups": self.backups,
            "backup_jobs": self.backup_jobs,
            "clock_now": self.clock_now,
        }

    def save(self, path: str | Path) -> None:
        with self.lock:
            data = json.dumps(self.dump(), indent=1, sort_keys=False)
        tmp = Path(str(path) + ".tmp")
        tmp.write_text(data, encoding="utf-8")
        tmp.replace(path)

    def load(self, path: str | Path) -> None:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        with self.lock:
            self.tenant_id = data["tenant_id"]
            for kind in self.objects:
                self.objects[kind] = data["objects"].get(kind, {})
            self.links = data.get("links", {})
            self.deleted = {**self.deleted, **data.get("deleted", {})}
            self.secrets = data.get("secrets", {})
            self.audit = data.get("audit", [])
            self.backups = data.get("backups", [])
            self.backup_jobs = data.get("backup_jobs", {})
            self.clock_now = data.get("clock_now")

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.dump())

    def mark_created(self, oid: str) -> None:
        self.created_at[oid] = time.monotonic()
