"""The whole URL table, every route named: pages link with ``url_for(name)``, and
kitlib/urls.py builds the same paths for links that leave a request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kitlib.web.views.api import (
    attendees,
    bundles,
    collections,
    feeds,
    files,
    resources,
    search,
    stats,
    system,
)
from kitlib.web.views.pages import home as pages
from kitlib.web.views.pages import library
from kitlib.web.views.pages import search as search_page
from kitlib.web.views.pages import staff as staff_pages

Endpoint = Callable[[Request], Awaitable[Response]]
STATIC_DIR = Path(__file__).resolve().parent / "static"


def _collection(path: str, item: str, one: str, many: str, list_view: Endpoint,
                create: Endpoint, read: Endpoint, update: Endpoint, delete: Endpoint
                ) -> list[Route]:
    """A JSON collection's five routes, named by one rule: ``api_{many}`` lists and
    ``api_{one}_create`` adds at ``path``; ``api_{one}``, ``api_{one}_update`` and
    ``api_{one}_delete`` read, change and delete at ``path + item``."""
    return [
        Route(path, list_view, methods=["GET"], name=f"api_{many}"),
        Route(path, create, methods=["POST"], name=f"api_{one}_create"),
        Route(path + item, read, methods=["GET"], name=f"api_{one}"),
        Route(path + item, update, methods=["PATCH"], name=f"api_{one}_update"),
        Route(path + item, delete, methods=["DELETE"], name=f"api_{one}_delete"),
    ]

routes = [
    Route("/", pages.home, methods=["GET"], name="home"),
    Route("/login", pages.login_page, methods=["GET"], name="login"),
    Route("/login", pages.login, methods=["POST"], name="login_submit"),
    Route("/logout", pages.logout, methods=["POST"], name="logout"),
    Route("/healthz", system.healthz, methods=["GET"], name="healthz"),
    Route("/openapi.json", system.openapi, methods=["GET"], name="openapi"),
    Route("/files/{file_id}/{filename:path}", files.download, methods=["GET"], name="file"),
    Route("/attend/{token}", attendees.landing, methods=["GET"], name="attend"),
    Route("/feeds/resources.atom", feeds.resources_feed, methods=["GET"], name="resources_feed"),
    *_collection("/api/resources", "/{resource_id}", "resource", "resources",
                 resources.list_resources, resources.create_resource, resources.get_resource,
                 resources.update_resource, resources.delete_resource),
    Route("/api/resources/{resource_id}/file", resources.put_file, methods=["PUT"],
          name="api_resource_file"),
    Route("/api/search", search.search, methods=["GET"], name="api_search"),
    Route("/api/suggest", search.suggest, methods=["GET"], name="api_suggest"),
    Route("/api/bundles", bundles.bundle, methods=["GET"], name="api_bundles"),
    Route("/api/stats", stats.stats, methods=["GET"], name="api_stats"),
    Route("/api/feed-token", feeds.create_token, methods=["POST"], name="api_feed_token_create"),
    Route("/api/feed-token", feeds.delete_token, methods=["DELETE"], name="api_feed_token_delete"),
    *_collection("/api/kits", "/{slug}", "kit", "kits",
                 collections.list_kits, collections.create_kit, collections.get_kit,
                 collections.update_kit, collections.delete_kit),
    *_collection("/api/webinars", "/{webinar_id}", "webinar", "webinars",
                 collections.list_webinars, collections.create_webinar, collections.get_webinar,
                 collections.update_webinar, collections.delete_webinar),
    Route("/api/webinars/{webinar_id}/attendees", attendees.list_attendees, methods=["GET"],
          name="api_attendees"),
    Route("/api/webinars/{webinar_id}/attendees", attendees.import_attendees, methods=["POST"],
          name="api_attendees_import"),
    Route("/api/webinars/{webinar_id}/attendees/{attendee_id}", attendees.update_attendee,
          methods=["PATCH"], name="api_attendee_update"),
    Route("/api/webinars/{webinar_id}/usage", attendees.usage, methods=["GET"],
          name="api_webinar_usage"),
    # Pages for people (the JSON API above is for integrations).
    Route("/language", pages.set_language, methods=["POST"], name="language"),
    Route("/search", search_page.search_page, methods=["GET"], name="search"),
    Route("/resources/{resource_id}", library.resource_page, methods=["GET"], name="resource"),
    Route("/kits/{slug}", library.kit_page, methods=["GET"], name="kit"),
    Route("/webinars/{webinar_id}", library.webinar_page, methods=["GET"], name="webinar"),
    Route("/webinars/{webinar_id}/captions.vtt", library.webinar_captions, methods=["GET"],
          name="webinar_captions"),
    Route("/staff", staff_pages.dashboard, methods=["GET"], name="staff"),
    Route("/staff/upload", staff_pages.upload_page, methods=["GET"], name="staff_upload"),
    Route("/staff/upload", staff_pages.upload, methods=["POST"], name="staff_upload_submit"),
    Route("/staff/resources/{resource_id}", staff_pages.edit_page, methods=["GET"],
          name="staff_resource"),
    Route("/staff/resources/{resource_id}", staff_pages.edit, methods=["POST"],
          name="staff_resource_save"),
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
]
