"""Command line: parse, call one library function, render. Heavy imports stay inside commands."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from entragit.errors import EntragitError
from entragit.lock import DEFAULT_TIMEOUT as DEFAULT_LOCK_TIMEOUT

# sysexits.h EX_USAGE. click exits 2 on a usage error, which `--detailed-exitcode` and drift use for
# "differences found": CI must never read a mistyped option as changes.
EX_USAGE = 64


@contextmanager
def _usage_exit() -> Iterator[None]:
    try:
        yield
    except click.UsageError as e:  # BadParameter, NoSuchOption, MissingParameter...
        e.exit_code = EX_USAGE  # type: ignore[misc]  # a class default in click; its main() exits with it
        raise


class _Group(click.Group):
    """Turns EntragitError into one line on stderr and its exit code, and usage errors into EX_USAGE."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        with _usage_exit():  # the options of `entragit` itself
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with _usage_exit():  # a subcommand's name and options, parsed in here
                return super().invoke(ctx)
        except EntragitError as e:
            click.echo(f"error: {e.message}", err=True)
            if e.hint:
                click.echo(f"hint: {e.hint}", err=True)
            sys.exit(e.exit_code)


NO_COLOR = "entragit.no_color"  # ctx.meta key: --no-color given


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="entragit")
@click.option("--no-color", "no_color", is_flag=True,
              help="No colour anywhere (diff, drift, log, plan, progress). So does NO_COLOR set and non-empty.")
@click.pass_context
def main(ctx: click.Context, no_color: bool) -> None:
    """entragit: git as the source of truth for Microsoft Entra ID configuration.

    \b
    Typical flow:
      entragit init my-tenants && cd my-tenants
      entragit tenant add contoso --tenant-id <GUID> --auth secret --client-id <APPID>
      entragit export --all --commit          # nightly snapshot
      entragit plan --ref HEAD~3              # what would restoring that commit do?
      entragit apply --ref HEAD~3             # do it

    Try it without a tenant: `entragit demo`.

    \b
    Exit codes: 0 ok, 1 error, 2 differences found (plan --detailed-exitcode, drift),
    64 usage error (an unknown option or a bad value: the command did not run).
    """
    ctx.meta[NO_COLOR] = no_color
    _register_prompt()  # one device code sign-in per command run


def _colour(fmt: str = "text", stream: Any = None) -> bool:
    """Colour only in text for a terminal, and never with --no-color or NO_COLOR (https://no-color.org:
    set and non-empty)."""
    import os

    off = click.get_current_context().meta.get(NO_COLOR) or os.environ.get("NO_COLOR", "")
    return fmt == "text" and not off and (stream or sys.stdout).isatty()


class _LazySim(click.Group):
    """`entragit sim`, whose package (the whole simulator) is imported only when `sim` itself runs:
    `entragit --help` and every other command start without it."""

    def _real(self) -> click.Group:
        from entragit_sim.cli import sim

        return sim

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)


main.add_command(_LazySim("sim", help="Run the built-in Microsoft Graph simulator (for rehearsals, tests and the demo)."))


# ---------------------------------------------------------------- shared options

def _root(repo: str | None) -> Any:
    """The config repo, with any tenant folder a killed export left half swapped put back first."""
    from pathlib import Path

    from entragit import export as exp
    from entragit.config import find_root

    root = find_root(Path(repo) if repo else None)
    _report_recovered(exp.recover_if_idle(root))
    return root


def _report_recovered(notes: list[str]) -> None:
    for note in notes:
        click.echo(note, err=True)


@contextmanager
def _writing(root: Any, command: str, timeout: float) -> Iterator[None]:
    """Hold the repo lock for a command that writes files or commits (export, apply, fmt)."""
    from entragit import export as exp
    from entragit import lock

    def waiting(holder: lock.Holder) -> None:
        click.echo(f"waiting up to {timeout:g}s for the repo lock, held by {holder.describe()}", err=True)

    with lock.hold(root, command, timeout, on_wait=waiting):
        _report_recovered(exp.recover(root))  # a holder killed mid-swap while we waited
        yield


repo_option = click.option("--repo", metavar="DIR", help="Config repo (default: the one containing the cwd).")
lock_option = click.option(
    "--lock-timeout", type=click.FloatRange(min=0), default=DEFAULT_LOCK_TIMEOUT, show_default=True,
    envvar="ENTRAGIT_LOCK_TIMEOUT", metavar="SECONDS",
    help="One export, apply or fmt writes a repo at a time: wait this long for another one to finish, then "
         "fail naming it (pid, command, since when) without writing anything. 0 fails at once. "
         "Env: ENTRAGIT_LOCK_TIMEOUT.")


def _pick_tenants(root: Any, name: str | None, all_tenants: bool) -> list[Any]:
    """--tenant NAME, --all, or the only tenant there is."""
    from entragit import config
    from entragit.errors import EntragitError

    if name and all_tenants:
        raise EntragitError("use --tenant NAME or --all, not both")
    ts = config.tenants(root, name)
    if not name and not all_tenants and len(ts) > 1:
        raise EntragitError(f"{len(ts)} tenants here; pick one with --tenant NAME or use --all")
    for t in ts:
        _warn_overlaps(t)
    return ts


def _warn_overlaps(t: Any) -> None:
    from entragit import config

    for w in config.kind_overlaps(t):
        click.echo(f"warning: tenants/{w}", err=True)


def _setup_logging(verbose: int) -> None:
    import logging

    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if verbose < 2:
        for noisy in ("httpx", "azure", "msal", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    if not verbose:  # a failed sign-in comes back as one error line of ours; azure-identity's warning repeats it
        logging.getLogger("azure.identity").setLevel(logging.ERROR)


# ---------------------------------------------------------------- init / tenant

@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
def init(directory: str) -> None:
    """Scaffold a config repo in DIRECTORY: git init, tenants/, schemas/, pre-commit and CI templates."""
    from pathlib import Path

    from entragit import scaffold

    created = scaffold.init(Path(directory))
    for p in created:
        click.echo(f"  created {p}")
    done = " (scaffold committed)" if created else ""
    click.echo(f"Initialised entragit repo in {Path(directory).resolve()}{done}\n"
               "Next: entragit tenant add NAME --tenant-id GUID --auth secret --client-id APPID")


@main.group()
def tenant() -> None:
    """Manage tenants/<name>/tenant.yaml files."""


@tenant.command("add")
@click.argument("name")
@click.option("--tenant-id", required=True, help="Entra tenant id (GUID).")
@click.option("--cloud", type=click.Choice(["global", "usgov", "usgov-dod", "china"]), default="global",
              show_default=True, help="National cloud; ignored when --graph-url is given.")
@click.option("--graph-url", help="Explicit Graph root, e.g. a simulator's http://127.0.0.1:8080. Only Microsoft "
                                  "Graph hosts and loopback receive tokens; trust another host with "
                                  "ENTRAGIT_TRUSTED_HOSTS=host[,host...] in the environment (never in the repo).")
@click.option("--auth", "method", type=click.Choice(["secret", "certificate", "workload-identity", "device-code",
                                                      "azure-cli", "default", "sim"]), default="default",
              show_default=True,
              help="How to sign in. secret reads the secret from $ENTRAGIT_CLIENT_SECRET (or --secret-env), "
                   "never from a file. device-code and azure-cli sign in as YOU (delegated: your directory "
                   "roles and the consented scopes both apply): device-code prints a URL and a code to enter "
                   "in a browser, once per run; use it when the automation app is gone or locked out "
                   "(break-glass), and for operations Graph refuses to apps. sim uses the simulator's dev token.")
@click.option("--client-id", help="App registration (client) id for secret/certificate/workload-identity; for "
                                  "device-code a public client (default: Microsoft Graph Command Line Tools, "
                                  "14d82eec-204b-4c2f-b7e8-296a70dab67e).")
@click.option("--secret-env", help="Environment variable holding the client secret.")
@click.option("--writer-client-id", metavar="APPID",
              help="A second app registration, the only one `apply` signs in as (auth.writer in tenant.yaml): "
                   "plan, drift, export and pull-request jobs then hold an identity that cannot write. Same "
                   "--auth method; its secret is read from $ENTRAGIT_WRITER_CLIENT_SECRET. See "
                   "`entragit permissions --reader` / `--writer`.")
@click.option("--certificate-path", help="PEM (certificate + private key) or PKCS12 file for --auth certificate.")
@click.option("--certificate-password-env", metavar="VAR",
              help="Environment variable holding the certificate file's password, if it has one.")
@click.option("--token-file", help="Federated token file for --auth workload-identity (default: "
                                   "$AZURE_FEDERATED_TOKEN_FILE, as CI runners set it).")
@click.option("--authority", help="Token authority, for private clouds or the TLS simulator. Only Microsoft "
                                  "sign-in hosts and loopback, unless ENTRAGIT_TRUSTED_HOSTS names it.")
@click.option("--ca-bundle", help="CA bundle to trust (TLS simulator).")
@click.option("--users/--no-users", default=False, show_default=True, help="Export users too (privacy: opt-in).")
@click.option("--break-glass", multiple=True, metavar="UPN|ID", help="Break-glass account; repeatable.")
@repo_option
def tenant_add(name: str, tenant_id: str, cloud: str, graph_url: str | None, method: str, client_id: str | None,
               secret_env: str | None, writer_client_id: str | None, certificate_path: str | None, certificate_password_env: str | None,
               token_file: str | None, authority: str | None, ca_bundle: str | None, users: bool,
               break_glass: tuple[str, ...], repo: str | None) -> None:
    """Add tenant NAME: writes tenants/NAME/tenant.yaml (no secrets are ever written) and commits it."""
    from entragit import gitstore
    from entragit.config import repo_file, tenant_yaml
    from entragit.errors import EntragitError

    root = _root(repo)
    path = repo_file(root, root / "tenants" / name / "tenant.yaml")
    if path.exists():
        raise EntragitError(f"{path.relative_to(root)} already exists")
    gitstore.head(root)  # not a git repo: said before anything is written
    text = tenant_yaml(name, tenant_id, graph_url=graph_url, cloud=cloud, users=users, break_glass=break_glass,
                       ca_bundle=ca_bundle, auth={"method": method, "clientId": client_id, "secretEnv": secret_env,
                                                  "certificatePath": certificate_path,
                                                  "certificatePasswordEnv": certificate_password_env,
                                                  "tokenFile": token_file, "authority": authority,
                                                  "writer": {"clientId": writer_client_id} if writer_client_id else None})
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    rel = path.relative_to(root).as_posix()
    # Committed at once, so the first export's commit holds only objects and a clean tree means no hand edits.
    sha = gitstore.commit(root, [rel], f"{name}: add tenant ({rel})\n\nTenant id {tenant_id.lower()}, "
                                       f"auth method {method}; no secrets are written.\n")
    click.echo(f"wrote {rel}" + (f" -> commit {sha[:10]}" if sha else ""))


def _complete_tenant(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion: the tenant folders of the repo around the cwd (or --repo, if typed first)."""
    from pathlib import Path

    from entragit.config import find_root

    try:
        root = find_root(Path(ctx.params["repo"]) if ctx.params.get("repo") else None)
    except EntragitError:
        return []
    return sorted(p.name for p in (root / "tenants").iterdir() if p.is_dir() and p.name.startswith(incomplete))


@tenant.command("remove")
@click.argument("name", shell_complete=_complete_tenant)
@click.option("--force", is_flag=True, help="Remove even with uncommitted changes in the folder (they are lost).")
@lock_option
@repo_option
def tenant_remove(name: str, force: bool, lock_timeout: float, repo: str | None) -> None:
    """Remove tenant NAME: deletes tenants/NAME and commits that. Nothing in the tenant itself changes."""
    from entragit.config import remove_tenant

    root = _root(repo)
    with _writing(root, "tenant remove", lock_timeout):
        sha = remove_tenant(root, name, force)
    click.echo(f"removed tenants/{name}" + (f" -> commit {sha[:10]}" if sha else " (it was never committed)"))


def _device_code_prompt(url: str, code: str, expires_on: Any) -> None:
    """Sign-in instructions for `auth.method: device-code`, on stderr so stdout stays parseable."""
    click.echo(f"To sign in, open {url} in a browser and enter the code {code} "
               f"(valid until {expires_on:%H:%M} UTC).", err=True)


def _register_prompt() -> None:
    from entragit import auth

    auth.set_device_code_prompt(_device_code_prompt)


@tenant.command("list")
@repo_option
def tenant_list(repo: str | None) -> None:
    """The repo's tenants: id, where Graph is, how entragit signs in, what it exports."""
    from entragit import config

    for t in config.tenants(_root(repo)):
        files = len(list(t.dir.glob("*/*.yaml")))
        click.echo(f"{t.name:<20} {t.tenant_id}  {t.graph_url:<36} auth={t.auth.get('method', 'default'):<18} "
                   f"{len(t.export_kinds)} kinds, {files} files")


# ---------------------------------------------------------------- export

@main.command()
@click.option("--tenant", "tenant_name", metavar="NAME", help="Export one tenant.")
@click.option("--all", "all_tenants", is_flag=True, help="Export every tenant (concurrently).")
@click.option("--shard", metavar="K/N", help="With --all: only the tenants of job K of N. Tenants are split by a "
              "stable hash of their name, so N CI jobs given 1/N..N/N export each tenant exactly once.")
@click.option("--commit", "do_commit", is_flag=True, help="Commit what changed (one commit per tenant).")
@click.option("-m", "--message", help="Commit message first line (default: a summary of the changes).")
@click.option("--allow-partial", is_flag=True, help="Skip kinds the token may not read (their files stay).")
@click.option("--force", is_flag=True, help="Overwrite uncommitted changes to the tenant's files (refused otherwise, "
              "naming them).")
@click.option("--full", is_flag=True, help="Read every object, even when the delta links of the last export "
              "would allow an incremental read.")
@click.option("--skip-unapplied", is_flag=True,
              help="Leave out tenants whose files on this branch changed since the tenant last matched them "
                   "(a merge `apply` has not made yet, see `entragit pending`): exporting would commit the live "
                   "state over it.")
@click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True,
              help="Parallel Graph requests per tenant.")
@click.option("--parallel-tenants", type=click.IntRange(min=1), default=4, show_default=True,
              help="Tenants exported at the same time by each worker process (--all); each is written and "
                   "committed on its own.")
@click.option("--workers", type=click.IntRange(min=1), default=None, envvar="ENTRAGIT_WORKERS",
              help="Processes exporting tenants at once (--all), so a fleet's export uses every core: default "
                   "one per core, at most one per 4 tenants, and 1 (this process) when a tenant signs in by "
                   "device code. Env: ENTRAGIT_WORKERS.")
@click.option("-v", "--verbose", count=True, help="-v progress lines, -vv every request.")
@lock_option
@repo_option
def export(tenant_name: str | None, all_tenants: bool, shard: str | None, do_commit: bool, message: str | None,
           allow_partial: bool, force: bool, full: bool, skip_unapplied: bool, concurrency: int,
           parallel_tenants: int, workers: int | None, verbose: int, lock_timeout: float, repo: str | None) -> None:
    """Read the live tenant(s) and write canonical YAML under tenants/<name>/.

    Only real changes touch files; with --commit a run that changed nothing makes no commit.
    Refused, writing nothing, when the token reaches another tenant than tenant.yaml's tenantId,
    or when uncommitted edits under tenants/<name>/ would be overwritten (unless --force).
    With --commit, tag entragit/applied/<name> then marks the commit the tenant matches.
    After a committed export, the next one reads only what Graph's delta queries report changed
    (groups, administrative units, referenced users' names), unless --full, the files changed, a
    delta link expired, or the last full read is a week old; each tenant's line says which.
    """
    _setup_logging(verbose)
    root = _root(repo)
    with _writing(root, "export", lock_timeout):
        _export(root, tenant_name, all_tenants, shard, do_commit, message, allow_partial, force, skip_unapplied,
                concurrency, parallel_tenants, verbose, full, workers)


def _export_tenants(root: Any, tenant_name: str | None, all_tenants: bool, shard: str | None,
                    skip_unapplied: bool) -> list[Any]:
    """The tenants to export: --tenant/--all, this --shard of them, less those --skip-unapplied keeps."""
    from entragit import export as exp
    from entragit import reconcile
    from entragit.errors import EntragitError

    ts = _pick_tenants(root, tenant_name, all_tenants)
    if shard:
        if not all_tenants:
            raise EntragitError("--shard splits --all; use them together")
        ts = exp.shard(ts, shard)
    if not skip_unapplied:
        return ts
    kept = []
    for t in ts:
        if sha := reconcile.unapplied(root, t):
            click.echo(f"skipped: {t.name}: tenants/{t.name}/ changed since the tenant last matched it "
                       f"({sha[:10]}); not exported until apply makes the change", err=True)
        else:
            kept.append(t)
    return kept


def _export(root: Any, tenant_name: str | None, all_tenants: bool, shard: str | None, do_commit: bool,
            message: str | None, allow_partial: bool, force: bool, skip_unapplied: bool, concurrency: int,
            parallel_tenants: int, verbose: int, full: bool = False, workers: int | None = None) -> None:
    from entragit import export as exp
    from entragit import gitstore
    from entragit.errors import EntragitError

    ts = _export_tenants(root, tenant_name, all_tenants, shard, skip_unapplied)
    if not ts:
        click.echo(f"shard {shard}: no tenants" if shard else "no tenants to export")
        return
    from entragit import workers as pool
    from entragit.progress import reporter

    n = pool.count(workers, ts)
    if n > 1:
        click.echo(f"export: {len(ts)} tenants, {n} worker processes", err=True)
    with reporter(verbose, colour=_colour(stream=sys.stderr)) as progress:
        results = exp.export(root, ts, do_commit=do_commit, message=message, allow_partial=allow_partial,
                             progress=progress, concurrency=concurrency, parallel_tenants=parallel_tenants,
                             force=force, full=full, workers=n)
    failed = [r for r in results if r.failed]
    for r in results:
        if r.failed:
            click.echo(f"FAILED {r.tenant}: {r.failed}", err=True)
            continue
        for w in r.warnings:
            click.echo(f"warning: {r.tenant}: {w}", err=True)
        for kname, why in r.errors.items():
            click.echo(f"skipped: {r.tenant}: {kname}: {why}", err=True)
        if do_commit and not r.errors:  # the files at HEAD are now the live tenant
            gitstore.mark_applied(root, r.tenant, "HEAD")
        tail = f" -> commit {r.commit[:10]}" if r.commit else (" (nothing to commit)" if do_commit else "")
        st = r.stats
        reqs = (f", {st.requests} requests, {st.retries} retries, {st.resource_units} RU, {st.paced} paced"
                if st else "")
        how = f" ({r.read} read)" if r.read == "incremental" else f" (full read{r.read[4:]})" if r.read else ""
        click.echo(f"{r.summary} [{r.objects} objects{reqs}]{tail}{how}")
    if failed:
        raise EntragitError(f"{len(failed)} of {len(results)} tenant(s) failed: {', '.join(r.tenant for r in failed)}")


# ---------------------------------------------------------------- validate / fmt

@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="json: findings for machines (docs/JSON-FORMATS.md); github: GitHub Actions annotations "
                   "on the pull request's files and lines.")
@repo_option
def validate(paths: tuple[str, ...], fmt: str, repo: str | None) -> None:
    """Check files: JSON Schema, reference integrity, duplicates, secrets, CA lock-out. Errors name file:line."""
    import json
    from pathlib import Path

    from entragit import validate as val

    root = _root(repo)
    findings = val.validate_paths(root, [Path(p) for p in paths] or None)
    errors = [f for f in findings if f.severity == "error"]
    if fmt == "json":
        click.echo(json.dumps(val.to_json(findings), indent=2, ensure_ascii=False))
    elif fmt == "github" and findings:
        click.echo(val.github(findings))
    elif fmt == "text":
        for f in findings:
            click.echo(str(f), err=f.severity == "error")
    if errors:
        sys.exit(1)
    if fmt != "json":
        click.echo(f"ok ({len(findings)} warning(s))" if findings else "ok")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--check", is_flag=True, help="Only report files that are not canonical (exit 1 if any).")
@lock_option
@repo_option
def fmt(paths: tuple[str, ...], check: bool, lock_timeout: float, repo: str | None) -> None:
    """Rewrite YAML files in canonical form (key order, sorted sets, rebuilt refs index)."""
    from contextlib import nullcontext
    from pathlib import Path

    from entragit.fmt import format_paths

    root = _root(repo)
    with nullcontext() if check else _writing(root, "fmt", lock_timeout):  # --check only reads
        changed = format_paths(root, [Path(p) for p in paths], check=check)
    for rel in changed:
        click.echo(f"{'would reformat' if check else 'reformatted'} {rel}")
    if check and changed:
        sys.exit(1)


# ---------------------------------------------------------------- plan / apply

def _one_tenant(root: Any, name: str | None) -> Any:
    from entragit import config
    from entragit.errors import EntragitError

    ts = config.tenants(root, name)
    if len(ts) > 1:
        raise EntragitError(f"{len(ts)} tenants here; pick one with --tenant NAME")
    _warn_overlaps(ts[0])
    return ts[0]


def _desired_ref(ref: str) -> str:
    """--ref as plan reads it: WORKTREE in any case means the files on disk."""
    from entragit import gitstore

    return gitstore.WORKTREE if ref.upper() == gitstore.WORKTREE else ref


def _note_uncommitted(root: Any, t: Any, ref: str) -> None:
    """One line when a plan of a revision leaves out uncommitted edits to the tenant's files."""
    from entragit import gitstore, reconcile

    edits = [] if ref == gitstore.WORKTREE else reconcile.uncommitted_objects(root, t)
    if edits:
        shown = ", ".join(edits[:3]) + (f" and {len(edits) - 3} more" if len(edits) > 3 else "")
        click.echo(f"note: this plan reads the files at {ref}; {len(edits)} uncommitted change(s) under "
                   f"tenants/{t.name}/ are not in it ({shown}); plan them with --ref WORKTREE", err=True)


plan_options = [
    click.option("--ref", default="HEAD", show_default=True,
                 help="Git revision whose files are the desired state; WORKTREE (any case) for the files on "
                      "disk, uncommitted edits included."),
    click.option("--tenant", "tenant_name", metavar="NAME", help="Tenant (needed when the repo has several)."),
    click.option("--only", "selectors", multiple=True, metavar="SELECTOR",
                 help="Restrict to a kind (groups), an object by kind/slug (groups/finance-admins), kind/display "
                      "name (groups/Finance Admins), id or file path; repeatable. One that names nothing is an "
                      "error. References to recreated objects are still fixed everywhere."),
    click.option("--prune", is_flag=True, help="Also delete live objects missing from the files (soft where Entra allows)."),
    repo_option,
]


def _with(options: list[Any]) -> Any:
    def deco(f: Any) -> Any:
        for o in reversed(options):
            f = o(f)
        return f
    return deco


@main.command()
@_with(plan_options)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when there is something to do, 0 when not (1 error, 64 usage error).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Save the plan; `apply --plan FILE` runs exactly it.")
@click.option("--native-marks", is_flag=True,
              help="Mark each operation `native` (Microsoft Entra Backup and Recovery can do it with the original "
                   "id, from the newest snapshot or --snapshot) or `entragit` (only entragit can, and why), as "
                   "`apply --via native` would split it. Runs a difference report scoped to the plan's objects: "
                   "needs a signed-in Backup Administrator.")
@click.option("--via", type=click.Choice(["entragit", "native"]), default="entragit", show_default=True,
              help="The plan as `apply --via` would carry it out; native is --native-marks.")
@click.option("--snapshot", metavar="ID", help="With --native-marks: the native snapshot (default: the newest).")
@click.option("--full-read", is_flag=True,
              help="Read the whole live tenant. By default, after a committed export on this machine, plan "
                   "reads the groups, administrative units and users' names it wrote as that export's files "
                   "plus the changes Graph's delta queries report since, and the other kinds in full (the "
                   "same live view, in far fewer requests); apply always reads in full.")
@click.option("-v", "--verbose", count=True)
def plan(ref: str, tenant_name: str | None, selectors: tuple[str, ...], prune: bool, repo: str | None,
         fmt: str, detailed_exitcode: bool, out_file: str | None, native_marks: bool, via: str,
         snapshot: str | None, full_read: bool, verbose: int) -> None:
    """Show what `apply` would do to make the live tenant match the files at --ref.

    \b
    Missing objects come back from Entra's recycle bin with their original ids where possible,
    else are adopted (same natural key) or recreated, and every reference to a recreated
    object's old id is remapped (tenants/<name>/idmap.yaml keeps old -> new).
    """
    from pathlib import Path

    from entragit import gitstore, reconcile, render
    from entragit.errors import EntragitError

    _setup_logging(verbose)
    root = _root(repo)
    t = _one_tenant(root, tenant_name)
    asked = ref = _desired_ref(ref)
    if out_file and not Path(out_file).parent.is_dir():
        raise EntragitError(f"--out {out_file}: folder {Path(out_file).parent} does not exist; nothing written",
                            hint="create the folder first, or save the plan elsewhere")
    if ref != gitstore.WORKTREE:
        ref = gitstore.resolve(root, ref)  # a saved plan names the exact commit
    native_marks = native_marks or via == "native"
    if snapshot and not native_marks:
        raise EntragitError("--snapshot names the native snapshot of --native-marks; use them together")
    if native_marks:
        from entragit import nativeplan

        s, report, marks = nativeplan.plan_marks(root, t, ref, snapshot, _native_progress, selectors, prune)
        click.echo(nativeplan.with_marks(render.render(s.plan, fmt, s.names(), s.risks, colour=_colour(fmt)),
                                         fmt, report, marks, s.names()))
    else:
        s = reconcile.plan(root, t, ref, selectors, prune, incremental=not full_read)
        click.echo(render.render(s.plan, fmt, s.names(), s.risks, colour=_colour(fmt)))
    if verbose:  # what reading the live tenant cost and how, as export reports it (stderr: stdout stays the plan)
        st = s.stats
        how = ("incremental read: the last export's files and what Graph's delta reports since; "
               "--full-read reads everything") if s.read == "incremental" else s.read
        click.echo(f"read {t.name}: [{s.live.count()} objects, {st.requests} requests, {st.retries} retries, "
                   f"{st.resource_units} RU, {st.paced} paced] ({how})", err=True)
    _note_uncommitted(root, t, asked)
    if out_file:
        import json

        try:
            Path(out_file).write_text(json.dumps(s.plan.to_file(s.selectors, prune), indent=1), encoding="utf-8")
        except OSError as e:
            raise EntragitError(f"--out {out_file}: cannot write the plan: {e.strerror}") from None
        click.echo(f"plan saved to {out_file}", err=True)
    if detailed_exitcode and not s.plan.empty:
        sys.exit(2)


@main.command()
@_with(plan_options)
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
@click.option("--force-lockout-risk", is_flag=True, help="Apply even if a CA policy would lock out break-glass accounts.")
@click.option("--commit", "do_commit", is_flag=True, help="Commit idmap.yaml and re-export after applying.")
@click.option("--plan", "plan_file", type=click.Path(exists=True, dir_okay=False),
              help="Run exactly a plan saved by `plan --out`; refused if the tenant or files moved since.")
@click.option("--rehearse", is_flag=True,
              help="Apply to a simulated twin of the tenant (seeded from the files at HEAD) instead of the "
                   "real one, then check a second plan is empty. Nothing is sent to the tenant.")
@click.option("--via", type=click.Choice(["entragit", "native"]), default="entragit", show_default=True,
              help="native: Microsoft Entra Backup and Recovery first restores what it can with original ids "
                   "(one recovery job scoped by the ids of the objects `plan --native-marks` marks native), "
                   "then entragit does the rest and checks a second plan is empty. Needs a signed-in "
                   "Microsoft Entra Backup Administrator (--auth device-code or azure-cli); an app is refused "
                   "before anything is written.")
@click.option("--snapshot", metavar="ID", help="With --via native: the snapshot to recover from (default: the newest).")
@click.option("-v", "--verbose", count=True)
@lock_option
def apply(ref: str, tenant_name: str | None, selectors: tuple[str, ...], prune: bool, repo: str | None,
          yes: bool, force_lockout_risk: bool, do_commit: bool, plan_file: str | None, rehearse: bool,
          via: str, snapshot: str | None, verbose: int, lock_timeout: float) -> None:
    """Make the live tenant match the files at --ref (shows the plan and asks first).

    \b
    Examples:
      entragit apply                                  bring the tenant back to HEAD
      entragit apply --ref HEAD~1 --rehearse          dress rehearsal on a simulated twin
      entragit apply --only groups/finance-admins     one object; references to it are fixed too
      entragit plan --out p.json && entragit apply --plan p.json --yes   exactly the reviewed plan
      entragit apply --via native --commit            native recovery first, entragit the rest

    A second apply of the same commit prints "No changes" and sends no write. An interrupted
    apply is safe to rerun: the id map is written after every create and the next plan adopts
    whatever the interrupted run created.

    \b
    With auth.writer in tenant.yaml, apply alone signs in as that write app (plan, writes and the
    re-export of --commit); every other command uses the read-only auth.clientId.
    A complete apply tags the commit the tenant now matches as entragit/applied/<tenant>.
    """
    _setup_logging(verbose)
    if plan_file:
        _refuse_with_saved_plan(click.get_current_context(), selectors, prune)
    root = _root(repo)
    ref = _desired_ref(ref)
    if via == "native" or snapshot:
        _refuse_with_native(via, snapshot, plan_file, rehearse)
    with _writing(root, "apply", lock_timeout):  # held from the plan to the commit: nothing moves in between
        if via == "native":
            _apply_native(root, ref, tenant_name, selectors, prune, yes, force_lockout_risk, do_commit, snapshot)
            return
        _apply(root, ref, tenant_name, selectors, prune, yes, force_lockout_risk, do_commit, plan_file, rehearse)


def _refuse_with_native(via: str, snapshot: str | None, plan_file: str | None, rehearse: bool) -> None:
    """--via native plans afresh against a native snapshot: a saved plan or a rehearsal twin cannot."""
    if via != "native":
        raise EntragitError("--snapshot names the native snapshot of --via native; use them together")
    given = [opt for opt, on in (("--plan", bool(plan_file)), ("--rehearse", rehearse)) if on]
    if given:
        raise EntragitError(f"{', '.join(given)} cannot be used with --via native: the native part is a recovery "
                            "job in the tenant itself, planned afresh", hint="`entragit plan --native-marks` "
                                                                             "shows the split first")


def _apply_native(root: Any, ref: str, tenant_name: str | None, selectors: tuple[str, ...], prune: bool, yes: bool,
                  force_lockout_risk: bool, do_commit: bool, snapshot: str | None) -> None:
    """apply --via native: the plan shown, native recovery of what it can, entragit the rest."""
    from entragit import nativeplan

    t = _one_tenant(root, tenant_name).writer()

    def confirm(question: str) -> bool:
        if not sys.stdin.isatty():  # no one to answer: say so instead of "Aborted!"
            raise EntragitError("apply needs --yes when not run interactively (stdin is not a terminal); nothing "
                                "was written", hint="review the split first with `entragit plan --native-marks`")
        return click.confirm(question, default=False)

    def on_op(o: Any) -> None:
        click.echo(f"  {'ok ' if o.ok else 'FAILED'} {o.op.action} {o.op.kind} {o.op.name!r}: {o.detail}")

    done = nativeplan.apply_via_native(root, t, ref, snapshot, yes, click.echo, confirm, _native_progress,
                                       selectors=selectors, prune=prune, force_lockout=force_lockout_risk,
                                       colour=_colour(), on_op=on_op)
    _note_uncommitted(root, t, ref)
    if done.empty:
        _mark_applied(root, t, done.ref, bool(selectors))
        return
    if do_commit:
        _commit_native(root, t, ref, done)
    _mark_applied(root, t, "HEAD" if do_commit else done.ref, bool(selectors) and not do_commit)


def _refuse_with_saved_plan(ctx: click.Context, selectors: tuple[str, ...], prune: bool) -> None:
    """--plan runs exactly what was reviewed: --ref, --only and --prune given with it would be ignored."""
    from click.core import ParameterSource

    given = [opt for opt, on in (("--ref", ctx.get_parameter_source("ref") != ParameterSource.DEFAULT),
                                 ("--only", bool(selectors)), ("--prune", prune)) if on]
    if given:
        raise EntragitError(f"{', '.join(given)} cannot be used with --plan: the saved plan already fixed "
                            "its ref, --only and --prune")


def _apply(root: Any, ref: str, tenant_name: str | None, selectors: tuple[str, ...], prune: bool, yes: bool,
           force_lockout_risk: bool, do_commit: bool, plan_file: str | None, rehearse: bool) -> None:
    from entragit import reconcile, render
    from entragit.errors import EntragitError

    if rehearse:
        _rehearse(root, _one_tenant(root, tenant_name).writer(), ref, selectors, prune, force_lockout_risk)
        return
    if plan_file:
        # Checked fresh as `plan --out` made it (the reader), so an unchanged tenant is never "stale".
        s = reconcile.load_saved(root, plan_file)
        t = s.tenant.writer()
    else:
        t = _one_tenant(root, tenant_name).writer()
        s = reconcile.plan(root, t, ref, selectors, prune)
    names = s.names()
    click.echo(render.text(s.plan, names, s.risks, colour=_colour()))
    if not plan_file:
        _note_uncommitted(root, t, ref)
    if s.plan.empty:
        _mark_applied(root, t, s.plan.ref, bool(s.selectors))
        return
    if not yes and not sys.stdin.isatty():  # no one to answer the question: say so instead of "Aborted!"
        raise EntragitError("apply needs --yes when not run interactively (stdin is not a terminal); nothing was "
                            "written", hint="review the plan first, e.g. `entragit plan --out plan.json`, then "
                                            "`entragit apply --plan plan.json --yes`")
    if not yes and not click.confirm("Apply these changes?", default=False):
        raise EntragitError("aborted; nothing was written")

    def on_op(o: Any) -> None:
        mark = "ok " if o.ok else "FAILED"
        click.echo(f"  {mark} {o.op.action} {o.op.kind} {o.op.name!r}: {o.detail}")

    result, stats = reconcile.apply(root, t, s, force_lockout=force_lockout_risk, on_op=on_op)
    n_ok = len(result.outcomes) - len(result.failed)
    click.echo(f"Applied {n_ok}/{len(result.outcomes)} operations ({stats.writes} write requests).")
    if do_commit:
        from entragit import export as exp
        from entragit import gitstore

        exp.export(root, [t], do_commit=False, force=True)  # the tenant as apply left it is what gets committed
        sha = gitstore.commit(root, [str(t.dir.relative_to(root))], f"{t.name}: apply {ref}\n")
        if sha:
            click.echo(f"committed {sha[:10]}")
    if result.failed:
        raise EntragitError(f"{len(result.failed)} operation(s) failed; fix and rerun apply (it resumes safely)")
    # With --commit the files at HEAD are the tenant as apply left it; without, the files at the ref.
    _mark_applied(root, t, "HEAD" if do_commit else s.plan.ref, bool(s.selectors) and not do_commit)


def _mark_applied(root: Any, t: Any, rev: str, partial: bool) -> None:
    """Tag the commit the tenant now matches; not after --only (the rest may differ) or for the work tree."""
    from entragit import gitstore

    if partial or rev == gitstore.WORKTREE or gitstore.head(root) is None:
        return
    sha = gitstore.mark_applied(root, t.name, rev)
    click.echo(f"tagged {sha[:10]} as {gitstore.APPLIED_TAG.format(tenant=t.name)}")


def _rehearse(root: Any, t: Any, ref: str, selectors: tuple[str, ...], prune: bool, force: bool) -> None:
    from entragit import rehearse, render
    from entragit.errors import EntragitError

    click.echo(f"Rehearsal: a simulated twin of {t.name} seeded from the files at HEAD and the tenant's "
               "recycle bins; nothing is written to the tenant (it is only read).\n")
    r = rehearse.run(root, t, ref, selectors, prune, force)
    if r.identity is not None:
        click.echo(f"The twin signs in as {r.identity.name!r} ({r.identity.kind}) with its "
                   f"{len(r.identity.permissions)} permission(s) and {len(r.identity.directory_roles)} "
                   "directory role(s).\n")
    click.echo(render.text(r.session.plan, r.session.names(), r.session.risks, colour=_colour()))
    _note_uncommitted(root, t, ref)
    for o in r.result.outcomes:
        click.echo(f"  {'ok ' if o.ok else 'FAILED'} {o.op.action} {o.op.kind} {o.op.name!r}: {o.detail}")
    done = len(r.result.outcomes) - len(r.result.failed)
    click.echo(f"Rehearsed {done}/{len(r.result.outcomes)} operations.")
    if r.after.plan.empty:
        click.echo("Converged: a second plan against the twin has nothing to do.")
    else:
        click.echo("NOT converged: a second plan would still do:\n" + render.text(r.after.plan, r.after.names()))
    if r.result.failed or not r.after.plan.empty:
        raise EntragitError("the rehearsal did not finish cleanly; see above")


# ---------------------------------------------------------------- permissions

@main.command()
@click.option("--tenant", "tenant_name", metavar="NAME", help="Only the kinds this tenant exports.")
@click.option("--table", "as_table", is_flag=True, help="Every kind with its read and write permissions.")
@click.option("--reader", "only", flag_value="reader",
              help="Only the read app's permissions (export, plan, drift, pull requests), one a line.")
@click.option("--writer", "only", flag_value="writer",
              help="Only the write app's permissions (apply, auth.writer in tenant.yaml), one a line.")
@click.option("--native", "with_native", is_flag=True,
              help="Add EntraBackup.Read.All to the read permissions: `native snapshots`, and export commits "
                   "naming the day's native backup snapshot.")
@repo_option
def permissions(tenant_name: str | None, as_table: bool, only: str | None, with_native: bool, repo: str | None) -> None:
    """The Graph application permissions to grant the app registration entragit signs in as.

    Export needs only the read list; apply needs the write list too. Admin consent is required.
    With two app registrations (auth.writer in tenant.yaml), grant --reader to the one CI plans
    and exports with and --writer to the one only the approved apply job signs in as.
    Microsoft Entra Backup and Recovery's read permission is listed only with --native.
    """
    from entragit import config
    from entragit import kinds as kindmod
    from entragit import permissions as perms

    if as_table:
        for kind, read, write in perms.table():
            click.echo(f"{kind:<38} read: {read:<62} write: {write}")
        return
    ks = list(kindmod.KINDS)
    if tenant_name or repo:
        ks = config.tenants(_root(repo), tenant_name)[0].export_kinds
    native = list(perms.NATIVE_READ) if with_native else []
    if only:
        wanted = perms.for_export(ks) + list(perms.EXPORT_OPTIONAL) + native if only == "reader" else perms.for_apply(ks)
        click.echo("\n".join(sorted(set(wanted))))
        return
    click.echo("export: " + " ".join(perms.for_export(ks)))
    click.echo("        optional: " + " ".join(perms.EXPORT_OPTIONAL) + " (names who changed what in commits)")
    if native:
        click.echo("        native: " + " ".join(native) + " (native snapshots; the snapshot id in export commits)")
    click.echo("apply:  " + " ".join(perms.for_apply(ks)))
    if native:  # who may run which native command (also `entragit native permissions`)
        click.echo("\nnative backup (apply --via native, plan --native-marks, native ...):")
        click.echo("\n".join("  " + line for line in perms.native_table()))


# ---------------------------------------------------------------- native backup

@main.group()
def native() -> None:
    """Microsoft Entra Backup and Recovery: the tenant's own daily snapshots (seven kept), next to git.

    \b
    snapshots    the snapshots (an app with EntraBackup.Read.All may list them)
    diff         what recovering to a snapshot would change, by object name
    plan         entragit's plan, each operation marked native or entragit-only
    apply        native recovery for what it can do with original ids, entragit the rest
    permissions  the app's read permission and Microsoft's Backup Reader / Administrator roles
    diff, plan and apply need a signed-in Microsoft Entra Backup Administrator.
    """


@native.command("snapshots")
@click.option("--tenant", "tenant_name", metavar="NAME", help="One tenant.")
@click.option("--all", "all_tenants", is_flag=True, help="Every tenant (the default when there is one).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-v", "--verbose", count=True, help="-vv every request.")
@repo_option
def native_snapshots(tenant_name: str | None, all_tenants: bool, fmt: str, verbose: int, repo: str | None) -> None:
    """The native backup snapshots, newest first: id, when taken, state.

    \b
    Reads GET /directory/recovery/snapshots with the tenant's sign-in; an app needs
    EntraBackup.Read.All (`entragit permissions --native`). States: latest (the newest, under
    26 hours old), stale (the newest is older: a daily backup was missed), retained, expiring
    (the seventh: the next snapshot pushes it out).
    """
    from entragit import native as nativemod

    _setup_logging(verbose)
    root = _root(repo)
    found = [(t.name, nativemod.snapshots(t)) for t in _pick_tenants(root, tenant_name, all_tenants)]
    click.echo(nativemod.render(found, fmt), nl=False)


def _native_progress(line: str) -> None:
    click.echo(line, err=True)


@native.command("permissions")
def native_permissions() -> None:
    """Who may run which native command: the app's read permission and Microsoft's two roles.

    \b
    An app with EntraBackup.Read.All lists snapshots and reads job results; only a signed-in
    person creates difference reports (EntraBackup.ReadWrite.Preview) and recoveries
    (EntraBackup.ReadWrite.Recovery), holding Microsoft Entra Backup Administrator.
    """
    from entragit import permissions as perms

    click.echo("\n".join(perms.native_table()))

@native.command("diff")
@click.argument("snapshot", required=False, metavar="[SNAPSHOT]")
@click.option("--tenant", "tenant_name", metavar="NAME", help="The tenant (needed when there are several).")
@click.option("--rev", metavar="REV", help="Also say, per change, whether the files at this git revision agree "
                                           "with the snapshot or with live.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="markdown fits a pull-request comment.")
@click.option("-v", "--verbose", count=True, help="-vv every request.")
@repo_option
def native_diff(snapshot: str | None, tenant_name: str | None, rev: str | None, fmt: str, verbose: int,
                repo: str | None) -> None:
    """What recovering to a native snapshot would change in the live tenant (a difference report).

    \b
    Runs a native preview job on SNAPSHOT (default: the newest), waits for it with progress on
    stderr (a preview job already running with the same scope is resumed; another job is waited
    for: the tenant runs one at a time) and lists its changes by object name: properties as
    live -> snapshot, group members added or removed, risk notes. Nothing is written.
    Preview jobs are created only by a signed-in user holding the Microsoft Entra Backup
    Administrator role (--auth device-code or azure-cli); an app is refused.
    """
    from entragit import gitstore
    from entragit import native as nativemod

    _setup_logging(verbose)
    root = _root(repo)
    t = _one_tenant(root, tenant_name)
    if rev:
        rev = gitstore.resolve(root, rev)
    click.echo(nativemod.diff(root, t, snapshot, rev, fmt, _native_progress), nl=False)


@native.command("plan")
@click.option("--ref", default="HEAD", show_default=True, help="The git revision the tenant should match.")
@click.option("--snapshot", metavar="ID", help="The native snapshot (default: the newest).")
@click.option("--tenant", "tenant_name", metavar="NAME", help="The tenant (needed when there are several).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-v", "--verbose", count=True, help="-vv every request.")
@repo_option
def native_plan(ref: str, snapshot: str | None, tenant_name: str | None, fmt: str, verbose: int,
                repo: str | None) -> None:
    """entragit's plan, each operation marked with who can carry it out.

    \b
    native:   recovery to the snapshot does it with the original id (restore from soft delete,
              properties back to the snapshot, static group membership); the properties named.
    entragit: only entragit can, and why: hard-deleted objects (native never creates), kinds or
              properties native does not cover, references to recreated objects, changes older
              than the snapshot or its seven days.
    Reads a difference report scoped to the objects the plan touches, so it needs a signed-in
    Microsoft Entra Backup Administrator, like `native diff`. Nothing is written.
    """
    from entragit import nativeplan as nativemod
    from entragit import render

    _setup_logging(verbose)
    root = _root(repo)
    t = _one_tenant(root, tenant_name)
    s, report, marks = nativemod.plan_marks(root, t, _desired_ref(ref), snapshot, _native_progress)
    if fmt == "text":
        click.echo(render.text(s.plan, s.names(), s.risks, colour=_colour()))
    click.echo(nativemod.render_marks(marks, report, s.names(), fmt), nl=False)


@native.command("apply")
@click.option("--ref", default="HEAD", show_default=True, help="The git revision the tenant should match.")
@click.option("--snapshot", metavar="ID", help="The native snapshot to recover from (default: the newest).")
@click.option("--tenant", "tenant_name", metavar="NAME", help="The tenant (needed when there are several).")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
@click.option("--commit", "do_commit", is_flag=True,
              help="Re-export and commit afterwards, naming the recovery job (Entragit-Native-Recovery) and "
                   "the snapshot (Entragit-Native-Snapshot): recovery writes leave no delta or notification.")
@click.option("-v", "--verbose", count=True, help="-vv every request.")
@lock_option
@repo_option
def native_apply(ref: str, snapshot: str | None, tenant_name: str | None, yes: bool, do_commit: bool, verbose: int,
                 lock_timeout: float, repo: str | None) -> None:
    """Apply via native recovery: the native backup restores what it can, entragit the rest.

    \b
    1. entragit's plan for --ref, marked as `native plan` shows it;
    2. one native recovery job scoped by the ids of the objects marked native (never an
       unscoped job: it would soft-delete every object created since the snapshot), polled
       until it ends; its failed changes are listed and left to entragit;
    3. a fresh plan, applied by entragit (recreating hard-deleted objects, remapping every
       reference), then a second plan that must be empty.
    Needs a signed-in Microsoft Entra Backup Administrator (--auth device-code or azure-cli)
    who may also write what entragit applies; an app sign-in is refused before anything is written.
    """
    from entragit import nativeplan as nativemod

    _setup_logging(verbose)
    root = _root(repo)
    if not yes and not sys.stdin.isatty():
        raise EntragitError("native apply needs --yes when not run interactively; nothing was written")
    with _writing(root, "apply", lock_timeout):
        t = _one_tenant(root, tenant_name).writer()
        ref = _desired_ref(ref)
        done = nativemod.apply_via_native(root, t, ref, snapshot, yes, click.echo,
                                          lambda q: click.confirm(q, default=False), _native_progress)
        if do_commit and not done.empty:
            _commit_native(root, t, ref, done)


def _commit_native(root: Any, t: Any, ref: str, done: Any) -> None:
    """Re-export in full and commit, naming the recovery job and the snapshot in trailers: recovery
    writes leave no delta records for an incremental read to find."""
    from entragit import export as exp
    from entragit import gitstore
    from entragit import nativeplan as nativemod

    exp.export(root, [t], do_commit=False, force=True, full=True)
    sha = gitstore.commit(root, [str(t.dir.relative_to(root))],
                          nativemod.commit_message(t, ref, done.job_id, done.snapshot))
    if sha:
        click.echo(f"committed {sha[:10]}")


# ---------------------------------------------------------------- demo

@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), help="Where to create the demo repo (default: a temp dir).")
@click.option("--seed", type=click.Choice(["demo", "enterprise"]), default="demo", show_default=True,
              help="The simulated company: demo (Contoso Demo) or enterprise (a hybrid Northwind Enterprise).")
def demo(directory: str | None, seed: str) -> None:
    """The whole story on a simulated tenant: export to git, a disaster, plan, apply, verify.

    Starts the built-in Graph simulator with its demo company, exports it to a fresh config repo,
    hard-deletes a group used by a dozen CA policies, deletes an app, weakens a policy, then shows
    the plan that restores everything (original ids where Entra still holds them, remapped
    references where it must recreate) and applies it. Nothing outside the temp repo is touched.
    """
    from pathlib import Path

    from entragit import demo as demomod

    demomod.run(Path(directory) if directory else None, click.echo, seed=seed)


# ---------------------------------------------------------------- review: diff / drift / log

format_option = click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
                             show_default=True, help="markdown fits a pull-request comment.")


def _break_glass(root: Any) -> dict[str, tuple[str, ...]]:
    from entragit import config

    return {t.name: t.break_glass for t in config.tenants(root)} if (root / "tenants").is_dir() else {}


@main.command("diff")
@click.argument("revs", nargs=-1, metavar="[REV_A [REV_B]]")
@click.option("--tenant", "tenant_name", metavar="NAME", help="Only this tenant.")
@format_option
@repo_option
def diff_cmd(revs: tuple[str, ...], tenant_name: str | None, fmt: str, repo: str | None) -> None:
    """Semantic diff of the files: objects added, removed, renamed, changed, field by field, with risk notes.

    \b
    Like git: no REV compares HEAD with the work tree, one REV compares it with the work tree,
    two compare REV_A with REV_B (e.g. `entragit diff HEAD~1 HEAD` for the last export).
    Referenced ids show the names of the objects they point at.
    """
    from entragit import diff as diffmod
    from entragit import gitstore
    from entragit.errors import EntragitError

    if len(revs) > 2:
        raise EntragitError("diff takes at most two revisions")
    old, new = (*revs, gitstore.WORKTREE) if len(revs) == 1 else revs if revs else ("HEAD", gitstore.WORKTREE)
    old, new = _desired_ref(old), _desired_ref(new)  # `worktree` in any case, as plan takes it
    root = _root(repo)
    changes = diffmod.diff_revs(root, old, new, [tenant_name] if tenant_name else None, _break_glass(root))
    click.echo(diffmod.render(changes, fmt, colour=_colour(fmt)), nl=False)


@main.command()
@click.option("--tenant", "tenant_name", metavar="NAME", help="Check one tenant.")
@click.option("--all", "all_tenants", is_flag=True, help="Check every tenant (the default when there is one).")
@click.option("--ref", default="HEAD", show_default=True,
              help="Compare with the files at this revision, e.g. entragit/applied/NAME, the commit the tenant "
                   "last matched.")
@format_option
@click.option("-v", "--verbose", count=True)
@repo_option
def drift(tenant_name: str | None, all_tenants: bool, ref: str, fmt: str, verbose: int, repo: str | None) -> None:
    """Compare the live tenant(s) with the files at HEAD (or --ref) without writing anything.

    Exit 0: no drift; 2: the tenant changed since the last export (details printed); 1: error;
    64: usage error.
    """
    from entragit import diff as diffmod

    _setup_logging(verbose)
    root = _root(repo)
    ts = _pick_tenants(root, tenant_name, all_tenants)
    changes = diffmod.drift(root, ts, ref)
    click.echo(diffmod.render(changes, fmt, colour=_colour(fmt)), nl=False)
    if not changes.empty:
        sys.exit(2)


@main.command()
@click.option("--tenant", "tenant_name", metavar="NAME", help="Check one tenant.")
@click.option("--all", "all_tenants", is_flag=True, help="Check every tenant (the default when there is one).")
@click.option("--shard", metavar="K/N", help="With --all: only the tenants of job K of N, as `export --shard`.")
@repo_option
def pending(tenant_name: str | None, all_tenants: bool, shard: str | None, repo: str | None) -> None:
    """Tenants whose files at HEAD changed since the tenant last matched them: merged, not applied yet.

    \b
    apply (and export --commit) tag the commit each tenant matches as entragit/applied/<name>.
    Prints "NAME SHA" (SHA: that commit) for each tenant whose files differ from it; a tenant
    with no tag is never pending. Exit 0: none; 2: some (listed); 1: error; 64: usage error.
    The nightly job uses it to leave such tenants out of `export --skip-unapplied` and report them.
    """
    from entragit import export as exp
    from entragit import reconcile
    from entragit.errors import EntragitError

    root = _root(repo)
    ts = _pick_tenants(root, tenant_name, all_tenants)
    if shard:
        if not all_tenants:
            raise EntragitError("--shard splits --all; use them together")
        ts = exp.shard(ts, shard)
    found = [(t.name, sha) for t in ts if (sha := reconcile.unapplied(root, t))]
    for name, sha in found:
        click.echo(f"{name} {sha}")
    if found:
        sys.exit(2)


@main.command()
@click.argument("body", type=click.Path(exists=True, dir_okay=False))
@click.option("--max-chars", type=click.IntRange(min=1000), default=60000, show_default=True,
              help="Longest comment to print (GitHub refuses comments over 65,536 characters).")
@click.option("--link", metavar="URL", help="Where the whole text is (the plan artifact), named when it is cut.")
@click.option("--marker", metavar="TEXT", help="A first line the CI job finds its own comment by (e.g. an HTML "
                                                 "comment), so it updates one comment instead of adding one.")
def comment(body: str, max_chars: int, link: str | None, marker: str | None) -> None:
    """Print BODY (diff and plan markdown) cut to fit a pull-request comment, with a link to the rest."""
    from pathlib import Path

    from entragit.render import cap_comment

    text = Path(body).read_text(encoding="utf-8")
    click.echo(cap_comment(text, max_chars, link, marker), nl=False)


@main.command("log")
@click.argument("obj", required=False, metavar="[OBJECT]")
@click.option("--tenant", "tenant_name", metavar="NAME", help="Only this tenant.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-n", "--max-count", type=int, help="At most this many commits.")
@repo_option
def log_cmd(obj: str | None, tenant_name: str | None, fmt: str, max_count: int | None, repo: str | None) -> None:
    """History of one OBJECT, or of a whole tenant: commit, date, author, field-level changes.

    \b
    OBJECT is a file path (a deleted file's too), kind/slug (groups/finance-admins), kind/display
    name or an object id; renames of its file are followed. Without OBJECT: every change to the
    tenant('s objects).
    """
    from entragit import config
    from entragit import history as hist

    root = _root(repo)
    names = [t.name for t in config.tenants(root, tenant_name)]
    if obj:
        log = hist.object_log(root, hist.find_object(root, names, obj), max_count)
    else:
        log = hist.tenant_log(root, _one_tenant(root, tenant_name).name, max_count)
    click.echo(hist.render(log, fmt, colour=_colour(fmt)), nl=False)


if __name__ == "__main__":
    main()
