"""Settings, read once from ``KITLIB_*`` environment variables or a ``.env`` file.

Every setting is declared in ``SETTINGS`` with its help text; ``docs/settings.md`` lists them
all and a test keeps the two in step. A bad value raises ``SettingsError`` with a one-line
message that names the variable, and the CLI stops on it before anything starts.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

PREFIX = "KITLIB_"


class SettingsError(Exception):
    """A setting has a value kitlib cannot use."""


def _default_root() -> Path:
    # An editable install (the README's `make run`) keeps its data beside the repository;
    # an installed wheel keeps it in the working directory it was started from.
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").is_file():
        return repo
    return Path.cwd()


def _size(value: str) -> int:
    units = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    text = value.strip().upper().removesuffix("IB").removesuffix("B")
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "")
    size = int(float(number) * units[unit])
    if size <= 0:
        raise ValueError("must be positive")
    return size


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise ValueError("must be between 1 and 65535")
    return port


def _positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be positive")
    return number


def _database_url(value: str) -> str:
    if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
        raise ValueError("must start with sqlite://, postgres:// or postgresql://")
    return value


def _internal_prefix(value: str) -> str:
    # Appended to a storage key ("ab/cd/<sha256>") and sent to the proxy as a path: it must be
    # one, and a plain one, so no request can end up anywhere else.
    if not re.fullmatch(r"/(?:[A-Za-z0-9._-]+/)+", value) or "/../" in value or "/./" in value:
        raise ValueError("must be a path such as /_kitlib/blobs/ (starting and ending with /)")
    return value


def _base_url(value: str) -> str:
    # Links written outside a request (feeds, bundle manifests, mail) start with it: a bare
    # origin, or an origin and a path prefix, never a query or a fragment.
    if not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", value):
        raise ValueError("must be an absolute http:// or https:// URL, e.g. https://kits.example.org")
    return value.rstrip("/")


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be true or false")


@dataclass(frozen=True)
class Setting:
    name: str
    help: str
    cast: Callable[[str], Any]


SETTINGS: tuple[Setting, ...] = (
    Setting("DATA_DIR", "Root folder for data; uploads/, index/ and the SQLite file derive from it "
            "(default: the repository root).", Path),
    Setting("DATABASE_URL", "Database URL: sqlite:///path/kitlib.sqlite3 (default, under DATA_DIR) "
            "or postgres://user@host:5432/db.", _database_url),
    Setting("UPLOADS_DIR", "Where uploaded files are stored (default: DATA_DIR/uploads).", Path),
    Setting("INDEX_DIR", "Where the search index lives (default: DATA_DIR/index).", Path),
    Setting("HOST", "Address `kitlib serve` listens on (default 127.0.0.1).", str),
    Setting("PORT", "Port `kitlib serve` listens on (default 8000).", _port),
    Setting("WORKERS", "Server processes `kitlib serve` starts (default 1); one per core serves "
            "more downloads at once.", _positive),
    Setting("MAX_UPLOAD_SIZE", "Largest accepted upload, e.g. 10GiB or 500M (default 20GiB).",
            _size),
    Setting("SECRET_KEY", "Key for signed links and CSRF tokens (default: generated once and kept "
            "in DATA_DIR/.secret_key).", str),
    Setting("ATTENDEE_LINK_DAYS", "How long a webinar attendee's personal link stays valid, in "
            "days, unless staff choose otherwise at import (default 30).", _positive),
    Setting("MEDIA_GRANT_SECONDS", "How long a signed media URL handed to an attendee's player "
            "stays valid, in seconds (default 14400: four hours).", _positive),
    Setting("SESSION_DAYS", "How long a sign-in lasts, in days (default 14).", _positive),
    Setting("SECURE_COOKIES", "Mark cookies Secure; set when served over TLS (default false).",
            _bool),
    Setting("BODY_IDLE_TIMEOUT", "Seconds an upload may send nothing before it is abandoned with "
            "a 408 (default 60).", _positive),
    Setting("DOWNLOAD_CHUNK_SIZE", "Bytes read per chunk when serving files; each download in "
            "progress holds one chunk in memory (default 4MiB).",
            _size),
    Setting("ACCEL_REDIRECT", "Behind nginx only: the internal location (e.g. /_kitlib/blobs/) "
            "that serves the uploads folder; kitlib then checks access and answers with "
            "X-Accel-Redirect, and nginx sends the bytes (docs/deploy.md). Empty: kitlib sends "
            "them itself (default).", _internal_prefix),
    Setting("FORWARDED_ALLOW_IPS", "Behind a proxy: its addresses, comma-separated (e.g. "
            "127.0.0.1), whose X-Forwarded-For and X-Forwarded-Proto kitlib believes; sign-in "
            "throttling then sees each client's own address (default: none, headers ignored).",
            str),
    Setting("BASE_URL", "The library's public address, e.g. https://kits.example.org; absolute "
            "links in feeds, bundle manifests and attendee links start with it (default: the "
            "address each request came to).", _base_url),
    Setting("LOG_LEVEL", "Logging level: debug, info, warning, error (default info).", str),
    Setting("SEARCH_WORKER", "Run the search worker (text extraction, index updates) inside "
            "`kitlib serve` (default true); set false when `kitlib worker` runs apart.", _bool),
    Setting("EXTRACT_TIMEOUT", "Seconds one file's text extraction may take (default 120).",
            _positive),
    Setting("EXTRACT_MEMORY_MB", "Memory cap of the extraction process, in MB (default 1024).",
            _positive),
)


@dataclass(frozen=True)
class Settings:
    """Every setting kitlib reads, resolved to absolute paths and typed values."""

    data_dir: Path
    database_url: str
    uploads_dir: Path
    index_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_upload_size: int = 20 * 1024**3
    secret_key: str = ""
    session_days: int = 14
    attendee_link_days: int = 30
    media_grant_seconds: int = 4 * 3600
    secure_cookies: bool = False
    # 4 MiB: a whole-file stream reached 0.95-0.99 of nginx, against 0.86 with 1 MiB
    # (bench/download.py); the price is one such buffer per download in progress.
    download_chunk_size: int = 4 * 1024 * 1024
    body_idle_timeout: int = 60
    accel_redirect: str = ""
    forwarded_allow_ips: str = ""
    base_url: str = ""
    log_level: str = "info"
    search_worker: bool = True
    extract_timeout: int = 120
    extract_memory_mb: int = 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def for_root(cls, root: Path, **overrides: Any) -> Settings:
        """Settings with every data folder under ``root``: tests and backups use this."""
        root = root.resolve()
        base = cls(
            data_dir=root,
            database_url=f"sqlite://{root / 'kitlib.sqlite3'}",
            uploads_dir=root / "uploads",
            index_dir=root / "index",
            secret_key=overrides.pop("secret_key", None) or secrets.token_hex(32),
        )
        return replace(base, **overrides)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file; blank lines and # comments skipped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def _secret_from_file(data_dir: Path) -> str:
    path = data_dir / ".secret_key"
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def load_settings(environ: Mapping[str, str] | None = None,
                  env_file: Path | None = None) -> Settings:
    """Read the settings once; raise SettingsError naming the first bad variable."""
    env = dict(read_env_file(env_file if env_file is not None else Path.cwd() / ".env"))
    env.update(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        key = PREFIX + setting.name
        raw = env.get(key)
        if raw is None or raw == "":
            continue
        try:
            values[setting.name.lower()] = setting.cast(raw)
        except (ValueError, TypeError) as exc:
            raise SettingsError(f"{key}={raw!r} is not valid: {exc}") from None
    unknown = sorted(k for k in env if k.startswith(PREFIX) and k[len(PREFIX):] not in
                     {s.name for s in SETTINGS} | {"TEST_DATABASE", "TEST_DATABASE_URL"})
    if unknown:
        raise SettingsError(f"{unknown[0]} is not a kitlib setting (see docs/settings.md)")
    level = str(values.get("log_level", "info")).lower()
    if level not in {"debug", "info", "warning", "error"}:
        raise SettingsError(f"KITLIB_LOG_LEVEL={level!r} is not valid: use debug, info, warning "
                            "or error")
    values["log_level"] = level
    root = Path(values.pop("data_dir", _default_root())).resolve()
    values.setdefault("database_url", f"sqlite://{root / 'kitlib.sqlite3'}")
    values["uploads_dir"] = Path(values.get("uploads_dir", root / "uploads")).resolve()
    values["index_dir"] = Path(values.get("index_dir", root / "index")).resolve()
    if not values.get("secret_key"):
        try:
            values["secret_key"] = _secret_from_file(root)
        except OSError as exc:
            raise SettingsError(f"KITLIB_DATA_DIR={str(root)!r} is not writable: {exc}") from None
    elif len(values["secret_key"]) < 32:
        raise SettingsError("KITLIB_SECRET_KEY is not valid: use at least 32 characters")
    return Settings(data_dir=root, **values)
