"""PIM for Groups requests and schedules: lists must be filtered by groupId or principalId, adminAssign
makes a schedule and adminRemove ends it, selfActivate makes an activated assignment, and dynamic groups
are refused, as Graph documents."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from entragit_sim import Simulator
from entragit_sim.table import BY_NAME
from tests import metadata
from tests.sim.conftest import ADMIN, oid, small_seed

PIM = "identityGovernance/privilegedAccess/group"


def _request(graph: httpx.Client, coll: str, action: str, access: str = "member") -> httpx.Response:
    return graph.post(f"{PIM}/{coll}", json={"action": action, "groupId": oid("group0"),
                                             "principalId": oid("user0"), "accessId": access})


def test_lists_need_a_group_or_principal_filter(graph: httpx.Client) -> None:
    for coll in ("eligibilitySchedules", "assignmentSchedules", "eligibilityScheduleRequests"):
        assert graph.get(f"{PIM}/{coll}").status_code == 400
        by_group = graph.get(f"{PIM}/{coll}", params={"$filter": f"groupId eq '{oid('group0')}'"})
        assert by_group.status_code == 200 and by_group.json()["value"] == []
        by_principal = graph.get(f"{PIM}/{coll}", params={"$filter": f"principalId eq '{oid('user0')}'"})
        assert by_principal.status_code == 200


def test_eligibility_assign_then_remove(graph: httpx.Client) -> None:
    made = _request(graph, "eligibilityScheduleRequests", "adminAssign")
    assert made.status_code == 201, made.text
    sid = made.json()["targetScheduleId"]
    assert sid == f"{oid('group0')}_member_{made.json()['id']}"
    [sched] = graph.get(f"{PIM}/eligibilitySchedules", params={"$filter": f"groupId eq '{oid('group0')}'"}).json()["value"]
    assert sched["id"] == sid and sched["memberType"] == "direct" and sched["accessId"] == "member"
    assert graph.get(f"{PIM}/eligibilitySchedules/{sid}").status_code == 200
    assert _request(graph, "eligibilityScheduleRequests", "adminAssign").status_code == 400
    assert _request(graph, "eligibilityScheduleRequests", "adminRemove").json()["status"] == "Revoked"
    assert graph.get(f"{PIM}/eligibilitySchedules/{sid}").status_code == 404
    assert _request(graph, "eligibilityScheduleRequests", "adminRemove").status_code == 400
    assert _request(graph, "eligibilityScheduleRequests", "selfActivate").status_code == 400


def test_activation_is_marked(graph: httpx.Client) -> None:
    made = _request(graph, "assignmentScheduleRequests", "selfActivate", "owner")
    assert made.status_code == 201, made.text
    sched = graph.get(f"{PIM}/assignmentSchedules/{made.json()['targetScheduleId']}").json()
    assert sched["assignmentType"] == "activated" and sched["accessId"] == "owner"
    metadata.require()
    assert not list(metadata.check(sched, BY_NAME["groupAssignmentSchedules"].odata_type))
    assert not list(metadata.check(made.json(), BY_NAME["groupAssignmentScheduleRequests"].odata_type))


def test_dynamic_groups_and_bad_access_are_refused(graph: httpx.Client) -> None:
    assert graph.patch(f"groups/{oid('group0')}", json={
        "groupTypes": ["DynamicMembership"], "membershipRule": "(user.department -eq \"Sales\")",
        "membershipRuleProcessingState": "On"}).status_code == 204
    assert _request(graph, "eligibilityScheduleRequests", "adminAssign").status_code == 400
    r = graph.post(f"{PIM}/eligibilityScheduleRequests", json={
        "action": "adminAssign", "groupId": oid("group1"), "principalId": oid("user0"), "accessId": "admin"})
    assert r.status_code == 400



def test_distribution_lists_are_refused(make_sim: Callable[..., Simulator]) -> None:
    """Only security and Microsoft 365 groups (groups-discover-groups); Graph cannot make a distribution
    list, so the tenant is seeded with one."""
    seed = small_seed()
    seed["groups"].append({"id": oid("dl"), "displayName": "Newsletter", "mailEnabled": True, "mailNickname": "news",
                           "securityEnabled": False, "groupTypes": []})
    sim = make_sim(seed=seed)
    with httpx.Client(base_url=sim.graph_url + "/", headers=ADMIN, timeout=10) as c:
        r = c.post(f"{PIM}/eligibilityScheduleRequests", json={
            "action": "adminAssign", "groupId": oid("dl"), "principalId": oid("user0"), "accessId": "member"})
    assert r.status_code == 400 and "security groups and Microsoft 365" in r.json()["error"]["message"]
