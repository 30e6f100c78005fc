"""The simulator's native backup jobs over HTTP, as the Graph docs describe them: 202 + Location,
the status sequence on the simulated clock, one job per tenant (409), getChanges only once a job
succeeded, cancel, scoping, paging, and who may do what (an app reads; only a delegated Backup
Administrator creates jobs; a Backup Reader reads)."""

from __future__ import annotations

import datetime as dt
import ssl
from typing import Any

import httpx
import pytest

from entragit_sim.devicecode import GRANT_TYPE
from tests.conftest import exact_app

GRAPH_CLI = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
ROLES = {"admin": "b6a27b2b-f905-4b2e-81b5-0d90e0ef1fdb", "reader": "f42252d9-5400-4d7b-b9ef-cc582dbb8577"}
NS = "microsoft.graph.entraRecoveryServices"
PREFER = {"Prefer": "include-unknown-enum-members"}
IDS = f"#{NS}.recoveryJobEntityNameAndIdsFilter"


def _verify(sim: Any) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=sim.ca_bundle)


def _as(sim: Any, token: str) -> httpx.Client:
    return httpx.Client(base_url=sim.graph_url, headers={"Authorization": f"Bearer {token}"}, verify=_verify(sim))


def _user_token(sim: Any, role: str) -> str:
    """Sign in by device code (Graph CLI) as a new user holding one backup role."""
    upn = f"backup-{role}@contosodemo.onmicrosoft.com"
    with _as(sim, "sim-admin") as c:
        user = c.post("/users", json={"displayName": f"Backup {role}", "userPrincipalName": upn,
                                      "mailNickname": f"backup-{role}", "accountEnabled": True,
                                      "passwordProfile": {"password": "Unused-1-Password!"}}).json()
        r = c.post("/roleManagement/directory/roleAssignments",
                   json={"principalId": user["id"], "roleDefinitionId": ROLES[role], "directoryScopeId": "/"})
        assert r.status_code == 201, r.text
    sim.device_flows.user = upn
    with httpx.Client(verify=_verify(sim)) as h:
        code = h.post(sim.device_code_url, data={"client_id": GRAPH_CLI,
                                                 "scope": "https://graph.microsoft.com/.default"}).json()
        tok = h.post(sim.token_url, data={"grant_type": GRANT_TYPE, "client_id": GRAPH_CLI,
                                          "device_code": code["device_code"]}).json()
    return str(tok["access_token"])


def _app_token(sim: Any) -> str:
    app_id, secret = exact_app(sim, extra=("EntraBackup.Read.All",))
    with httpx.Client(verify=_verify(sim)) as h:
        tok = h.post(sim.token_url, data={"grant_type": "client_credentials", "client_id": app_id,
                                          "client_secret": secret,
                                          "scope": "https://graph.microsoft.com/.default"}).json()
    return str(tok["access_token"])


@pytest.fixture
def sim(sim_factory: Any) -> Any:
    s = sim_factory("demo", tls=True, now=(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).isoformat())
    s.advance(2)
    return s


def _snapshot(c: httpx.Client) -> str:
    return str(c.get("/directory/recovery/snapshots").json()["value"][0]["id"])


def test_a_preview_job_runs_through_the_documented_states(sim: Any) -> None:
    admin = _as(sim, _user_token(sim, "admin"))
    snap = _snapshot(admin)
    r = admin.post(f"/directory/recovery/snapshots/{snap}/recoveryPreviewJobs")
    assert r.status_code == 202 and not r.content
    location = r.headers["Location"]
    assert location.startswith(sim.graph_url) and f"/snapshots/{snap}/recoveryPreviewJobs/" in location
    url = location.removeprefix(sim.graph_url)
    # Not finished: the changes are refused with the documented message.
    early = admin.get(f"{url}/{NS}.getChanges")
    assert early.status_code == 400 and "must have completed successfully" in early.text
    seen = [admin.get(url, headers=PREFER).json()["status"] for _ in range(3)]
    assert seen == ["calculating", "successful", "successful"]
    job = admin.get(url).json()
    assert job["targetStateDateTime"] and job["jobCompletionDateTime"] and job["totalChangedObjectsCalculated"] == 1
    # The one change since the snapshot: the administrator's own account, created after it.
    [change] = admin.get(f"{url}/{NS}.getChanges").json()["value"]
    assert (change["entityTypeName"], change["recoveryAction"], change["displayName"]) == \
        ("user", "softDelete", "Backup admin")
    assert change["deltaFromCurrent"]["@removed"] == {"reason": "changed"}
    # v1.0's qualified segment and beta's bare one name the same function.
    beta = location.replace("/v1.0/", "/beta/")
    assert admin.get(f"{beta}/getChanges").status_code == 200


def test_without_the_prefer_header_evolvable_states_read_unknown(sim: Any) -> None:
    admin = _as(sim, "sim-admin")
    r = admin.post(f"/directory/recovery/snapshots/{_snapshot(admin)}/recoveryJobs")
    url = r.headers["Location"].removeprefix(sim.graph_url)
    status = httpx.get(sim.graph_url + url, headers={"Authorization": "Bearer sim-admin"},
                       verify=_verify(sim)).json()["status"]
    assert status == "unknownFutureValue"  # loadingData hides behind Prefer: include-unknown-enum-members


def test_one_job_at_a_time_and_cancel(sim: Any) -> None:
    admin = _as(sim, _user_token(sim, "admin"))
    snap = _snapshot(admin)
    sim.router.job_seconds = 3600  # long enough to still be running
    first = admin.post(f"/directory/recovery/snapshots/{snap}/recoveryPreviewJobs")
    busy = admin.post(f"/directory/recovery/snapshots/{snap}/recoveryJobs")
    assert busy.status_code == 409 and "currently in progress" in busy.text
    job_id = first.headers["Location"].rsplit("/", 1)[1]
    r = admin.post(f"/directory/recovery/jobs/{job_id}/{NS}.cancel")
    assert r.status_code == 202 and r.headers["Location"].endswith(f"/directory/recovery/jobs/{job_id}")
    assert admin.get(f"/directory/recovery/jobs/{job_id}").json()["status"] == "abandoned"
    assert admin.post(f"/directory/recovery/jobs/{job_id}/cancel").status_code == 400  # already ended
    assert admin.post(f"/directory/recovery/snapshots/{snap}/recoveryJobs").status_code == 202


def test_a_scoped_recovery_restores_by_id_and_leaves_newer_objects(sim: Any) -> None:
    admin = _as(sim, _user_token(sim, "admin"))
    snap = _snapshot(admin)
    with _as(sim, "sim-admin") as c:
        groups = c.get("/groups", params={"$top": 3}).json()["value"]
        gone, renamed, other = groups
        assert c.delete(f"/groups/{gone['id']}").status_code == 204
        assert c.patch(f"/groups/{renamed['id']}", json={"description": "edited"}).status_code == 204
        assert c.patch(f"/groups/{other['id']}", json={"description": "keep me"}).status_code == 204
        newer = c.post("/groups", json={"displayName": "Newer", "mailNickname": "newer", "mailEnabled": False,
                                        "securityEnabled": True}).json()
    body = {"filteringCriteria": {"@odata.type": IDS, "filterValues": [
        {"entityType": "group", "entityIds": [gone["id"], renamed["id"]]}]}}
    url = admin.post(f"/directory/recovery/snapshots/{snap}/recoveryJobs", json=body).headers["Location"]
    url = url.removeprefix(sim.graph_url)
    while (job := admin.get(url, headers=PREFER).json())["status"] not in ("successful", "failed"):
        assert job["status"] in ("initialized", "loadingData", "calculating", "running")
    assert job["status"] == "successful" and job["totalObjectsModified"] == 2 and job["totalFailedChanges"] == 0
    assert admin.get(f"{url}/{NS}.getFailedChanges").json()["value"] == []
    with _as(sim, "sim-admin") as c:
        assert c.get(f"/groups/{gone['id']}").status_code == 200  # same id, back from soft delete
        assert c.get(f"/groups/{renamed['id']}").json()["description"] == renamed["description"]
        assert c.get(f"/groups/{other['id']}").json()["description"] == "keep me"  # out of scope
        assert c.get(f"/groups/{newer['id']}").status_code == 200


def test_scope_is_validated(sim: Any) -> None:
    admin = _as(sim, "sim-admin")
    snap = _snapshot(admin)
    dup = {"filteringCriteria": {"@odata.type": IDS, "filterValues": [
        {"entityType": "group", "entityIds": ["a"]}, {"entityType": "group", "entityIds": ["b"]}]}}
    assert admin.post(f"/directory/recovery/snapshots/{snap}/recoveryPreviewJobs", json=dup).status_code == 400
    many = {"filteringCriteria": {"@odata.type": IDS, "filterValues": [
        {"entityType": "user", "entityIds": [str(i) for i in range(101)]}]}}
    assert admin.post(f"/directory/recovery/snapshots/{snap}/recoveryPreviewJobs", json=many).status_code == 400
    assert admin.post("/directory/recovery/snapshots/bm9wZQ==/recoveryPreviewJobs").status_code == 404


def test_an_app_reads_but_cannot_create_and_a_reader_cannot_either(sim: Any) -> None:
    app = _as(sim, _app_token(sim))
    snap = _snapshot(app)
    assert app.get("/directory/recovery/jobs").json()["value"] == []
    for kind in ("recoveryPreviewJobs", "recoveryJobs"):
        r = app.post(f"/directory/recovery/snapshots/{snap}/{kind}")
        assert r.status_code == 403 and "Authorization has been denied" in r.text
    reader = _as(sim, _user_token(sim, "reader"))
    assert reader.get(f"/directory/recovery/snapshots/{snap}/recoveryPreviewJobs").status_code == 200
    assert reader.post(f"/directory/recovery/snapshots/{snap}/recoveryPreviewJobs").status_code == 403
    sim.router.reader_previews = True  # as the role catalogue and the beta page read
    assert reader.post(f"/directory/recovery/snapshots/{snap}/recoveryJobs").status_code == 403
    first = reader.post(f"/directory/recovery/snapshots/{snap}/recoveryPreviewJobs")
    assert first.status_code == 202
    assert reader.post(f"/directory/recovery/jobs/{first.headers['Location'].rsplit('/', 1)[1]}/cancel").status_code == 202
    sim.router.reader_previews = False
    # The reader reads a report the administrator made, page by page.
    admin = _as(sim, _user_token(sim, "admin"))
    with _as(sim, "sim-admin") as c:
        for g in c.get("/groups", params={"$top": 3}).json()["value"]:
            c.patch(f"/groups/{g['id']}", json={"description": "changed"})
    url = admin.post(f"/directory/recovery/snapshots/{snap}/recoveryPreviewJobs").headers["Location"]
    url = url.removeprefix(sim.graph_url)
    while (job := admin.get(url).json())["status"] != "successful":
        pass
    page = reader.get(f"{url}/{NS}.getChanges", params={"$top": 2}).json()
    changes = list(page["value"])
    assert len(changes) == 2
    while "@odata.nextLink" in page:
        page = reader.get(page["@odata.nextLink"]).json()
        changes += page["value"]
    assert len(changes) == job["totalChangedObjectsCalculated"]
    updates = [c for c in changes if c["recoveryAction"] == "update"]
    assert len(updates) == 3 and all(c["entityTypeName"] == "group" for c in updates)
    assert all(c["currentState"]["description"] == "changed" for c in updates)
    # Created since the snapshot: the two users, the app and its service principal.
    assert sorted(c["entityTypeName"] for c in changes if c["recoveryAction"] == "softDelete") == \
        ["application", "servicePrincipal", "user", "user"]


def test_an_unscoped_recovery_soft_deletes_what_is_newer_than_the_snapshot(sim: Any) -> None:
    admin = _as(sim, "sim-admin")
    snap = _snapshot(admin)
    newer = admin.post("/groups", json={"displayName": "Newer", "mailNickname": "newer", "mailEnabled": False,
                                        "securityEnabled": True}).json()
    url = admin.post(f"/directory/recovery/snapshots/{snap}/recoveryJobs").headers["Location"]
    url = url.removeprefix(sim.graph_url)
    while admin.get(url).json()["status"] != "successful":
        pass
    assert admin.get(f"/groups/{newer['id']}").status_code == 404
    deleted = admin.get(f"/directory/deletedItems/{newer['id']}")
    assert deleted.status_code == 200  # soft-deleted, restorable: recovery never hard-deletes
    assert admin.delete(url).status_code == 405
