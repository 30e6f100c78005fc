"""Bad-input corpus: broken files, hostile tenant data and wrong CLI arguments, one row per case.

Every refusal must be one `error:` line naming the file (and line where there is one), a non-zero
exit, no write request to the tenant and no change to the repo; wherever apply refuses a file,
`entragit validate` is red on it too. Hostile names read from the tenant must export to safe files
that validate and plan back to "No changes". Adding a case is adding a row.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import httpx
import pytest
from click.testing import CliRunner, Result

from entragit.cli import main

from .conftest import make_repo

Break = Callable[[Path, Any], None]  # (repo root, the case's simulator)

TD = "tenants/demo"
TENANT = f"{TD}/tenant.yaml"
GROUP = f"{TD}/groups/finance-admins.yaml"
CA = f"{TD}/conditionalAccessPolicies/ca001-global-attacksurfacereduction-anyapp-anyplatform-block-countrywhitelist.yaml"
LOCATION = f"{TD}/namedLocations/contoso-hq-amsterdam.yaml"
ROLE = f"{TD}/roleAssignments/exchange-administrator-lena-fischer-directory.yaml"
SINGLETON = f"{TD}/securityDefaults/security-defaults.yaml"
IDMAP = f"{TD}/idmap.yaml"
GROUP_ID = "f57f9b3c-23e4-5798-8c98-72d5f74a4302"
NOBODY = "0b0b0b0b-0000-4000-8000-000000000000"  # a GUID no object in the demo tenant has

APPLY = ("apply", "--ref", "WORKTREE", "--yes")
APPLY_HEAD = ("apply", "--yes")
EXPORT = ("export", "--commit")
ADMIN = {"Authorization": "Bearer sim-admin"}


# ---------------------------------------------------------------- how to break things


def edit(path: str, old: str, new: str) -> Break:
    """Replace the first `old` in a repo file (which must hold it) by `new`."""
    def go(root: Path, _sim: Any) -> None:
        p = root / path
        text = p.read_text(encoding="utf-8")
        assert old in text, (path, old)
        p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return go


def write(path: str, content: str | bytes) -> Break:
    def go(root: Path, _sim: Any) -> None:
        p = root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return go


def prepend(path: str, content: bytes) -> Break:
    def go(root: Path, _sim: Any) -> None:
        p = root / path
        p.write_bytes(content + p.read_bytes())
    return go


def copy(src: str, dst: str, old: str = "", new: str = "") -> Break:
    def go(root: Path, _sim: Any) -> None:
        text = (root / src).read_text(encoding="utf-8")
        (root / dst).parent.mkdir(parents=True, exist_ok=True)
        (root / dst).write_text(text.replace(old, new, 1) if old else text, encoding="utf-8")
    return go


def move(src: str, dst: str) -> Break:
    def go(root: Path, _sim: Any) -> None:
        (root / dst).parent.mkdir(parents=True, exist_ok=True)
        (root / src).rename(root / dst)
    return go


def remove(path: str) -> Break:
    return lambda root, _sim: (root / path).unlink()


def nothing(_root: Path, _sim: Any) -> None:
    """CLI-argument cases: the repo and the tenant are fine, the command line is not."""


def _post(sim: Any, path: str, body: dict[str, Any]) -> None:
    with httpx.Client(base_url=sim.graph_url, headers=ADMIN) as c:
        r = c.post(path, json=body)
        assert r.status_code == 201, r.text


def groups(*names: str) -> Break:
    """Hostile tenant data: security groups with these display names, made in the portal."""
    def go(_root: Path, sim: Any) -> None:
        for i, name in enumerate(names):
            _post(sim, "/groups", {"displayName": name, "mailEnabled": False, "securityEnabled": True,
                                   "mailNickname": f"hostile{i}"})
    return go


def location(name: str) -> Break:
    return lambda _root, sim: _post(sim, "/identity/conditionalAccess/namedLocations", {
        "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": name, "isTrusted": False,
        "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"}]})


def application(name: str) -> Break:
    return lambda _root, sim: _post(sim, "/applications", {"displayName": name})


# ---------------------------------------------------------------- the corpus


USAGE = 64  # click's usage errors have a code of their own (2 means "differences")


@dataclass(frozen=True)
class Case:
    name: str
    breaks: Break
    command: tuple[str, ...] = APPLY
    code: int = 1
    message: str = ""  # a substring of the one error line
    where: str | None = None  # the file[:line] that line names; None when no file is involved
    commit: bool = False  # commit the broken files first (so HEAD holds them)

    @property
    def refuses_files(self) -> bool:
        return self.command[0] in ("apply", "plan") and (self.where or "").startswith("tenants/") and self.code != 0


def yaml_case(name: str, breaks: Break, message: str, where: str, **kw: Any) -> Case:
    return Case(name, breaks, message=message, where=where, **kw)


YAML = [
    yaml_case("tab-indent", edit(GROUP, "mailEnabled: false", "mailEnabled:\tfalse\n\tx: 1"),
              "tab character", f"{GROUP}:9"),
    yaml_case("unclosed-double-quote", edit(GROUP, "displayName: Finance Admins", 'displayName: "Finance Admins'),
              "invalid YAML", f"{GROUP}:"),
    yaml_case("unclosed-single-quote", edit(GROUP, "mailNickname: finance-admins", "mailNickname: 'finance-admins"),
              "invalid YAML", f"{GROUP}:"),
    yaml_case("unclosed-flow-list", edit(GROUP, "groupTypes: []", "groupTypes: [Unified"),
              "invalid YAML", f"{GROUP}:"),
    yaml_case("duplicate-key", edit(GROUP, "mailEnabled: false", "mailEnabled: false\nmailEnabled: true"),
              "duplicate key 'mailEnabled'", f"{GROUP}:9"),
    yaml_case("duplicate-key-nested", edit(CA, "    includeRoles: []", "    includeRoles: []\n    includeRoles: []"),
              "duplicate key 'includeRoles'", f"{CA}:37"),
    yaml_case("duplicate-key-in-flow-map", edit(GROUP, "{kind: users, name: Marcus Reid,", "{kind: users, kind: groups, name: Marcus Reid,"),
              "duplicate key 'kind'", f"{GROUP}:25"),
    yaml_case("bad-indentation", edit(GROUP, "mailEnabled: false", "  mailEnabled: false"),
              "invalid YAML", f"{GROUP}:"),
    yaml_case("list-item-outdented", edit(GROUP, "members:\n- ", "members:\n  - x\n- "),
              "invalid YAML", f"{GROUP}:"),
    yaml_case("anchor-and-alias", edit(GROUP, "groupTypes: []", "groupTypes: &t []\nx: *t"),
              "anchors and aliases are not allowed", f"{GROUP}:6"),
    yaml_case("undefined-alias", edit(GROUP, "theme: null", "theme: *nowhere"),
              "anchors and aliases are not allowed", f"{GROUP}:17"),
    yaml_case("billion-laughs", write(f"{TD}/groups/lol.yaml", "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n"),
              "anchors and aliases are not allowed", f"{TD}/groups/lol.yaml:1"),
    yaml_case("not-utf8", prepend(GROUP, "# caf\xe9\n".encode("latin-1")), "not UTF-8", GROUP),
    yaml_case("not-utf8-committed", prepend(GROUP, b"# \xff\xfe\n"), "not UTF-8", GROUP,
              command=APPLY_HEAD, commit=True),
    yaml_case("nul-byte", edit(GROUP, "theme: null", "theme: a\x00b"), "invalid YAML", GROUP),
    yaml_case("control-character", edit(GROUP, "theme: null", "theme: a\x07b"), "invalid YAML", GROUP),
    yaml_case("empty-file", write(GROUP, ""), "empty", GROUP),
    yaml_case("only-comments", write(GROUP, "# nothing here\n"), "empty", GROUP),
    yaml_case("top-level-list", write(GROUP, f"- id: {GROUP_ID}\n- displayName: Finance Admins\n"), "", f"{GROUP}"),
    yaml_case("top-level-scalar", write(GROUP, "just a string\n"), "", GROUP),
    yaml_case("two-documents", edit(GROUP, "theme: null", "theme: null\n---\nid: x"),
              "invalid YAML", f"{GROUP}:"),
    yaml_case("python-tag", edit(GROUP, "theme: null", "theme: !!python/object:os.system ls"),
              "invalid YAML", f"{GROUP}:17"),
    yaml_case("binary-tag", edit(GROUP, "theme: null", "theme: !!binary aGVsbG8="), "theme", f"{GROUP}:17"),
    # YAML 1.2 (validate reads as plan does): a date stays a string, wrong where a boolean is expected.
    yaml_case("timestamp-value", edit(GROUP, "securityEnabled: true", "securityEnabled: 2024-01-01"),
              "securityEnabled", f"{GROUP}:16"),
    yaml_case("huge-integer", edit(GROUP, "theme: null", "theme: " + "9" * 5000), "integer", GROUP),
    yaml_case("huge-float", edit(GROUP, "securityEnabled: true", "securityEnabled: 1e999999"),
              "securityEnabled", f"{GROUP}:16"),
    yaml_case("non-string-key", edit(GROUP, "theme: null", "theme: null\n1: one"), "", f"{GROUP}:"),
    yaml_case("null-key", edit(GROUP, "theme: null", "theme: null\n~: nothing"), "", f"{GROUP}:"),
    yaml_case("unhashable-key", edit(GROUP, "theme: null", "theme: null\n? [a, b]\n: c"), "invalid YAML", f"{GROUP}:"),
    yaml_case("tenant-yaml-syntax", edit(TENANT, "method: sim", 'method: "sim'), "invalid YAML", f"{TENANT}:"),
    yaml_case("tenant-yaml-tab", edit(TENANT, "  method: sim", "\tmethod: sim"), "invalid YAML", f"{TENANT}:"),
    yaml_case("tenant-yaml-list", write(TENANT, "- tenantId: x\n"), "mapping", f"{TENANT}:1"),
    yaml_case("tenant-yaml-empty", write(TENANT, ""), "mapping", TENANT),
    yaml_case("committed-duplicate-key", edit(GROUP, "mailEnabled: false", "mailEnabled: false\nmailEnabled: true"),
              "duplicate key 'mailEnabled'", f"{GROUP}:9", command=APPLY_HEAD, commit=True),
    yaml_case("committed-anchor", edit(GROUP, "groupTypes: []", "groupTypes: &t []\nx: *t"),
              "anchors and aliases are not allowed", f"{GROUP}:6", command=APPLY_HEAD, commit=True),
    yaml_case("committed-tab", edit(GROUP, "mailEnabled: false", "mailEnabled:\tfalse\n\tx: 1"),
              "tab character", f"{GROUP}:9", command=APPLY_HEAD, commit=True),
]

SCHEMA: list[Any] = [
    Case("wrong-type-bool", edit(GROUP, "securityEnabled: true", "securityEnabled: 'yes'"),
         message="securityEnabled", where=f"{GROUP}:16"),
    Case("wrong-type-bool-committed", edit(GROUP, "securityEnabled: true", "securityEnabled: 'yes'"),
         message="securityEnabled", where=f"{GROUP}:16", command=APPLY_HEAD, commit=True),
    Case("wrong-type-list", edit(GROUP, "groupTypes: []", "groupTypes: Unified"),
         message="groupTypes", where=f"{GROUP}:6"),
    Case("wrong-type-string", edit(GROUP, "displayName: Finance Admins", "displayName: [Finance, Admins]"),
         message="displayName", where=f"{GROUP}:3"),
    Case("wrong-type-object", edit(CA, "  users:\n", "  users: everyone\n  usersWas:\n"),
         message="conditions.users", where=f"{CA}:26"),
    Case("wrong-type-nested-item", edit(CA, "    - All\n    includeAuthentication", "    - 42\n    includeAuthentication"),
         message="includeApplications", where=f"{CA}:9"),
    Case("enum-value", edit(CA, "\nstate: ", "\nstate: maybe\nwas: "), message="state", where=f"{CA}:"),
    Case("enum-value-committed", edit(CA, "\nstate: ", "\nstate: maybe\nwas: "), message="state", where=f"{CA}:",
         command=APPLY_HEAD, commit=True),
    Case("enum-value-nested", edit(GROUP, "visibility: null", "visibility: {public: yes}"), message="visibility",
         where=f"{GROUP}:18"),
    Case("missing-id", edit(GROUP, f"id: {GROUP_ID}\n", ""), message="", where=f"{TD}/"),
    Case("missing-display-name", edit(GROUP, "displayName: Finance Admins\n", ""),
         message="displayName", where=GROUP),
    Case("id-not-a-guid", edit(GROUP, f"id: {GROUP_ID}", "id: finance-admins"), message="id", where=f"{GROUP}:2"),
    Case("id-not-a-guid-committed", edit(GROUP, f"id: {GROUP_ID}", "id: finance-admins"), message="id",
         where=f"{GROUP}:2", command=APPLY_HEAD, commit=True),
    Case("member-not-a-guid", edit(GROUP, "- 217e4ac3-898c-5194-bf6a-d1eadad194b0", "- marcus.reid"),
         message="members", where=f"{GROUP}:22"),
    Case("wrong-odata-type", edit(LOCATION, "'#microsoft.graph.ipNamedLocation'", "'#microsoft.graph.group'"),
         message="@odata.type", where=f"{LOCATION}:2"),
    Case("odata-type-of-sibling", edit(LOCATION, "'#microsoft.graph.ipNamedLocation'",
                                       "'#microsoft.graph.countryNamedLocation'"),
         message="'ipRanges' is a ipNamedLocation property, not a countryNamedLocation one", where=f"{LOCATION}:"),
    Case("bad-cidr-type", edit(LOCATION, "'#microsoft.graph.iPv4CidrRange'", "'#microsoft.graph.iPv5CidrRange'"),
         message="'#microsoft.graph.iPv5CidrRange' is not a type Graph's model has here", where=f"{LOCATION}:"),
    Case("server-managed-field", edit(GROUP, "theme: null", "theme: null\ncreatedDateTime: '2024-01-01T00:00:00Z'"),
         message="createdDateTime", where=f"{GROUP}:18"),
    Case("secret-in-file", edit(GROUP, "theme: null", "theme: null\npassword: hunter2"),
         message="secret", where=f"{GROUP}:18"),
    Case("tenant-id-not-guid", edit(TENANT, "tenantId: 2d6b1f4e-7c3a-4e85-9f20-6a1b3c5d7e90", "tenantId: contoso"),
         message="tenantId", where=f"{TENANT}:2"),
    Case("tenant-auth-method", edit(TENANT, "method: sim", "method: magic"), message="auth.method",
         where=f"{TENANT}:5"),
    Case("tenant-unknown-kind", edit(TENANT, "users: false", "users: false\nkinds: [groups, gruops]"),
         message="gruops", where=f"{TENANT}:7"),
    Case("tenant-users-not-bool", edit(TENANT, "users: false", "users: [alice]"), message="users",
         where=f"{TENANT}:6"),
    Case("singleton-wrong-type", edit(SINGLETON, "isEnabled: false", "isEnabled: off-ish"),
         message="isEnabled", where=f"{SINGLETON}:2"),
]

SEMANTICS = [
    Case("reference-to-missing-object", edit(GROUP, "- 217e4ac3-898c-5194-bf6a-d1eadad194b0", f"- {NOBODY}"),
         message=NOBODY, where=f"{GROUP}:22"),
    Case("ca-reference-to-missing-group", edit(CA, "    - 4e111f3e-e5ca-5d9f-bcf5-adecd169a464", f"    - {NOBODY}"),
         message=NOBODY, where=f"{CA}:28"),
    Case("missing-reference-committed", edit(CA, "    - 4e111f3e-e5ca-5d9f-bcf5-adecd169a464", f"    - {NOBODY}"),
         message=NOBODY, where=f"{CA}:28", command=APPLY_HEAD, commit=True),
    Case("role-to-missing-definition", edit(ROLE, "roleDefinitionId: 29232cdf-9323-42fd-ade2-1d097af3e4de",
                                            f"roleDefinitionId: {NOBODY}"),
         message=NOBODY, where=f"{ROLE}:5"),
    Case("refs-entry-without-kind", edit(GROUP, "{kind: users, name: Marcus Reid,", "{name: Marcus Reid,"),
         message="'kind' is a required property", where=f"{GROUP}:25"),
    Case("refs-says-deleted-group", edit(GROUP, "{kind: users, name: Marcus Reid,", "{kind: groups, name: Marcus Reid,"),
         message="has no file", where=f"{GROUP}:22"),
    # A refs entry marked `missing: true` is a warning, not a refusal: export writes it when the tenant
    # itself holds a dangling id (tests/test_validate.py::test_dangling_reference_marked_missing).
    Case("duplicate-ids-across-files", copy(GROUP, f"{TD}/groups/finance-admins-2.yaml",
                                            "displayName: Finance Admins", "displayName: Finance Admins Two"),
         message="also described by", where=f"{TD}/groups/finance-admins"),
    Case("two-files-for-one-object", copy(GROUP, f"{TD}/groups/finance-admins-copy.yaml"),
         message="also described by", where=f"{TD}/groups/finance-admins"),
    Case("two-files-for-one-object-committed", copy(GROUP, f"{TD}/groups/finance-admins-copy.yaml"),
         message="also described by", where=f"{TD}/groups/finance-admins", command=APPLY_HEAD, commit=True),
    Case("singleton-with-two-files", copy(SINGLETON, f"{TD}/securityDefaults/second.yaml"),
         message="also described by", where=f"{TD}/securityDefaults/"),
    Case("file-in-unknown-kind-folder", move(GROUP, f"{TD}/group/finance-admins.yaml"),
         message="not a kind", where=f"{TD}/group/finance-admins.yaml"),
    Case("file-in-wrong-kind-folder", move(GROUP, f"{TD}/namedLocations/finance-admins.yaml"),
         message="", where=f"{TD}/namedLocations/finance-admins.yaml"),
    Case("policy-in-groups-folder", move(CA, f"{TD}/groups/ca001.yaml"), message="required",
         where=f"{TD}/groups/ca001.yaml"),
    Case("file-in-wrong-kind-folder-committed", move(GROUP, f"{TD}/namedLocations/finance-admins.yaml"),
         message="", where=f"{TD}/namedLocations/finance-admins.yaml", command=APPLY_HEAD, commit=True),
    Case("shared-mail-nickname", copy(f"{TD}/groups/all-company.yaml", f"{TD}/groups/all-company-2.yaml"),
         message="", where=f"{TD}/groups/all-company"),
    Case("idmap-syntax", write(IDMAP, "groups: {a: [\n"), message="invalid YAML", where=f"{IDMAP}:"),
    Case("idmap-list", write(IDMAP, "- a\n- b\n"), message="", where=IDMAP),
    Case("idmap-not-guids", write(IDMAP, f"groups:\n  {GROUP_ID}: not-a-guid\n"), message="", where=IDMAP),
    Case("symlinked-file", lambda root, _sim: ((root / GROUP).unlink(), (root / GROUP).symlink_to("/etc/hostname")),
         message="symbolic link", where=GROUP),
]

HOSTILE = [  # names a portal user typed; export must write safe files that plan back to "No changes"
    Case("name-with-newline", groups("Finance\nAdmins ops"), EXPORT, 0),
    Case("name-with-nul", groups("nul\x00byte"), EXPORT, 0),
    Case("name-with-rtl-override", groups("\u202eexe.tset\u202c"), EXPORT, 0),
    Case("name-very-long", groups("A" * 256), EXPORT, 0),
    Case("name-slugs-to-nothing", groups("!!!", "???"), EXPORT, 0),
    Case("name-only-emoji", groups("\U0001f525\U0001f525"), EXPORT, 0),
    Case("name-only-spaces", groups("   "), EXPORT, 0),
    Case("name-slugs-to-another", groups("FINANCE-ADMINS!", "finance admins"), EXPORT, 0),
    Case("name-slugs-to-suffixed", groups("Finance Admins f57f9b3c"), EXPORT, 0),
    Case("name-with-dotdot", groups("../../../etc/passwd"), EXPORT, 0),
    Case("name-with-separators", groups("a/b\\c:d"), EXPORT, 0),
    Case("name-is-dot", groups(".", ".."), EXPORT, 0),
    Case("name-looks-like-yaml", groups("yes", "null", "~", "0x1F", "1e3", "- [a]: &b *c # d"), EXPORT, 0),
    Case("location-with-newline", location("Office\n- injected: true"), EXPORT, 0),
    Case("application-with-dotdot", application("..\\..\\windows"), EXPORT, 0),
]

CLI = [
    Case("unknown-tenant", nothing, ("plan", "--tenant", "nope"), message="unknown tenant 'nope'"),
    Case("unknown-tenant-export", nothing, ("export", "--tenant", "nope"), message="unknown tenant 'nope'"),
    Case("unknown-tenant-drift", nothing, ("drift", "--tenant", "nope"), message="unknown tenant 'nope'"),
    Case("bad-ref", nothing, ("plan", "--ref", "no-such-branch"), message="unknown revision"),
    Case("bad-ref-apply", nothing, ("apply", "--ref", "HEAD~99", "--yes"), message="unknown revision"),
    Case("bad-ref-diff", nothing, ("diff", "no-such-branch"), message="unknown revision"),
    Case("only-matches-nothing", nothing, ("plan", "--only", "groups/no-such-group"), message="no-such-group"),
    Case("only-unknown-kind", nothing, ("apply", "--yes", "--only", "gruops"), message="gruops"),
    Case("tenant-and-all", nothing, ("export", "--tenant", "demo", "--all"), message="not both"),
    Case("shard-without-all", nothing, ("export", "--shard", "1/2"), message="--shard"),
    Case("shard-out-of-range", nothing, ("export", "--all", "--shard", "3/2"), message="3/2"),
    Case("shard-garbage", nothing, ("export", "--all", "--shard", "half"), message="half"),
    Case("bad-format", nothing, ("plan", "--format", "yaml"), USAGE, "Invalid value for '--format'"),
    Case("bad-format-diff", nothing, ("diff", "--format", "xml"), USAGE, "Invalid value for '--format'"),
    Case("missing-required-option", nothing, ("tenant", "add", "other"), USAGE, "Missing option '--tenant-id'"),
    Case("tenant-add-id-not-guid", nothing, ("tenant", "add", "other", "--tenant-id", "contoso"), message="GUID"),
    Case("tenant-name-invalid", nothing, ("tenant", "add", "Other Co", "--tenant-id", NOBODY), message="tenant name"),
    Case("tenant-exists", nothing, ("tenant", "add", "demo", "--tenant-id", NOBODY), message="already exists",
         where=TENANT),
    Case("too-many-revisions", nothing, ("diff", "HEAD", "HEAD", "HEAD"), message="at most two"),
    Case("lock-timeout-negative", nothing, ("apply", "--yes", "--lock-timeout", "-1"), USAGE, "--lock-timeout"),
    Case("concurrency-zero", nothing, ("export", "--concurrency", "0"), USAGE, "--concurrency"),
    Case("max-count-not-int", nothing, ("log", "-n", "many"), USAGE, "'-n'"),
    Case("saved-plan-missing", nothing, ("apply", "--plan", "no-such-plan.json"), USAGE, "no-such-plan.json"),
    Case("saved-plan-garbage", write("plan.json", "{not json"), ("apply", "--plan", "PLAN"),
         message="not a saved entragit plan", where="plan.json"),
    Case("validate-missing-path", nothing, ("validate", "no/such/file.yaml"), USAGE, "no/such/file.yaml"),
    Case("log-unknown-object", nothing, ("log", "groups/no-such-group"), message="no-such-group"),
]

CASES = YAML + SCHEMA + SEMANTICS + HOSTILE + CLI
NO_REPO = [("plan",), ("apply", "--yes"), ("export",), ("validate",), ("drift",)]


# ---------------------------------------------------------------- the harness


@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo tenant exported and committed once; each case gets its own copy."""
    from entragit_sim import Simulator

    sim = Simulator(seed="demo")
    sim.start(host="127.0.0.1", port=0)
    try:
        root = tmp_path_factory.mktemp("bad-input") / "config"
        make_repo(root, sim)("export", "--commit")
        yield root
    finally:
        sim.stop()


@dataclass
class Run:
    root: Path
    sim: Any
    repo: git.Repo

    def invoke(self, *args: str) -> Result:
        argv = [str(self.root / "plan.json") if a == "PLAN" else a for a in args]
        return CliRunner().invoke(main, [*argv, "--repo", str(self.root)])

    def state(self) -> tuple[str, str]:
        return self.repo.head.commit.hexsha, self.repo.git.status("--porcelain", "--untracked-files=all")

    def writes(self, since: int) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.sim.requests[since:] if r.method != "GET" and "/$batch" not in r.path]


@pytest.fixture
def run(demo_repo: Path, tmp_path: Path, sim_factory: Any) -> Run:
    """A copy of the demo repo pointed at a fresh demo simulator (same seed: same ids, no changes)."""
    root = tmp_path / "config"
    shutil.copytree(demo_repo, root, symlinks=True)
    sim = sim_factory("demo")
    tenant = root / TENANT
    origin = sim.graph_url.rsplit("/v1.0", 1)[0]
    tenant.write_text(re.sub(r"graphUrl: .*", f"graphUrl: {origin}", tenant.read_text(encoding="utf-8")),
                      encoding="utf-8")
    repo = git.Repo(root)
    repo.git.commit("-q", "-am", "point at this test's simulator")
    return Run(root, sim, repo)


def _no_crash(res: Result) -> None:
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        import traceback

        pytest.fail("crashed:\n" + "".join(traceback.format_exception(res.exception)) + res.output)


def _one_error(res: Result, case: Case) -> str:
    """The single line that explains the refusal: `error: ...` (or click's `Error: ...` for usage)."""
    lines = [ln for ln in res.output.splitlines() if ln.lower().startswith("error:")]
    assert len(lines) == 1, f"expected one error line, got:\n{res.output}"
    line = lines[0]
    assert case.message in line, line
    if case.where is not None:
        assert case.where in line, f"{line!r} does not name {case.where!r}"
    return line


def _validate_red(r: Run, case: Case) -> None:
    assert case.where is not None
    res = r.invoke("validate")
    _no_crash(res)
    assert res.exit_code == 1, f"apply refused but validate passed:\n{res.output}"
    errors = [ln for ln in res.output.splitlines() if ": error: " in ln]
    assert any(case.where in ln for ln in errors), f"validate does not name {case.where}:\n{res.output}"


def _exported_safely(r: Run, res: Result, before: tuple[str, str]) -> None:
    """Export wrote one commit of files that stay inside their kind folders, validate and plan clean."""
    assert r.repo.head.commit.hexsha != before[0] and r.state()[1] == before[1], res.output
    for p in (r.root / TD).rglob("*"):
        rel = p.relative_to(r.root / TD)
        assert p.resolve().is_relative_to((r.root / TD).resolve()), rel
        if p.is_file():
            assert re.fullmatch(r"[a-z0-9][a-z0-9-]*\.yaml", p.name), rel
            assert len(rel.parts) <= 2, rel
    valid = r.invoke("validate")
    assert valid.exit_code == 0, valid.output
    again = r.invoke("plan")
    _no_crash(again)
    assert again.exit_code == 0 and "No changes" in again.output, again.output


def _id(c: Any) -> str:
    return str(c.name) if isinstance(c, Case) else str(c)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_bad_input(case: Case, run: Run) -> None:
    case.breaks(run.root, run.sim)
    if case.commit:
        run.repo.git.add("-A")
        run.repo.git.commit("-q", "-m", f"a commit with bad input: {case.name}")
    before, since = run.state(), len(run.sim.requests)
    res = run.invoke(*case.command)
    _no_crash(res)
    assert res.exit_code == case.code, f"exit {res.exit_code}, expected {case.code}:\n{res.output}"
    assert run.writes(since) == [], "a write reached the tenant"
    if case.code == 0:
        _exported_safely(run, res, before)
        return
    _one_error(res, case)
    assert run.state() == before, "the repo changed"
    if case.refuses_files:
        _validate_red(run, case)


@pytest.mark.parametrize("command", NO_REPO, ids=lambda c: c[0])
def test_nonexistent_repo(command: tuple[str, ...], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-repo"
    res = CliRunner().invoke(main, [*command, "--repo", str(missing)])
    _no_crash(res)
    assert res.exit_code == 1, res.output
    errors = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "not inside an entragit config repo" in errors[0], res.output
    assert not missing.exists()


def test_the_corpus_is_big_enough() -> None:
    names = [c.values[0].name if not isinstance(c, Case) else c.name for c in CASES]
    assert len(names) + len(NO_REPO) >= 80
    assert len(set(names)) == len(names)
