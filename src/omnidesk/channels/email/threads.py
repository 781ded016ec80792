"""Which conversation a mail belongs to.

1. In-Reply-To / References naming an earlier message of this inbox: a customer's mail
   (its Message-ID is the message's ``external_id``) or one of ours (our Message-IDs are
   ``<od.{message id}.{token}@domain>``, so they are found even when the stored
   ``external_id`` is something else).
2. Else the conversation token in the subject, ``[#K7Q2M4XA]``: derived from the
   conversation id, stored in ``Conversation.external_thread_id`` for mail-born
   conversations, recomputed for the sender's other conversations on this inbox.
3. Else a new conversation (a new mail from the same contact is a new matter).
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.models import Conversation, Identity, Message

TOKEN = re.compile(r"\[#([A-Z2-7]{8})\]")
OUR_ID = re.compile(r"^od\.([0-9a-f]{32})\.", re.IGNORECASE)
MAX_REFERENCES = 50


def token_of(conversation_id: uuid.UUID) -> str:
    digest = hashlib.blake2b(conversation_id.bytes, digest_size=5).digest()
    return base64.b32encode(digest).decode("ascii")


def tag(conversation_id: uuid.UUID) -> str:
    return f"[#{token_of(conversation_id)}]"


def subject_tokens(subject: str) -> list[str]:
    return TOKEN.findall(subject or "")


def our_message_id(message_id: uuid.UUID, conversation_id: uuid.UUID, domain: str) -> str:
    """A Message-ID (without ``<>``) that names our message and its conversation."""
    return f"od.{message_id.hex}.{token_of(conversation_id).lower()}@{domain}"


def _our_message(mid: str) -> uuid.UUID | None:
    m = OUR_ID.match(mid)
    return uuid.UUID(m.group(1)) if m else None


async def by_references(session: AsyncSession, inbox_id: uuid.UUID,
                        ids: list[str]) -> Conversation | None:
    """The conversation of the nearest referenced message (``ids`` nearest first)."""
    ids = ids[:MAX_REFERENCES]
    if not ids:
        return None
    ours = [u for u in (_our_message(i) for i in ids) if u is not None]
    rows = list(await session.execute(
        select(Message.external_id, Message.id, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.inbox_id == inbox_id,
               Message.external_id.in_(ids) | Message.id.in_(ours))))
    rank = {mid: n for n, mid in reversed(list(enumerate(ids)))}
    best: tuple[int, Conversation] | None = None
    for external_id, message_id, conversation in rows:
        positions = [rank[i] for i in (external_id, ) if i in rank]
        positions += [n for n, i in enumerate(ids) if _our_message(i) == message_id]
        if positions and (best is None or min(positions) < best[0]):
            best = (min(positions), conversation)
    return best[1] if best else None


async def by_token(session: AsyncSession, inbox_id: uuid.UUID, subject: str,
                   sender: str) -> Conversation | None:
    tokens = subject_tokens(subject)
    if not tokens:
        return None
    found = await session.scalar(
        select(Conversation).where(Conversation.inbox_id == inbox_id,
                                   Conversation.external_thread_id.in_(tokens))
        .order_by(Conversation.created_at.desc()).limit(1))
    if found is not None:
        return found
    # Conversations opened elsewhere (an agent wrote first): the sender's, recomputed.
    for conversation in await session.scalars(
            select(Conversation).join(Identity, Identity.contact_id == Conversation.contact_id)
            .where(Conversation.inbox_id == inbox_id, Identity.kind == "email",
                   Identity.value == sender)
            .order_by(Conversation.created_at.desc()).limit(200)):
        if token_of(conversation.id) in tokens:
            return conversation
    return None


async def find(session: AsyncSession, inbox_id: uuid.UUID, ids: list[str], subject: str,
               sender: str) -> tuple[Conversation | None, str | None]:
    """``(conversation, how)``: how = ``references`` | ``token`` | None."""
    found = await by_references(session, inbox_id, ids)
    if found is not None:
        return found, "references"
    found = await by_token(session, inbox_id, subject, sender)
    return (found, "token") if found is not None else (None, None)
