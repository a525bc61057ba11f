"""Tortoise models: the catalogue, its files, people and what they did."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Kind(StrEnum):
    DOCUMENT = "document"
    RECORDING = "recording"
    SLIDES = "slides"
    TRANSCRIPT = "transcript"
    LINK = "link"


class Visibility(StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"
    # Open to staff and to the attendees of a webinar that shows the resource.
    ATTENDEES = "attendees"
    STAFF = "staff"


class Language(StrEnum):
    FR = "fr"
    EN = "en"


class Role(StrEnum):
    MEMBER = "member"
    STAFF = "staff"


class ExtractionStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    NONE = "none"  # nothing to extract: a link, a recording, an image


class JobKind(StrEnum):
    EXTRACT = "extract"  # the text of the resource's documents and transcripts
    INDEX = "index"
    DELETE = "delete"
    MEDIA = "media"  # its recordings: the MP4 index moved to the front, the durations


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Resource(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=300)
    summary = fields.TextField(default="")
    language = fields.CharEnumField(Language, max_length=2, default=Language.FR)
    # Tags are kept normalised (lower case, trimmed) in a JSON list: few per resource,
    # always read with the resource, filtered by the search index rather than SQL.
    tags: fields.Field[list[str]] = fields.JSONField(default=list)
    kind = fields.CharEnumField(Kind, max_length=16, default=Kind.DOCUMENT)
    visibility = fields.CharEnumField(Visibility, max_length=16, default=Visibility.MEMBERS,
                                      db_index=True)
    url = fields.CharField(max_length=2000, default="")
    published_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # Filled by the worker from the files (kitlib/jobs/worker.py); cues are [[start, text]],
    # or [start, text, chapter title] for a cue that opens a chapter.
    extraction_status = fields.CharEnumField(ExtractionStatus, max_length=16,
                                             default=ExtractionStatus.NONE)
    extraction_error = fields.TextField(default="")
    body_text = fields.TextField(default="")
    cues: fields.Field[list[list[object]]] = fields.JSONField(default=list)

    attachments: fields.ReverseRelation[ResourceFile]

    class Meta:
        table = "resource"


class StoredFile(Model):
    # One blob in uploads/, named by its sha256: the same bytes are stored once.
    # (No docstring: Tortoise turns it into a table comment, and its SQL splitter trips on it.)

    id = fields.IntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, unique=True)
    size = fields.BigIntField()
    media_type = fields.CharField(max_length=255)
    original_filename = fields.CharField(max_length=255)
    storage_key = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Seconds, for audio and video (ffprobe at ingest); None for everything else.
    duration = fields.FloatField(null=True)
    # CRC-32 of the content, which a stored ZIP member declares before its bytes; None for
    # rows older than migration 0007 (filled on their first bundle, services/bundles.py).
    crc32 = fields.BigIntField(null=True)

    class Meta:
        table = "stored_file"


class ResourceFile(Model):
    # A file as a resource shows it, with its own filename and position; /files/<id>/ names it.

    id = fields.IntField(primary_key=True)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "kitlib.Resource", related_name="attachments", on_delete=fields.CASCADE)
    file: fields.ForeignKeyRelation[StoredFile] = fields.ForeignKeyField(
        "kitlib.StoredFile", related_name="attachments", on_delete=fields.RESTRICT)
    filename = fields.CharField(max_length=255)
    position = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "resource_file"
        ordering = ["position", "id"]


class Kit(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=100, unique=True)
    title = fields.CharField(max_length=300)
    description = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    items: fields.ReverseRelation[KitItem]

    class Meta:
        table = "kit"


class KitItem(Model):
    id = fields.IntField(primary_key=True)
    kit: fields.ForeignKeyRelation[Kit] = fields.ForeignKeyField(
        "kitlib.Kit", related_name="items", on_delete=fields.CASCADE)
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "kitlib.Resource", related_name="kit_items", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    note = fields.TextField(default="")

    class Meta:
        table = "kit_item"
        ordering = ["position", "id"]
        unique_together = (("kit", "resource"),)


# The resources a webinar points to, each a nullable foreign key `<part>` / `<part>_id` below.
WEBINAR_PARTS = ("recording", "slides", "transcript")


class Webinar(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=300)
    description = fields.TextField(default="")
    starts_at = fields.DatetimeField()
    # [{"name": ..., "organisation": ...}]
    speakers: fields.Field[list[dict[str, str]]] = fields.JSONField(default=list)
    # [{"start": seconds, "title": ...}], in order; entered by staff.
    chapters: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    recording: fields.ForeignKeyNullableRelation[Resource] = fields.ForeignKeyField(
        "kitlib.Resource", related_name=False, null=True, on_delete=fields.SET_NULL)
    slides: fields.ForeignKeyNullableRelation[Resource] = fields.ForeignKeyField(
        "kitlib.Resource", related_name=False, null=True, on_delete=fields.SET_NULL)
    transcript: fields.ForeignKeyNullableRelation[Resource] = fields.ForeignKeyField(
        "kitlib.Resource", related_name=False, null=True, on_delete=fields.SET_NULL)
    kit: fields.ForeignKeyNullableRelation[Kit] = fields.ForeignKeyField(
        "kitlib.Kit", related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    recording_id: int | None
    slides_id: int | None
    transcript_id: int | None
    kit_id: int | None

    def part_ids(self) -> set[int]:
        """The ids of the resources this webinar points to (recording, slides, transcript)."""
        found = (getattr(self, f"{part}_id") for part in WEBINAR_PARTS)
        return {rid for rid in found if rid}

    class Meta:
        table = "webinar"


class User(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=200, default="")
    organisation = fields.CharField(max_length=200, default="")
    role = fields.CharEnumField(Role, max_length=16, default=Role.MEMBER)
    password_hash = fields.CharField(max_length=255, default="")
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user"


class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "kitlib.User", related_name="tokens", on_delete=fields.CASCADE)
    # sha256 of the token: tokens carry 256 random bits, so a slow hash adds nothing.
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=12)
    name = fields.CharField(max_length=100, default="")
    # "api": a bearer token for the API; "feed": only reads the user's Atom feed (it sits in
    # a URL, so it must not open anything else).
    scope = fields.CharField(max_length=8, default="api")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    user_id: int

    class Meta:
        table = "api_token"


class Session(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "kitlib.User", related_name="sessions", on_delete=fields.CASCADE)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()

    user_id: int

    class Meta:
        table = "session"


class Attendee(Model):
    # One person on a webinar's registration list. Their personal link is signed, not stored
    # (kitlib/services/attendees.py): it names this row, its webinar and link_version, so
    # bumping link_version or setting revoked_at kills every copy of the old link.
    id = fields.IntField(primary_key=True)
    webinar: fields.ForeignKeyRelation[Webinar] = fields.ForeignKeyField(
        "kitlib.Webinar", related_name="attendees", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=200, default="")
    email = fields.CharField(max_length=254)
    organisation = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    # None: no limit. What counts as one download: AttendeeDownload.
    download_limit = fields.IntField(null=True)
    downloads_used = fields.IntField(default=0)
    link_version = fields.IntField(default=1)
    first_used_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    webinar_id: int

    class Meta:
        table = "attendee"
        unique_together = (("webinar", "email"),)


class AttendeeDownload(Model):
    """A download counted against an attendee's link: which file or bundle, and the window
    it opens.

    Until ``expires_at`` (the media grant's lifetime) the same file or bundle is free to the
    attendee whatever the range: a player seeking, a resumed transfer or a replay in the
    afternoon uses one download, not several. A request outside every open window counts
    one more. Written in the transaction that raises ``Attendee.downloads_used``, so the
    counter and these rows always agree.
    """

    id = fields.BigIntField(primary_key=True)
    attendee: fields.ForeignKeyRelation[Attendee] = fields.ForeignKeyField(
        "kitlib.Attendee", related_name=False, on_delete=fields.CASCADE)
    # "file:<stored file id>" or "bundle:<the bundle's ETag digest>".
    key = fields.CharField(max_length=80)
    # What the attendee would call it: the file name, or the bundle's.
    label = fields.CharField(max_length=255, default="")
    resource: fields.ForeignKeyNullableRelation[Resource] = fields.ForeignKeyField(
        "kitlib.Resource", related_name=False, null=True, on_delete=fields.SET_NULL)
    at = fields.DatetimeField()
    expires_at = fields.DatetimeField()

    attendee_id: int

    class Meta:
        table = "attendee_download"
        indexes = (("attendee_id", "key", "expires_at"),)


class DownloadEvent(Model):
    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "kitlib.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    # Set when the file was fetched through a webinar attendee's link.
    attendee: fields.ForeignKeyNullableRelation[Attendee] = fields.ForeignKeyField(
        "kitlib.Attendee", related_name=False, null=True, on_delete=fields.SET_NULL)
    resource: fields.ForeignKeyNullableRelation[Resource] = fields.ForeignKeyField(
        "kitlib.Resource", related_name=False, null=True, on_delete=fields.SET_NULL)
    file: fields.ForeignKeyNullableRelation[StoredFile] = fields.ForeignKeyField(
        "kitlib.StoredFile", related_name=False, null=True, on_delete=fields.SET_NULL)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    bytes = fields.BigIntField()
    # False for a range request: a player seeking in a recording is not a download.
    complete = fields.BooleanField(default=True)
    # The bundle's file name when the bytes went out inside a ZIP bundle. A bundle's range
    # has no file of its own: it is one event with no resource, and the bytes it served.
    bundle = fields.CharField(max_length=255, default="")

    class Meta:
        table = "download_event"


class AuditEvent(Model):
    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "kitlib.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=32, default="")
    target_id = fields.IntField(null=True)
    detail: fields.Field[dict[str, object]] = fields.JSONField(default=dict)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_event"


class Job(Model):
    # The search outbox: written in the transaction of the change it follows, so the index
    # can lag the database but never miss a change. resource_id is no foreign key: a
    # "delete" job outlives its resource.
    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(JobKind, max_length=16)
    resource_id = fields.IntField(db_index=True)
    state = fields.CharEnumField(JobState, max_length=16, default=JobState.QUEUED, db_index=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    run_after = fields.DatetimeField(db_index=True)
    locked_by = fields.CharField(max_length=64, default="")
    locked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "job"


class LoginFailure(Model):
    # One failed sign-in, counted per account ("email:…") and per address ("addr:…") to
    # throttle password guessing; rows older than the window are pruned.
    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=330, db_index=True)
    at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "login_failure"
