"""Blob storage: content-addressed files under uploads/, their streaming writer, safe paths
and the upload session (save, then settle after the rows commit, or discard).

Imports ``errors`` only: storage knows bytes and keys, never rows or requests.
"""

from __future__ import annotations

from kitlib.storage.blobs import (
    STALE_AFTER,
    Blob,
    Storage,
    file_chunks,
    file_crc32,
    sniff_media_type,
)
from kitlib.storage.session import BlobStore, UploadSession, upload_session

__all__ = ["STALE_AFTER", "Blob", "BlobStore", "Storage", "UploadSession", "file_chunks",
           "file_crc32", "sniff_media_type", "upload_session"]
