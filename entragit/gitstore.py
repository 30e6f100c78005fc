"""Git access (GitPython): read a tree at a revision, stage and commit an export. The only git speaker."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entragit.errors import InputError, RepoError

WORKTREE = "WORKTREE"
SYMLINK_MODE = 0o120000  # git's file mode of a symbolic link


_REPOS = threading.local()  # root -> git.Repo, per thread: a Repo's cat-file processes serve one caller at a time
_REPOS_KEPT = 2  # per thread, the most recently opened


def _repo(root: Path) -> Any:
    """The repo at `root`, one per thread: each new Repo that reads an object starts two `git cat-file`
    processes of its own, and an export of one tenant asked for four (eight processes per tenant)."""
    import git

    repos: dict[str, tuple[Any, int]] = _REPOS.__dict__.setdefault("by_root", {})
    key = str(root)
    if key in repos:
        repo, ino = repos[key] = repos.pop(key)  # the most recently used last
        try:
            if os.stat(repo.git_dir).st_ino == ino:
                return repo
        except OSError:
            pass  # gone, or made anew (a new git directory): a new Repo
        repos.pop(key)
        repo.close()
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepoError(f"{root} is not a git repository", hint="run `entragit init` or `git init`") from None
    repos[key] = (repo, os.stat(repo.git_dir).st_ino)
    while len(repos) > _REPOS_KEPT:  # a process that opens many repos (tests) keeps few cat-file processes
        old, _ = repos.pop(next(iter(repos)))
        old.close()
    return repo


def init(root: Path) -> None:
    import git

    if not (root / ".git").exists():
        git.Repo.init(root, initial_branch="main")


def git_dir(root: Path) -> Path | None:
    """The repo's git directory without starting git: `.git`, or where a worktree's `.git` file points."""
    dot = root / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():
        text = dot.read_text(encoding="utf-8").strip()
        if text.startswith("gitdir:"):
            return (root / text[len("gitdir:"):].strip()).resolve()
    return None


def head(root: Path) -> str | None:
    repo = _repo(root)
    try:
        return str(repo.head.commit.hexsha)
    except ValueError:  # no commits yet
        return None


def resolve(root: Path, rev: str) -> str:
    """Full sha of `rev`; a clear error when git doesn't know it."""
    import git

    try:
        return str(_repo(root).commit(rev).hexsha)
    except (git.BadName, ValueError, git.GitCommandError):
        if head(root) is None:
            raise RepoError("the config repo has no commit yet",
                            hint="run `entragit export --commit` first (or plan --ref WORKTREE)") from None
        raise RepoError(f"unknown revision {rev!r}") from None


def _tree_entries(root: Path, sha: str, *paths: str) -> list[tuple[str, str, str, str]]:
    """(mode, type, sha, path) of every entry at or under `paths` in the tree of commit `sha`, paths
    relative to the repo, in one `git ls-tree` (GitPython's tree walk builds an object per entry)."""
    out = _repo(root).git.ls_tree("-r", "-z", "--full-tree", sha, "--", *paths, env={"GIT_LITERAL_PATHSPECS": "1"})
    entries = []
    for entry in filter(None, out.split("\0")):
        meta, _, path = entry.partition("\t")
        mode, kind, blob = meta.split(" ", 2)
        entries.append((mode, kind, blob, path))
    return entries


def _blobs(root: Path, shas: Sequence[str]) -> dict[str, bytes]:
    """{sha: content} of blobs, from one `git cat-file --batch` fed every id at once (GitPython asks
    for one object at a time: a round trip to git per file)."""
    import subprocess

    import git

    if not shas:
        return {}
    exe = git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git"
    proc = subprocess.run([exe, "cat-file", "--batch"], cwd=root, input="\n".join(shas).encode() + b"\n",
                          capture_output=True, check=True)
    raw, at, found = proc.stdout, 0, {}
    for sha in shas:
        end = raw.index(b"\n", at)
        head = raw[at:end].split()
        if len(head) != 3:  # "<sha> missing": the tree just listed it
            raise RepoError(f"git cat-file could not read blob {sha}")
        size = int(head[2])
        found[sha] = raw[end + 1:end + 1 + size]
        at = end + 1 + size + 1  # the content, then a newline
    return found


def _texts(root: Path, rev: str, entries: Sequence[tuple[str, str, str, str]]) -> dict[str, str]:
    """{path: text} of the blob entries of a tree at `rev`. A committed symlink's blob holds its
    target's path, not a file entragit wrote: refused by name, as is a file that is not UTF-8."""
    blobs = [e for e in entries if e[1] == "blob"]
    for mode, _kind, _sha, path in blobs:
        if int(mode, 8) == SYMLINK_MODE:
            raise RepoError(f"{path} is a symbolic link at {rev}; entragit reads only regular files")
    data = _blobs(root, [sha for _m, _k, sha, _p in blobs])
    out: dict[str, str] = {}
    for _mode, _kind, sha, path in blobs:
        try:
            out[path] = data[sha].decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(path, None, f"not UTF-8 text at {rev}: {e.reason}") from None
    return out


def files_at(root: Path, rev: str, folder: str) -> dict[str, str]:
    """{path relative to the repo: text} of every *.yaml under `folder` at `rev`."""
    entries = _tree_entries(root, resolve(root, rev), folder)
    return _texts(root, rev, [e for e in entries if e[3].endswith(".yaml")])


# Seconds to wait for git's own index.lock: a git child of an entragit run that was killed finishes
# its commit after its parent is gone, and a user's `git status` holds it for a moment.
INDEX_LOCK_WAIT = 10.0


def _index_locked(e: Any) -> bool:
    return "index.lock" in str(e.stderr or "") and "File exists" in str(e.stderr or "")


def _write(repo: Any, command: str, *args: str, **kwargs: Any) -> Any:
    """Run a git command that writes the index or a ref. Git refuses before it writes anything while
    another git process holds index.lock, so waiting and trying again repeats no write."""
    import time

    import git

    deadline = time.monotonic() + INDEX_LOCK_WAIT
    while True:
        try:
            return getattr(repo.git, command)(*args, **kwargs)
        except git.GitCommandError as e:
            if not _index_locked(e):
                raise
            if time.monotonic() >= deadline:
                lock = Path(repo.git_dir) / "index.lock"
                raise RepoError(
                    f"git {command} failed: {lock} exists; the files are written but not committed",
                    hint=f"another git process is using the repo, or one was killed mid-write: when none "
                         f"is running, remove {lock} and run again",
                ) from None
            time.sleep(0.1)


# `git add` writes every new file as a loose object, one file each below .git/objects: a first
# export of 11,000 files spent 3 to 5 s creating them. Files above core.bigFileThreshold are streamed
# into one pack instead (bulk check-in), so for this one command every file counts as big. The
# objects are ordinary blobs (a later gc deltifies them as usual); it sets nothing in the repo's
# config, and a git before 2.31, which ignores GIT_CONFIG_COUNT, writes loose objects as ever.
def _add_to_pack() -> dict[str, str]:
    import os

    try:  # settings the caller's environment passes the same way (CI's safe.directory) are kept
        n = int(os.environ.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        n = 0
    return {"GIT_CONFIG_COUNT": str(n + 1), f"GIT_CONFIG_KEY_{n}": "core.bigFileThreshold", f"GIT_CONFIG_VALUE_{n}": "1"}


def commit(root: Path, paths: list[str], message: str) -> str | None:
    """Stage `paths` (adds, changes, deletions) and commit; None when nothing changed."""
    repo = _repo(root)
    _write(repo, "add", "-A", "--", *paths, env=_add_to_pack())
    first = head(root) is None
    staged = [] if first else _staged(repo, paths)
    if not first and not staged:
        return None
    # A path committed as a link (or a file) and now a folder: `git commit -- paths` takes the folder
    # for a submodule and refuses ("does not have a commit checked out"), though the index is right.
    replaced = any(how == "D" and (root / p).is_dir() and not (root / p).is_symlink() for how, p in staged)
    # The message goes through a file: a first export of a large tenant lists thousands of objects,
    # more than a command line may carry.
    import tempfile

    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".msg", delete=False,
                                     dir=repo.git_dir) as f:
        f.write(message)
    import git

    try:
        only = ("--", *paths) if not replaced else _only_these(repo, paths)  # then the index is committed whole
        _write(repo, "commit", "-q", "-F", f.name, *only, env=_identity(repo))
    except git.GitCommandError as e:
        _unstage(repo, paths)  # a failed commit leaves the index as it found it
        raise RepoError(f"git commit failed: {_first_line(e.stderr) or e.status}") from None
    except RepoError:
        _unstage(repo, paths)
        raise
    finally:
        Path(f.name).unlink(missing_ok=True)
    return str(repo.head.commit.hexsha)


def _staged(repo: Any, paths: list[str]) -> list[tuple[str, str]]:
    """(status letter, path) of the changes staged below `paths`."""
    out = repo.git.diff("--cached", "--name-status", "--no-renames", "-z", "--", *paths).split("\0")
    return [(out[i][:1], out[i + 1]) for i in range(0, len(out) - 1, 2) if out[i]]


def _only_these(repo: Any, paths: list[str]) -> tuple[str, ...]:
    """No pathspec for `git commit`, once nothing outside `paths` is staged (RepoError otherwise)."""
    staged = repo.git.diff("--cached", "--name-only", "-z").split("\0")
    others = [p for p in staged if p and not any(p == q or p.startswith(q.rstrip("/") + "/") for q in paths)]
    if others:
        raise RepoError(f"{others[0]} is staged and a committed link in {paths[0]} became a folder; "
                        "commit or unstage the other changes first")
    return ()


def uncommitted(root: Path, folder: str) -> list[str]:
    """Paths below `folder` whose work-tree file differs from HEAD: changed, deleted or new (not ignored)."""
    out = _repo(root).git.status("--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--", folder)
    return sorted({entry[3:] for entry in out.split("\0") if entry})


def commit_removal(root: Path, path: str, message: str) -> str | None:
    """Commit the deletion of `path` (already gone from the work tree); None when HEAD never had it."""
    repo = _repo(root)
    if head(root) is not None and repo.git.ls_tree("-r", "--name-only", "HEAD", "--", path):
        return commit(root, [path], message)
    _write(repo, "rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", path)  # staged, never committed
    return None


def _unstage(repo: Any, paths: list[str]) -> None:
    import git

    try:
        if repo.head.is_valid():
            _write(repo, "reset", "-q", "--", *paths)
        else:
            _write(repo, "rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", *paths)
    except (git.GitCommandError, RepoError):
        pass  # the commit's own error is the one to report


def _first_line(stderr: str) -> str:
    lines = [line.strip().removeprefix("stderr: ").strip("'") for line in (stderr or "").splitlines()]
    return next((line for line in lines if line), "")


def _identity(repo: Any) -> dict[str, str]:
    """A fallback author for CI runners with no git identity configured."""
    import os

    reader = repo.config_reader()
    env: dict[str, str] = {}
    if not (os.environ.get("GIT_AUTHOR_NAME") or reader.get_value("user", "name", "")):
        env.update(GIT_AUTHOR_NAME="entragit", GIT_COMMITTER_NAME="entragit")
    if not (os.environ.get("GIT_AUTHOR_EMAIL") or reader.get_value("user", "email", "")):
        env.update(GIT_AUTHOR_EMAIL="entragit@localhost", GIT_COMMITTER_EMAIL="entragit@localhost")
    return env


# ---------------------------------------------------------------- history (entragit log)


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    date: str  # author date, ISO 8601
    author: str  # "Name <email>"
    subject: str
    files: tuple[tuple[str, str, str], ...]  # (status letter, old path, new path); "" where absent
    parent: str | None = None  # first parent, None for a root commit


_SEP, _FS = "\x1e", "\x1f"


def _file_entry(line: str) -> tuple[str, str, str] | None:
    parts = line.split("\t")
    if len(parts) < 2:
        return None
    status = parts[0][:1]
    if status in ("R", "C") and len(parts) == 3:
        return status, parts[1], parts[2]
    if status == "A":
        return status, "", parts[1]
    if status == "D":
        return status, parts[1], ""
    return status, parts[1], parts[1]


def paths_matching(root: Path, regex: str, under: str) -> list[str]:
    """Every path below `under` that ever gained or lost a line matching `regex` (POSIX extended).

    Renames are not detected, so a moved file shows as the delete of one path and the add of another:
    both are listed."""
    import git

    if not head(root):
        return []
    try:
        out = _repo(root).git.log("--no-renames", "--regexp-ignore-case", "--format=", "--name-only", "-G", regex, "--", under)
    except git.GitCommandError as e:
        raise RepoError(f"git log failed: {e.stderr.strip() or e}") from None
    return sorted({line for line in out.splitlines() if line})


def history(root: Path, path: str | Sequence[str], *, follow: bool = False,
            max_count: int | None = None) -> list[CommitInfo]:
    """Commits touching `path` (or any of several paths; newest first) with the files each changed;
    `follow` tracks renames (one path only)."""
    import git

    repo = _repo(root)
    paths = [path] if isinstance(path, str) else list(path)
    args = [f"--format={_SEP}%H{_FS}%P{_FS}%aI{_FS}%an <%ae>{_FS}%s", "--name-status", "-M"]
    args += ["--follow"] if follow and len(paths) == 1 else []
    args += [f"--max-count={max_count}"] if max_count else []
    try:
        out = repo.git.log(*args, "--", *paths) if head(root) else ""
    except git.GitCommandError as e:
        raise RepoError(f"git log failed: {e.stderr.strip() or e}") from None
    commits = []
    for chunk in out.split(_SEP)[1:]:
        lines = chunk.strip("\n").split("\n")
        sha, parents, date, author, subject = lines[0].split(_FS, 4)
        files = tuple(f for f in map(_file_entry, lines[1:]) if f)
        commits.append(CommitInfo(sha, date, author, subject, files, parents.split()[0] if parents else None))
    return commits


def text_at(root: Path, rev: str, path: str) -> str | None:
    """A file's text at `rev`, or None when it does not exist there."""
    return texts_at(root, rev, [path])[path]


def texts_at(root: Path, rev: str, paths: Sequence[str]) -> dict[str, str | None]:
    """{path: text at `rev`, or None where it does not exist there}, in one ls-tree and one cat-file."""
    import git

    try:
        sha = str(_repo(root).commit(rev).hexsha)
    except (ValueError, git.BadName):  # no commit yet: nothing exists there
        return dict.fromkeys(paths)
    wanted = set(paths)
    found = _texts(root, rev, [e for e in _tree_entries(root, sha, *paths) if e[3] in wanted]) if paths else {}
    return {path: found.get(path) for path in paths}


def last_trailer(root: Path, path: str, key: str, scan: int = 50) -> str | None:
    """The value of trailer `key` in the newest commit touching `path` that has one."""
    import re

    if head(root) is None:
        return None
    out = _repo(root).git.log(f"--max-count={scan}", "--format=%B%x00", "--", path)
    pattern = re.compile(rf"^{re.escape(key)}:\s*(.+?)\s*$", re.M)
    for body in out.split("\x00"):
        m = pattern.search(body)
        if m:
            return m.group(1)
    return None


# ---------------------------------------------------------------- the last commit each tenant matches

APPLIED_TAG = "entragit/applied/{tenant}"


def mark_applied(root: Path, tenant: str, rev: str) -> str:
    """Point the lightweight tag entragit/applied/<tenant> at `rev`: the tenant matches its files there.

    The nightly job compares the branch with it, so a merged change that apply has not made yet is
    never overwritten by an export of the live tenant. Returns the tagged sha."""
    import git

    sha = resolve(root, rev)
    try:
        _repo(root).git.tag("-f", APPLIED_TAG.format(tenant=tenant), sha)
    except git.GitCommandError as e:
        raise RepoError(f"git tag failed: {_first_line(e.stderr) or e.status}") from None
    return sha


def applied(root: Path, tenant: str) -> str | None:
    """The sha entragit/applied/<tenant> points at, or None when no apply or export recorded one."""
    import git

    try:
        return str(_repo(root).commit(f"refs/tags/{APPLIED_TAG.format(tenant=tenant)}").hexsha)
    except (git.BadName, ValueError, git.GitCommandError):
        return None


def blob_ids(root: Path, rev: str, folder: str) -> dict[str, str]:
    """{path: blob sha} of every file under `folder` at `rev`: compares two revisions without reading them."""
    return {path: sha for _mode, kind, sha, path in _tree_entries(root, resolve(root, rev), folder) if kind == "blob"}
