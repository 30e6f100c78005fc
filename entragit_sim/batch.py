"""JSON batching (graph-notes 6.4): up to 20 requests, dependsOn, each item dispatched like a request."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from entragit_sim.errors import GraphHTTPError
from entragit_sim.wire import Request, Response, method_not_allowed

MAX_BATCH = 20


class Batch:
    """POST /$batch."""

    def dispatch(self, req: Request, *, in_batch: bool = False) -> Response:
        raise NotImplementedError

    def _batch(self, req: Request, m: re.Match[str]) -> Response:
        if req.method != "POST":
            raise method_not_allowed()
        items = req.body.get("requests") if isinstance(req.body, dict) else None
        if not isinstance(items, list) or not items:
            raise GraphHTTPError(400, "BadRequest", "Invalid batch payload format.")
        if len(items) > MAX_BATCH:
            raise GraphHTTPError(
                400, "BadRequest", f"The number of batch requests exceeds the limit of {MAX_BATCH}."
            )
        ids = [str(i.get("id")) for i in items]
        if len(set(ids)) != len(ids) or any(
            not isinstance(i, dict) or "method" not in i or "url" not in i for i in items
        ):
            raise GraphHTTPError(
                400,
                "BadRequest",
                "Batch request ids must be unique and each needs id, method and url.",
            )
        known = set(ids)
        for i in items:
            for dep in i.get("dependsOn") or []:
                if str(dep) not in known:
                    raise GraphHTTPError(
                        400,
                        "BadRequest",
                        f"Request '{i['id']}' depends on unknown request '{dep}'.",
                    )
        status: dict[str, int] = {}
        out = []
        for item in items:
            rid = str(item["id"])
            deps = [str(d) for d in item.get("dependsOn") or []]
            failed = [d for d in deps if status.get(d, 424) >= 400]
            if failed:
                status[rid] = 424
                err = GraphHTTPError(
                    424,
                    "FailedDependency",
                    "The request could not be processed because a dependency failed.",
                )
                out.append(
                    {
                        "id": rid,
                        "status": 424,
                        "headers": {"Content-Type": "application/json"},
                        "body": err.body(),
                    }
                )
                continue
            url = str(item["url"])
            if url.startswith(("/v1.0/", "/beta/")) or "://" in url:
                raise GraphHTTPError(
                    400,
                    "BadRequest",
                    "Batch request urls must be relative and without the version.",
                )
            split = urlsplit(url)
            headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
            sub = Request(
                method=str(item["method"]).upper(),
                version=req.version,
                path=unquote(split.path.lstrip("/")),
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                headers={**req.headers, **headers},
                body=item.get("body"),
                base=req.base,
                caller=req.caller,
            )
            resp = self.dispatch(sub, in_batch=True)
            self.on_batch_item(sub, resp)
            status[rid] = resp.status
            entry: dict[str, Any] = {
                "id": rid,
                "status": resp.status,
                "headers": {"Content-Type": "application/json", **resp.headers},
            }
            if resp.body is not None:
                entry["body"] = resp.body
            out.append(entry)
        return Response(200, {"responses": out})

    def on_batch_item(self, req: Request, resp: Response) -> None:
        """Overridden by the server to record batch items."""


