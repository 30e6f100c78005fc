"""A write whose answer is lost (504 after it was committed, or a dropped connection) is read back
before anything is resent: apply never makes two objects, and the next plan is empty."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from typing import Any

import httpx
import pytest
import yaml

from entragit.errors import AnswerLost
from entragit.graph import Graph

from .conftest import make_repo

ADMIN = {"Authorization": "Bearer sim-admin"}
CA = "/identity/conditionalAccess/policies"
GROUP = {"displayName": "Lost Answers", "mailEnabled": False, "mailNickname": "lost", "securityEnabled": True}


def _names(c: httpx.Client, url: str) -> Counter[str]:
    return Counter(x["displayName"] for x in c.get(url).json()["value"])


def _tenant(sim: Any) -> dict[str, Counter[str]]:
    """displayName counts of the kinds the damage and its repair touch."""
    beta = sim.graph_url.replace("/v1.0", "/beta")
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        return {"groups": _names(c, "/groups?$top=999"), "policies": _names(c, beta + CA)}


def _portal(c: httpx.Client, method: str, url: str, **kw: Any) -> None:
    """An admin's write under the same faults: it lands whatever answer comes back."""
    with contextlib.suppress(httpx.RemoteProtocolError):
        assert c.request(method, url, **kw).status_code in (204, 504)


def _damage(sim: Any) -> tuple[str, str]:
    """Hard-delete the group twelve CA policies use and weaken one of those policies; returns both ids."""
    beta = sim.graph_url.replace("/v1.0", "/beta")
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        gid = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]["id"]
        pol = next(p for p in c.get(beta + CA).json()["value"] if gid in json.dumps(p["conditions"]))
        _portal(c, "DELETE", f"/groups/{gid}")
        _portal(c, "DELETE", f"/directory/deletedItems/{gid}")
        _portal(c, "PATCH", f"{beta}{CA}/{pol['id']}", json={"state": "disabled"})
        assert c.get(f"/directory/deletedItems/{gid}").status_code == 404
        assert c.get(f"{beta}{CA}/{pol['id']}").json()["state"] == "disabled"
    return gid, pol["id"]


def _lost(sim: Any, method: str, path: str, status: int) -> int:
    return sum(1 for r in sim.requests if r.method == method and r.path == path and r.status == status)


@pytest.mark.parametrize(("faults", "status"), [("lost=0.3,seed=0", 504), ("lostreset=0.3,seed=0", 0)],
                         ids=["lost-504", "dropped-connection"])
def test_apply_with_lost_answers_makes_no_duplicates(tmp_path, sim_factory, faults, status) -> None:
    sim = sim_factory("demo", faults=faults)
    cli = make_repo(tmp_path / "r", sim)
    cli("export", "--commit")
    before = _tenant(sim)
    old, pol = _damage(sim)
    cli("apply", "--yes")
    # Seed 0 loses the answer to the group's create: the proof that it was read back, not resent.
    assert _lost(sim, "POST", "/v1.0/groups", status) >= 1
    assert sum(1 for r in sim.requests if r.method != "GET" and r.status == status and "$batch" not in r.path) > 1
    assert _tenant(sim) == before, "every object once: no duplicate by displayName"
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        new = c.get("/groups", params={"$filter": "displayName eq 'Finance Admins'"}).json()["value"][0]["id"]
        policy = c.get(sim.graph_url.replace("/v1.0", "/beta") + f"{CA}/{pol}").json()
    assert policy["state"] == "enabled" and new in json.dumps(policy["conditions"])
    idmap = yaml.safe_load((tmp_path / "r" / "tenants" / "demo" / "idmap.yaml").read_text())
    assert idmap["groups"] == {old: new}
    cli("plan", "--detailed-exitcode")  # exit 0: nothing left to do


def test_transport_never_resends_a_write_on_5xx_but_retries_reads(sim_factory) -> None:
    sim = sim_factory("empty", faults="503=1")

    async def post() -> int:
        async with Graph(sim.graph_url, token="sim-admin") as g:
            return (await g.send("POST", "/groups", body=GROUP)).status

    assert asyncio.run(post()) == 503
    assert _lost(sim, "POST", "/v1.0/groups", 503) == 1, "sent once: the middleware did not resend it"


def test_a_dropped_write_raises_answer_lost_after_one_send(sim_factory) -> None:
    sim = sim_factory("empty", faults="lostreset=1")

    async def post() -> None:
        async with Graph(sim.graph_url, token="sim-admin") as g:
            await g.send("POST", "/groups", body=GROUP)

    with pytest.raises(AnswerLost):
        asyncio.run(post())
    assert [r.status for r in sim.requests if r.method == "POST"] == [0]
    assert _tenant(sim)["groups"]["Lost Answers"] == 1, "committed, though its answer never came"


def test_lost_deletes_and_unlinks_are_read_back_not_resent(tmp_path, sim_factory) -> None:
    import git

    # The delete and the unlink are independent: they share apply's first envelope of writes, whose
    # answer seed 2 loses (the sim draws a lost answer per request: the envelope, not its parts).
    sim = sim_factory("demo", faults="lost=0.3,seed=2")
    cli = make_repo(tmp_path / "r", sim)
    cli("export", "--commit")
    tdir = tmp_path / "r" / "tenants" / "demo" / "groups"
    marketing = yaml.safe_load((tdir / "dept-marketing.yaml").read_text())["id"]
    aurora = yaml.safe_load((tdir / "project-aurora.yaml").read_text())["id"]
    mia = "1ca3d1f3-30a5-5610-b161-1a6ab1837667"
    (tdir / "dept-marketing.yaml").unlink()
    text = (tdir / "project-aurora.yaml").read_text()
    (tdir / "project-aurora.yaml").write_text("".join(x for x in text.splitlines(True) if mia not in x))
    repo = git.Repo(tmp_path / "r")
    repo.git.add(A=True)
    repo.index.commit("retire Dept - Marketing; Mia leaves Project Aurora")
    since = len(sim.requests)
    cli("apply", "--prune", "--yes")
    unlink = f"/v1.0/groups/{aurora}/members/{mia}/$ref"
    for path in (f"/v1.0/groups/{marketing}", unlink):
        sent = [r.status for r in sim.requests if r.method == "DELETE" and r.path == path]
        assert sent == [204], (path, sent)  # carried out once, its answer lost, settled by reading: never resent
    envelopes = [r.status for r in sim.requests[since:] if r.method == "POST" and r.path == "/v1.0/$batch"]
    assert 504 in envelopes, envelopes
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        assert c.get(f"/groups/{marketing}").status_code == 404
        assert mia not in {m["id"] for m in c.get(f"/groups/{aurora}/members").json()["value"]}
    cli("plan", "--prune", "--detailed-exitcode")


def test_a_lost_write_that_cannot_be_read_back_fails_naming_the_next_plan(tmp_path, sim_factory) -> None:
    from entragit import apply
    from entragit.plan import Op, Plan

    sim = sim_factory("empty", faults="503=1")  # the reads that would settle it fail too
    plan = Plan("demo", "HEAD", (Op("create", "groups", "old-id", "Lost Answers", body=GROUP),))

    async def run() -> apply.ApplyResult:
        async with Graph(sim.graph_url, token="sim-admin", max_retries=0) as g:
            return await apply.execute(g, plan, tmp_path)

    [out] = asyncio.run(run()).outcomes
    assert not out.ok and "answer lost (503" in out.detail and "the next plan will reconcile" in out.detail
    assert [r.method for r in sim.requests if r.method != "GET"] == ["POST"], "sent once, never resent"


def test_a_lost_write_that_did_not_land_is_sent_once_more(tmp_path, sim_factory) -> None:
    from entragit import apply
    from entragit.plan import Op, Plan

    # Seed 59 drops the first request before the simulator runs it, and lets the next ones through.
    sim = sim_factory("empty", faults="reset=0.5,seed=59")
    plan = Plan("demo", "HEAD", (Op("create", "groups", "old-id", "Lost Answers", body=GROUP),))

    async def run() -> apply.ApplyResult:
        async with Graph(sim.graph_url, token="sim-admin") as g:
            return await apply.execute(g, plan, tmp_path)

    [out] = asyncio.run(run()).outcomes
    assert out.ok, out.detail
    seen = [(r.method, r.status) for r in sim.requests]
    assert seen == [("POST", 0), ("GET", 200), ("GET", 200), ("POST", 201)], "read back (twice), then resent"
    assert _tenant(sim)["groups"]["Lost Answers"] == 1
    assert apply.load_idmap(tmp_path) == {"old-id": out.detail.split()[1]}


def test_every_write_losing_its_answer_still_converges(tmp_path, sim_factory) -> None:
    """lost=1: each write of a strength edit (action, sub-collection POST and PATCH) is committed and
    answered 504; each is settled by reading, none is sent twice, and the next plan is empty."""
    from entragit_sim.faults import parse_faults

    strengths = "/policies/authenticationStrengthPolicies"
    fido2 = "#microsoft.graph.fido2CombinationConfiguration"
    x509 = "#microsoft.graph.x509CertificateCombinationConfiguration"
    sim = sim_factory("demo")
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        made = c.post(strengths, json={
            "displayName": "Contractor keys", "allowedCombinations": ["fido2"],
            "combinationConfigurations": [{"@odata.type": fido2, "appliesToCombinations": ["fido2"],
                                           "allowedAAGUIDs": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]}]}).json()
    cli = make_repo(tmp_path / "r", sim)
    cli("export", "--commit")
    path = tmp_path / "r" / "tenants" / "demo" / "authenticationStrengthPolicies" / "contractor-keys.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["allowedCombinations"] = ["fido2", "x509CertificateMultiFactor"]
    doc["combinationConfigurations"][0]["allowedAAGUIDs"].append("ee882879-721c-4913-9775-3dfcce97072a")
    doc["combinationConfigurations"].append({
        "@odata.type": x509, "appliesToCombinations": ["x509CertificateMultiFactor"],
        "allowedIssuerSkis": ["1A4248C6AC8C2931AB2A86537818E92E7B6C97B7"], "allowedPolicyOIDs": ["1.1.1.1"]})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    cli("fmt")
    sim.router.faults = parse_faults("lost=1")
    since = len(sim.requests)
    cli("apply", "--yes", "--ref", "WORKTREE")
    writes = [(r.method, r.path, r.status) for r in sim.requests[since:] if r.method != "GET" and "$batch" not in r.path]
    assert len(writes) == 3 and {s for _, _, s in writes} == {504}, writes
    assert len({(m, p) for m, p, _ in writes}) == 3, "no write sent twice"
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        configs = c.get(f"{strengths}/{made['id']}/combinationConfigurations").json()["value"]
    assert sorted(x["@odata.type"] for x in configs) == [fido2, x509]
    cli("plan", "--ref", "WORKTREE", "--detailed-exitcode")
