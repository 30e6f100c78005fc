"""roleEligibilityScheduleRequests: adminAssign makes a schedule shaped as Graph's example, adminRemove
revokes it; duplicates, missing eligibilities, bad expirations and service principals are refused."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sim.conftest import oid, role_id

REQUESTS = "roleManagement/directory/roleEligibilityScheduleRequests"
SCHEDULES = "roleManagement/directory/roleEligibilitySchedules"


def _request(graph: httpx.Client, action: str, principal: str, **extra: Any) -> httpx.Response:
    return graph.post(REQUESTS, json={"action": action, "principalId": principal,
                                      "roleDefinitionId": role_id("Security Reader"), "directoryScopeId": "/",
                                      **extra})


def test_assign_then_remove(graph: httpx.Client) -> None:
    user = oid("user0")
    made = _request(graph, "adminAssign", user, justification="on call",
                    scheduleInfo={"startDateTime": "2030-01-01T00:00:00Z",
                                  "expiration": {"type": "afterDuration", "duration": "P180D"}})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "Provisioned" and body["targetScheduleId"] == body["id"]
    [sched] = graph.get(SCHEDULES).json()["value"]
    assert sched["id"] == sched["createdUsing"] == body["id"]
    assert sched["memberType"] == "Direct" and sched["status"] == "Provisioned"
    assert sched["scheduleInfo"] == {"startDateTime": "2030-01-01T00:00:00Z", "recurrence": None,
                                     "expiration": {"type": "afterDuration", "endDateTime": None, "duration": "P180D"}}
    again = _request(graph, "adminAssign", user)
    assert again.status_code == 400 and again.json()["error"]["code"] == "RoleAssignmentExists"
    gone = _request(graph, "adminRemove", user)
    assert gone.status_code == 201 and gone.json()["status"] == "Revoked" and gone.json()["targetScheduleId"] is None
    assert graph.get(f"{SCHEDULES}/{sched['id']}").status_code == 404
    twice = _request(graph, "adminRemove", user)
    assert twice.status_code == 400 and twice.json()["error"]["code"] == "RoleAssignmentDoesNotExist"


def test_refused_requests(graph: httpx.Client) -> None:
    user = oid("user0")
    assert _request(graph, "adminAssign", user, scheduleInfo={"expiration": {"type": "afterDateTime"}}).status_code == 400
    assert _request(graph, "adminAssign", user, scheduleInfo={"expiration": {"type": "forever"}}).status_code == 400
    assert _request(graph, "selfActivate", user).status_code == 400
    sp = graph.get("servicePrincipals").json()["value"][0]["id"]
    assert _request(graph, "adminAssign", sp).status_code == 400
    assert graph.get(SCHEDULES).json()["value"] == []
