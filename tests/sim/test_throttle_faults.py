"""Throttling families, latency and injected faults (graph-notes 6.5, 6.9)."""

from __future__ import annotations

import time

import httpx
import pytest

from entragit_sim.faults import FaultSpecError, parse_faults
from entragit_sim.throttle import ThrottleSpecError, parse_spec
from tests.sim.conftest import ADMIN


def test_ru_bucket_429_with_retry_after(make_sim) -> None:
    sim = make_sim(throttle="ru=4/60")
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN) as g:
        first = g.get("groups")
        assert first.status_code == 200 and first.headers["x-ms-resource-unit"] == "1"
        assert g.get("users").headers["x-ms-resource-unit"] == "2"  # GET /users costs 2 RU
        g.get("groups")
        r = g.get("groups")
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) >= 1
        assert r.headers["x-ms-throttle-scope"].startswith("Tenant_Application/Read/sim-admin/")
        assert r.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
        # CA paths are a different family: unaffected by the RU bucket.
        assert g.get("identity/conditionalAccess/policies").status_code == 200


def test_ca_family_one_per_second_without_retry_after(make_sim) -> None:
    sim = make_sim(throttle="ca=1/0.3")
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN) as g:
        assert g.get("identity/conditionalAccess/policies").status_code == 200
        r = g.get("identity/conditionalAccess/namedLocations")
        assert r.status_code == 429 and "Retry-After" not in r.headers
        time.sleep(0.35)
        assert g.get("identity/conditionalAccess/namedLocations").status_code == 200
        assert g.get("groups").status_code == 200  # directory family is off


def test_write_quota(make_sim) -> None:
    sim = make_sim(throttle="w=1/60")
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN) as g:
        body = {
            "displayName": "t",
            "mailEnabled": False,
            "mailNickname": "t",
            "securityEnabled": True,
        }
        assert g.post("groups", json=body).status_code == 201
        r = g.post("groups", json=body)
        assert (
            r.status_code == 429 and r.headers["x-ms-throttle-information"] == "WriteLimitExceeded"
        )


def test_batch_items_are_throttled_individually(make_sim) -> None:
    sim = make_sim(throttle="ru=2/60")
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN) as g:
        r = g.post(
            "$batch",
            json={
                "requests": [{"id": str(i), "method": "GET", "url": "/groups"} for i in range(3)]
            },
        )
        statuses = sorted(x["status"] for x in r.json()["responses"])
        assert r.status_code == 200 and statuses == [200, 200, 429]


def test_specs_parse_and_reject() -> None:
    assert parse_spec("on") == {"ru": (3500.0, 10.0), "w": (3000.0, 150.0), "ca": (1.0, 1.0), "msa": (60.0, 60.0)}
    with pytest.raises(ThrottleSpecError):
        parse_spec("xx=1/1")
    f = parse_faults("500=0.05,503=0.02,504=0.01,reset=0.01,slow=0.02:2000,lag=1500,seed=7")
    assert f.status == {500: 0.05, 503: 0.02, 504: 0.01} and f.slow_ms == 2000 and f.lag_ms == 1500
    with pytest.raises(FaultSpecError):
        parse_faults("500=0.9,503=0.9")


def test_faults_are_deterministic_for_a_seed(make_sim) -> None:
    def statuses() -> list[int]:
        sim = make_sim(faults="500=0.3,503=0.2,seed=11")
        with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN) as g:
            return [g.get("groups").status_code for _ in range(30)]

    a, b = statuses(), statuses()
    assert a == b and {500, 503, 200} <= set(a)


def test_fault_body_and_reset(make_sim) -> None:
    sim = make_sim(faults="503=1")
    r = httpx.get(f"{sim.graph_url}/groups", headers=ADMIN)
    assert r.status_code == 503 and r.json()["error"]["code"] == "serviceNotAvailable"
    sim2 = make_sim(faults="reset=1")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{sim2.graph_url}/groups", headers=ADMIN)


def test_lost_answers_commit_the_write_then_lose_only_its_answer(make_sim) -> None:
    assert parse_faults("lost=0.2,lostreset=0.1").lost_reset == 0.1
    with pytest.raises(FaultSpecError):
        parse_faults("lost=0.8,lostreset=0.8")
    sim = make_sim(faults="lost=1")
    group = {"displayName": "L", "mailEnabled": False, "mailNickname": "l", "securityEnabled": True}
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN) as g:
        r = g.post("groups", json=group)
        assert r.status_code == 504 and r.json()["error"]["code"] == "gatewayTimeout"
        found = g.get("groups", params={"$filter": "displayName eq 'L'"})  # reads keep their answers
        assert found.status_code == 200 and len(found.json()["value"]) == 1
        reads = g.post("$batch", json={"requests": [{"id": "1", "method": "GET", "url": "/groups"}]})
        assert reads.status_code == 200, "a $batch of reads commits nothing, so it keeps its answer"
    sim2 = make_sim(faults="lostreset=1")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{sim2.graph_url}/groups", headers=ADMIN, json=group)
    made = httpx.get(f"{sim2.graph_url}/groups", headers=ADMIN, params={"$filter": "displayName eq 'L'"})
    assert len(made.json()["value"]) == 1, "committed before the connection dropped"


def test_lost_answers_hang_on_the_request_not_the_stream(make_sim) -> None:
    def fates(noise: int) -> list[int]:
        sim = make_sim(faults="lost=0.5,seed=3")
        with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN) as g:
            gid = g.get("groups").json()["value"][0]["id"]
            out = []
            for i in range(12):
                for _ in range(noise):  # other writes in between (concurrent membership runs)
                    g.patch("organization/none", json={})
                out.append(g.patch(f"groups/{gid}", json={"description": str(i)}).status_code)
            return out

    a, b = fates(0), fates(2)
    assert a == b and {204, 504} <= set(a)


def test_read_after_write_lag(make_sim) -> None:
    sim = make_sim(faults="lag=300")
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN) as g:
        gid = g.post(
            "groups",
            json={
                "displayName": "L",
                "mailEnabled": False,
                "mailNickname": "l",
                "securityEnabled": True,
            },
        ).json()["id"]
        assert g.get(f"groups/{gid}").status_code == 404
        time.sleep(0.35)
        assert g.get(f"groups/{gid}").status_code == 200


def test_latency(make_sim) -> None:
    sim = make_sim(latency_ms=150)
    t = time.monotonic()
    httpx.get(f"{sim.graph_url}/groups", headers=ADMIN)
    assert time.monotonic() - t >= 0.15


def test_consumer_app_writes_have_their_own_quota(make_sim) -> None:
    """Row 22 of the real-Graph findings: writes to applications that let personal Microsoft accounts in
    have their own per-app quota (getByIds' 3 RU: tests/sim/test_directory_objects.py) (https://learn.microsoft.com/graph/throttling-limits)."""
    sim = make_sim(throttle="ru=3500/10,msa=2/60")
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN) as g:
        work = g.post("applications", json={"displayName": "Work", "signInAudience": "AzureADMyOrg"}).json()
        consumer = g.post("applications", json={"displayName": "Consumer",
                                                "signInAudience": "AzureADandPersonalMicrosoftAccount"})
        assert consumer.status_code == 201
        assert g.patch(f"applications/{consumer.json()['id']}", json={"notes": "1"}).status_code == 204
        r = g.patch(f"applications/{consumer.json()['id']}", json={"notes": "2"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert g.patch(f"applications/{work['id']}", json={"notes": "x"}).status_code == 204  # its own quota
        assert g.get(f"applications/{consumer.json()['id']}").status_code == 200  # reads are not counted
