"""The one error base: every failure a user can see, with its exit code."""

from __future__ import annotations


class EntragitError(Exception):
    """A failure with a message meant for the user; cli.py turns it into output."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputError(EntragitError):
    """Bad input in a file: names the file and line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class GraphError(EntragitError):
    """Microsoft Graph answered with an error body."""

    def __init__(self, status: int, code: str, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(f"{method} {url} -> {status} {code}: {message}".strip())
        self.status = status
        self.code = code
        self.graph_message = message


class AnswerLost(EntragitError):
    """A write reached Graph but its answer did not come back (a 5xx, a dropped connection): it may
    have landed, so it must be read back before anything is sent again."""

    def __init__(self, method: str, url: str, why: str) -> None:
        super().__init__(f"{method} {url}: answer lost ({why})")
        self.method = method
        self.url = url
        self.why = why


class PermissionMissing(EntragitError):
    """The token lacks a Graph permission needed for a kind."""


class NotLicensed(PermissionMissing):
    """The tenant lacks the licence a kind needs: the kind is skipped, never failed or deleted."""


class RepoError(EntragitError):
    """The config repo or a git revision is not usable."""
