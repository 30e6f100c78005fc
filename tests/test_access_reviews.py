"""Access review definitions (opt-in): exported with the group they scope and the user who reviews
named in `refs`, an edit made live is put back with one PUT of the whole definition, and after the
scoped group is hard-deleted apply recreates it and points the definition's scope query at the new
id. Signed in as the app holding exactly the listed permissions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.conftest import Cli, admin, app_repo, turn_on

DEFS = "/identityGovernance/accessReviews/definitions"
KIND = "accessReviewDefinitions"
FILE = f"tenants/demo/{KIND}/finance-admins-quarterly-review.yaml"


def _repo(tmp_path: Path, sim: Any, monkeypatch: Any) -> Cli:
    repo = app_repo(tmp_path / "config", sim, monkeypatch, extra=("AccessReview.ReadWrite.All",))
    turn_on(repo, KIND)
    return repo


def _ops(repo: Cli) -> list[tuple[str, str]]:
    return sorted((o["kind"], o["action"]) for o in json.loads(repo("plan", "--format", "json").output)["operations"]
                  if o["kind"] in (KIND, "groups"))


def _review(c: httpx.Client) -> dict[str, Any]:
    [review] = [d for d in c.get(DEFS).json()["value"] if d["displayName"] == "Finance Admins quarterly review"]
    return review


def _group(c: httpx.Client, name: str) -> dict[str, Any]:
    [g] = c.get("/groups", params={"$filter": f"displayName eq '{name}'"}).json()["value"]
    return g


def test_review_round_trip_and_recreated_group_is_remapped(tmp_path, sim_factory, monkeypatch) -> None:
    sim = sim_factory("demo", tls=True)
    repo = _repo(tmp_path, sim, monkeypatch)
    repo("export", "--commit")
    doc = yaml.safe_load((repo.repo / FILE).read_text())
    with admin(sim) as c:
        gid = _group(c, "Finance Admins")["id"]
        review = _review(c)
    assert doc["scope"]["query"] == f"/groups/{gid}/transitiveMembers"
    assert doc["refs"][gid]["name"] == "Finance Admins"
    [reviewer] = [k for k, v in doc["refs"].items() if v.get("name") == "Olivia Chen"]
    assert doc["reviewers"][0]["query"] == f"/users/{reviewer}"
    assert not {"createdBy", "status", "createdDateTime", "lastModifiedDateTime"} & set(doc)
    assert not list((repo.repo / "tenants/demo").glob("*nstance*")), "instances are history, never exported"

    with admin(sim) as c:
        # Edited live (a PUT of the whole definition, as Graph updates one): plan puts it back.
        live = {k: v for k, v in review.items() if k not in ("id", "createdBy", "status", "@odata.context", "createdDateTime", "lastModifiedDateTime")}
        live["settings"] = {**live["settings"], "instanceDurationInDays": 3}
        assert c.put(f"{DEFS}/{review['id']}", json=live).status_code in (200, 204)
        assert c.patch(f"{DEFS}/{review['id']}", json={"displayName": "x"}).status_code == 405
        assert _ops(repo) == [(KIND, "update")]
        repo("apply", "--yes")
        back = _review(c)
        assert back["settings"]["instanceDurationInDays"] == 14 and back["id"] == review["id"]
        assert back["reviewers"] == review["reviewers"]
        assert "No changes" in repo("plan").output

        # The group it scopes is deleted for good: apply recreates it and the scope names the new id.
        assert c.delete(f"/groups/{gid}").status_code == 204
        assert c.delete(f"/directory/deletedItems/{gid}").status_code == 204
        ops = _ops(repo)
        assert ("groups", "create") in ops and (KIND, "update") in ops
        repo("apply", "--yes")
        new = _group(c, "Finance Admins")["id"]
        assert new != gid
        assert _review(c)["scope"]["query"] == f"/groups/{new}/transitiveMembers"
    assert "No changes" in repo("plan").output


def test_permissions_table_lists_access_reviews(repo) -> None:
    [line] = [ln for ln in repo("permissions", "--table").output.splitlines() if ln.startswith(f"{KIND} ")]
    assert "AccessReview.Read.All" in line and "AccessReview.ReadWrite.All" in line
