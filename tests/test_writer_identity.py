"""Two identities: every command signs in as the read-only app, `apply` alone as auth.writer's write app.
Both apps are real app registrations in the simulator, each holding exactly its `entragit permissions` list."""

from __future__ import annotations

import git
import pytest

from entragit import kinds, permissions

from .conftest import exact_app, make_repo
from .portal import Portal

DEFAULT = [k for k in kinds.KINDS if k.default_on]


@pytest.fixture
def sim(sim_factory):
    return sim_factory("demo", tls=True)


@pytest.fixture
def two_apps(tmp_path, sim, monkeypatch):
    """A config repo whose tenant.yaml names a reader (read permissions only) and a writer."""
    writes_only = tuple(sorted(set(permissions.for_apply(DEFAULT)) - set(permissions.for_export(DEFAULT))))
    reader, reader_secret = exact_app(sim, "entragit-reader", drop=writes_only)
    writer, writer_secret = exact_app(sim, "entragit-writer")
    monkeypatch.setenv("ENTRAGIT_CLIENT_SECRET", reader_secret)
    monkeypatch.delenv("ENTRAGIT_WRITER_CLIENT_SECRET", raising=False)
    cli = make_repo(tmp_path / "config", sim, "demo", "--auth", "secret", "--client-id", reader,
                    "--writer-client-id", writer, "--authority", sim.authority, "--ca-bundle", sim.ca_bundle)
    text = (cli.repo / "tenants" / "demo" / "tenant.yaml").read_text()
    assert f"writer:\n    clientId: {writer}" in text and "secret" not in text.split("writer:")[1].lower()
    return cli, writer_secret


def _edit(cli) -> None:
    f = next((cli.repo / "tenants" / "demo" / "conditionalAccessPolicies").glob("ca100-*.yaml"))
    f.write_text(f.read_text().replace("state: enabled", "state: disabled"))
    git.Repo(cli.repo).git.commit("-qam", "Disable CA100")


def test_reads_need_only_the_reader_and_apply_signs_in_as_the_writer(two_apps, sim, monkeypatch):
    cli, writer_secret = two_apps
    cli("export", "--commit")  # the reader reads everything
    _edit(cli)
    assert "Plan: 1 to update." in cli("plan").output  # no writer secret anywhere in this process
    cli("drift", code=2)
    # apply asks for the writer's own secret, never the reader's under the writer's client id.
    out = cli("apply", "--yes", code=1).output
    assert "ENTRAGIT_WRITER_CLIENT_SECRET" in out and Portal(sim).policy("CA100")["state"] == "enabled"
    monkeypatch.setenv("ENTRAGIT_WRITER_CLIENT_SECRET", writer_secret)
    out = cli("apply", "--yes", "--commit").output
    assert "Applied 1/1 operations" in out and Portal(sim).policy("CA100")["state"] == "disabled"
    r = git.Repo(cli.repo)
    assert r.commit("refs/tags/entragit/applied/demo") == r.head.commit and "tagged" in out


def test_the_reader_alone_cannot_apply(two_apps, sim, monkeypatch):
    cli, _ = two_apps
    cli("export", "--commit")
    _edit(cli)
    tenant_yaml = cli.repo / "tenants" / "demo" / "tenant.yaml"
    text = tenant_yaml.read_text()
    tenant_yaml.write_text(text[:text.index("  writer:")] + text[text.index("users:"):])  # one identity
    out = cli("apply", "--yes", code=1).output
    assert "lack what this plan needs; nothing was written" in out and "Policy.ReadWrite.ConditionalAccess" in out
    assert Portal(sim).policy("CA100")["state"] == "enabled"


def test_permissions_reader_and_writer_print_each_set(repo):
    reader = repo("permissions", "--reader").output.split()  # the kinds this repo's tenant exports
    writer = repo("permissions", "--writer").output.split()
    assert reader == sorted(set(permissions.for_export(DEFAULT)) | set(permissions.EXPORT_OPTIONAL))
    assert writer == permissions.for_apply(DEFAULT)
    assert not [p for p in reader if "ReadWrite" in p] and "Policy.ReadWrite.ConditionalAccess" in writer


@pytest.mark.parametrize("writer, message", [
    ("writer: yes", "auth.writer must be a mapping with the write app's clientId"),
    ("writer: {clientId: 11111111-1111-1111-1111-111111111111, method: sim}", "auth.writer.method is not allowed"),
])
def test_a_bad_writer_block_names_the_file_and_line(repo, writer, message):
    p = repo.repo / "tenants" / "demo" / "tenant.yaml"
    lines = p.read_text().splitlines()
    at = lines.index("auth:") + 1
    p.write_text("\n".join([*lines[:at], f"  {writer}", *lines[at:]]) + "\n")
    out = repo("plan", code=1).output
    assert f"tenants/demo/tenant.yaml:{at + 1}" in out and message in out
