"""IMAP polling with the real stdlib client against a small IMAP4rev1 server written
here (it speaks the protocol on a socket: LOGIN, SELECT, UID SEARCH/FETCH/STORE, IDLE):
unseen mail is stored once and flagged seen, and IDLE brings new mail at once."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from omnidesk.channels.email.imap import ImapPoller
from omnidesk.channels.email.service import Ingestor
from omnidesk.config import Settings
from omnidesk.kit.db import Database
from omnidesk.models import Conversation, Inbox, Message
from tests.channels.test_email_mime import fixture
from tests.channels.test_email_support import SUPPORT, simple
from tests.conftest import free_port


@dataclass
class Mail:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


class TinyImap:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password
        self.mails: list[Mail] = []
        self.port = free_port()
        self.idlers: list[asyncio.StreamWriter] = []
        self.logins = 0
        self._server: asyncio.AbstractServer | None = None

    def add(self, raw: bytes) -> None:
        self.mails.append(Mail(len(self.mails) + 1, raw))
        for writer in self.idlers:
            writer.write(f"* {len(self.mails)} EXISTS\r\n".encode())

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self.idlers:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1 IDLE] TinyImap ready\r\n")
        try:
            while line := await reader.readline():
                tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
                command, _, args = rest.partition(" ")
                await self._command(reader, writer, tag, command.upper(), args)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if writer in self.idlers:
                self.idlers.remove(writer)
            writer.close()

    async def _command(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       tag: str, command: str, args: str) -> None:
        out = writer.write
        if command == "CAPABILITY":
            out(b"* CAPABILITY IMAP4rev1 IDLE\r\n")
        elif command == "LOGIN":
            user, password = [a.strip('"') for a in args.split(" ", 1)]
            if (user, password) != (self.user, self.password):
                out(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials\r\n".encode())
                return
            self.logins += 1
        elif command == "SELECT":
            out(f"* {len(self.mails)} EXISTS\r\n* FLAGS (\\Seen)\r\n".encode())
            out(f"{tag} OK [READ-WRITE] SELECT completed\r\n".encode())
            return
        elif command == "UID":
            self._uid(out, args)
        elif command == "IDLE":
            out(b"+ idling\r\n")
            self.idlers.append(writer)
            await writer.drain()
            done = await reader.readline()
            self.idlers.remove(writer)
            assert done.strip().upper() == b"DONE"
            out(f"{tag} OK IDLE terminated\r\n".encode())
            return
        elif command == "LOGOUT":
            out(b"* BYE logging out\r\n")
        out(f"{tag} OK {command} completed\r\n".encode())

    def _uid(self, out: object, args: str) -> None:
        write = out  # type: ignore[assignment]
        sub, _, rest = args.partition(" ")
        sub = sub.upper()
        if sub == "SEARCH":
            assert rest.upper() == "UNSEEN"
            uids = " ".join(str(m.uid) for m in self.mails if "\\Seen" not in m.flags)
            write(f"* SEARCH {uids}\r\n".encode())  # type: ignore[operator]
        elif sub == "FETCH":
            uid = int(rest.split()[0])
            mail = self.mails[uid - 1]
            write(f"* {uid} FETCH (UID {uid} BODY[] {{{len(mail.raw)}}}\r\n".encode()  # type: ignore[operator]
                  + mail.raw + b")\r\n")
        elif sub == "STORE":
            uid = int(rest.split()[0])
            flags = re.findall(r"\\\w+", rest)
            self.mails[uid - 1].flags.update(flags)
            write(f"* {uid} FETCH (UID {uid} FLAGS ({' '.join(flags)}))\r\n".encode())  # type: ignore[operator]


async def count(db: Database, model: type) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def until(condition: object) -> None:
    for _ in range(400):
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


@pytest.mark.timeout(90)
async def test_imap_polling_stores_unseen_mail_once_and_idle_brings_new_mail(
    db: Database, settings: Settings
) -> None:
    imap = TinyImap("support", "imap-secret")
    await imap.start()
    imap.add(fixture("foxmail_gbk.eml"))
    imap.add(fixture("outlook_big5.eml"))
    async with db.transaction() as session:
        session.add(Inbox(channel="email", name="Mailbox", config={
            "address": SUPPORT, "imap": {
                "host": "127.0.0.1", "port": imap.port, "tls": False, "username": "support",
                "password": "imap-secret", "poll_seconds": 3600, "idle": True}}))
    poller = ImapPoller(Ingestor(db, settings))
    poller.start()
    try:
        async def both_seen() -> bool:
            return all("\\Seen" in m.flags for m in imap.mails)

        await until(both_seen)
        assert await count(db, Message) == 2 and await count(db, Conversation) == 2
        # New mail while the poller idles (poll_seconds is an hour): IDLE brings it.
        await until(lambda: asyncio.sleep(0, result=bool(imap.idlers)))
        imap.add(simple("IDLE works", "new mail", message_id="idle-1@example.com"))
        await until(both_seen)
        await until(lambda: asyncio.sleep(0, result=imap.mails[2].flags == {"\\Seen"}))
        assert await count(db, Message) == 3
        async with db.transaction() as session:
            bodies = set(await session.scalars(select(Message.body)))
        assert "new mail" in bodies and any("朱镕基路" in b for b in bodies)
        # The same mail unseen again (another client cleared the flag): stored once.
        imap.mails[0].flags.clear()
        imap.add(simple("again", "poke", message_id="idle-2@example.com"))
        await until(lambda: asyncio.sleep(0, result=all(m.flags for m in imap.mails)))
        assert await count(db, Message) == 4
        assert imap.logins == 1
    finally:
        await asyncio.wait_for(poller.stop(), timeout=20)
        await imap.stop()
