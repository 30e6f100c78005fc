"""A second plan of the same files does not check them again (apply after plan, a scheduled plan run again),
and nothing that failed, nor files at another HEAD, is ever taken as checked."""

from __future__ import annotations

import subprocess
from pathlib import Path

from entragit import checkcache, gitstore

from .conftest import admin

T = "tenants/demo"


def _record(root: Path) -> list[str]:
    path = checkcache.path_for(root, "demo")
    return path.read_text().split() if path and path.exists() else []


def _commit_all(root: Path, message: str) -> None:
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", message], check=True)


def test_a_plan_remembers_the_files_it_checked_and_plans_the_same_again(signed_in, tls_sim) -> None:
    signed_in("export", "--commit")
    with admin(tls_sim) as c:
        g = c.get("/groups", params={"$filter": "displayName eq 'Project Aurora'"}).json()["value"][0]
        assert c.patch(f"/groups/{g['id']}", json={"description": "changed in the portal"}).status_code == 204
    first = signed_in("plan", "--detailed-exitcode", code=2).output
    texts = gitstore.files_at(signed_in.repo, "HEAD", T)
    assert _record(signed_in.repo) == [checkcache.key(signed_in.repo, texts)]
    again = signed_in("plan", "--detailed-exitcode", code=2).output
    assert again == first and "group 'Project Aurora'" in again and "description:" in again
    assert len(_record(signed_in.repo)) == 1  # found, not recorded twice


def test_files_that_fail_are_refused_every_time_and_never_remembered(signed_in) -> None:
    signed_in("export", "--commit")
    signed_in("plan")
    passed = _record(signed_in.repo)
    group = signed_in.repo / T / "groups" / "finance-admins.yaml"
    group.write_text(group.read_text().replace("mailEnabled:", "mail: finance@contoso.example\nmailEnabled:", 1))
    _commit_all(signed_in.repo, "a hand edit that skipped pre-commit")
    for _ in range(2):
        out = signed_in("plan", code=1).output
        assert f"{T}/groups/finance-admins.yaml:" in out and "set by the server" in out
    assert _record(signed_in.repo) == passed
    # The files that passed, at another HEAD: checked again (an unknown property is allowed only
    # when HEAD's files hold it too, so what passed depends on HEAD), and remembered anew.
    signed_in("plan", "--ref", "HEAD~1")
    assert len(_record(signed_in.repo)) == 2 and _record(signed_in.repo)[0] == passed[0]
