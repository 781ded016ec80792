"""The chat group commit in a process of its own.

The websocket process spends its one core (the GIL) on sockets; the group commit's
statements are Python work too (SQLAlchemy, the driver, the rows), and every statement's
round trip waits for the busy event loop to come around again. With
``OMNIDESK_CHAT_WRITER=process`` each server process starts one child that runs
:func:`~omnidesk.conversations.batch.write_batch` on its own event loop and its own
database connection: the parent sends a batch (pickled, over a socketpair), the child
writes it in one transaction and answers with the results and the pushes that the one
path would have made after commit; the parent publishes those through its hub (and Redis)
and answers the senders. Only the common case goes there; everything ``write_batch``
leaves (``None``) takes the one path in the parent, as before.

If the child dies, its batch is written by the one path in the parent (client ids make
that a no-op for what was already stored) and the next batch starts a new child.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import pickle
import signal
import socket
import struct
from typing import Any

import uvloop

from omnidesk.conversations.batch import BatchResult, ChatIn, ChatReply, write_batch
from omnidesk.kit import outbox
from omnidesk.kit.db import Database, sqlite_path
from omnidesk.kit.sqlite import WalCheckpointer
from omnidesk.realtime.broker import MemoryBroker
from omnidesk.realtime.hub import Hub, set_hub
from omnidesk.wiring import install_handlers, settle_gc

log = logging.getLogger(__name__)
_LEN = struct.Struct("!I")
START_TIMEOUT = 60.0


class WriterGone(RuntimeError):
    """The writer process ended or did not answer; its batch takes the one path."""


async def _send(writer: asyncio.StreamWriter, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    writer.write(_LEN.pack(len(data)) + data)
    await writer.drain()


async def _recv(reader: asyncio.StreamReader) -> Any:
    size = _LEN.unpack(await reader.readexactly(_LEN.size))[0]
    return pickle.loads(await reader.readexactly(size))  # our own child's answer


class WriterProcess:
    """The parent's handle on its writer child (one batch in flight at a time)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.restarts = 0  # children started after the first
        self._started = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive() and self._writer is not None

    async def start(self) -> None:
        parent, child = socket.socketpair()
        ctx = multiprocessing.get_context("spawn")  # never fork a running event loop
        proc = ctx.Process(target=_child_main, args=(self.database_url, child),
                           name="omnidesk-chat-writer", daemon=True)
        await asyncio.to_thread(proc.start)  # start() blocks while the spawn bootstraps
        child.close()
        if self._started:
            self.restarts += 1
        self._started = True
        self._proc = proc
        self._reader, self._writer = await asyncio.open_connection(sock=parent)
        try:
            async with asyncio.timeout(START_TIMEOUT):
                ready = await _recv(self._reader)
        except (TimeoutError, asyncio.IncompleteReadError, OSError) as exc:
            await self.stop()
            raise WriterGone(f"chat writer process did not start: {exc!r}") from exc
        if ready != "ready":
            await self.stop()
            raise WriterGone(f"chat writer process failed to start: {ready!r}")

    async def write(self, items: list[ChatIn | ChatReply]) -> BatchResult:
        if not self.alive():
            if self._started:
                log.warning("chat writer process gone; starting a new one")
            await self.stop()
            await self.start()
        assert self._reader is not None and self._writer is not None
        try:
            await _send(self._writer, items)
            answer = await _recv(self._reader)
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            await self.stop()
            raise WriterGone(f"chat writer process ended during a batch: {exc!r}") from exc
        if isinstance(answer, BatchResult):
            return answer
        raise RuntimeError(f"chat writer process could not write the batch: {answer}")

    async def stop(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        proc, self._proc = self._proc, None
        if proc is not None:
            await asyncio.to_thread(proc.join, 10)
            if proc.is_alive():
                proc.kill()
                await asyncio.to_thread(proc.join, 5)


# --------------------------------------------------------------------------- the child

def _child_main(database_url: str, sock: socket.socket) -> None:
    # Ctrl-C reaches the whole process group: the child ends when its parent, shutting
    # down, closes the socket (after the batch it is writing). SIGTERM ends it at once;
    # a batch it had not committed is rolled back and written by the parent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    uvloop.run(_serve(database_url, sock))


async def _serve(database_url: str, sock: socket.socket) -> None:
    recorder = _RecordingBroker()
    set_hub(Hub(recorder))  # the one path's after-commit pushes are recorded, not sent
    woke: list[bool] = []
    outbox.add_waker(lambda: woke.append(True))
    install_handlers()  # emit_many owes the same outbox work as in the parent
    db = Database(database_url, inline_sqlite=True)  # this loop only writes
    path = sqlite_path(database_url)
    checkpointer = WalCheckpointer(path) if path is not None else None
    if checkpointer is not None:  # SQLite: the log's syncs off the writer's path
        checkpointer.hand_over(db.engine)
        checkpointer.start()
    reader, writer = await asyncio.open_connection(sock=sock)
    settle_gc()
    try:
        await _send(writer, "ready")
        while True:
            try:
                items = await _recv(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return  # the parent is gone or done
            recorder.pushes, woke[:] = [], []
            try:
                async with db.transaction() as session:
                    results, fallback = await write_batch(session, items)
                answer: object = BatchResult(results, fallback, recorder.pushes, bool(woke))
                if checkpointer is not None:
                    checkpointer.poke()
            except Exception as exc:  # the parent writes these by the one path
                log.exception("chat batch failed in the writer process")
                answer = f"{type(exc).__name__}: {exc}"
            await _send(writer, answer)
    finally:
        writer.close()
        await db.dispose()
        if checkpointer is not None:
            checkpointer.stop()


class _RecordingBroker(MemoryBroker):
    """Keeps what the child's writes would push; the parent publishes it."""

    def __init__(self) -> None:
        super().__init__()
        self.pushes: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        self.pushes.append((topic, message))
