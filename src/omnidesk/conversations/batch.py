"""Group commit for live chat: many websocket messages, one transaction.

A chat message through :func:`~omnidesk.conversations.service.receive` costs a dozen
statements and a commit of its own; at a thousand chatting visitors that is thousands of
transactions a second, and SQLite has one writer. The websocket handlers therefore hand
their messages to a :class:`GroupWriter`, which writes everything that arrived meanwhile
in one transaction and then answers each sender.

The batch takes the common case — a visitor writing into the open conversation their
socket already follows, an agent replying — with a few set-based statements: the
sequence numbers of all touched conversations (row-locked on PostgreSQL), the messages,
the conversations' counters, their timeline entries, the SLA clocks that the message
starts or stops, and the same ``message.created`` outbox rows and pushes as the one path.
Everything else (a first message, a reopened or pending conversation, attachments, an
internal note, the same conversation twice in one batch) takes the one path itself,
``receive``/``reply``, each in its own transaction so that one bad message cannot fail
another. The result is the same rows as the one path would write; tests compare both.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    Executable,
    Integer,
    Select,
    String,
    Table,
    Uuid,
    and_,
    bindparam,
    false,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from omnidesk.activity.service import CONVERSATION_SOURCE, short
from omnidesk.auth.service import Principal
from omnidesk.channels.base import InboundMessage
from omnidesk.conversations import service
from omnidesk.conversations.views import message_json
from omnidesk.kit.db import Database, JSONType, UTCDateTime, json_rows, one_of, rows_for_pairs
from omnidesk.kit.errors import OmnideskError
from omnidesk.kit.ids import new_id
from omnidesk.kit.outbox import emit_many, wake_all
from omnidesk.kit.time import utcnow
from omnidesk.models import Activity, Contact, Conversation, Inbox, Message, SlaTarget
from omnidesk.models.enums import ConversationStatus, SenderType
from omnidesk.realtime.hub import publish
from omnidesk.sla import service as sla

if TYPE_CHECKING:
    from omnidesk.conversations.writer_process import WriterProcess

log = logging.getLogger(__name__)
MAX_BATCH = 500
LINGER_BELOW = 32  # queued items: with fewer, a busy writer lingers for more


@dataclass
class ChatIn:
    """A visitor's message; ``conversation_id`` is the conversation the socket follows."""

    msg: InboundMessage
    region: str
    conversation_id: uuid.UUID | None = None


@dataclass
class ChatReply:
    """An agent's answer (or note) from the console's websocket."""

    principal: Principal
    conversation_id: uuid.UUID
    body: str
    client_id: str | None = None
    is_note: bool = False


@dataclass
class Written:
    message: dict[str, Any]  # message_json with the conversation's fields
    conversation_id: uuid.UUID
    duplicate: bool = False


@dataclass
class BatchResult:
    """A committed fast-path batch: an answer per item (``None``: the one path writes it)
    and, from the writer process, the pushes its commit owes."""

    results: list[Written | None]
    fallback: int
    pushes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    woke_outbox: bool = False


@dataclass
class _Pending:
    item: ChatIn | ChatReply
    future: asyncio.Future[Written] = field(repr=False)
    # The sender's connection learns the stored id before the pushes go out, so that it
    # gets its ``ack`` and not also the echo of its own message.
    seen: Callable[[str], object] | None = field(default=None, repr=False)


class GroupWriter:
    """One writer task per process; ``submit`` waits until its message is committed."""

    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH, linger: float = 0.0,
                 process: WriterProcess | None = None) -> None:
        self.db = db
        # With a writer process, the common case is written there (see writer_process).
        self.process = process
        self.max_batch = max_batch
        # Each transaction has a fixed cost (a dozen statements) that dwarfs a message's
        # own; a batch therefore starts at most once per ``linger``: one that follows a
        # quick batch waits out the rest of that moment for more messages, one that
        # follows a batch slower than that (whose messages arrived meanwhile) and one on
        # an idle writer go at once.
        self.linger = linger
        self._started_at = -linger  # when the last batch started (loop time)
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._delivering: asyncio.Task[None] | None = None
        self.batches = 0
        self.written = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="chat-group-writer")

    async def stop(self) -> None:
        """Finish what was submitted, then end the writer task (and process)."""
        if self._task is not None:
            await self._queue.put(None)
            await self._task
            self._task = None
        if self.process is not None:
            await self.process.stop()

    async def submit(self, item: ChatIn | ChatReply, *,
                     seen: Callable[[str], object] | None = None) -> Written:
        """Store ``item``; ``seen`` gets the stored message's id before it is pushed."""
        pending = _Pending(item, asyncio.get_running_loop().create_future(), seen)
        if self._task is None:  # not started (e.g. a bare test app): write it at once
            await self._one(pending)
        else:
            await self._queue.put(pending)
        return await pending.future

    async def _run(self) -> None:
        try:
            await self._batches()
        finally:
            await self._settle()

    async def _batches(self) -> None:
        carry: list[_Pending] = []
        stopping = False
        while not stopping or carry:
            batch = carry
            if not batch:
                first = await self._queue.get()
                if first is None:
                    return
                batch = [first]
            loop = asyncio.get_running_loop()
            # Only a small batch waits: a full queue goes at once, before this loop yields
            # (and the previous batch's answers run) — the writer process gets its next
            # batch while this process delivers the last one.
            wait = self._started_at + self.linger - loop.time()
            if wait > 0 and not stopping and self._queue.qsize() < LINGER_BELOW:
                await asyncio.sleep(wait)  # busy: let the batch fill a little
            while len(batch) < self.max_batch and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            # One item per conversation in a batch (order within a conversation matters).
            seen: set[uuid.UUID | None] = set()
            now_batch, carry = [], []
            for p in batch:
                key = _conversation_key(p.item)
                if key is not None and key in seen:
                    carry.append(p)
                else:
                    seen.add(key)
                    now_batch.append(p)
            self._started_at = loop.time()
            try:
                await self._write(now_batch)
            except Exception:  # never lose the writer task
                log.exception("chat group commit failed")
                for p in now_batch:
                    if not p.future.done():
                        p.future.set_exception(RuntimeError("message could not be stored"))

    async def _write(self, batch: list[_Pending]) -> None:
        fast = [p for p in batch if _fast_candidate(p.item)]
        slow = [p for p in batch if not _fast_candidate(p.item)]
        if not fast:
            await self._settle()
            for p in slow:
                await self._one(p)
            return
        try:
            answer = await self._commit(fast)
        except Exception as exc:
            await self._settle()
            log.error("chat batch failed (%s); writing its messages one by one", exc,
                      exc_info=not isinstance(exc, RuntimeError))
            for p in fast + slow:
                await self._one(p)
            return
        await self._settle()  # pushes and answers stay in commit order
        if self.process is not None and not slow and not answer.fallback:
            # Nothing for the one path: deliver while the child writes the next batch.
            self._delivering = asyncio.create_task(self._finish(fast, answer))
            return
        await self._finish(fast, answer)  # the one path's items before the next batch
        for p in slow:
            await self._one(p)

    async def _commit(self, fast: list[_Pending]) -> BatchResult:
        """The fast path, in the writer process or here (inline, the pushes run after
        this commit and the answer carries none)."""
        items = [p.item for p in fast]
        if self.process is not None:
            answer = await self._in_process(self.process, items)
            _tell_senders(fast, answer.results)  # before _finish publishes its pushes
            return answer
        async with self.db.transaction() as session:
            results, fallback = await write_batch(session, items)
            _tell_senders(fast, results)  # before the pushes after commit
        return BatchResult(results, fallback)

    async def _in_process(self, process: WriterProcess, items: list[ChatIn | ChatReply]
                          ) -> BatchResult:
        async with self.db.writer_turn():  # SQLite: the child writes in this process's turn
            return await process.write(items)

    async def _publish(self, answer: BatchResult) -> None:
        """What the one path pushes after commit, for the child's committed batch."""
        try:
            for topic, message in answer.pushes:
                await publish(topic, message)
        except Exception:  # stored is stored: the senders still get their answers
            log.exception("pushing a chat batch failed")
        if answer.woke_outbox:
            wake_all()

    async def _finish(self, fast: list[_Pending], answer: BatchResult) -> None:
        await self._publish(answer)
        for p in self._resolve(fast, answer.results, answer.fallback):
            await self._one(p)

    async def _settle(self) -> None:
        """Wait until the previous batch is delivered."""
        task, self._delivering = self._delivering, None
        if task is not None:
            await task

    def _resolve(self, fast: list[_Pending], results: list[Written | None],
                 fallback: int) -> list[_Pending]:
        """Answer the written items; returns those the one path must write."""
        rest = []
        for p, result in zip(fast, results, strict=True):
            if result is None:
                rest.append(p)
            elif not p.future.done():
                p.future.set_result(result)
        self.batches += 1
        self.written += len(fast) - fallback
        return rest

    async def _one(self, p: _Pending) -> None:
        """The one path, in a transaction of its own."""
        try:
            async with self.db.transaction() as session:
                result = await write_one(session, p.item)
                _tell_senders([p], [result])
        except Exception as exc:
            if not p.future.done():
                p.future.set_exception(exc)
            if not isinstance(exc, OmnideskError):
                log.exception("chat message failed")
            return
        if not p.future.done():
            p.future.set_result(result)


class Pipeline:
    """A socket's frames that wait for the group commit, handled without blocking the
    socket's reader (at most ``limit`` in flight; submission order is kept)."""

    def __init__(self, limit: int = 64) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()

    async def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        await self._slots.acquire()
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("chat frame failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for what is in flight (a closed socket's messages are still stored)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _tell_senders(pending: list[_Pending], results: list[Written | None]) -> None:
    for p, result in zip(pending, results, strict=True):
        if result is not None and p.seen is not None:
            p.seen(result.message["id"])


def _conversation_key(item: ChatIn | ChatReply) -> uuid.UUID | None:
    return item.conversation_id


def _fast_candidate(item: ChatIn | ChatReply) -> bool:
    if isinstance(item, ChatReply):
        return not item.is_note
    return (item.conversation_id is not None and not item.msg.attachment_ids
            and not item.msg.new_conversation and item.msg.sent_at is None)


async def write_one(session: AsyncSession, item: ChatIn | ChatReply) -> Written:
    """The one path: ``receive`` / ``reply``."""
    if isinstance(item, ChatReply):
        conversation = await service.get_conversation(session, item.conversation_id,
                                                      item.principal)
        message, created = await service.reply(
            session, conversation, body=item.body, sender_type=SenderType.agent,
            sender_id=item.principal.user_id, author_name=item.principal.name,
            is_note=item.is_note, client_id=item.client_id)
        return Written(message_json(message, conversation), conversation.id,
                       duplicate=not created)
    received = await service.receive(session, item.msg, region=item.region)
    return Written(message_json(received.message, received.conversation),
                   received.conversation.id, duplicate=received.duplicate)


_conversations = cast(Table, Conversation.__table__)
_activities = cast(Table, Activity.__table__)
_messages = cast(Table, Message.__table__)
_NOW = bindparam("now", type_=UTCDateTime())
_MESSAGE_ROWS = (("id", Uuid()), ("conversation_id", Uuid()), ("seq", Integer()),
                 ("sender_type", String()), ("sender_id", Uuid()), ("author_name", String()),
                 ("body", String()), ("external_id", String()), ("data", JSONType))
_ACTIVITY_ROWS = (("id", Uuid()), ("contact_id", Uuid()), ("summary", String()),
                  ("data", JSONType))


@cache
def _batch_writes(dialect: str) -> tuple[Executable, Executable, Executable]:
    """The batch's three writes, each one statement for the whole batch: the
    conversations' counters (each conversation is in a batch once, and its row is locked
    — on SQLite, the whole database — since it was read, so ``+ 1`` is the ``seq`` the
    batch gave its message), the messages and the timeline entries, their rows sent as
    one JSON parameter each (:func:`~omnidesk.kit.db.json_rows`)."""
    counters = (update(_conversations).where(one_of(dialect, _conversations.c.id, "ids"))
                .values(last_seq=_conversations.c.last_seq + 1,
                        message_count=_conversations.c.message_count + 1,
                        last_message_at=_NOW, updated_at=_NOW))
    m = json_rows(dialect, "messages", _MESSAGE_ROWS)
    messages = insert(_messages).from_select(
        [*(n for n, _ in _MESSAGE_ROWS), "is_note", "delivery_status", "created_at"],
        select(*(m.c[n] for n, _ in _MESSAGE_ROWS), false(), null(), _NOW))
    a = json_rows(dialect, "activities", _ACTIVITY_ROWS)
    activities = (update(_activities).where(_activities.c.id == a.c.id)
                  .values(contact_id=a.c.contact_id, summary=a.c.summary, data=a.c.data,
                          occurred_at=_NOW))
    return counters, messages, activities


@cache
def _first_response(dialect: str) -> Executable:
    """An agent's first answer in these conversations."""
    return (update(_conversations)
            .where(one_of(dialect, _conversations.c.id, "ids"),
                   _conversations.c.first_response_at.is_(None))
            .values(first_response_at=_NOW, updated_at=_NOW))


_CONV_COLUMNS = (Conversation.id, Conversation.inbox_id, Conversation.contact_id,
                 Conversation.channel, Conversation.status, Conversation.subject,
                 Conversation.first_response_at, Conversation.priority,
                 Conversation.last_seq, Conversation.message_count)


@cache
def _select_convs(dialect: str) -> Select[*tuple[Any, ...]]:
    """One round trip: the conversations (row-locked on PostgreSQL, in id order so that
    two writers' batches do not deadlock on them), their timeline entries, their contacts' names
    and tiers, what an agent needs to see their inboxes, and whether a next-response
    clock runs (a customer's message starts one if none does)."""
    # A scalar subquery, not EXISTS: PostgreSQL may run an EXISTS as one hashed scan of
    # every running clock (its statistics taken when the table was smaller), this one is
    # always a probe of the running-clock index per conversation.
    next_running = select(literal(1)).where(
        SlaTarget.subject_id == Conversation.id, SlaTarget.metric == "next_response",
        SlaTarget.stopped_at.is_(None)).limit(1).scalar_subquery().label("next_running")
    stmt = (
        select(*_CONV_COLUMNS, next_running, Activity.id.label("activity_id"),
               Contact.name.label("contact_name"), Contact.tier.label("contact_tier"),
               Contact.vip_level.label("contact_vip"),
               Inbox.restricted.label("inbox_restricted"), Inbox.team_id.label("inbox_team_id"))
        .join(Contact, Contact.id == Conversation.contact_id)
        .join(Inbox, Inbox.id == Conversation.inbox_id)
        .outerjoin(Activity, and_(Activity.conversation_id == Conversation.id,
                                  Activity.source == CONVERSATION_SOURCE))
        .where(one_of(dialect, Conversation.id, "ids")))
    if dialect == "postgresql":
        return stmt.order_by(Conversation.id).with_for_update(of=Conversation)
    return stmt


Accepted = list[tuple[int, ChatIn | ChatReply, Any]]  # (index in the batch, item, row)


async def write_batch(session: AsyncSession, items: list[ChatIn | ChatReply]
                      ) -> tuple[list[Written | None], int]:
    """Write the fast-path items (at most one per conversation); ``None`` marks an item
    that must take the one path instead. Returns the results and how many fell back."""
    now = utcnow()
    # Statements are built once (module level) and run on the session's connection: the
    # ORM layer has nothing to add to these column reads, and building a statement costs
    # more than running it.
    conn = await session.connection()
    results: list[Written | None] = [None] * len(items)
    accepted = await _accept(conn, items)
    accepted = await _drop_retries(conn, accepted, results)
    await _clocks(session, conn, accepted, now)
    await _write_messages(session, conn, accepted, results, now)
    return results, sum(1 for r in results if r is None)


async def _accept(conn: AsyncConnection, items: list[ChatIn | ChatReply]) -> Accepted:
    """The items the fast path may write, each with its conversation's row."""
    ids = list({_conversation_key(i) for i in items if _conversation_key(i) is not None})
    convs = {row.id: row for row in await conn.execute(
        _select_convs(conn.dialect.name), {"ids": ids})}
    accepted: Accepted = []
    for n, item in enumerate(items):
        conv = convs.get(_conversation_key(item))
        if conv is None or conv.activity_id is None:
            continue  # the one path decides (and answers 404 where it must)
        if isinstance(item, ChatIn):
            if conv.status != ConversationStatus.open or conv.inbox_id != item.msg.inbox_id:
                continue  # reopening, resuming a pending conversation: the one path
        elif not item.principal.can_see_inbox(SimpleNamespace(  # type: ignore[arg-type]
                restricted=conv.inbox_restricted, team_id=conv.inbox_team_id)):
            continue  # the one path answers 403
        accepted.append((n, item, conv))
    return accepted


async def _drop_retries(conn: AsyncConnection, accepted: Accepted,
                        results: list[Written | None]) -> Accepted:
    """Retries: a client id seen before in that conversation is the stored message."""
    keyed = [(item, conv) for _, item, conv in accepted if _client_id(item)]
    if not keyed:
        return accepted
    rows = await conn.execute(*rows_for_pairs(
        conn.dialect.name, _messages, _messages.c.conversation_id, _messages.c.external_id,
        [(c.id, cast(str, _client_id(i))) for i, c in keyed], tuple(_messages.c),
        uuid_first=True, probe_up_to=MAX_BATCH))
    stored = {(m.conversation_id, m.external_id): m for m in rows}
    fresh: Accepted = []
    for n, item, conv in accepted:
        m = stored.get((conv.id, _client_id(item)))
        if m is None:
            fresh.append((n, item, conv))
        else:
            results[n] = Written(message_json(cast(Any, m), conv), conv.id, duplicate=True)
    return fresh


async def _clocks(session: AsyncSession, conn: AsyncConnection, accepted: Accepted,
                  now: datetime) -> None:
    """SLA, as the one path does it: a customer message after the first answer starts the
    next-response clock (if none runs); an agent's answer stops first/next response."""
    answered = [c for _, i, c in accepted
                if isinstance(i, ChatIn) and c.first_response_at is not None]
    starting = [c for c in answered if not c.next_running]
    if starting:
        await sla.start_many(session, [sla.Subject(
            kind="conversation", id=c.id, tier=service.tier_of(SimpleNamespace(
                tier=c.contact_tier, vip_level=c.contact_vip), c.priority),  # type: ignore[arg-type]
            priority=service.PRIORITY_NAMES.get(c.priority, "normal"), case_type=None,
            channel=c.channel) for c in starting], ["next_response"], at=now)
    replies = [c for _, i, c in accepted if isinstance(i, ChatReply)]
    if replies:
        await sla.stop_many(session, [c.id for c in replies],
                            ["first_response", "next_response"], at=now)
        first = [c.id for c in replies if c.first_response_at is None]
        if first:
            await conn.execute(_first_response(conn.dialect.name), {"ids": first, "now": now})


async def _write_messages(session: AsyncSession, conn: AsyncConnection, accepted: Accepted,
                          results: list[Written | None], now: datetime) -> None:
    """The messages, their conversations' counters and timeline entries, the outbox work
    and the pushes after commit."""
    messages: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    created_at = now.isoformat()
    for n, item, conv in accepted:
        seq, count = conv.last_seq + 1, conv.message_count + 1
        if isinstance(item, ChatIn):
            sender_type, body = SenderType.contact, item.msg.body
            sender_id, author = conv.contact_id, conv.contact_name
            external_id, data = item.msg.external_id, dict(item.msg.data)
        else:
            sender_type, body = SenderType.agent, item.body
            sender_id, author = item.principal.user_id, item.principal.name
            external_id, data = item.client_id, {}
        message_id = new_id()
        messages.append({"id": message_id.hex, "conversation_id": conv.id.hex, "seq": seq,
                         "sender_type": str(sender_type),
                         "sender_id": sender_id.hex if sender_id else None,
                         "author_name": author, "body": body, "external_id": external_id,
                         "data": data})
        activities.append({"id": conv.activity_id.hex, "contact_id": conv.contact_id.hex,
                           "summary": short(body), "data": {
                               "inbox_id": str(conv.inbox_id), "status": conv.status,
                               "subject": conv.subject, "message_count": count,
                               "last_sender": str(sender_type)}})
        # message_json's shape, built directly (the batch's timestamp is formatted once)
        payload = {"id": str(message_id), "conversation_id": str(conv.id), "seq": seq,
                   "sender_type": str(sender_type),
                   "sender_id": str(sender_id) if sender_id else None,
                   "author_name": author, "body": body, "is_note": False,
                   "external_id": external_id, "data": data, "delivery_status": None,
                   "created_at": created_at, "attachments": [],
                   "inbox_id": str(conv.inbox_id), "contact_id": str(conv.contact_id),
                   "channel": conv.channel}
        results[n] = Written(payload, conv.id)
        events.append({"message": payload})
        service.push_after_commit(session, cast(Any, conv), {"type": "message", "message": payload},
                           to_visitor=True)
    if messages:
        counters, insert_messages, update_activities = _batch_writes(conn.dialect.name)
        await conn.execute(counters, {"ids": [c.id for _, _, c in accepted], "now": now})
        await conn.execute(insert_messages, {"messages": messages, "now": now})
        await conn.execute(update_activities, {"activities": activities, "now": now})
        await emit_many(session, "message.created", events)


def _client_id(item: ChatIn | ChatReply) -> str | None:
    return item.client_id if isinstance(item, ChatReply) else item.msg.external_id


