"""Mail into omnidesk over a real SMTP exchange with the server `omnidesk serve` starts
(OMNIDESK_SMTP_LISTEN), on SQLite and PostgreSQL: recipients, size limit, charsets,
contacts, threading, duplicates, attachments, quarantine, loop mail, the rate limit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from omnidesk.channels.email import threads
from omnidesk.channels.email.store import list_quarantine
from omnidesk.config import Settings, get_settings
from tests.channels.test_email_mime import fixture
from tests.channels.test_email_support import (
    SUPPORT,
    conversations,
    deliver,
    make_inbox,
    messages,
    simple,
)
from tests.conftest import LiveServer, free_port

MAX_BYTES = 200_000


@pytest.fixture
def settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("OMNIDESK_SMTP_LISTEN", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("OMNIDESK_SMTP_MAX_BYTES", str(MAX_BYTES))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def smtp_port(server: LiveServer) -> int:
    port = server.app.state.email.smtp.port
    assert isinstance(port, int)
    return port


async def test_mail_to_inbox_address_opens_conversation_with_decoded_contact(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    inbox = await make_inbox(client)
    port = smtp_port(server)
    code, _ = await deliver(port, fixture("foxmail_gbk.eml"), ["SUPPORT@OMNIDESK.test"])
    assert code == 250
    (conv,) = await conversations(client, inbox)
    assert conv["channel"] == "email" and conv["subject"] == "宽带又断了，请帮忙"
    (msg,) = await messages(client, conv["id"])
    assert "朱镕基路 88 号" in msg["body"] and msg["sender_type"] == "contact"
    assert msg["external_id"] == "202403041015001234567@example.com"
    assert msg["data"]["email"]["charset"] == "gb18030"
    assert "<script" not in msg["data"]["email"]["html"]
    contact = (await client.get(f"/api/v1/contacts/{conv['contact_id']}")).json()
    assert contact["name"] == "王小明"
    assert [(i["kind"], i["value"]) for i in contact["identities"]] == [
        ("email", "wang.xiaoming@example.com")]
    # The same mail again (the sender's server retried): stored once.
    assert (await deliver(port, fixture("foxmail_gbk.eml"), [SUPPORT]))[0] == 250
    assert len(await messages(client, conv["id"])) == 1


async def test_unknown_recipient_550_and_oversized_552(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    inbox = await make_inbox(client)
    port = smtp_port(server)
    code, text = await deliver(port, simple("hi", "hello"), ["sales@omnidesk.test"])
    assert code == 550 and "no such mailbox" in text
    big = simple("big", "x" * (MAX_BYTES + 10_000), message_id="big@example.com")
    code, _ = await deliver(port, big, [SUPPORT])
    assert code == 552
    assert await conversations(client, inbox) == []


async def test_threading_by_references_token_and_new_matter(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    inbox = await make_inbox(client)
    port = smtp_port(server)
    first = simple("Router broken", "My router is broken.", message_id="m1@example.com")
    assert (await deliver(port, first, [SUPPORT]))[0] == 250
    (conv,) = await conversations(client, inbox)
    # A reply naming the first mail in In-Reply-To.
    reply = simple("Re: Router broken", "Still broken.", message_id="m2@example.com",
                   headers="In-Reply-To: <m1@example.com>\r\nReferences: <m1@example.com>\r\n")
    assert (await deliver(port, reply, [SUPPORT]))[0] == 250
    # No threading headers, but the conversation token in the subject.
    token = threads.tag(__import__("uuid").UUID(conv["id"]))
    tokened = simple(f"Re: Router broken {token}", "Any news?", message_id="m3@example.com",
                     sender="Someone Else <other@example.com>")
    assert (await deliver(port, tokened, [SUPPORT]))[0] == 250
    assert [m["body"] for m in await messages(client, conv["id"])] == [
        "My router is broken.", "Still broken.", "Any news?"]
    # A new mail from the same customer with no thread: a new conversation.
    new = simple("Invoice question", "Why is my bill higher?", message_id="m4@example.com")
    assert (await deliver(port, new, [SUPPORT]))[0] == 250
    convs = await conversations(client, inbox)
    assert len(convs) == 2
    other = next(c for c in convs if c["id"] != conv["id"])
    assert other["subject"] == "Invoice question"
    assert other["contact_id"] == conv["contact_id"]


async def test_quoted_history_signature_and_attachments(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    inbox = await make_inbox(client)
    port = smtp_port(server)
    raw = fixture("qq_gb18030_reply.eml", parent="unknown@example.com")
    assert (await deliver(port, raw, [SUPPORT]))[0] == 250
    (conv,) = await conversations(client, inbox)
    (msg,) = await messages(client, conv["id"])
    assert msg["body"] == "还是不行，截图附上。㐀"
    email = msg["data"]["email"]
    assert email["signature"] == "发自我的iPhone" and "请重启光猫后再试" in email["quoted"]
    assert [(a["filename"], a["content_type"]) for a in msg["attachments"]] == [
        ("截图.png", "image/png")]
    (skipped,) = email["skipped_attachments"]
    assert skipped["filename"] == "setup.exe" and "not accepted" in skipped["reason"]
    r = await client.get(msg["attachments"][0]["url"])
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")


async def test_malformed_mail_is_quarantined_with_reason(
    client: httpx.AsyncClient, server: LiveServer, settings: Settings
) -> None:
    inbox = await make_inbox(client)
    port = smtp_port(server)
    raw = b"Subject: who am I\r\nMessage-ID: <nofrom@example.com>\r\n\r\nno sender at all\r\n"
    code, text = await deliver(port, raw, [SUPPORT], mail_from="")
    assert code == 250 and "review" in text
    (kept,) = list_quarantine(settings)
    assert kept["reason"] == "no From address" and kept["inbox_id"] == inbox["id"]
    assert Path(kept["file"]).read_bytes() == raw
    assert await conversations(client, inbox) == []
    bad_from = simple("x", "y", sender="Broken <not-an-address@>")
    code, _ = await deliver(port, bad_from, [SUPPORT], mail_from="")
    assert code == 250
    reasons = sorted(q["reason"] for q in list_quarantine(settings))
    assert len(reasons) == 2 and any("From" in r for r in reasons)
    meta = json.loads(next(Path(kept["file"]).parent.glob("*.json")).read_text())
    assert meta["recipient"] == SUPPORT


async def test_auto_submitted_and_bulk_mail_is_stored_but_marked(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    inbox = await make_inbox(client)
    port = smtp_port(server)
    assert (await deliver(port, fixture("exchange_ooo.eml"), [SUPPORT]))[0] == 250
    bulk = simple("Newsletter", "Our offers", message_id="n1@example.com",
                  sender="news@example.com", headers="Precedence: bulk\r\n")
    assert (await deliver(port, bulk, [SUPPORT]))[0] == 250
    autos = set()
    for conv in await conversations(client, inbox):
        (msg,) = await messages(client, conv["id"])
        autos.add(msg["data"]["email"]["auto"])
    assert autos == {"auto-submitted: auto-generated", "precedence: bulk"}


async def test_rate_limit_per_sender_answers_451(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    inbox = await make_inbox(client, rate_limit_per_minute=2)
    port = smtp_port(server)
    codes = [(await deliver(port, simple("spam", f"n{i}", message_id=f"r{i}@example.com"),
                            [SUPPORT]))[0] for i in range(3)]
    assert codes == [250, 250, 451]
    other = simple("hello", "from someone else", sender="b@example.com",
                   message_id="rb@example.com")
    assert (await deliver(port, other, [SUPPORT]))[0] == 250
    assert len(await conversations(client, inbox)) == 3
