"""validate: each rule fires at the right file:line with a clear message; a clean repo is quiet."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from entragit.validate import Finding, has_errors, load_documents, validate_paths

T = "tenants/contoso"
BG_USER = "b0000000-0000-0000-0000-000000000001"
BG_GROUP = "a0000000-0000-0000-0000-000000000001"
FIN_GROUP = "a0000000-0000-0000-0000-000000000002"
LOC = "10000000-0000-0000-0000-000000000001"
GA_ROLE = "62e90394-69f5-4237-9190-012177145e10"
APP_ID = "c0000000-0000-0000-0000-00000000000a"
SP = "c0000000-0000-0000-0000-000000000001"

TENANT = """\
tenantId: 11111111-2222-3333-4444-555555555555
auth:
  method: sim
breakGlass:
- bg1@contoso.example
"""

BG_GROUP_YAML = f"""\
id: {BG_GROUP}
displayName: Break Glass
groupTypes: []
mailEnabled: false
mailNickname: break-glass
securityEnabled: true
members:
- {BG_USER}
refs:
  {BG_USER}: {{kind: users, name: Break Glass 1, userPrincipalName: bg1@contoso.example}}
"""

FIN_GROUP_YAML = f"""\
id: {FIN_GROUP}
displayName: Finance
groupTypes:
- Unified
mailEnabled: true
mailNickname: finance
securityEnabled: false
owners:
- {BG_USER}
refs:
  {BG_USER}: {{kind: users, name: Break Glass 1, userPrincipalName: bg1@contoso.example}}
"""

LOC_YAML = f"""\
'@odata.type': '#microsoft.graph.ipNamedLocation'
id: {LOC}
displayName: HQ
ipRanges:
- '@odata.type': '#microsoft.graph.iPv4CidrRange'
  cidrAddress: 203.0.113.0/24
isTrusted: true
"""

CA_YAML = f"""\
id: d0000000-0000-0000-0000-000000000001
displayName: Require MFA for admins
conditions:
  applications:
    includeApplications:
    - All
  clientAppTypes:
  - all
  locations:
    excludeLocations:
    - {LOC}
    includeLocations:
    - All
  users:
    excludeGroups:
    - {BG_GROUP}
    includeRoles:
    - {GA_ROLE}
    includeUsers:
    - All
grantControls:
  builtInControls:
  - mfa
  operator: OR
state: enabled
refs:
  {BG_GROUP}: {{kind: groups, name: Break Glass, mailNickname: break-glass}}
  {GA_ROLE}: {{kind: roleDefinitions, name: Global Administrator, templateId: {GA_ROLE}}}
  {LOC}: {{kind: namedLocations, name: HQ}}
"""

APP_YAML = """\
id: c0000000-0000-0000-0000-000000000002
displayName: Payroll
identifierUris:
- api://payroll
requiredResourceAccess:
- resourceAppId: 00000003-0000-0000-c000-000000000000
  resourceAccess:
  - id: e1fe6dd8-ba31-4d61-89e7-88639da4683d
    type: Scope
refs:
  00000003-0000-0000-c000-000000000000: {kind: servicePrincipals, name: Microsoft Graph, appId: 00000003-0000-0000-c000-000000000000}
"""

SP_YAML = f"""\
id: {SP}
appId: {APP_ID}
accountEnabled: true
refs:
  {APP_ID}: {{kind: applications, name: Payroll, appId: {APP_ID}}}
"""

GRAPH_SP_YAML = """\
id: c0000000-0000-0000-0000-000000000009
appId: 00000003-0000-0000-c000-000000000000
displayName: Microsoft Graph
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = path.parent.name
    header = f"# yaml-language-server: $schema=../../../schemas/{kind}.schema.json\n"
    path.write_text(text if rel.endswith("tenant.yaml") else header + textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write(tmp_path, f"{T}/tenant.yaml", TENANT)
    write(tmp_path, f"{T}/groups/break-glass.yaml", BG_GROUP_YAML)
    write(tmp_path, f"{T}/groups/finance.yaml", FIN_GROUP_YAML)
    write(tmp_path, f"{T}/namedLocations/hq.yaml", LOC_YAML)
    write(tmp_path, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml", CA_YAML)
    write(tmp_path, f"{T}/applications/payroll.yaml", APP_YAML)
    write(tmp_path, f"{T}/servicePrincipals/payroll.yaml", SP_YAML)
    write(tmp_path, f"{T}/servicePrincipals/microsoft-graph.yaml", GRAPH_SP_YAML)
    return tmp_path


def only(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def test_clean_repo_has_no_findings(repo: Path) -> None:
    assert validate_paths(repo) == []


def test_load_documents(repo: Path) -> None:
    docs = load_documents(repo)
    path, data = docs["contoso"]["groups"][BG_GROUP]
    assert path == f"{T}/groups/break-glass.yaml"
    assert data["mailNickname"] == "break-glass"
    assert set(docs["contoso"]) == {"groups", "namedLocations", "conditionalAccessPolicies",
                                    "applications", "servicePrincipals"}


def test_yaml_syntax_error_names_the_line(repo: Path) -> None:
    write(repo, f"{T}/groups/broken.yaml", "id: x\ndisplayName: [unclosed\nmailEnabled: true\n")
    [f] = validate_paths(repo)
    assert (f.path, f.rule, f.severity) == (f"{T}/groups/broken.yaml", "yaml", "error")
    assert f.line == 4  # header comment is line 1; the parser notices at the next key
    assert "invalid YAML" in f.message


def test_duplicate_key(repo: Path) -> None:
    write(repo, f"{T}/namedLocations/hq.yaml", LOC_YAML + "displayName: HQ2\n")
    [f] = validate_paths(repo)
    assert (f.rule, f.line) == ("yaml", 9)
    assert "duplicate key 'displayName'" in f.message


def test_schema_error_at_offending_key(repo: Path) -> None:
    write(repo, f"{T}/groups/break-glass.yaml", BG_GROUP_YAML.replace("securityEnabled: true",
                                                                      "securityEnabled: 'yes'"))
    [f] = validate_paths(repo)
    assert (f.path, f.line, f.rule) == (f"{T}/groups/break-glass.yaml", 7, "schema")
    assert f.message == "securityEnabled: 'yes' is not of type 'boolean', 'null'"


def test_schema_error_in_derived_type_and_nested_list(repo: Path) -> None:
    write(repo, f"{T}/namedLocations/hq.yaml", LOC_YAML.replace("isTrusted: true", "isTrusted: maybe"))
    [f] = validate_paths(repo)
    assert (f.line, f.message) == (8, "isTrusted: 'maybe' is not of type 'boolean', 'null'")


def test_required_on_create(repo: Path) -> None:
    write(repo, f"{T}/groups/finance.yaml", FIN_GROUP_YAML.replace("mailNickname: finance\n", ""))
    [f] = validate_paths(repo)
    assert (f.rule, f.line) == ("schema", 2)
    assert "'mailNickname' is a required property" in f.message


def test_stripped_field_in_file(repo: Path) -> None:
    write(repo, f"{T}/groups/finance.yaml", FIN_GROUP_YAML.replace("mailEnabled", "mail: f@contoso.example\nmailEnabled"))
    [f] = validate_paths(repo)
    assert (f.rule, f.line) == ("schema", 6)
    assert f.message == "mail is set by the server and never written to a file (remove it)"


def test_unknown_enum_value_and_property_are_warnings(repo: Path) -> None:
    write(repo, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml",
          CA_YAML.replace("  - all\n", "  - all\n  - carrierPigeon\n"))
    write(repo, f"{T}/groups/finance.yaml", FIN_GROUP_YAML.replace("groupTypes", "dispalyName: x\ngroupTypes"))
    found = validate_paths(repo)
    assert not has_errors(found)
    enum, prop = only(found, "unknown-enum"), only(found, "unknown-property")
    assert [(f.line, f.severity) for f in enum] == [(10, "warning")]
    assert "'carrierPigeon' is not a value Graph's model knows" in enum[0].message
    assert [(f.path, f.line) for f in prop] == [(f"{T}/groups/finance.yaml", 4)]


def test_unknown_kind_folder(repo: Path) -> None:
    write(repo, f"{T}/gropus/x.yaml", "id: x\n")
    [f] = validate_paths(repo)
    assert (f.path, f.line, f.rule) == (f"{T}/gropus/x.yaml", None, "unknown-kind")
    assert "folder 'gropus' is not a kind" in f.message


def test_dangling_reference_marked_missing(repo: Path) -> None:
    gone = "a0000000-0000-0000-0000-0000000000ff"
    ca = CA_YAML.replace(f"    excludeGroups:\n    - {BG_GROUP}\n",
                         f"    excludeGroups:\n    - {BG_GROUP}\n    - {gone}\n")
    ca += f"  {gone}: {{kind: groups, name: Old Admins, missing: true}}\n"
    write(repo, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml", ca)
    [f] = validate_paths(repo)
    # A warning, not an error: export wrote it, so the tenant itself holds the dangling id, and an
    # error would stop every plan of the tenant (files are checked at any --ref) until it is fixed.
    assert (f.rule, f.line, f.severity) == ("dangling-ref", 18, "warning")
    assert f.message == (f"conditions.users.excludeGroups[1]: dangling reference to groups {gone} "
                         "(Old Admins): it no longer exists")


def test_reference_in_neither_files_nor_refs(repo: Path) -> None:
    stranger = "e0000000-0000-0000-0000-000000000001"
    write(repo, f"{T}/groups/finance.yaml", FIN_GROUP_YAML.replace("owners:\n", f"owners:\n- {stranger}\n"))
    [f] = validate_paths(repo)
    assert (f.rule, f.line) == ("dangling-ref", 10)
    assert f.message == (f"owners[0]: {stranger} is not a users/groups/servicePrincipals in this "
                         "tenant's files nor in `refs`")


def test_reference_to_deleted_file_of_owned_kind(repo: Path) -> None:
    (repo / f"{T}/namedLocations/hq.yaml").unlink()
    (repo / f"{T}/namedLocations").rmdir()
    assert validate_paths(repo) == []  # named locations not exported here: refs vouches for it
    write(repo, f"{T}/namedLocations/other.yaml",
          LOC_YAML.replace(LOC, "10000000-0000-0000-0000-000000000002").replace("HQ", "Branch"))
    [f] = validate_paths(repo)
    assert (f.path, f.rule, f.line) == (f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml",
                                        "dangling-ref", 12)
    assert "namedLocations 10000000-0000-0000-0000-000000000001 (HQ) has no file in this tenant" in f.message


def test_prefixed_and_appid_references(repo: Path) -> None:
    write(repo, f"{T}/roleAssignments/ra.yaml", f"""\
        id: ra1
        principalId: {SP}
        roleDefinitionId: {GA_ROLE}
        directoryScopeId: /administrativeUnits/f0000000-0000-0000-0000-000000000001
        refs:
          {GA_ROLE}: {{kind: roleDefinitions, name: Global Administrator, templateId: {GA_ROLE}}}
        """)
    # An appId may be a multi-tenant app not (yet) in the tenant: a warning, not an error.
    write(repo, f"{T}/applications/payroll.yaml",
          APP_YAML.replace("- resourceAppId: 00000003-", "- resourceAppId: 00000009-"))
    found = validate_paths(repo)
    assert [(f.path.rsplit("/", 1)[1], f.line, f.severity) for f in found] == [
        ("payroll.yaml", 7, "warning"), ("ra.yaml", 5, "error")]
    assert found[1].message.startswith("directoryScopeId: f0000000-0000-0000-0000-000000000001 is not a")


def test_duplicate_names(repo: Path) -> None:
    write(repo, f"{T}/groups/finance-2.yaml",
          FIN_GROUP_YAML.replace(FIN_GROUP, "a0000000-0000-0000-0000-000000000003"))
    write(repo, f"{T}/applications/payroll-2.yaml",
          APP_YAML.replace("c0000000-0000-0000-0000-000000000002", "c0000000-0000-0000-0000-000000000003")
          .replace("Payroll", "Payroll v2"))
    write(repo, f"{T}/namedLocations/hq-2.yaml", LOC_YAML.replace(LOC, "10000000-0000-0000-0000-000000000002"))
    found = only(validate_paths(repo), "duplicate-name")
    got = {(f.path.split("/", 2)[2], f.line, f.severity) for f in found}
    assert got == {
        ("groups/finance.yaml", 7, "error"), ("groups/finance-2.yaml", 7, "error"),
        ("applications/payroll.yaml", 5, "error"), ("applications/payroll-2.yaml", 5, "error"),
        ("namedLocations/hq.yaml", 4, "warning"), ("namedLocations/hq-2.yaml", 4, "warning"),
    }
    msg = next(f.message for f in found if f.path.endswith("groups/finance.yaml"))
    assert msg == (f"mailNickname 'finance' is also used by {T}/groups/finance-2.yaml: "
                   "Microsoft 365 groups need a unique mailNickname")


def test_security_groups_may_share_mail_nickname(repo: Path) -> None:
    write(repo, f"{T}/groups/bg2.yaml", BG_GROUP_YAML.replace(BG_GROUP, "a0000000-0000-0000-0000-000000000004"))
    assert only(validate_paths(repo), "duplicate-name") == []


@pytest.mark.parametrize("line, what", [
    ("passwordCredentials:\n- secretText: hunter2", "passwordCredentials[0].secretText: secrets never belong"),
    ("description: 'k: abc8Q~" + "x" * 34 + "'", "description: value looks like a client secret"),
    ("description: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop", "a token (JWT)"),
])
def test_secrets(repo: Path, line: str, what: str) -> None:
    write(repo, f"{T}/applications/payroll.yaml", APP_YAML.replace("identifierUris", line + "\nidentifierUris"))
    [f] = only(validate_paths(repo), "secret")
    assert (f.rule, f.line, f.severity) == ("secret", 4 + line.count("\n"), "error")
    assert what in f.message


def test_secret_in_tenant_yaml(repo: Path) -> None:
    (repo / f"{T}/tenant.yaml").write_text(TENANT.replace("  method: sim\n", "  method: secret\n  clientSecret: s3cr3t\n"))
    [f] = validate_paths(repo)
    assert (f.path, f.line, f.rule) == (f"{T}/tenant.yaml", 4, "secret")


LOCKOUT = CA_YAML.replace(f"    excludeGroups:\n    - {BG_GROUP}\n", "")


def test_ca_lockout(repo: Path) -> None:
    write(repo, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml", LOCKOUT)
    [f] = validate_paths(repo)
    assert (f.rule, f.line, f.severity) == ("ca-lockout", 18, "error")
    assert f.message == ("would lock out break-glass account bg1@contoso.example: the policy requires "
                         "grant controls for All users and does not exclude it")


def test_ca_lockout_block_and_excluded_by_id(repo: Path) -> None:
    block = LOCKOUT.replace("  - mfa\n", "  - block\n")
    write(repo, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml", block)
    [f] = validate_paths(repo)
    assert "the policy blocks All users" in f.message
    fixed = block.replace("    includeRoles:", f"    excludeUsers:\n    - {BG_USER}\n    includeRoles:")
    fixed += f"  {BG_USER}: {{kind: users, name: Break Glass 1, userPrincipalName: bg1@contoso.example}}\n"
    write(repo, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml", fixed)
    assert validate_paths(repo) == []


def test_ca_lockout_via_included_group(repo: Path) -> None:
    scoped = LOCKOUT.replace("    includeUsers:\n    - All\n", f"    includeGroups:\n    - {BG_GROUP}\n")
    write(repo, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml", scoped)
    [f] = validate_paths(repo)
    assert (f.rule, f.line) == ("ca-lockout", 18)  # the includeGroups key
    assert "requires grant controls for a group it is a member of" in f.message


def test_ca_lockout_excluded_via_role(repo: Path) -> None:
    write(repo, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml",
          LOCKOUT.replace("    includeRoles:", f"    excludeRoles:\n    - {GA_ROLE}\n    includeRoles:"))
    write(repo, f"{T}/roleAssignments/bg-ga.yaml", f"""\
        id: ra-bg
        principalId: {BG_USER}
        roleDefinitionId: {GA_ROLE}
        directoryScopeId: /
        refs:
          {BG_USER}: {{kind: users, name: Break Glass 1, userPrincipalName: bg1@contoso.example}}
          {GA_ROLE}: {{kind: roleDefinitions, name: Global Administrator, templateId: {GA_ROLE}}}
        """)
    assert validate_paths(repo) == []


@pytest.mark.parametrize("state", ["disabled", "enabledForReportingButNotEnforced"])
def test_ca_lockout_only_for_enabled_policies(repo: Path, state: str) -> None:
    write(repo, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml",
          LOCKOUT.replace("state: enabled", f"state: {state}"))
    assert validate_paths(repo) == []


def test_ca_lockout_with_break_glass_by_id_and_unknown_upn(repo: Path) -> None:
    (repo / f"{T}/tenant.yaml").write_text(TENANT + f"- {BG_USER}\n- nobody@contoso.example\n")
    write(repo, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml", LOCKOUT)
    found = validate_paths(repo)
    assert [(f.path.rsplit("/", 1)[1], f.line, f.severity) for f in found] == [
        ("require-mfa-for-admins.yaml", 18, "error"), ("require-mfa-for-admins.yaml", 18, "error"),
        ("tenant.yaml", 7, "warning")]
    assert "nobody@contoso.example is not named by any file" in found[2].message


def test_paths_limit_findings_but_keep_context(repo: Path) -> None:
    write(repo, f"{T}/groups/broken.yaml", "id: [\n")
    write(repo, f"{T}/conditionalAccessPolicies/require-mfa-for-admins.yaml", LOCKOUT)
    ca = repo / f"{T}/conditionalAccessPolicies"
    assert [f.rule for f in validate_paths(repo, [ca])] == ["ca-lockout"]
    assert [f.rule for f in validate_paths(repo, [Path(f"{T}/groups/finance.yaml")])] == []
    [missing] = validate_paths(repo, [Path("tenants/nope.yaml")])
    assert missing.rule == "missing"


def test_finding_renders_as_file_line(repo: Path) -> None:
    f = Finding("tenants/x/groups/a.yaml", 3, "schema", "boom")
    assert str(f) == "tenants/x/groups/a.yaml:3: error: boom [schema]"


def test_node_trees_are_not_kept_and_lines_still_come_back(repo: Path) -> None:
    # A tenant of 20,000 files held every YAML node tree at once: a loaded file keeps only its data
    # and text, and a line asked for re-parses that one file.
    from entragit.validate import _load_tenant

    t = _load_tenant(repo, repo / T, [])
    assert t.docs and all(d.parsed and d._node is None for d in t.docs)
    hq = next(d for d in t.docs if d.path.endswith("namedLocations/hq.yaml"))
    assert hq.line(("isTrusted",)) == LOC_YAML.splitlines().index("isTrusted: true") + 2  # after the header
    write(repo, f"{T}/namedLocations/hq.yaml", LOC_YAML.replace("isTrusted: true", "isTrusted: maybe")
          + "displayName: HQ2\n")
    assert {(f.rule, f.line) for f in validate_paths(repo)} >= {("yaml", 9), ("schema", 8)}


def test_the_fast_validator_agrees_with_jsonschema_on_every_demo_file_and_its_breakages() -> None:
    """jsonschema-rs only answers valid or not (jsonschema words the findings): on the demo tenant's
    files, and on each with a top-level value of the wrong type, both agree (unknown enum members: the
    unknown-enum test above goes through the same check)."""
    from entragit import kinds, validate, yamlio

    checked = broken = 0
    for path in sorted(Path("tenants/demo").glob("*/*.yaml")):
        kind = kinds.BY_NAME.get(path.parent.name)
        if kind is None or validate.validator_for(kind.name) is None:
            continue
        doc = yamlio.load(path.read_text(encoding="utf-8"))
        full = validate.validator_for(kind.name)
        variants = [doc] + [{**doc, key: 12345 if isinstance(v, (str, bool)) or v is None else "x"}
                            for key, v in doc.items() if key in full.schema.get("properties", {})]
        for body in variants:
            fast, slow = validate._fast_valid(kind.name, body), not list(full.iter_errors(body))
            assert fast == slow, (path, body)
            checked += 1
            broken += not slow
    assert checked > 1000 and broken > 500, (checked, broken)
