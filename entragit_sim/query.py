"""OData query options the simulator understands: $filter (a small parser), $select, $top, $skiptoken."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

Pred = Callable[[dict[str, Any]], bool]

# Operators that are "advanced queries" on directory objects (graph-notes 6.2): they need
# ConsistencyLevel: eventual and $count=true.
ADVANCED_OPS = frozenset({"ne", "not", "endswith"})


class QueryError(Exception):
    """A query option Graph would reject; `advanced` marks ones that need ConsistencyLevel."""

    def __init__(self, message: str, *, advanced: bool = False) -> None:
        super().__init__(message)
        self.advanced = advanced


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?(?![\w-]))|(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F-]{27})"
    r"|(?P<dt>\d{4}-\d\d-\d\dT[\d:.]+Z?)|(?P<punct>[(),:])|(?P<word>[A-Za-z_@$][\w./@$-]*))"
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError(f"Invalid filter clause: syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def get_path(obj: Any, path: str) -> Any:
    for part in path.split("/"):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _lower(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


class _Parser:
    """Recursive descent over: or / and / not / comparison / function call / lambda any|all."""

    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.i = 0
        self.used: set[str] = set()
        self.vars: dict[str, Any] = {}

    def peek(self, value: str | None = None) -> bool:
        if self.i >= len(self.toks):
            return False
        return value is None or self.toks[self.i][1].lower() == value

    def take(self, value: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks) or (
            value is not None and self.toks[self.i][1].lower() != value
        ):
            want = value or "a token"
            raise QueryError(f"Invalid filter clause: expected {want}.")
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Pred:
        pred = self.or_()
        if self.i != len(self.toks):
            raise QueryError(f"Invalid filter clause: unexpected '{self.toks[self.i][1]}'.")
        return pred

    def or_(self) -> Pred:
        left = self.and_()
        while self.peek("or"):
            self.take()
            right = self.and_()
            left = (lambda a, b: lambda o: a(o) or b(o))(left, right)
        return left

    def and_(self) -> Pred:
        left = self.unary()
        while self.peek("and"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda o: a(o) and b(o))(left, right)
        return left

    def unary(self) -> Pred:
        if self.peek("not"):
            self.take()
            self.used.add("not")
            inner = self.unary()
            return lambda o: not inner(o)
        if self.peek("("):
            self.take("(")
            inner = self.or_()
            self.take(")")
            return inner
        return self.comparison()

    def operand(self) -> Callable[[dict[str, Any]], Any]:
        kind, val = self.take()
        if kind == "str":
            s = val[1:-1].replace("''", "'")
            return lambda o: s
        if kind == "num":
            n = float(val) if "." in val else int(val)
            return lambda o: n
        if kind in ("guid", "dt"):
            return lambda o: val
        if kind == "word":
            low = val.lower()
            if low in ("true", "false"):
                b = low == "true"
                return lambda o: b
            if low == "null":
                return lambda o: None
            if self.peek("("):
                return self.call(low)
            head, _, rest = val.partition("/")
            if head in self.vars:
                return lambda o: get_path(self.vars[head], rest) if rest else self.vars[head]
            return lambda o: get_path(o, val)
        raise QueryError(f"Invalid filter clause: unexpected '{val}'.")

    def call(self, fn: str) -> Callable[[dict[str, Any]], Any]:
        self.take("(")
        args = [self.operand()]
        while self.peek(","):
            self.take(",")
            args.append(self.operand())
        self.take(")")
        if fn in ("startswith", "endswith", "contains") and len(args) == 2:
            self.used.add(fn)
            a, b = args
            method = {
                "startswith": str.startswith,
                "endswith": str.endswith,
                "contains": str.__contains__,
            }[fn]
            return lambda o: (
                isinstance(a(o), str)
                and isinstance(b(o), str)
                and method(a(o).lower(), b(o).lower())
            )
        raise QueryError(f"Invalid filter clause: unsupported function '{fn}'.")

    def comparison(self) -> Pred:
        # lambda: path/any(x: expr)
        if (
            self.i + 1 < len(self.toks)
            and self.toks[self.i][0] == "word"
            and self.toks[self.i][1].lower().endswith(("/any", "/all"))
        ):
            return self.lambda_()
        left = self.operand()
        if not self.peek():
            return lambda o: bool(left(o))
        op = self.take()[1].lower()
        if op == "in":
            self.take("(")
            items = [self.operand()]
            while self.peek(","):
                self.take(",")
                items.append(self.operand())
            self.take(")")
            return lambda o: _lower(left(o)) in {_lower(f(o)) for f in items}
        if op not in ("eq", "ne", "gt", "ge", "lt", "le"):
            raise QueryError(f"Invalid filter clause: unsupported operator '{op}'.")
        self.used.add(op)
        right = self.operand()

        def cmp(o: dict[str, Any]) -> bool:
            a, b = _lower(left(o)), _lower(right(o))
            if op == "eq":
                return bool(a == b)
            if op == "ne":
                return bool(a != b)
            if a is None or b is None:
                return False
            try:
                return bool({"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op])
            except TypeError:
                return False

        return cmp

    def lambda_(self) -> Pred:
        path, kind = self.take()[1].rsplit("/", 1)
        self.take("(")
        var = self.take()[1]
        self.take(":")
        self.vars[var] = None
        body = self.or_()
        self.take(")")
        quant = any if kind.lower() == "any" else all

        def pred(o: dict[str, Any]) -> bool:
            items = get_path(o, path) or []

            def one(x: Any) -> bool:
                self.vars[var] = x
                return body(o)

            return quant(one(x) for x in items)

        return pred


def parse_filter(text: str) -> tuple[Pred, set[str]]:
    """Returns the predicate and the operators used (so callers can enforce advanced-query rules)."""
    p = _Parser(text)
    return p.parse(), p.used


def select(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    if not fields:
        return obj
    out = {k: v for k, v in obj.items() if k == "@odata.type"}
    for f in fields:
        if f in obj:
            out[f] = obj[f]
    return out


def encode_skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sim:{offset}".encode()).decode().rstrip("=")


def decode_skiptoken(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, offset = raw.split(":")
        if prefix != "sim":
            raise ValueError
        return int(offset)
    except ValueError as e:
        raise QueryError("Invalid $skiptoken.") from e
