"""Graph's error body (graph-notes 6.6) as an exception the router turns into a response."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any


class GraphHTTPError(Exception):
    """An error response: status, Graph error code and message (and optional headers)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        inner_message: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.inner_message = inner_message

    def body(self, client_request_id: str | None = None) -> dict[str, Any]:
        rid = str(uuid.uuid4())
        inner: dict[str, Any] = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": rid,
            "client-request-id": client_request_id or rid,
        }
        if self.inner_message:
            inner["message"] = self.inner_message
        return {"error": {"code": self.code, "message": self.message, "innerError": inner}}


def not_found(key: str, *, directory: bool = True) -> GraphHTTPError:
    if directory:
        return GraphHTTPError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
        )
    return GraphHTTPError(404, "NotFound", f"The requested resource '{key}' was not found.")


def bad_request(message: str, *, directory: bool = True) -> GraphHTTPError:
    return GraphHTTPError(400, "Request_BadRequest" if directory else "BadRequest", message)


def denied() -> GraphHTTPError:
    return GraphHTTPError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )
