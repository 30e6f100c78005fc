"""A cross-tenant partner's identity synchronization policy (Kind.children): exported inline in the
partner's file, a live edit put back by PUT, a partner deleted live recreated with its policy, and a
second plan empty. Signed in as the app holding exactly the listed permissions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from entragit import canonical, kinds
from tests.conftest import Cli, admin, app_repo

PARTNERS = "/policies/crossTenantAccessPolicy/partners"
KIND = "crossTenantAccessPartners"


def _synced(repo: Cli) -> tuple[Path, dict[str, Any]]:
    """The one partner file holding an identity sync policy, and its document."""
    docs = {p: yaml.safe_load(p.read_text()) for p in sorted((repo.repo / "tenants/demo" / KIND).glob("*.yaml"))}
    [(path, doc)] = [(p, d) for p, d in docs.items() if d.get("identitySynchronization")]
    return path, doc


def _ops(repo: Cli) -> list[dict[str, Any]]:
    out = repo("plan", "--format", "json").output
    return [o for o in json.loads(out[out.index("{"):])["operations"] if o["kind"] == KIND]


def test_partner_sync_policy_exported_and_restored(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    path, doc = _synced(repo)
    tid = doc["tenantId"]
    assert doc["identitySynchronization"] == {"displayName": "Northwind Consulting",
                                              "userSyncInbound": {"isSyncAllowed": True}}
    sync = f"{PARTNERS}/{tid}/identitySynchronization"
    with admin(sim) as c:
        r = c.patch(sync, json={"userSyncInbound": {"isSyncAllowed": False}})
        assert r.status_code == 204, r.text
        [op] = _ops(repo)
        assert (op["action"], [ch["path"] for ch in op["changes"]]) == (
            "update", ["identitySynchronization.userSyncInbound.isSyncAllowed"])
        repo("apply", "--yes")
        assert c.get(sync).json()["userSyncInbound"] == {"isSyncAllowed": True}
        assert _ops(repo) == []

        # Graph wants the sync policy deleted before its partner (crosstenantaccesspolicyconfigurationpartner-delete).
        assert c.delete(sync).status_code == 204
        assert c.delete(f"{PARTNERS}/{tid}").status_code == 204
        assert [o["action"] for o in _ops(repo)] == ["create"]
        repo("apply", "--yes")
        assert c.get(f"{PARTNERS}/{tid}").status_code == 200
        live = c.get(sync).json()
        assert (live["displayName"], live["userSyncInbound"]) == ("Northwind Consulting", {"isSyncAllowed": True})
        assert _ops(repo) == []
    repo("export", "--commit")
    assert _synced(repo) == (path, doc)


def test_sync_policy_set_to_null_is_deleted_and_one_left_out_is_left_alone(tmp_path, sim_factory, monkeypatch) -> None:
    """`identitySynchronization: null` (what export writes for a partner without one) deletes it live; a
    file without the key, as files exported before entragit read it are, leaves it alone, so rolling
    back to such a commit cannot stop a partner's user sync."""
    sim = sim_factory("demo", tls=True)
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    path, doc = _synced(repo)
    others = [yaml.safe_load(p.read_text()) for p in (repo.repo / "tenants/demo" / KIND).glob("*.yaml") if p != path]
    assert others and all(d["identitySynchronization"] is None for d in others), "none is written as null"
    sync = f"{PARTNERS}/{doc['tenantId']}/identitySynchronization"

    older = {k: v for k, v in doc.items() if k != "identitySynchronization"}
    path.write_text(yaml.safe_dump(older, sort_keys=False))
    subprocess.run(["git", "-C", str(repo.repo), "commit", "-qam", "a file from before the field"], check=True)
    assert _ops(repo) == [], "a file without the key does not manage it"

    path.write_text(yaml.safe_dump({**older, "identitySynchronization": None}, sort_keys=False))
    subprocess.run(["git", "-C", str(repo.repo), "commit", "-qam", "stop syncing Northwind users"], check=True)
    [op] = _ops(repo)
    assert op["action"] == "update"
    with admin(sim) as c:
        assert c.get(sync).status_code == 200
        repo("apply", "--yes")
        assert c.get(sync).status_code == 404
    assert _ops(repo) == []


def test_docs_example_is_kept_without_the_partner_key() -> None:
    """The response of crosstenantidentitysyncpolicypartner-get, read into a partner's body: the
    partner's tenantId it repeats is dropped, the rest kept as written."""
    example = {"tenantId": "9c5d131d-b1c3-4fc4-9e3f-c6557947d551", "displayName": "Fabrikam",
               "userSyncInbound": {"isSyncAllowed": True}}
    partner = {"tenantId": example["tenantId"], "identitySynchronization": example}
    body = canonical.clean(kinds.get(KIND), partner)
    assert body == {"tenantId": example["tenantId"],
                    "identitySynchronization": {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}}
