"""The config repo and its tenant.yaml files."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from entragit import kinds as kindmod
from entragit import yamlio
from entragit.errors import EntragitError, InputError, RepoError
from entragit.kinds import GUID

CLOUDS = {
    "global": "https://graph.microsoft.com",
    "usgov": "https://graph.microsoft.us",
    "usgov-dod": "https://dod-graph.microsoft.us",
    "china": "https://microsoftgraph.chinacloudapi.cn",
}
AUTHORITIES = {
    "global": "https://login.microsoftonline.com",
    "usgov": "https://login.microsoftonline.us",
    "usgov-dod": "https://login.microsoftonline.us",
    "china": "https://login.chinacloudapi.cn",
}
# tenant.yaml decides where entragit sends the access token (graphUrl) and the client secret or
# federated token (auth.authority). A pull request that changes either would hand them to another
# host, and CI plans pull requests before anyone reviews them. So only Microsoft's hosts above and
# loopback (the simulator) are used, unless the environment (out of a pull request's reach) names
# more: ENTRAGIT_TRUSTED_HOSTS=host[,host...].
TRUSTED_HOSTS_ENV = "ENTRAGIT_TRUSTED_HOSTS"
AUTH_METHODS = ("secret", "certificate", "workload-identity", "device-code", "azure-cli", "default", "sim")
# Client-credentials sign-ins: always an app-only token, never a signed-in user.
APP_ONLY_METHODS = ("secret", "certificate", "workload-identity")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
# auth.writer: the identity `apply` signs in as, so plan, drift, export and pull-request jobs hold a
# read-only app and only the approved apply job holds one that can write. It names the writer's own
# client id and where its credential is; method, authority and the token file stay the reader's.
WRITER_KEYS = ("clientId", "secretEnv", "certificatePath", "certificateEnv", "certificatePasswordEnv")
# The writer's credential never falls back to the reader's variables: a secret under the reader's
# name must not be sent with the writer's client id.
WRITER_DEFAULTS = {"secretEnv": "ENTRAGIT_WRITER_CLIENT_SECRET", "certificateEnv": "ENTRAGIT_WRITER_CERTIFICATE_PATH",
                   "certificatePasswordEnv": "ENTRAGIT_WRITER_CERTIFICATE_PASSWORD"}


@dataclass(frozen=True)
class Tenant:
    """One tenant.yaml: where the tenant is, how to sign in, what to export."""

    name: str
    dir: Path
    tenant_id: str
    graph_url: str
    cloud: str = "global"
    auth: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()
    users: bool = False
    break_glass: tuple[str, ...] = ()
    ca_bundle: str | None = None
    state_dir: Path | None = None  # where apply keeps idmap.yaml; a rehearsal points it elsewhere

    @property
    def idmap_dir(self) -> Path:
        return self.state_dir or self.dir

    @property
    def export_kinds(self) -> list[kindmod.Kind]:
        # An app-only identity cannot read delegated-only kinds: they are exported only when listed.
        app_only = self.auth.get("method") in APP_ONLY_METHODS
        names = self.kinds or tuple(k.name for k in kindmod.KINDS
                                    if (k.default_on or (k.name == "users" and self.users))
                                    and not (app_only and k.delegated_only))
        return [kindmod.get(n) for n in names]

    @property
    def authority(self) -> str:
        return str(self.auth.get("authority") or AUTHORITIES.get(self.cloud, AUTHORITIES["global"]))

    def writer(self) -> Tenant:
        """The tenant as `apply` signs in to it: auth.writer's identity, or the one identity there is."""
        w = self.auth.get("writer")
        if not w:
            return self
        shared = {k: v for k, v in self.auth.items() if k not in (*WRITER_KEYS, "writer")}
        return replace(self, auth={**shared, **WRITER_DEFAULTS, **w})


def kind_overlaps(t: Tenant) -> list[str]:
    """One warning per pair of enabled kinds that hold the same objects (Kind.same_objects_as)."""
    return [f"{t.name}/tenant.yaml: {w}" for w in kindmod.overlaps(k.name for k in t.export_kinds)]


def _hostname(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # an unbalanced [ in the host
        return ""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def untrusted_host(url: str, microsoft: Iterable[str]) -> str | None:
    """Why `url` may not receive this tenant's credentials, or None when it may."""
    host = _hostname(url)
    extra = {h.strip().lower() for h in os.environ.get(TRUSTED_HOSTS_ENV, "").split(",") if h.strip()}
    if _loopback(host) or host in extra:
        return None
    official = sorted({_hostname(u) for u in microsoft})
    if host in official:
        return None if url.lower().startswith("https://") else "must use https://"
    return (f"is not a Microsoft host ({', '.join(official)}) nor loopback; to send credentials there, "
            f"set {TRUSTED_HOSTS_ENV}={host or '<host>'}")


def untrusted(graph_url: str | None, authority: str | None) -> list[tuple[str, str, str]]:
    """(field, value, why) for graphUrl and auth.authority where they may not receive credentials."""
    out = []
    for key, value, microsoft in (("graphUrl", graph_url, CLOUDS.values()),
                                  ("authority", authority, AUTHORITIES.values())):
        why = untrusted_host(str(value), microsoft) if value else None
        if why:
            out.append((key, str(value), why))
    return out


def find_root(start: Path | None = None) -> Path:
    """The config repo containing `start` (a folder with tenants/ or .git)."""
    here = (start or Path.cwd()).resolve()
    for p in (here, *here.parents):
        if (p / "tenants").is_dir():
            return p
    raise RepoError(f"{here} is not inside an entragit config repo (no tenants/ folder)",
                    hint="run `entragit init DIR` or pass --repo DIR")


def check_plain_path(root: Path, path: Path) -> None:
    """`path` is inside `root` and reached through no symlink (InputError naming it otherwise)."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        raise InputError(str(path), None, f"is outside {root}; entragit reads and writes only files inside it") from None
    here = root
    for part in rel.parts:
        here = here / part
        if part == ".." or here.is_symlink():
            what = ("leaves the repo" if part == ".." else "is a symbolic link" if here == path
                    else f"is reached through the symbolic link {here.relative_to(root).as_posix()}")
            raise InputError(rel.as_posix(), None, f"{what}; entragit reads and writes only regular files inside the repo")


def repo_file(root: Path, path: Path) -> Path:
    """`path`, checked to be a regular file (or nothing yet) inside `root`, reached through no symlink.

    A committed symlink would make entragit read or overwrite what it points at (any file, even
    /proc/self/environ) and commit that; it is refused by name, its content never shown."""
    check_plain_path(root, path)
    if path.exists() and not path.is_file():
        raise InputError(path.relative_to(root).as_posix(), None, "is not a regular file")
    return path


def read_file(root: Path, path: Path) -> str:
    """The text of a repo file, once `repo_file` has checked it."""
    return repo_file(root, path).read_text(encoding="utf-8")


def folder_files(root: Path, folder: Path, suffixes: tuple[str, ...] = (".yaml",),
                 hidden: bool = True) -> list[tuple[Path, bool]]:
    """`folder/*/*<suffix>` (a tenant's object files): by kind folder, then suffix, then name; each
    with whether it is plain, a regular file reached through no symlink. The folder is checked once
    and each entry by its directory entry, so ten thousand files cost a scandir per kind folder
    instead of a stat of each part of each path; one that is not plain is for `repo_file` to name.
    `hidden`: kind folders whose names start with a dot are listed too."""
    if not folder.is_dir():
        return []
    try:
        check_plain_path(root, folder)
        checked = True
    except InputError:
        checked = False
    with os.scandir(folder) as entries:
        kinds = sorted((e for e in entries if e.is_dir() and (hidden or not e.name.startswith("."))),
                       key=lambda e: e.name)
    out: list[tuple[Path, bool]] = []
    for sub in kinds:
        with os.scandir(sub.path) as entries:
            found = sorted((e for e in entries if e.name.endswith(suffixes)),
                           key=lambda e: (next(i for i, x in enumerate(suffixes) if e.name.endswith(x)), e.name))
        for e in found:
            plain = checked and not sub.is_symlink() and not e.is_symlink() and e.is_file(follow_symlinks=False)
            out.append((folder / sub.name / e.name, plain))
    return out


def object_paths(root: Path, folder: Path) -> list[Path]:
    """`folder/*/*.yaml`, each checked as `repo_file` checks one (InputError for a link or a non-file)."""
    return [p if plain else repo_file(root, p) for p, plain in folder_files(root, folder)]


def object_files(root: Path, folder: Path) -> dict[str, str]:
    """{kind/name.yaml: text} of `object_paths(root, folder)`."""
    n = len(str(folder)) + 1
    return {str(p)[n:]: p.read_text(encoding="utf-8") for p in object_paths(root, folder)}


def load_tenant(path: Path, root: Path) -> Tenant:
    rel = str(path.relative_to(root))
    text = read_file(root, path)
    data = yamlio.load(text, rel)
    if not isinstance(data, dict):
        raise InputError(rel, 1, "tenant.yaml must be a mapping")
    tid = str(data.get("tenantId", ""))
    if not GUID.match(tid):
        raise InputError(rel, _line_of(text, "tenantId"), f"tenantId must be a GUID, got {tid!r}")
    cloud = str(data.get("cloud", "global"))
    if cloud not in CLOUDS and not data.get("graphUrl"):
        raise InputError(rel, _line_of(text, "cloud"), f"unknown cloud {cloud!r}; one of {', '.join(CLOUDS)} or set graphUrl")
    auth = data.get("auth") or {"method": "default"}
    if auth.get("method") not in AUTH_METHODS:
        raise InputError(rel, _line_of(text, "method"), f"auth.method must be one of {', '.join(AUTH_METHODS)}")
    if shape := malformed(data.get("graphUrl"), auth.get("authority")):
        key, problem = shape[0]
        raise InputError(rel, _line_of(text, f"{key}:"), f"{key} {problem}")
    _check_writer(auth.get("writer"), text, rel)
    for k in data.get("kinds") or ():
        if k not in kindmod.BY_NAME:
            raise InputError(rel, _line_of(text, k), f"unknown kind {k!r}")
    if bad := untrusted(data.get("graphUrl"), auth.get("authority")):
        key, value, why = bad[0]
        raise InputError(rel, _line_of(text, key), f"{key} {value!r} {why}")
    return Tenant(
        name=path.parent.name, dir=path.parent, tenant_id=tid.lower(),
        graph_url=str(data.get("graphUrl") or CLOUDS[cloud]), cloud=cloud, auth=dict(auth),
        kinds=tuple(data.get("kinds") or ()), users=bool(data.get("users", False)),
        break_glass=tuple(str(b) for b in data.get("breakGlass") or ()), ca_bundle=data.get("caBundle"),
    )


def _check_writer(writer: Any, text: str, rel: str) -> None:
    """auth.writer, when given, is a mapping of WRITER_KEYS naming the writer's own client id."""
    if writer is None:
        return
    line = _line_of(text, "writer:")
    if not isinstance(writer, dict) or not writer.get("clientId"):
        raise InputError(rel, line, "auth.writer must be a mapping with the write app's clientId "
                                    "(and where its credential is: secretEnv, certificatePath ...)")
    unknown = sorted(str(k) for k in writer if k not in WRITER_KEYS)
    if unknown:
        raise InputError(rel, _line_of(text, f"{unknown[0]}:") or line,
                         f"auth.writer.{unknown[0]} is not allowed; auth.writer takes {', '.join(WRITER_KEYS)} "
                         "(method, authority and tokenFile are shared with the reader)")


URL_HINTS = {"graphUrl": "the Graph root without /v1.0; leave it out to use --cloud",
             "authority": "sign-in needs TLS; leave it out to use the cloud's own login host"}


def _bad_url(value: str, schemes: tuple[str, ...], example: str) -> str | None:
    """Why `value` is no URL entragit can connect to, or None when it is one."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # parsing the port is what raises on a bad one
    except ValueError:
        return f"must be a URL such as {example}, got {value!r}"
    if parts.scheme not in schemes or not parts.hostname:
        return f"must be an {' or '.join(schemes)} URL such as {example}, got {value!r}"
    return None


def malformed(graph_url: str | None, authority: str | None) -> list[tuple[str, str]]:
    """(field, why) for graphUrl and auth.authority where they are no URL to connect to (checked before
    `untrusted`, whose hint would not help). azure-identity signs in only over TLS: an http authority
    would fail at the first token request."""
    out = []
    for key, value, schemes, example in (("graphUrl", graph_url, ("http", "https"), CLOUDS["global"]),
                                         ("authority", authority, ("https",), AUTHORITIES["global"])):
        why = _bad_url(str(value), schemes, example) if value is not None else None
        if why:
            out.append((key, why))
    return out


def _line_of(text: str, needle: str) -> int | None:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return None


def tenants(root: Path, name: str | None = None) -> list[Tenant]:
    """Tenants of the repo, sorted by name; `name` picks one (error if unknown)."""
    found = sorted((root / "tenants").glob("*/tenant.yaml"))
    all_t = [load_tenant(p, root) for p in found]
    if name is None:
        if not all_t:
            raise EntragitError("no tenants in this repo", hint="add one: entragit tenant add NAME --tenant-id GUID")
        return all_t
    pick = [t for t in all_t if t.name == name]
    if not pick:
        known = ", ".join(t.name for t in all_t) or "none"
        raise EntragitError(f"unknown tenant {name!r} (known: {known})")
    return pick


def remove_tenant(root: Path, name: str, force: bool = False) -> str | None:
    """Delete tenants/NAME and commit that (the commit's sha; None when it was never committed).
    Uncommitted changes there are refused, unless `force`: git could not give them back."""
    import shutil

    from entragit import gitstore

    folder, rel = root / "tenants" / name, f"tenants/{name}"
    if not NAME.match(name) or folder.is_symlink() or not folder.is_dir():
        known = ", ".join(sorted(p.name for p in (root / "tenants").iterdir() if p.is_dir() and not p.is_symlink()))
        raise EntragitError(f"no tenant folder {rel} (known: {known or 'none'})")
    dirty = gitstore.uncommitted(root, rel)
    if dirty and not force:
        more = f" and {len(dirty) - 5} more" if len(dirty) > 5 else ""
        raise EntragitError(f"{rel} has uncommitted changes: {', '.join(dirty[:5])}{more}; nothing was removed",
                            hint="commit or discard them, or pass --force to delete them with the tenant")
    shutil.rmtree(folder)
    return gitstore.commit_removal(root, rel, f"{name}: remove tenant\n\nRemoved {rel} with `entragit tenant remove`.\n")


def tenant_yaml(name: str, tenant_id: str, *, graph_url: str | None, cloud: str, auth: dict[str, Any],
                users: bool = False, break_glass: tuple[str, ...] = (), ca_bundle: str | None = None,
                kinds: tuple[str, ...] = ()) -> str:
    if not NAME.match(name):
        raise EntragitError(f"tenant name {name!r} must be lowercase letters, digits, '.', '_' or '-'")
    if not GUID.match(tenant_id):
        raise EntragitError(f"--tenant-id must be a GUID, got {tenant_id!r}")
    if shape := malformed(graph_url, auth.get("authority")):
        key, problem = shape[0]
        option = {"graphUrl": "--graph-url", "authority": "--authority"}[key]
        raise EntragitError(f"tenants/{name}/tenant.yaml: {option} {problem}; nothing was written",
                            hint=URL_HINTS[key])
    if bad := untrusted(graph_url, auth.get("authority")):
        key, value, why = bad[0]
        option = {"graphUrl": "--graph-url", "authority": "--authority"}[key]
        raise EntragitError(f"tenants/{name}/tenant.yaml: {option} {value!r} {why}; nothing was written")
    data: dict[str, Any] = {"tenantId": tenant_id.lower()}
    if graph_url:
        data["graphUrl"] = graph_url
    else:
        data["cloud"] = cloud
    data["auth"] = {k: v for k, v in auth.items() if v is not None}
    data["users"] = users
    data["breakGlass"] = list(break_glass)
    if ca_bundle:
        data["caBundle"] = ca_bundle
    if kinds:
        data["kinds"] = list(kinds)
    return yamlio.dump(data, header="# yaml-language-server: $schema=../../schemas/tenant.schema.json")
