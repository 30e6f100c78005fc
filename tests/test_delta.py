"""Incremental export: after a committed export, the next reads what delta reports changed, and
writes exactly the bytes a full read would."""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
from pathlib import Path
from typing import Any

import git
import httpx
import pytest
from click.testing import CliRunner

from entragit.cli import main

from .conftest import Cli, app_repo

ADMIN = {"Authorization": "Bearer sim-admin"}


def _files(repo: Cli) -> dict[str, bytes]:
    d = repo.repo / "tenants" / "demo"
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.glob("*/*.yaml"))}


def _ref(oid: str) -> dict[str, str]:
    return {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{oid}"}


@pytest.fixture
def sim(sim_factory: Any) -> Any:
    return sim_factory("demo", tls=True)  # the reader app signs in with a client secret, over TLS


def _verify(sim: Any) -> Any:
    return ssl.create_default_context(cafile=sim.ca_bundle) if sim.ca_bundle else True


def _change_the_tenant(sim: Any) -> None:
    """Create, update, delete, add and remove members, rename and delete users the files name."""
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=_verify(sim)) as c:
        groups = c.get("/groups", params={"$top": "999"}).json()["value"]
        static = [g for g in groups if "DynamicMembership" not in (g.get("groupTypes") or [])]
        one, two, three = static[0], static[1], static[2]
        assert c.patch(f"/groups/{one['id']}", json={"description": "changed by the portal"}).status_code == 204
        assert c.delete(f"/groups/{three['id']}").status_code == 204
        made = c.post("/groups", json={"displayName": "Delta Newcomers", "mailEnabled": False,
                                       "mailNickname": "delta-newcomers", "securityEnabled": True})
        assert made.status_code == 201, made.text
        members = c.get(f"/groups/{two['id']}/members").json()["value"]
        users = c.get("/users", params={"$top": "999"}).json()["value"]
        newcomer = next(u for u in users if u["id"] not in {m["id"] for m in members})
        assert c.post(f"/groups/{two['id']}/members/$ref", json=_ref(newcomer["id"])).status_code == 204
        if members:
            gone = members[0]["id"]
            assert c.delete(f"/groups/{two['id']}/members/{gone}/$ref").status_code == 204
        named = members[-1]["id"] if len(members) > 1 else newcomer["id"]
        assert c.patch(f"/users/{named}", json={"displayName": "Renamed Person"}).status_code == 204
        units = c.get("/directory/administrativeUnits").json()["value"]
        unit = next(u for u in units if u.get("membershipType") != "dynamic")
        assert c.post(f"/directory/administrativeUnits/{unit['id']}/members/$ref",
                      json=_ref(newcomer["id"])).status_code in (204, 400)  # 400: already a member
        owners = c.get(f"/groups/{one['id']}/owners").json()["value"]
        leaver = next(u for u in users if u["id"] not in {named, newcomer["id"]}
                      and u["id"] in {o["id"] for o in owners} | {m["id"] for m in members})
        assert c.delete(f"/users/{leaver['id']}").status_code == 204  # a referenced user leaves


def test_unchanged_tenant_reads_incrementally_and_commits_nothing(tmp_path: Path, sim: Any, monkeypatch: Any) -> None:
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    first = repo("export", "--commit").output
    assert "(full read: no delta state yet)" in first
    head = git.Repo(repo.repo).head.commit.hexsha
    before = _files(repo)
    again = repo("export", "--commit").output
    assert "no changes" in again and "(incremental read)" in again
    assert git.Repo(repo.repo).head.commit.hexsha == head and _files(repo) == before
    forced = repo("export", "--commit", "--full").output
    assert "(full read: --full)" in forced and "no changes" in forced


def test_incremental_export_is_byte_identical_to_a_full_export(tmp_path: Path, sim: Any, monkeypatch: Any) -> None:
    incremental = app_repo(tmp_path / "incremental", sim, monkeypatch)
    full = Cli(tmp_path / "full")  # the same reader app: the tenant holds no second one
    assert CliRunner().invoke(main, ["init", str(full.repo)]).exit_code == 0
    (full.repo / "tenants" / "demo").mkdir(parents=True)
    tenant = incremental.repo / "tenants" / "demo" / "tenant.yaml"
    (full.repo / "tenants" / "demo" / "tenant.yaml").write_bytes(tenant.read_bytes())
    for repo in (incremental, full):  # the same history: what a gone reference was last called
        repo("export", "--commit")
    _change_the_tenant(sim)
    out = incremental("export", "--commit").output
    assert "(incremental read)" in out and "-> commit" in out
    assert "(full read: --full)" in full("export", "--commit", "--full").output
    mine, theirs = _files(incremental), _files(full)
    assert sorted(mine) == sorted(theirs)
    assert [p for p in mine if mine[p] != theirs[p]] == []
    assert any(b"Renamed Person" in text for text in mine.values())
    assert any(p.startswith("groups/delta-newcomers") for p in mine)


def test_a_file_kept_from_the_last_export_follows_what_it_names(tmp_path: Path, sim: Any, monkeypatch: Any) -> None:
    """An incremental export keeps an unchanged group's file as it was written, unless an object its
    refs name changed: a member renamed (delta reports the user, not the group) still reaches the
    group's file, as a full read writes it."""
    incremental = app_repo(tmp_path / "incremental", sim, monkeypatch)
    incremental("export", "--commit")
    incremental("export", "--commit")  # the second: the files are the cache's, the base is the export's own
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN, verify=_verify(sim)) as c:
        groups = c.get("/groups", params={"$top": "999"}).json()["value"]
        static = [g for g in groups if "DynamicMembership" not in (g.get("groupTypes") or [])]
        members = {g["id"]: c.get(f"/groups/{g['id']}/members").json()["value"] for g in static}
        group = next(g for g in static if any(m.get("userPrincipalName") for m in members[g["id"]]))
        user = next(m for m in members[group["id"]] if m.get("userPrincipalName"))
        assert c.patch(f"/users/{user['id']}", json={"displayName": "Quietly Renamed"}).status_code == 204
    before = _files(incremental)
    out = incremental("export", "--commit").output
    assert "(incremental read)" in out
    after = _files(incremental)
    changed = sorted(p for p in after if after[p] != before.get(p))
    assert any(p.startswith("groups/") for p in changed), changed
    assert all(b"Quietly Renamed" in after[p] for p in changed)
    full = Cli(tmp_path / "full")
    assert CliRunner().invoke(main, ["init", str(full.repo)]).exit_code == 0
    (full.repo / "tenants" / "demo").mkdir(parents=True)
    tenant = incremental.repo / "tenants" / "demo" / "tenant.yaml"
    (full.repo / "tenants" / "demo" / "tenant.yaml").write_bytes(tenant.read_bytes())
    full("export")
    theirs = _files(full)
    assert [p for p in after if after[p] != theirs.get(p)] == []


def test_edited_files_or_an_expired_link_mean_a_full_read(tmp_path: Path, sim: Any, monkeypatch: Any) -> None:
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    victim = sorted((repo.repo / "tenants" / "demo" / "groups").glob("*.yaml"))[0]
    victim.write_text(victim.read_text() + "# a note\n")
    r = git.Repo(repo.repo)
    r.index.add([str(victim)])
    r.index.commit("a hand edit")
    assert "(full read: the tenant's files changed since the last export)" in repo("export", "--commit").output
    assert "(incremental read)" in repo("export", "--commit").output
    root = sim.graph_url.rsplit("/v1.0", 1)[0]
    assert httpx.post(f"{root}/_sim/delta/expire", headers=ADMIN, verify=_verify(sim)).status_code == 200
    assert "(full read: a delta link expired" in repo("export", "--commit").output
    sim.advance(8)  # Graph keeps delta links of directory objects 7 days
    assert "(full read: a delta link expired" in repo("export", "--commit").output
    monkeypatch.setattr("entragit.delta.FULL_EVERY", dt.timedelta(0))  # the weekly full read is due
    assert "(full read: the last full read is 0 days old)" in repo("export", "--commit").output


def test_a_new_graph_endpoint_means_a_full_read_not_a_link_to_the_old_one(tmp_path: Path, sim: Any,
                                                                           monkeypatch: Any) -> None:
    """Delta links are absolute: after tenant.yaml's graphUrl changes (another cloud, a proxy, a
    restarted simulator), the saved ones name the old endpoint and are never followed."""
    import yaml

    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    tyaml = repo.repo / "tenants" / "demo" / "tenant.yaml"
    doc = yaml.safe_load(tyaml.read_text())
    old = doc["graphUrl"]
    doc["graphUrl"] = old.replace("127.0.0.1", "localhost")  # the same simulator under another name
    tyaml.write_text(yaml.safe_dump(doc, sort_keys=False))
    r = git.Repo(repo.repo)
    r.index.add([str(tyaml)])
    r.index.commit("the Graph endpoint moved")
    assert "(full read: the tenant's Graph endpoint changed since the last export)" in repo("export", "--commit").output
    assert "(incremental read)" in repo("export", "--commit").output


MEMBERS = re.compile(r"/groups/[0-9a-f-]{36}/members$")


def test_plan_reads_the_last_export_plus_delta_and_plans_as_a_full_read_does(tmp_path: Path, sim: Any,
                                                                             monkeypatch: Any) -> None:
    """A plan after a committed export reads the groups, units and users' names as that export's
    files plus what delta reports since: the same plan as a full read, in fewer requests, even when
    the files planned are a later commit (a hand edit: the delta base is the export's own commit)."""
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    groups = repo.repo / "tenants" / "demo" / "groups"
    edited = next(p for p in sorted(groups.glob("*.yaml")) if "\ndescription: " in p.read_text())
    text = edited.read_text()
    at = text.index("\ndescription: ") + len("\ndescription: ")
    edited.write_text(text[:at] + "Edited in a pull request " + text[at:])
    r = git.Repo(repo.repo)
    r.index.add([str(edited)])
    r.index.commit("a hand edit")
    _change_the_tenant(sim)
    since = len(sim.requests)
    inc = repo("plan", "--format", "json", "-v")
    middle = len(sim.requests)
    full = repo("plan", "--format", "json", "-v", "--full-read")
    member_reads = [sum(1 for r in sim.requests[a:b] if r.method == "GET" and MEMBERS.search(r.path))
                    for a, b in ((since, middle), (middle, len(sim.requests)))]
    assert "(incremental read: the last export's files and what Graph's delta reports since" in inc.stderr
    assert "(full read: not asked)" in full.stderr and "incremental" not in full.stderr
    assert json.loads(inc.stdout) == json.loads(full.stdout)
    ops = json.loads(inc.stdout)["operations"]
    assert any("Edited in a pull request" in json.dumps(op) for op in ops)  # the hand edit, to apply
    assert any(op["action"] == "create" for op in ops)  # the deleted group, back from the files
    # Members are read again only for the groups delta reported changed (a referenced user who left
    # changed every group they were in), not for every group.
    assert 1 <= member_reads[0] < member_reads[1], member_reads
    # A link Graph no longer serves: the plan reads in full and says why.
    root = sim.graph_url.rsplit("/v1.0", 1)[0]
    assert httpx.post(f"{root}/_sim/delta/expire", headers=ADMIN, verify=_verify(sim)).status_code == 200
    again = repo("plan", "--format", "json", "-v")
    assert "(full read: a delta link expired" in again.stderr and json.loads(again.stdout) == json.loads(full.stdout)


def test_plan_without_a_delta_state_reads_in_full(tmp_path: Path, sim: Any, monkeypatch: Any) -> None:
    repo = app_repo(tmp_path / "config", sim, monkeypatch)
    repo("export", "--commit")
    (repo.repo / ".git" / "entragit-delta" / "demo.json").unlink()  # as on a fresh clone in CI
    out = repo("plan", "-v").stderr
    assert "(full read: no delta state yet)" in out and "incremental" not in out
