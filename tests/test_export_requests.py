"""How many requests a full export spends (issue 13): owners ride along on a `$expand` listing,
referenced users' names come from one listing of users when that is cheaper, and only what Graph cannot answer that way is read
object by object. The real CLI against the simulator, signed in with exactly the listed permissions."""

from __future__ import annotations

import math
import re
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .conftest import app_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
EXPAND_LINKS = 20  # Graph expands at most 20 linked objects per parent


@pytest.fixture
def tls_sim(sim_factory: Any) -> Any:
    return sim_factory("demo", tls=True)


def _admin(sim: Any) -> httpx.Client:
    return httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=ssl.create_default_context(cafile=sim.ca_bundle))


def _group_with_owners(c: httpx.Client, sim: Any, name: str, owners: list[str]) -> str:
    made = c.post("/groups", json={"displayName": name, "mailNickname": name, "mailEnabled": False,
                                   "securityEnabled": True, "groupTypes": []})
    assert made.status_code == 201, made.text
    gid = str(made.json()["id"])
    for uid in owners:
        r = c.post(f"/groups/{gid}/owners/$ref", json={"@odata.id": f"{sim.graph_url}/directoryObjects/{uid}"})
        assert r.status_code == 204, r.text
    return gid


def _owners_in_files(root: Path) -> dict[str, list[str]]:
    out = {}
    for p in sorted((root / "tenants" / "demo" / "groups").glob("*.yaml")):
        doc = yaml.safe_load(p.read_text())
        out[doc["id"]] = doc.get("owners") or []
    return out


def _many_owners(sim: Any) -> int:
    """Objects whose owners Graph's $expand may have cut short (20 or more): each needs its own read."""
    store = sim.store
    return sum(len(store.active_links(kind, str(o["id"]), "owners")) >= EXPAND_LINKS
               for kind in ("groups", "applications", "servicePrincipals") for o in store.all(kind))


def test_owners_come_from_expanded_listings_and_only_long_lists_are_read_apart(tmp_path, tls_sim, monkeypatch):
    sim = tls_sim
    users = sorted(str(u["id"]) for u in sim.store.all("users"))
    assert len(users) > EXPAND_LINKS
    with _admin(sim) as c:
        few = [_group_with_owners(c, sim, f"few-owners-{i}", users[i:i + 2]) for i in range(30)]
        exactly = _group_with_owners(c, sim, "twenty-owners", users[:EXPAND_LINKS])
        more = _group_with_owners(c, sim, "twenty-five-owners", users[:EXPAND_LINKS + 5])
    cli = app_repo(tmp_path / "r", sim, monkeypatch)
    since = len(sim.requests)
    cli("export")
    seen = sim.requests[since:]

    owner_reads = [r for r in seen if r.method == "GET" and r.path.endswith("/owners")]
    assert len(owner_reads) <= _many_owners(sim)
    read_apart = {r.path.split("/")[-2] for r in owner_reads}
    assert {exactly, more} <= read_apart, "a group with 20 expanded owners may have more: it is read on its own"
    assert not read_apart & set(few)

    # Every owner is in the files, the long lists whole.
    files = _owners_in_files(tmp_path / "r")
    assert files[more] == users[:EXPAND_LINKS + 5]
    assert files[exactly] == users[:EXPAND_LINKS]
    assert all(files[g] == users[i:i + 2] for i, g in enumerate(few))

    # One listing with $expand per kind with owners, 100 objects a page.
    groups = len(sim.store.all("groups"))
    listings = [r for r in seen if r.path.endswith("/groups") and "expand=owners" in r.query]
    assert len(listings) == math.ceil(groups / 100)


def test_referenced_users_are_named_by_one_listing_when_it_is_cheaper_than_a_get_each(tmp_path, tls_sim, monkeypatch):
    sim = tls_sim
    users = sorted(str(u["id"]) for u in sim.store.all("users"))
    with _admin(sim) as c:  # every user referenced: more than one $batch of GETs would hold
        _group_with_owners(c, sim, "everyone-owns", users)
    cli = app_repo(tmp_path / "r", sim, monkeypatch)
    since = len(sim.requests)
    cli("export")
    seen = sim.requests[since:]
    one_each = [r for r in seen if r.method == "GET" and re.fullmatch(r"/(v1\.0|beta)/users/[0-9a-f-]{36}", r.path)]
    listed = [r for r in seen if r.method == "GET" and r.path == "/v1.0/users"]
    assert len(users) > 20 and math.ceil(len(users) / 999) <= math.ceil(len(users) / 20)
    assert one_each == [] and len(listed) == math.ceil(len(users) / 999)
    named = set()
    for p in (tmp_path / "r" / "tenants" / "demo").glob("*/*.yaml"):
        refs = (yaml.safe_load(p.read_text()) or {}).get("refs") or {}
        named |= {k for k, v in refs.items() if isinstance(v, dict) and v.get("kind") == "users"}
    assert set(users) <= named, "every referenced user is named in the files"


def test_plan_verbose_reports_what_reading_the_tenant_cost(tmp_path, tls_sim, monkeypatch):
    cli = app_repo(tmp_path / "r", tls_sim, monkeypatch)
    cli("export", "--commit")
    since = len(tls_sim.requests)
    out = cli("plan", "-v").output
    line = next(x for x in out.splitlines() if x.startswith("read demo: ["))
    sent = [r for r in tls_sim.requests[since:] if "/oauth2/" not in r.path]
    batched = [r for r in sent if r.path.endswith("/$batch")]
    requests = int(line.split(" requests")[0].rsplit(", ", 1)[1])
    # The simulator records each $batch item too; the client counts the envelope as one request.
    assert 0 < len(batched) < requests < len(sent)


def test_an_incremental_export_reads_a_changed_groups_owners_by_itself_not_by_listing_all(tmp_path, tls_sim, monkeypatch):
    sim = tls_sim
    cli = app_repo(tmp_path / "r", sim, monkeypatch)
    cli("export", "--commit")
    gid = str(next(g for g in sim.store.all("groups") if g.get("displayName") == "Finance Admins")["id"])
    with _admin(sim) as c:
        assert c.patch(f"/groups/{gid}", json={"description": "changed"}).status_code == 204
    since = len(sim.requests)
    cli("export", "--commit")
    seen = sim.requests[since:]
    assert not [r for r in seen if r.path.endswith("/groups") and "expand=owners" in r.query]
    assert [r for r in seen if r.path.endswith(f"/groups/{gid}/owners")], "the changed group's owners are read"
