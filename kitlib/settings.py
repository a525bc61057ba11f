"""Settings, read once from ``KITLIB_*`` environment variables or a ``.env`` file.

Every setting is written once, in ``SETTINGS``: its name, default, help text and cast. The
``Settings`` fields take their defaults from it, ``load_settings`` its casts, and
``docs/settings.md`` is generated from it (``make docs``). A bad value raises ``SettingsError``
with a one-line message that names the variable, and the CLI stops on it before anything
starts.
"""

from __future__ import annotations

import dataclasses
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


class _Derived:
    """The default of a setting worked out by ``load_settings`` (a folder under DATA_DIR, ...)."""

    def __repr__(self) -> str:
        return "DERIVED"


DERIVED: Any = _Derived()


@dataclass(frozen=True)
class Setting:
    """One ``KITLIB_*`` variable: the ``Settings`` field of the same name (lower case) takes
    its default from here, ``load_settings`` its cast, ``docs/settings.md`` everything."""

    name: str
    default: Any
    help: str
    cast: Callable[[str], Any]
    shown: str = ""  # how the docs state a DERIVED or empty default; else made from ``default``


SETTINGS: tuple[Setting, ...] = (
    Setting("DATA_DIR", DERIVED, "Root folder for data; `uploads/`, `index/`, the SQLite file "
            "and `.secret_key` derive from it.", Path,
            "the repository root (an editable install) or the working directory"),
    Setting("DATABASE_URL", DERIVED, "`sqlite:///abs/path/kitlib.sqlite3` or "
            "`postgres://user@host:5432/db` for PostgreSQL (`postgresql://` is accepted too).",
            _database_url, "`DATA_DIR/kitlib.sqlite3`"),
    Setting("UPLOADS_DIR", DERIVED, "Where uploaded files are stored, content-addressed by "
            "sha256.", Path, "`DATA_DIR/uploads`"),
    Setting("INDEX_DIR", DERIVED, "Where the search index lives.", Path, "`DATA_DIR/index`"),
    Setting("HOST", "127.0.0.1", "Address `kitlib serve` listens on.", str),
    Setting("PORT", 8000, "Port `kitlib serve` listens on.", _port),
    Setting("WORKERS", 1, "Server processes `kitlib serve` starts (`--workers` overrides it); "
            "one per core lets downloads use every core. Only one of them runs each background "
            "worker at a time (a lock file in the index folder); if it dies another takes over.",
            _positive),
    Setting("MAX_UPLOAD_SIZE", 20 * 1024**3, "Largest accepted upload, enforced while streaming "
            "(413 and nothing kept). Accepts `500M`, `10GiB`…", _size),
    Setting("SECRET_KEY", "", "Key for signed links and tokens; at least 32 characters.", str,
            "generated once and kept in `DATA_DIR/.secret_key` (mode 600)"),
    Setting("ATTENDEE_LINK_DAYS", 30, "How long a webinar attendee's personal link stays valid, "
            "in days, unless staff give `valid_days` at import.", _positive),
    Setting("MEDIA_GRANT_SECONDS", 4 * 3600, "How long a signed media URL (`?grant=…`, for "
            "players that cannot send a cookie or header) stays valid, in seconds (the default "
            "is four hours).", _positive),
    Setting("BODY_IDLE_TIMEOUT", 60, "Seconds an upload may send nothing before it is abandoned "
            "with a 408 and its partial file removed (slow-loris protection).", _positive),
    Setting("SESSION_DAYS", 14, "How long a sign-in lasts, in days.", _positive),
    Setting("SECURE_COOKIES", False, "`true` marks cookies `Secure`; set it when kitlib is "
            "served over TLS.", _bool),
    Setting("DOWNLOAD_CHUNK_SIZE", 4 * 1024 * 1024, "Bytes read per chunk when serving files "
            "and bundles; each download in progress holds one chunk in memory. Starlette's "
            "64 KiB chunks cost most of the throughput; 1 MiB reached 0.86 of nginx on one "
            "stream, 4 MiB 0.95–0.99 (docs/benchmarks.md).", _size),
    Setting("ACCEL_REDIRECT", "", "Only behind nginx: the `internal` location that serves the "
            "uploads folder, e.g. `/_kitlib/blobs/` (a plain path starting and ending with `/`). "
            "kitlib then checks access, answers 304s and checks the blob itself, and hands the "
            "bytes to nginx with `X-Accel-Redirect`; nginx does ranges and `If-Range` against "
            "kitlib's validators. Set it only when every client reaches kitlib through that "
            "nginx, configured as `deploy/nginx-kitlib.conf` (docs/deploy.md): a client talking "
            "to kitlib directly would get empty files.", _internal_prefix,
            "empty: kitlib sends the bytes itself"),
    Setting("FORWARDED_ALLOW_IPS", "", "Behind a proxy: the proxy's addresses, comma-separated "
            "(e.g. `127.0.0.1`). kitlib then takes the client's address from `X-Forwarded-For` "
            "and the scheme from `X-Forwarded-Proto` when, and only when, the request comes "
            "from one of them, so sign-in throttling counts each client apart.", str,
            "empty: those headers are ignored (anyone could forge them)"),
    Setting("BASE_URL", "", "The library's public address, e.g. `https://kits.example.org`; "
            "absolute links in feeds, bundle manifests and attendee links start with it, and "
            "a request naming another host (`Host` header) is refused with 400 (`localhost` "
            "and `127.0.0.1` stay open for probes on the machine).",
            _base_url, "the address each request came to"),
    Setting("LOG_LEVEL", "info", "`debug`, `info`, `warning` or `error`.", str),
    Setting("INDEX_WORKER", True, "`true` runs the index worker (text extraction from uploaded "
            "files, index updates and deletions, see `kitlib worker`) as a background task of "
            "`kitlib serve`. Set `false` when a separate `kitlib worker` process does the work: "
            "those jobs wait in the queue until one does.", _bool),
    Setting("MEDIA_WORKER", True, "`true` runs the media worker (an MP4's index moved to the "
            "front so players can start and seek at once, each recording's duration) as a "
            "background task of `kitlib serve`. Set `false` when a separate `kitlib worker` "
            "process does the work: those jobs wait in the queue until one does.", _bool),
    Setting("SEARCH_WORKER", None, "Deprecated: the value of both `KITLIB_INDEX_WORKER` and "
            "`KITLIB_MEDIA_WORKER`, unless they are set too; `kitlib serve` logs a warning at "
            "start-up while it is set.", _bool, "unset"),
    Setting("EXTRACT_TIMEOUT", 120, "Seconds the extraction of one file's text (or the work on "
            "one recording) may take before it is stopped and marked failed.", _positive),
    Setting("EXTRACT_MEMORY_MB", 1024, "Address-space cap, in MB, of the child process that "
            "extracts text.", _positive),
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


def _default(name: str) -> Any:
    return _BY_NAME[name].default


@dataclass(frozen=True)
class Settings:
    """Every setting kitlib reads, resolved to absolute paths and typed values.

    One field per entry of ``SETTINGS``, in its order, defaults taken from it (checked at
    import); a DERIVED field has no default here, ``load_settings`` works it out.
    """

    data_dir: Path
    database_url: str
    uploads_dir: Path
    index_dir: Path
    host: str = _default("HOST")
    port: int = _default("PORT")
    workers: int = _default("WORKERS")
    max_upload_size: int = _default("MAX_UPLOAD_SIZE")
    secret_key: str = _default("SECRET_KEY")
    attendee_link_days: int = _default("ATTENDEE_LINK_DAYS")
    media_grant_seconds: int = _default("MEDIA_GRANT_SECONDS")
    body_idle_timeout: int = _default("BODY_IDLE_TIMEOUT")
    session_days: int = _default("SESSION_DAYS")
    secure_cookies: bool = _default("SECURE_COOKIES")
    download_chunk_size: int = _default("DOWNLOAD_CHUNK_SIZE")
    accel_redirect: str = _default("ACCEL_REDIRECT")
    forwarded_allow_ips: str = _default("FORWARDED_ALLOW_IPS")
    base_url: str = _default("BASE_URL")
    log_level: str = _default("LOG_LEVEL")
    index_worker: bool = _default("INDEX_WORKER")
    media_worker: bool = _default("MEDIA_WORKER")
    search_worker: bool | None = _default("SEARCH_WORKER")
    extract_timeout: int = _default("EXTRACT_TIMEOUT")
    extract_memory_mb: int = _default("EXTRACT_MEMORY_MB")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **_worker_alias(changes))

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
        return replace(base, **_worker_alias(overrides))


def _worker_alias(values: dict[str, Any]) -> dict[str, Any]:
    """KITLIB_SEARCH_WORKER (deprecated) stands for both worker switches not given apart."""
    alias = values.get("search_worker")
    if alias is not None:
        values.setdefault("index_worker", alias)
        values.setdefault("media_worker", alias)
    return values


def _check_fields() -> None:
    """Fail at import if ``Settings`` and ``SETTINGS`` ever differ: one field per setting."""
    fields = dataclasses.fields(Settings)
    names = [f.name for f in fields]
    expected = [s.name.lower() for s in SETTINGS]
    if names != expected:
        raise TypeError(f"Settings fields {names} do not match SETTINGS {expected}")
    for f, setting in zip(fields, SETTINGS, strict=True):
        derived = setting.default is DERIVED
        if derived != (f.default is dataclasses.MISSING) or \
                (not derived and f.default != setting.default):
            raise TypeError(f"Settings.{f.name} does not take its default from SETTINGS")

_check_fields()


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
    level = str(values.get("log_level", _default("LOG_LEVEL"))).lower()
    if level not in {"debug", "info", "warning", "error"}:
        raise SettingsError(f"KITLIB_LOG_LEVEL={level!r} is not valid: use debug, info, warning "
                            "or error")
    values["log_level"] = level
    _worker_alias(values)
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
