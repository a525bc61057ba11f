"""The upload session: blobs saved for rows that are about to be committed.

Every upload goes the same way: stream the bytes to a blob, commit the rows that use it,
then settle the blob (``BlobStore.settle``); on any failure before that, discard what was
saved, so a refused, cancelled or crashed upload leaves no blob nobody points at::

    async with upload_session(storage, referenced) as up:
        blob = await up.save(chunks, max_size)
        async with in_transaction():
            ...  # rows naming blob.key

The session knows blobs and keys only. Whether a row names a key is the caller's question
(``referenced``), asked before a newly created blob is removed: the same bytes may have been
uploaded and committed by someone else meanwhile. The store is any ``BlobStore`` (the local
folder today; an object store or a resumable upload's finished file would hand over its
blobs the same way, through ``save`` or ``adopt``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

import anyio

from kitlib.storage.blobs import Blob

Referenced = Callable[[str], Awaitable[bool]]


class BlobStore(Protocol):
    """What a session needs from where the bytes live (``Storage`` is one)."""

    async def save_stream(self, chunks: AsyncIterator[bytes], max_size: int) -> Blob: ...

    async def settle(self, blob: Blob) -> None: ...

    async def discard(self, blob: Blob) -> None: ...

    async def remove_unless(self, key: str,
                            referenced: Callable[[], Awaitable[bool]]) -> None: ...


class UploadSession:
    """The blobs one upload saved; settled together on success, discarded on failure."""

    def __init__(self, store: BlobStore, referenced: Referenced) -> None:
        self.store = store
        self._referenced = referenced
        self.blobs: list[Blob] = []

    async def save(self, chunks: AsyncIterator[bytes], max_size: int) -> Blob:
        """Stream ``chunks`` to a blob this session answers for (``save_stream`` itself
        leaves nothing behind when the stream fails)."""
        blob = await self.store.save_stream(chunks, max_size)
        self.blobs.append(blob)
        return blob

    def adopt(self, blob: Blob) -> Blob:
        """Answer for a blob written by other means (e.g. a finished resumable upload)."""
        self.blobs.append(blob)
        return blob

    async def discard(self, blob: Blob) -> None:
        """Give up one saved blob now: its rows will not be committed."""
        self.blobs.remove(blob)
        await self._discard(blob)

    async def settle_all(self) -> None:
        """After the rows naming the blobs are committed (see ``Storage.settle``)."""
        while self.blobs:
            await self.store.settle(self.blobs.pop(0))

    async def discard_all(self) -> None:
        """Drop every blob still held: the rows were never committed."""
        while self.blobs:
            await self._discard(self.blobs.pop(0))

    async def _discard(self, blob: Blob) -> None:
        await self.store.discard(blob)
        if blob.created:
            # Its bytes are new here, unless another upload of them committed meanwhile.
            key = blob.key
            await self.store.remove_unless(key, lambda: self._referenced(key))


@contextlib.asynccontextmanager
async def upload_session(store: BlobStore, referenced: Referenced) -> AsyncIterator[UploadSession]:
    """Settle the saved blobs when the block ends normally (its rows committed); discard them
    on any exception (cancellation and client disconnects included) and re-raise."""
    session = UploadSession(store, referenced)
    try:
        yield session
    except BaseException:
        # Shielded: a request cancelled by its client must still clean up as it unwinds.
        with anyio.CancelScope(shield=True):
            await session.discard_all()
        raise
    await session.settle_all()
