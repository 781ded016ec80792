"""Inbound e-mail: SMTP → stored conversation, against the bare parse of the same mail.

The same stream of realistic mail (the recorded client shapes in
tests/channels/fixtures/email — Foxmail GBK, Outlook Big5 with a quoted block, QQ Mail
GB18030 with attachments, Gmail HTML-only, out-of-office — each with its own Message-ID
and a sender from a pool smaller than the stream, so most mail repeats a contact) is:

- ``parse``  read by ``mime.parse`` alone, in this process (the baseline);
- ``smtp``   sent over real SMTP connections (aiosmtplib clients, ``--clients`` at once,
             one connection each, many mails per connection) to omnidesk's aiosmtpd server
             running on this process's loop, each mail stored through ``inbox.receive``
             (contact, conversation, message, attachments, timeline, outbox) before the
             ``250`` answer.

Printed: messages/s of each and their ratio (smtp / parse).

Full run:   .venv/bin/python bench/bench_email.py                    (2,000 mails)
Quick run:  .venv/bin/python bench/bench_email.py --mails 300 --database sqlite
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiosmtplib
from _common import backends, base_parser, fresh_database, machine_info, print_table, ratio
from sqlalchemy import func, select

from omnidesk.channels.email.mime import parse
from omnidesk.channels.email.server import SmtpServer
from omnidesk.channels.email.service import Ingestor
from omnidesk.config import Settings
from omnidesk.kit.db import Database
from omnidesk.models import Inbox, Message

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "channels" / "fixtures" / "email"
SUPPORT = "support@omnidesk.test"
SHAPES = ["foxmail_gbk.eml", "outlook_big5.eml", "qq_gb18030_reply.eml",
          "gmail_html_only.eml", "exchange_ooo.eml"]


def stream(count: int, senders: int) -> list[bytes]:
    """``count`` mails cycling through the shapes, unique Message-IDs and senders."""
    shapes = [(FIXTURES / name).read_bytes().replace(b"$parent", b"none@example.com")
              for name in SHAPES]
    out = []
    for i in range(count):
        raw = shapes[i % len(shapes)]
        head, sep, body = raw.partition(b"\r\n\r\n")
        lines = [line for line in head.split(b"\r\n")
                 if not line.lower().startswith((b"message-id:", b"from:"))]
        lines = [f"From: Customer {i % senders} <c{i % senders}@example.com>".encode(),
                 f"Message-ID: <bench-{i}@example.com>".encode(), *lines]
        out.append(b"\r\n".join(lines) + sep + body)
    return out


def bare_parse(mails: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in mails:
        parse(raw)
    return len(mails) / (time.perf_counter() - started)


async def smtp_run(url: str, mails: list[bytes], clients: int, data_dir: Path) -> float:
    settings = Settings(database_url=url, data_dir=data_dir)
    db = Database(url)
    async with db.transaction() as session:
        session.add(Inbox(channel="email", name="bench",
                          config={"address": SUPPORT, "rate_limit_per_minute": 10**9}))
    server = SmtpServer(Ingestor(db, settings), "127.0.0.1", 0, max_bytes=25 * 1024 * 1024)
    await server.start()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in mails:
        queue.put_nowait(raw)
    failures = 0

    async def client() -> None:
        nonlocal failures
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port,
                                   start_tls=False, timeout=60) as smtp:
            while not queue.empty():
                raw = queue.get_nowait()
                try:
                    await smtp.sendmail("bench@example.com", [SUPPORT], raw)
                except aiosmtplib.SMTPException:
                    failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await server.stop()
    async with db.transaction() as session:
        stored = await session.scalar(select(func.count()).select_from(Message))
    await db.dispose()
    if failures or stored != len(mails):
        sys.exit(f"error: {failures} refused, {stored} of {len(mails)} stored")
    return len(mails) / elapsed


async def main() -> None:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8, help="concurrent SMTP connections")
    args = parser.parse_args()
    print(await machine_info(args.pg_url if "postgresql" in backends(args) else None))
    mails = stream(args.mails, args.senders)
    rows = []
    for kind in backends(args):
        url = await fresh_database(kind, "omnidesk_bench_email", args)
        baseline = bare_parse(mails)
        rate = await smtp_run(url, mails, args.clients, args.data_dir / "email")
        rows.append([kind, args.mails, args.clients, f"{baseline:,.0f}", f"{rate:,.0f}",
                     ratio(rate, baseline)])
    print_table("Inbound e-mail, messages/s (SMTP → stored vs bare parse)",
                ["database", "mails", "clients", "parse/s", "smtp→stored/s", "ratio"], rows)


if __name__ == "__main__":
    asyncio.run(main())
