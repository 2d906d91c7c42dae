"""Reading an entity set: query options to one bounded query, and a page of rows.

``$filter`` is parsed by odata-query and translated to a Django ``Q`` only
after every name in it has been checked against the entity set's allow-list
and every comparison has been type-checked, so a bad filter is an OData error
(400 or 501), never a database error.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from dataclasses import dataclass, field

from django.core.exceptions import FieldError, ValidationError
from django.db.models import F, Q, QuerySet
from django.http import QueryDict
from odata_query import ast
from odata_query.django import AstToDjangoQVisitor
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.visitor import NodeTransformer

from participants.nino import nino_mask
from reporting.fields import BOOLEAN, DATE, DATETIME, INT64, STRING
from reporting.odata.schema import EntitySet, Prop

SUPPORTED_OPTIONS = {
    "$filter",
    "$select",
    "$orderby",
    "$top",
    "$skip",
    "$count",
    "$skiptoken",
    "$format",
}
NOT_IMPLEMENTED_OPTIONS = {"$expand", "$search", "$apply", "$compute", "$levels"}

# function name -> (argument types, result type); anything else is 501.
_FUNCTIONS: dict[str, tuple[tuple[frozenset[str], ...], str]] = {
    "contains": ((frozenset({STRING}), frozenset({STRING})), BOOLEAN),
    "startswith": ((frozenset({STRING}), frozenset({STRING})), BOOLEAN),
    "endswith": ((frozenset({STRING}), frozenset({STRING})), BOOLEAN),
    "tolower": ((frozenset({STRING}),), STRING),
    "toupper": ((frozenset({STRING}),), STRING),
    "trim": ((frozenset({STRING}),), STRING),
    "length": ((frozenset({STRING}),), INT64),
    "year": ((frozenset({DATE, DATETIME}),), INT64),
    "month": ((frozenset({DATE, DATETIME}),), INT64),
    "day": ((frozenset({DATE, DATETIME}),), INT64),
    "hour": ((frozenset({DATETIME}),), INT64),
    "minute": ((frozenset({DATETIME}),), INT64),
    "date": ((frozenset({DATETIME}),), DATE),
}
_LITERAL_TYPES: dict[type, str] = {
    ast.String: STRING,
    ast.Integer: INT64,
    ast.Boolean: BOOLEAN,
    ast.Date: DATE,
    ast.DateTime: DATETIME,
}
_NULL = "null"
_ORDER_ITEM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*$")


class ODataError(Exception):
    """An error answered in the OData JSON error format."""

    def __init__(self, status: int, code: str, message: str, target: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target

    def as_json(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        return {"error": error}


def _bad(message: str, target: str, code: str = "BadRequest") -> ODataError:
    return ODataError(400, code, message, target)


@dataclass
class ReadOptions:
    entity_set: EntitySet
    select: tuple[Prop, ...]
    order: tuple[tuple[Prop, bool], ...]  # (property, descending), key last
    filter_q: Q | None = None
    top: int | None = None
    skip: int = 0
    count: bool = False
    after: tuple[object, ...] | None = None  # keyset position from $skiptoken
    select_given: bool = False
    passthrough: dict[str, str] = field(default_factory=dict)  # options kept in nextLink


@dataclass
class Page:
    rows: list[dict[str, object]]
    count: int | None
    next_skiptoken: str | None
    next_top: int | None


def parse_options(
    entity_set: EntitySet, params: QueryDict, *, hidden: frozenset[str] = frozenset()
) -> ReadOptions:
    """Check and translate the query options of a read of ``entity_set``.

    ``hidden`` names properties this reader may see only masked: they may be
    selected but not filtered or sorted on (that would reveal them).
    """
    for name in params:
        if name in NOT_IMPLEMENTED_OPTIONS:
            raise ODataError(
                501, "NotImplemented", f"The query option {name} is not supported.", name
            )
        if name.startswith("$") and name not in SUPPORTED_OPTIONS:
            raise _bad(f"The query option {name} is not supported.", name)
        if name in SUPPORTED_OPTIONS and len(params.getlist(name)) > 1:
            raise _bad(f"The query option {name} is given more than once.", name)

    fmt = params.get("$format")
    if fmt is not None and fmt.split(";")[0].strip() not in ("json", "application/json"):
        raise _bad("Only the JSON format is supported.", "$format")

    by_name = entity_set.by_name
    select = _parse_select(params.get("$select"), entity_set)
    order = _parse_orderby(params.get("$orderby"), entity_set, hidden)
    options = ReadOptions(
        entity_set=entity_set,
        select=select,
        order=order,
        top=_parse_int(params.get("$top"), "$top"),
        skip=_parse_int(params.get("$skip"), "$skip") or 0,
        count=_parse_bool(params.get("$count"), "$count"),
        select_given="$select" in params,
    )
    text = params.get("$filter")
    if text is not None and text.strip():
        options.filter_q = compile_filter(text, by_name, hidden)
    token = params.get("$skiptoken")
    if token is not None:
        options.after = _decode_skiptoken(token, order)
    for name in ("$filter", "$select", "$orderby", "$count", "$format"):
        if name in params:
            options.passthrough[name] = params[name]
    return options


def _parse_int(value: str | None, target: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise _bad(f"{target} must be a whole number of 0 or more.", target)
    return int(value)


def _parse_bool(value: str | None, target: str) -> bool:
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise _bad(f"{target} must be true or false.", target)


def _parse_select(value: str | None, entity_set: EntitySet) -> tuple[Prop, ...]:
    if value is None or value.strip() in ("", "*"):
        return entity_set.props
    by_name = entity_set.by_name
    chosen: list[Prop] = []
    for name in (part.strip() for part in value.split(",")):
        if name == "*":
            return entity_set.props
        if name not in by_name:
            raise _bad(
                f"The property '{name}' does not exist on {entity_set.name}.",
                "$select",
                "UnknownProperty",
            )
        if by_name[name] not in chosen:
            chosen.append(by_name[name])
    return tuple(chosen)


def _parse_orderby(
    value: str | None, entity_set: EntitySet, hidden: frozenset[str]
) -> tuple[tuple[Prop, bool], ...]:
    order: list[tuple[Prop, bool]] = []
    key_desc = key_seen = False
    if value:
        by_name = entity_set.by_name
        for part in value.split(","):
            match = _ORDER_ITEM.match(part)
            if not match:
                raise _bad(f"Cannot read the $orderby item '{part.strip()}'.", "$orderby")
            name, direction = match.groups()
            if name not in by_name:
                raise _bad(
                    f"The property '{name}' does not exist on {entity_set.name}.",
                    "$orderby",
                    "UnknownProperty",
                )
            if name in hidden:
                raise _forbidden(name, "$orderby")
            prop = by_name[name]
            if prop is entity_set.key:
                key_seen = True
                key_desc = direction == "desc"
            # The key is unique: nothing after it can change the order.
            elif not key_seen and all(p is not prop for p, _ in order):
                order.append((prop, direction == "desc"))
    # The key last makes the order total, which keyset paging needs.
    order.append((entity_set.key, key_desc))
    return tuple(order)


def _forbidden(name: str, target: str) -> ODataError:
    return ODataError(
        403,
        "Forbidden",
        f"The property '{name}' can only be used in {target} by people who may reveal "
        "National Insurance numbers.",
        target,
    )


# $filter ---------------------------------------------------------------------


def compile_filter(text: str, props: dict[str, Prop], hidden: frozenset[str]) -> Q:
    """Translate an OData ``$filter`` on the allow-listed ``props`` to a Django Q."""
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
    except ODataException as exc:
        raise _bad(f"The $filter is not valid OData: {exc}", "$filter", "InvalidFilter") from exc
    if tree is None:
        raise _bad("The $filter is empty.", "$filter", "InvalidFilter")
    if _type_of(tree, props, hidden) != BOOLEAN:
        raise _bad("The $filter must be a true/false condition.", "$filter", "InvalidFilter")
    rewritten = _PathRewriter(props).visit(_as_condition(tree))
    try:
        return AstToDjangoQVisitor(None).visit(rewritten)
    except (ODataException, FieldError, ValidationError, ValueError, TypeError) as exc:
        raise _bad(f"The $filter cannot be applied: {exc}", "$filter", "InvalidFilter") from exc


def _type_of(node: ast._Node, props: dict[str, Prop], hidden: frozenset[str]) -> str:
    """The OData type an expression yields; raises ODataError on anything not allowed."""
    if isinstance(node, ast.Identifier):
        if node.namespace or node.name not in props:
            raise _bad(
                f"The property '{node.full_name()}' does not exist or cannot be filtered on.",
                "$filter",
                "UnknownProperty",
            )
        if node.name in hidden:
            raise _forbidden(node.name, "$filter")
        return props[node.name].edm
    if isinstance(node, ast.Attribute):
        raise _bad(
            "Navigation paths are not available in $filter; use a property of this entity set.",
            "$filter",
            "UnknownProperty",
        )
    if isinstance(node, ast.Null):
        return _NULL
    for literal, edm in _LITERAL_TYPES.items():
        if type(node) is literal:
            return edm
    if isinstance(node, ast.Compare):
        return _type_of_compare(node, props, hidden)
    if isinstance(node, ast.BoolOp):
        for side in (node.left, node.right):
            if _type_of(side, props, hidden) != BOOLEAN:
                raise _bad("'and' and 'or' join true/false conditions.", "$filter", "InvalidFilter")
        return BOOLEAN
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        if _type_of(node.operand, props, hidden) != BOOLEAN:
            raise _bad("'not' applies to a true/false condition.", "$filter", "InvalidFilter")
        return BOOLEAN
    if isinstance(node, ast.Call):
        return _type_of_call(node, props, hidden)
    if isinstance(node, ast.CollectionLambda):
        raise ODataError(501, "NotImplemented", "'any' and 'all' are not supported.", "$filter")
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        raise ODataError(
            501, "NotImplemented", "Arithmetic in $filter is not supported.", "$filter"
        )
    raise _bad(
        f"The value {getattr(node, 'val', node)!s} is not supported in $filter.",
        "$filter",
        "InvalidFilter",
    )


def _type_of_compare(node: ast.Compare, props: dict[str, Prop], hidden: frozenset[str]) -> str:
    left = _type_of(node.left, props, hidden)
    if isinstance(node.comparator, ast.In):
        if not isinstance(node.right, ast.List) or not node.right.val:
            raise _bad("'in' needs a list of values.", "$filter", "InvalidFilter")
        for item in node.right.val:
            if _type_of(item, props, hidden) not in (left, _NULL):
                raise _type_mismatch(node)
        return BOOLEAN
    right = _type_of(node.right, props, hidden)
    if _NULL in (left, right):
        if not isinstance(node.comparator, ast.Eq | ast.NotEq):
            raise _bad("Only 'eq' and 'ne' compare with null.", "$filter", "InvalidFilter")
        return BOOLEAN
    if left != right:
        raise _type_mismatch(node)
    return BOOLEAN


def _type_mismatch(node: ast.Compare) -> ODataError:
    name = node.left.name if isinstance(node.left, ast.Identifier) else "the value"
    return _bad(f"Cannot compare {name} with a value of another type.", "$filter", "InvalidFilter")


def _type_of_call(node: ast.Call, props: dict[str, Prop], hidden: frozenset[str]) -> str:
    name = node.func.full_name()
    if name not in _FUNCTIONS:
        raise ODataError(
            501, "NotImplemented", f"The function '{name}' is not supported.", "$filter"
        )
    arg_types, result = _FUNCTIONS[name]
    if len(node.args) != len(arg_types):
        raise _bad(f"'{name}' takes {len(arg_types)} argument(s).", "$filter", "InvalidFilter")
    for arg, allowed in zip(node.args, arg_types, strict=True):
        if _type_of(arg, props, hidden) not in allowed:
            raise _bad(f"Wrong type of argument to '{name}'.", "$filter", "InvalidFilter")
    return result


def _as_condition(node: ast._Node) -> ast._Node:
    """A bare flag property used as a condition means ``Flag eq true``."""
    if isinstance(node, ast.Identifier):
        return ast.Compare(ast.Eq(), node, ast.Boolean("true"))
    return node


class _PathRewriter(NodeTransformer):
    """Replace OData property names with the Django paths they stand for."""

    def __init__(self, props: dict[str, Prop]) -> None:
        self.props = props

    def visit_Identifier(self, node: ast.Identifier) -> ast.Identifier:
        return ast.Identifier(self.props[node.name].path)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.BoolOp:
        left, right = _as_condition(node.left), _as_condition(node.right)
        return ast.BoolOp(node.op, self.visit(left), self.visit(right))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.UnaryOp:
        return ast.UnaryOp(node.op, self.visit(_as_condition(node.operand)))

    def visit_Call(self, node: ast.Call) -> ast.Call:
        # The function's own name is an identifier too: leave it alone.
        return ast.Call(node.func, [self.visit(arg) for arg in node.args])


# Paging ----------------------------------------------------------------------


def _encode_value(value: object) -> object:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def encode_skiptoken(values: tuple[object, ...]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_skiptoken(token: str, order: tuple[tuple[Prop, bool], ...]) -> tuple[object, ...]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(order):
            raise ValueError("wrong length")
        return tuple(_decode_value(v, prop) for v, (prop, _) in zip(values, order, strict=True))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise _bad("The $skiptoken is not valid for this query.", "$skiptoken") from exc


def _decode_value(value: object, prop: Prop) -> object:
    if value is None:
        return None
    if prop.edm == DATE:
        return datetime.date.fromisoformat(str(value))
    if prop.edm == DATETIME:
        return datetime.datetime.fromisoformat(str(value))
    if prop.edm == INT64 and not isinstance(value, int):
        raise TypeError("not a number")
    if prop.edm == BOOLEAN and not isinstance(value, bool):
        raise TypeError("not a flag")
    if prop.edm == STRING and not isinstance(value, str):
        raise TypeError("not text")
    return value


def _order_by(order: tuple[tuple[Prop, bool], ...]) -> list[object]:
    result = []
    for prop, desc in order:
        expr = F(prop.path)
        if prop.nullable:
            # Nulls count as the largest value on every database.
            result.append(expr.desc(nulls_first=True) if desc else expr.asc(nulls_last=True))
        else:
            result.append(expr.desc() if desc else expr.asc())
    return result


def _after(order: tuple[tuple[Prop, bool], ...], values: tuple[object, ...]) -> Q:
    """Rows strictly after ``values`` in ``order`` (nulls sort as the largest value)."""
    alternatives: list[Q] = []
    same = Q()
    for (prop, desc), value in zip(order, values, strict=True):
        beyond: Q | None
        if value is None:
            beyond = Q(**{f"{prop.path}__isnull": False}) if desc else None
        elif desc:
            beyond = Q(**{f"{prop.path}__lt": value})
        else:
            beyond = Q(**{f"{prop.path}__gt": value})
            if prop.nullable:
                beyond |= Q(**{f"{prop.path}__isnull": True})
        if beyond is not None:
            alternatives.append(same & beyond)
        same &= Q(**{f"{prop.path}__isnull": True}) if value is None else Q(**{prop.path: value})
    result = Q(pk__in=[])
    for alternative in alternatives:
        result |= alternative
    return result


def filtered(options: ReadOptions) -> QuerySet:
    queryset = options.entity_set.queryset()
    if options.filter_q is not None:
        queryset = queryset.filter(options.filter_q)
    return queryset


def read_page(options: ReadOptions, *, page_size: int, reveal_nino: bool) -> Page:
    """One page of rows (as OData property name -> JSON value) and the next position."""
    queryset = filtered(options)
    count = queryset.count() if options.count else None
    limit = page_size if options.top is None else min(page_size, options.top)
    if options.after is not None:
        queryset = queryset.filter(_after(options.order, options.after))
        start = 0
    else:
        start = options.skip
    order_props = [prop for prop, _ in options.order]
    paths = list(dict.fromkeys([p.path for p in (*options.select, *order_props)]))
    try:
        rows = list(
            queryset.order_by(*_order_by(options.order)).values(*paths)[start : start + limit + 1]
        )
    except (FieldError, ValidationError, ValueError, TypeError) as exc:
        raise _bad(f"The query cannot be run: {exc}", "$filter", "InvalidFilter") from exc
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_token = None
    next_top = None
    if has_more and rows and (options.top is None or options.top > len(rows)):
        last = rows[-1]
        next_token = encode_skiptoken(tuple(last[p.path] for p in order_props))
        if options.top is not None:
            next_top = options.top - len(rows)
    return Page(
        rows=[_serialise(row, options.select, reveal_nino) for row in rows],
        count=count,
        next_skiptoken=next_token,
        next_top=next_top,
    )


def _serialise(row: dict[str, object], select: tuple[Prop, ...], reveal_nino: bool) -> dict:
    result: dict[str, object] = {}
    for prop in select:
        value = row[prop.path]
        if prop.nino and not reveal_nino and isinstance(value, str):
            value = nino_mask(value)
        elif isinstance(value, datetime.datetime):
            value = value.isoformat()
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        result[prop.name] = value
    return result
