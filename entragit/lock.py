"""One writer per config repo: an OS-level exclusive lock on a file in the git directory."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from entragit import gitstore
from entragit.errors import EntragitError

LOCK_FILE = "entragit.lock"
# Seconds: long enough to queue behind a short apply, short enough to fail a stuck CI job.
DEFAULT_TIMEOUT = 60.0
_POLL = 0.2


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as it wrote itself into the lock file."""

    pid: int | None
    host: str
    command: str
    since: str

    def describe(self) -> str:
        if self.pid is None:
            return "another entragit process"
        return f"pid {self.pid} on {self.host} (entragit {self.command}, since {self.since})"


class LockBusy(EntragitError):
    """Another entragit process is writing the config repo."""


def state_dir(root: Path) -> Path:
    """Where entragit keeps its own files: the git directory, else tenants/ (a repo not under git)."""
    return gitstore.git_dir(root) or root / "tenants"


def lock_path(root: Path) -> Path:
    return state_dir(root) / LOCK_FILE


def _try_lock(f: IO[str]) -> bool:
    """Take the exclusive lock without waiting. The OS drops it when the process dies, however it dies,
    so a killed holder never leaves a stale lock behind."""
    if sys.platform == "win32":
        import msvcrt

        # A byte far past the holder text, so waiters can still read who holds it.
        os.lseek(f.fileno(), 1 << 30, os.SEEK_SET)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> Holder:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["host"]), str(data["command"]), str(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):  # the holder has not written itself in yet
        return Holder(None, "", "", "")


def _write_holder(f: IO[str], command: str) -> None:
    since = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    f.seek(0)
    f.truncate()
    f.write(
        json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": since}
        )
    )
    f.flush()


def _open(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Opened without truncating: the file holds the current holder's details until we own the lock.
    return os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), "r+", encoding="utf-8")


@contextmanager
def hold(
    root: Path,
    command: str,
    timeout: float = DEFAULT_TIMEOUT,
    on_wait: Callable[[Holder], None] | None = None,
) -> Iterator[None]:
    """Hold the repo lock for the block; wait up to `timeout` seconds for another holder, then fail
    naming it. `on_wait` is told once when waiting begins."""
    path = lock_path(root)
    f = _open(path)
    try:
        _acquire(f, path, timeout, on_wait)
        _write_holder(f, command)
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()  # the next waiter must not read us as its holder
    finally:
        f.close()  # closing releases the lock


def _acquire(
    f: IO[str], path: Path, timeout: float, on_wait: Callable[[Holder], None] | None
) -> None:
    deadline = time.monotonic() + max(0.0, timeout)
    told = False
    while not _try_lock(f):
        if time.monotonic() >= deadline:
            raise LockBusy(
                f"the config repo is locked by {_holder(path).describe()}; nothing was written "
                "(try again when it ends, or raise --lock-timeout)"
            )
        if on_wait and not told:
            on_wait(_holder(path))
            told = True
        time.sleep(_POLL)
