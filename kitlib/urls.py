"""Links into the library that leave a request: in JSON answers, feeds, bundle manifests and
mail. The paths, then ``Links``: the same paths as absolute URLs from the library's public
address (``KITLIB_BASE_URL``, else the address a request came to).

Each path is the one the route of the same name in web/routes.py serves (tests/test_urls.py
checks them against each other); pages build their own links from the route names. Imports
nothing of kitlib, so every layer may use it: services return these paths in their JSON, and
the worker can write absolute links without a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

Query = Mapping[str, str] | Sequence[tuple[str, str]]


def file(attachment_id: int, filename: str) -> str:
    """A file under its canonical name (route ``file``)."""
    return f"/files/{attachment_id}/{quote(filename)}"


def resource(resource_id: int) -> str:
    """A resource in the JSON API (route ``api_resource``)."""
    return f"/api/resources/{resource_id}"


def kit(slug: str) -> str:
    """A kit in the JSON API (route ``api_kit``)."""
    return f"/api/kits/{slug}"


def webinar(webinar_id: int) -> str:
    """A webinar in the JSON API (route ``api_webinar``)."""
    return f"/api/webinars/{webinar_id}"


def attend(token: str) -> str:
    """An attendee's personal page (route ``attend``): the token is the credential."""
    return f"/attend/{token}"


def bundle(filters: Query = ()) -> str:
    """The ZIP of every file these search filters match (route ``api_bundles``)."""
    return "/api/bundles" + (f"?{urlencode(filters)}" if filters else "")


def feed(token: str | None = None) -> str:
    """The Atom feed of new resources, personal with a feed token (route ``resources_feed``)."""
    return "/feeds/resources.atom" + (f"?token={token}" if token is not None else "")


@dataclass(frozen=True)
class Links:
    """Absolute links: ``base`` (scheme, host and any path prefix, no final slash) and a path."""

    base: str

    def to(self, path: str) -> str:
        return self.base + path

    def home(self) -> str:
        return self.to("/")

    def file(self, attachment_id: int, filename: str) -> str:
        return self.to(file(attachment_id, filename))

    def resource(self, resource_id: int) -> str:
        return self.to(resource(resource_id))

    def attend(self, token: str) -> str:
        return self.to(attend(token))
