"""The chat group commit alone: ``write_batch`` in this process, ms per batch, with a
chat SLA policy against the same batches without one (the baseline, same run).

For each database: a fresh migrated database, N open conversations (their first
messages through the one path), then alternating batches of N agent replies (each stops
the first/next-response clocks) and N visitor messages (each starts a next-response
clock). The SLA run uses a second fresh database with a round-the-clock chat policy.

Full run:   .venv/bin/python bench/bench_chat_batch.py        (batches of 150, 20 rounds)
Quick run:  .venv/bin/python bench/bench_chat_batch.py --size 50 --rounds 6
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import uvloop
from _common import (
    ALWAYS_OPEN,
    CHAT_SLA_POLICY,
    backends,
    base_parser,
    fresh_database,
    machine_info,
    print_table,
    ratio,
)

from omnidesk.auth.service import Principal
from omnidesk.channels.base import InboundMessage
from omnidesk.conversations.batch import ChatIn, ChatReply, write_batch, write_one
from omnidesk.kit.db import Database
from omnidesk.models import Inbox, SlaCalendar, SlaPolicy
from omnidesk.wiring import install_handlers


def visitor(inbox: uuid.UUID, n: int, body: str, client_id: str,
            conv: uuid.UUID | None = None) -> ChatIn:
    return ChatIn(InboundMessage(inbox_id=inbox, identities={"visitor_id": f"bench-{n}"},
                                 body=body, external_id=client_id, contact_name="訪客"),
                  region="CN", conversation_id=conv)


async def measure(url: str, sla: bool, size: int, rounds: int) -> tuple[float, float]:
    """Median ms per batch: (agent replies, visitor messages)."""
    db = Database(url, inline_sqlite=True)  # as the writer process opens it
    try:
        async with db.transaction() as session:
            inbox = Inbox(channel="web_chat", name="bench chat")
            session.add(inbox)
            if sla:
                calendar = SlaCalendar(name="7x24", definition=ALWAYS_OPEN)
                session.add(calendar)
                await session.flush()
                session.add(SlaPolicy(**CHAT_SLA_POLICY, calendar_id=calendar.id))
            await session.flush()
            inbox_id = inbox.id
        convs = []
        for n in range(size):
            async with db.transaction() as session:
                written = await write_one(session, visitor(inbox_id, n, "你好", f"first-{n}"))
            convs.append(written.conversation_id)
        agent = Principal(kind="user", id=uuid.uuid4(), name="Agent 王", role="admin",
                          user_id=uuid.uuid4())
        replies, visits = [], []
        for r in range(rounds):
            items: list[ChatIn | ChatReply]
            if r % 2 == 0:
                items = [ChatReply(agent, c, f"您好 {r}", client_id=f"a-{r}-{n}")
                         for n, c in enumerate(convs)]
            else:
                items = [visitor(inbox_id, n, f"message {r}", f"v-{r}-{n}", c)
                         for n, c in enumerate(convs)]
            start = time.perf_counter()
            async with db.transaction() as session:
                _, fallback = await write_batch(session, items)
            (replies if r % 2 == 0 else visits).append(time.perf_counter() - start)
            assert fallback == 0, f"{fallback} items left the fast path"
        return statistics.median(replies) * 1000, statistics.median(visits) * 1000
    finally:
        await db.dispose()


async def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.add_argument("--size", type=int, default=150, help="messages per batch")
    parser.add_argument("--rounds", type=int, default=20, help="batches (half of each kind)")
    args: argparse.Namespace = parser.parse_args()
    install_handlers()
    print(await machine_info(args.pg_url if "postgresql" in backends(args) else None))
    rows = []
    for kind in backends(args):
        plain = await measure(await fresh_database(kind, "omnidesk_bench_batch", args),
                              False, args.size, args.rounds)
        with_sla = await measure(await fresh_database(kind, "omnidesk_bench_batch", args),
                                 True, args.size, args.rounds)
        for what, base, sla in (("agent replies", plain[0], with_sla[0]),
                                ("visitor messages", plain[1], with_sla[1])):
            rows.append((kind, what, f"{base:.1f}", f"{sla:.1f}", ratio(sla, base)))
            print(f"  {kind:10} {what:17} no policy {base:6.1f} ms  chat SLA policy "
                  f"{sla:6.1f} ms", flush=True)
    print_table(f"Chat group commit: batches of {args.size}, median ms per batch "
                f"({args.rounds // 2} of each kind)",
                ["database", "batch of", "no SLA policy", "chat SLA policy", "÷ no policy"],
                rows)


if __name__ == "__main__":
    uvloop.run(main())
