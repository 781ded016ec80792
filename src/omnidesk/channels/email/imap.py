"""IMAP polling of an existing mailbox (inbox config ``imap``), with IDLE where the
server supports it.

The stdlib client (``imaplib``) runs in a worker thread, one loop per inbox: log in,
select the folder, fetch every UNSEEN message with ``BODY.PEEK[]``, store it through the
same :class:`Ingestor` as SMTP mail (a re-fetched mail is stored once: Message-ID), then
flag it ``\\Seen`` — unless storing failed for now (rate limit, database), in which case
it stays unseen and is fetched again. Then IDLE until the server reports new mail (or
``poll_seconds`` pass), or, without IDLE, sleep ``poll_seconds``. Mail already read by a
person in another client is not imported. Errors are logged and the loop reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import socket
import ssl
import uuid
from dataclasses import dataclass

from omnidesk.channels.email.config import ImapConfig
from omnidesk.channels.email.service import Ingestor, email_inboxes

log = logging.getLogger(__name__)
REFRESH_SECONDS = 30.0  # how often the list of inboxes with IMAP is read again
RETRY_SECONDS = 30.0
MAX_IDLE_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
BATCH = 50
_EXISTS = re.compile(rb"^\*\s+\d+\s+(EXISTS|RECENT)", re.IGNORECASE)


@dataclass
class Fetched:
    uid: str
    raw: bytes


def connect(cfg: ImapConfig) -> imaplib.IMAP4:
    context = ssl.create_default_context(cafile=cfg.ca_file) if cfg.ca_file else None
    conn: imaplib.IMAP4
    if cfg.tls:
        conn = imaplib.IMAP4_SSL(cfg.host, cfg.port, ssl_context=context, timeout=60)
    else:
        conn = imaplib.IMAP4(cfg.host, cfg.port, timeout=60)
        if cfg.starttls:
            conn.starttls(ssl_context=context)
    try:
        conn.login(cfg.username, cfg.password)
        typ, data = conn.select(_quote(cfg.folder))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"SELECT {cfg.folder}: {data!r}")
    except BaseException:
        with contextlib.suppress(Exception):
            conn.shutdown()
        raise
    return conn


def _quote(folder: str) -> str:
    return folder if re.fullmatch(r"[A-Za-z0-9_.\-/]+", folder) else '"' + folder.replace(
        "\\", "\\\\").replace('"', '\\"') + '"'


def fetch_unseen(conn: imaplib.IMAP4, limit: int = BATCH) -> list[Fetched]:
    typ, data = conn.uid("SEARCH", "UNSEEN")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"SEARCH: {data!r}")
    uids = b" ".join(d for d in data if isinstance(d, bytes)).split()[:limit]
    out = []
    for uid in uids:
        typ, parts = conn.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
        if typ != "OK":
            continue
        raw = next((p[1] for p in parts if isinstance(p, tuple) and len(p) > 1), None)
        if isinstance(raw, bytes):
            out.append(Fetched(uid.decode(), raw))
    return out


def mark_seen(conn: imaplib.IMAP4, uid: str) -> None:
    conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")


def supports_idle(conn: imaplib.IMAP4) -> bool:
    return "IDLE" in {c.upper() for c in conn.capabilities}


def idle_wait(conn: imaplib.IMAP4, seconds: float) -> bool:
    """IDLE (RFC 2177) until the server reports new mail (True) or ``seconds`` pass
    (False: the connection is spent — the caller reconnects)."""
    tag = conn._new_tag()
    conn.send(tag + b" IDLE\r\n")
    first = conn.readline()
    if not first.startswith(b"+"):
        raise imaplib.IMAP4.error(f"IDLE refused: {first!r}")
    conn.sock.settimeout(seconds)
    try:
        while True:
            line = conn.readline()
            if not line:
                raise imaplib.IMAP4.abort("connection closed during IDLE")
            if _EXISTS.match(line):
                break
    except TimeoutError:
        return False
    conn.sock.settimeout(60)
    conn.send(b"DONE\r\n")
    while True:
        line = conn.readline()
        if not line:
            raise imaplib.IMAP4.abort("connection closed after IDLE")
        if line.startswith(tag):
            break
    return True


def close(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(Exception):
        conn.shutdown()


def interrupt(conn: imaplib.IMAP4) -> None:
    """Wake a thread blocked reading (IDLE) without taking its reader's lock: shut the
    socket down; that thread then fails and closes the connection itself."""
    with contextlib.suppress(OSError):
        conn.sock.shutdown(socket.SHUT_RDWR)


class ImapPoller:
    """One polling loop per e-mail inbox with IMAP configured, kept in step with the
    inboxes' configuration."""

    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self._stop = asyncio.Event()
        self._loops: dict[uuid.UUID, tuple[ImapConfig, asyncio.Task[None]]] = {}
        self._open: dict[uuid.UUID, imaplib.IMAP4] = {}
        self._task: asyncio.Task[None] | None = None
        self.stored = 0  # mails handed to the ingestor (for tests and logs)

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="imap")

    async def stop(self) -> None:
        self._stop.set()
        for conn in list(self._open.values()):
            interrupt(conn)  # unblocks a thread waiting in IDLE
        tasks = [t for _, t in self._loops.values()]
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def _supervise(self) -> None:
        while not self._stop.is_set():
            try:
                async with self.ingestor.db.transaction() as session:
                    wanted = {inbox.id: cfg.imap for inbox, cfg in
                              (await email_inboxes(session)).values() if cfg.imap}
            except Exception:
                log.exception("IMAP: reading the inboxes failed")
                wanted = {k: v[0] for k, v in self._loops.items()}
            for inbox_id, (cfg, task) in list(self._loops.items()):
                if wanted.get(inbox_id) != cfg or task.done():
                    task.cancel()
                    conn = self._open.get(inbox_id)
                    if conn is not None:
                        interrupt(conn)
                    del self._loops[inbox_id]
            for inbox_id, imap_cfg in wanted.items():
                if inbox_id not in self._loops and imap_cfg is not None:
                    self._loops[inbox_id] = (imap_cfg, asyncio.create_task(
                        self._run(inbox_id, imap_cfg), name=f"imap:{inbox_id}"))
            await self._sleep(REFRESH_SECONDS)

    async def _run(self, inbox_id: uuid.UUID, cfg: ImapConfig) -> None:
        while not self._stop.is_set():
            try:
                await self._session(inbox_id, cfg)
            except (imaplib.IMAP4.error, OSError, ssl.SSLError) as exc:
                if self._stop.is_set():
                    return
                log.warning("IMAP %s@%s: %s; retrying in %.0fs", cfg.username, cfg.host, exc,
                            RETRY_SECONDS)
                await self._sleep(RETRY_SECONDS)
            finally:
                conn = self._open.pop(inbox_id, None)
                if conn is not None:
                    await asyncio.to_thread(close, conn)

    async def _session(self, inbox_id: uuid.UUID, cfg: ImapConfig) -> None:
        conn = await asyncio.to_thread(connect, cfg)
        self._open[inbox_id] = conn
        idle = cfg.idle and supports_idle(conn)
        while not self._stop.is_set():
            await self.poll(inbox_id, cfg, conn)
            if idle:
                if not await asyncio.to_thread(idle_wait, conn,
                                               min(cfg.poll_seconds, MAX_IDLE_SECONDS)):
                    return  # quiet for a while: reconnect (the timed-out socket is spent)
            else:
                await self._sleep(cfg.poll_seconds)

    async def poll(self, inbox_id: uuid.UUID, cfg: ImapConfig, conn: imaplib.IMAP4) -> int:
        fetched = await asyncio.to_thread(fetch_unseen, conn)
        done = 0
        for mail in fetched:
            outcome = await self.ingestor.ingest(inbox_id, mail.raw)
            if outcome.temporary:
                log.warning("IMAP mail %s left unseen: %s", mail.uid, outcome.detail)
                continue
            await asyncio.to_thread(mark_seen, conn, mail.uid)
            done += 1
        self.stored += done
        return done
