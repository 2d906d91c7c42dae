"""The feed's endpoints: service document, $metadata, entity sets and their counts.

Every request authenticates with a feed token (HTTP Basic password or Bearer),
needs ``reporting.use_odata_feed`` and is written to the access log.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from participants import roles
from participants.models import User
from reporting import services
from reporting.odata.query import ODataError, ReadOptions, filtered, parse_options, read_page
from reporting.odata.schema import ENTITY_SETS, EntitySet, metadata_xml

PERM_USE_FEED = "reporting.use_odata_feed"
JSON_TYPE = "application/json;odata.metadata=minimal"
XML_TYPE = "application/xml"
REALM = 'Basic realm="PRaP Portal OData feed", charset="UTF-8"'
_MAX_PAGE_SIZE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)")

FeedView = Callable[..., HttpResponse]


def _odata_response(body: bytes | str, content_type: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type, status=status)
    response["OData-Version"] = "4.0"
    return response


def _json(data: dict, status: int = 200) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return _odata_response(body, JSON_TYPE, status)


def error_response(error: ODataError) -> HttpResponse:
    return _json(error.as_json(), error.status)


def _credentials(request: HttpRequest) -> tuple[str, str] | None:
    """(username or "", secret) from an Authorization header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return "", value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, password = decoded.partition(":")
        if sep:
            return username, password
    return None


def _authenticate(request: HttpRequest) -> User | None:
    credentials = _credentials(request)
    if credentials is None:
        return None
    username, secret = credentials
    user = services.feed_token_authenticate(secret=secret)
    # Power BI and Excel ask for a user name too; when one is given it must match.
    if user is not None and username and username.lower() != user.username.lower():
        return None
    return user


def feed_endpoint(view: FeedView) -> FeedView:
    """Token authentication, permission, access log and OData errors for a feed view."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = error_response(
                ODataError(405, "MethodNotAllowed", "The feed is read-only: use GET.")
            )
            response["Allow"] = "GET, HEAD"
            return response
        user = _authenticate(request)
        if user is None:
            response = error_response(
                ODataError(
                    401,
                    "Unauthorized",
                    "Sign in with your user name and a feed token as the password.",
                )
            )
            response["WWW-Authenticate"] = REALM
            return response
        services.access_log_record(user=user, action="odata", detail=request.get_full_path())
        if not user.has_perm(PERM_USE_FEED):
            return error_response(
                ODataError(403, "Forbidden", "You do not have permission to use the OData feed.")
            )
        request.user = user
        try:
            return view(request, *args, **kwargs)
        except ODataError as error:
            return error_response(error)

    return wrapper


def _root_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("reporting-odata-root"))


@feed_endpoint
def service_document(request: HttpRequest) -> HttpResponse:
    root = _root_url(request)
    return _json(
        {
            "@odata.context": f"{root}$metadata",
            "value": [{"name": name, "kind": "EntitySet", "url": name} for name in ENTITY_SETS],
        }
    )


@feed_endpoint
def metadata(request: HttpRequest) -> HttpResponse:
    return _odata_response(metadata_xml(), XML_TYPE)


def _entity_set(name: str) -> EntitySet:
    if name not in ENTITY_SETS:
        raise ODataError(404, "NotFound", f"There is no entity set called '{name}'.")
    return ENTITY_SETS[name]


def _hidden(request: HttpRequest, entity_set: EntitySet) -> frozenset[str]:
    if roles.can_reveal_nino(request.user):
        return frozenset()
    return frozenset(p.name for p in entity_set.props if p.nino)


def _page_size(request: HttpRequest) -> tuple[int, bool]:
    """The page size to use, and whether it came from the client's Prefer header."""
    size = min(settings.ODATA_PAGE_SIZE, settings.ODATA_MAX_PAGE_SIZE)
    match = _MAX_PAGE_SIZE.search(request.headers.get("Prefer", ""))
    if match and int(match.group(1)) > 0:
        return min(int(match.group(1)), settings.ODATA_MAX_PAGE_SIZE), True
    return size, False


def _context_url(request: HttpRequest, options: ReadOptions) -> str:
    context = f"{_root_url(request)}$metadata#{options.entity_set.name}"
    if options.select_given and options.select != options.entity_set.props:
        context += "(" + ",".join(p.name for p in options.select) + ")"
    return context


@feed_endpoint
def entity_set(request: HttpRequest, name: str) -> HttpResponse:
    entity_set = _entity_set(name)
    options = parse_options(entity_set, request.GET, hidden=_hidden(request, entity_set))
    page_size, preferred = _page_size(request)
    page = read_page(options, page_size=page_size, reveal_nino=roles.can_reveal_nino(request.user))
    body: dict[str, object] = {"@odata.context": _context_url(request, options)}
    if page.count is not None:
        body["@odata.count"] = page.count
    body["value"] = page.rows
    if page.next_skiptoken is not None:
        params = dict(options.passthrough)
        if page.next_top is not None:
            params["$top"] = str(page.next_top)
        params["$skiptoken"] = page.next_skiptoken
        path = request.build_absolute_uri(request.path)
        body["@odata.nextLink"] = f"{path}?{urlencode(params)}"
    response = _json(body)
    if preferred:
        response["Preference-Applied"] = f"odata.maxpagesize={page_size}"
    return response


@feed_endpoint
def entity_set_count(request: HttpRequest, name: str) -> HttpResponse:
    """``/Participants/$count``: the number of rows that match ``$filter``, as plain text."""
    entity_set = _entity_set(name)
    options = parse_options(entity_set, request.GET, hidden=_hidden(request, entity_set))
    return _odata_response(str(filtered(options).count()), "text/plain")
