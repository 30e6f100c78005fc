"""Plans, diffs and commits say exactly what will happen, with names next to ids (daily use)."""

from __future__ import annotations

import json
import subprocess

from .conftest import make_repo
from .portal import Portal


def _git(cli, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cli.repo, capture_output=True, text=True, check=True).stdout


def test_children_of_a_restored_parent_come_back_with_it_and_are_not_created(tmp_path, sim):
    cli = make_repo(tmp_path / "config", sim)
    cli("export", "--commit")
    p = Portal(sim)
    sp = p.one("/servicePrincipals", "HR Portal")
    group = p.one("/groups", "APP - ExpenseHub Users")
    p.ok(p.c.delete(f"/servicePrincipals/{sp['id']}"))
    p.ok(p.c.delete(f"/groups/{group['id']}"))
    cli("export", "--commit")

    out = cli("plan", "--ref", "HEAD~1").output
    assert "+ create" not in out and "+ link" not in out, out
    assert "(restored with service principal 'HR Portal')" in out
    assert "delegated permission grant 'HR Portal -- Microsoft Graph'  (restored with service principal" in out
    assert "members += Aisha Khan  (restored with group 'APP - ExpenseHub Users')" in out
    assert "app role assignment 'APP - ExpenseHub Users -- ExpenseHub" in out
    assert out.rstrip().endswith("Plan: 2 to restore, 24 restored with them.")
    data = json.loads(cli("plan", "--ref", "HEAD~1", "--format", "json").output)
    assert data["counts"] == {"restore": 2}
    back = {(r["kind"], r["parent_kind"]) for r in data["restored_with"]}
    assert back == {("appRoleAssignments", "servicePrincipals"), ("oauth2PermissionGrants", "servicePrincipals"),
                    ("appRoleAssignments", "groups"), ("groups", "groups")}

    applied = cli("apply", "--ref", "HEAD~1", "--yes").output
    assert "Applied 2/2 operations (2 write requests)" in applied
    assert "No changes" in cli("plan", "--ref", "HEAD~1").output
    assigned = p.c.get(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo").json()["value"]
    assert len(assigned) == 2  # the originals, same ids: nothing was created


def hard_delete(p: Portal, path: str, oid: str) -> None:
    p.ok(p.c.delete(f"{path}/{oid}"))
    p.c.delete(f"/directory/deletedItems/{oid}")  # 404 when the kind hard-deletes anyway


def test_recreated_and_adopted_objects_are_marked_apart(tmp_path, sim):
    cli = make_repo(tmp_path / "config", sim)
    cli("export", "--commit")
    p = Portal(sim)
    hard_delete(p, "/groups", p.one("/groups", "Project Aurora")["id"])
    twin = p.one("/groups", "Dept - HR")
    hard_delete(p, "/groups", twin["id"])
    p.ok(p.c.post("/groups", json={k: twin[k] for k in ("displayName", "mailNickname", "mailEnabled",
                                                        "securityEnabled")}))
    out = cli("plan").output
    assert "+ create   group 'Project Aurora'  (recreated: new id; references to the old id are remapped)" in out
    assert "= adopt    group 'Dept - HR'  (live object with the same natural key" in out
    ops = {(o["action"], o["name"]): o for o in json.loads(cli("plan", "--format", "json").output)["operations"]}
    assert ops[("create", "Project Aurora")]["fate"] == "recreated"
    assert ops[("adopt", "Dept - HR")]["fate"] is None
