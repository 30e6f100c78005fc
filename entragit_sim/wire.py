"""What a handler sees and returns: Request, Response, Route, and request-parsing helpers."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from entragit_sim.auth import ANONYMOUS, Caller
from entragit_sim.errors import GraphHTTPError, bad_request
from entragit_sim.store import Obj
from entragit_sim.table import Perms, Resource

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass
class Request:
    method: str
    version: str  # v1.0 | beta
    path: str  # below the version, no leading slash, percent-decoded
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: Any
    base: str  # scheme://host:port
    caller: Caller = ANONYMOUS
    actor: str | None = None

    @property
    def root(self) -> str:
        return f"{self.base}/{self.version}"

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator answered (tests assert on these)."""

    method: str
    path: str
    query: str
    status: int
    app_id: str


Handler = Callable[[Request, "re.Match[str]"], Response]


@dataclass(frozen=True)
class Route:
    """One entry of the route table: a Graph path template, the regex that matches it, its handler."""

    template: str  # Graph path form, e.g. groups/{id}/members/$ref
    regex: re.Pattern[str]
    family: str  # throttle family: ru | ca | none
    handler: Handler
    methods: tuple[str, ...]  # HTTP methods it serves
    beta_only: bool = False
    resource: str | None = None  # resource name it addresses, when there is one
    # Application permissions it checks (read for GET, write otherwise); None = they depend on
    # the object found (directoryObjects, directory/deletedItems/{id}) or none are needed.
    perms: Perms | None = None
    app_only_ok: bool = True  # application tokens may use it (False: delegated callers only)


def route(
    template: str,
    regex: str,
    family: str,
    handler: Handler,
    methods: tuple[str, ...],
    **kw: Any,
) -> Route:
    return Route(template, re.compile(regex + "$"), family, handler, methods, **kw)


def template_regex(template: str) -> str:
    """A template's regex: `{id}` is the URL key, every other character literal."""
    return r"(?P<key>[^/]+)".join(re.escape(part) for part in template.split("{id}"))


def policy_errors(res: Resource) -> bool:
    """Policy endpoints answer with plain BadRequest/NotFound codes, not Request_* ones."""
    return not res.directory and bool(res.path) and str(res.path).startswith(("identity/", "policies/"))


def dir_errors(res: Resource) -> bool:
    return not policy_errors(res)


def ctx_url(req: Request, tail: str) -> str:
    return f"{req.root}/$metadata#{tail}"


def method_not_allowed() -> GraphHTTPError:
    return GraphHTTPError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


def body_object(req: Request, res: Resource) -> Obj:
    if not isinstance(req.body, dict):
        raise bad_request(
            "Write requests (excluding DELETE) must contain the Content-Type header declaration "
            "and a JSON object body.",
            directory=dir_errors(res),
        )
    return {
        k: v
        for k, v in copy.deepcopy(req.body).items()
        if not (k.startswith("@odata.") and k != "@odata.type" and not k.endswith("@odata.bind"))
    }


def target_id(url: Any) -> str:
    found = GUID.findall(str(url))
    if not found:
        raise bad_request(f"Invalid object identifier '{url}'.")
    return found[-1].lower()


def expand_fields(req: Request) -> list[str]:
    raw = req.query.get("$expand", "")
    return [f.split("(")[0].strip() for f in raw.split(",") if f.strip()]


def select_fields(req: Request) -> list[str] | None:
    raw = req.query.get("$select")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else None
