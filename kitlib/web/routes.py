"""The whole URL table."""

from __future__ import annotations

from pathlib import Path

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

STATIC_DIR = Path(__file__).resolve().parent / "static"

routes = [
    Route("/", pages.home, methods=["GET"], name="home"),
    Route("/login", pages.login_page, methods=["GET"], name="login"),
    Route("/login", pages.login, methods=["POST"]),
    Route("/logout", pages.logout, methods=["POST"], name="logout"),
    Route("/healthz", system.healthz, methods=["GET"]),
    Route("/openapi.json", system.openapi, methods=["GET"]),
    Route("/files/{file_id}/{filename:path}", files.download, methods=["GET"]),
    Route("/attend/{token}", attendees.landing, methods=["GET"], name="attend"),
    Route("/feeds/resources.atom", feeds.resources_feed, methods=["GET"]),
    Route("/api/resources", resources.list_resources, methods=["GET"]),
    Route("/api/resources", resources.create_resource, methods=["POST"]),
    Route("/api/resources/{resource_id}", resources.get_resource, methods=["GET"]),
    Route("/api/resources/{resource_id}", resources.update_resource, methods=["PATCH"]),
    Route("/api/resources/{resource_id}", resources.delete_resource, methods=["DELETE"]),
    Route("/api/resources/{resource_id}/file", resources.put_file, methods=["PUT"]),
    Route("/api/search", search.search, methods=["GET"]),
    Route("/api/suggest", search.suggest, methods=["GET"]),
    Route("/api/bundles", bundles.bundle, methods=["GET"]),
    Route("/api/stats", stats.stats, methods=["GET"]),
    Route("/api/feed-token", feeds.create_token, methods=["POST"]),
    Route("/api/feed-token", feeds.delete_token, methods=["DELETE"]),
    Route("/api/kits", collections.list_kits, methods=["GET"]),
    Route("/api/kits", collections.create_kit, methods=["POST"]),
    Route("/api/kits/{slug}", collections.get_kit, methods=["GET"]),
    Route("/api/kits/{slug}", collections.update_kit, methods=["PATCH"]),
    Route("/api/kits/{slug}", collections.delete_kit, methods=["DELETE"]),
    Route("/api/webinars", collections.list_webinars, methods=["GET"]),
    Route("/api/webinars", collections.create_webinar, methods=["POST"]),
    Route("/api/webinars/{webinar_id}", collections.get_webinar, methods=["GET"]),
    Route("/api/webinars/{webinar_id}", collections.update_webinar, methods=["PATCH"]),
    Route("/api/webinars/{webinar_id}", collections.delete_webinar, methods=["DELETE"]),
    Route("/api/webinars/{webinar_id}/attendees", attendees.list_attendees, methods=["GET"]),
    Route("/api/webinars/{webinar_id}/attendees", attendees.import_attendees, methods=["POST"]),
    Route("/api/webinars/{webinar_id}/attendees/{attendee_id}", attendees.update_attendee,
          methods=["PATCH"]),
    Route("/api/webinars/{webinar_id}/usage", attendees.usage, methods=["GET"]),
    # Pages for people (the JSON API above is for integrations).
    Route("/language", pages.set_language, methods=["POST"]),
    Route("/search", search_page.search_page, methods=["GET"]),
    Route("/resources/{resource_id}", library.resource_page, methods=["GET"]),
    Route("/kits/{slug}", library.kit_page, methods=["GET"]),
    Route("/webinars/{webinar_id}", library.webinar_page, methods=["GET"]),
    Route("/webinars/{webinar_id}/captions.vtt", library.webinar_captions, methods=["GET"]),
    Route("/staff", staff_pages.dashboard, methods=["GET"]),
    Route("/staff/upload", staff_pages.upload_page, methods=["GET"]),
    Route("/staff/upload", staff_pages.upload, methods=["POST"]),
    Route("/staff/resources/{resource_id}", staff_pages.edit_page, methods=["GET"]),
    Route("/staff/resources/{resource_id}", staff_pages.edit, methods=["POST"]),
    Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
]
