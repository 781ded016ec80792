"""Mail out of omnidesk, caught by a real SMTP server that requires STARTTLS and AUTH:
headers and parts of an agent's reply, the customer's answer threading back by our
Message-ID, bounces marking the message failed, refusals, and automatic answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnidesk.bot import model as bot_model
from omnidesk.channels.email import autoreply, threads
from omnidesk.config import Settings, get_settings
from omnidesk.kit.db import Database
from omnidesk.models import Article, KbSetting
from tests.channels.test_email_mime import fixture
from tests.channels.test_email_support import (
    SMTP_USER,
    SUPPORT,
    CaptureSmtp,
    conversations,
    deliver,
    make_inbox,
    messages,
    self_signed,
    simple,
)
from tests.conftest import LiveServer, free_port

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f00f0004850180848a8c210000000049454e44ae426082")


@pytest.fixture
def settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("OMNIDESK_SMTP_LISTEN", f"127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
async def capture(tmp_path: Path) -> AsyncIterator[CaptureSmtp]:
    cert, key = self_signed(tmp_path)
    server = CaptureSmtp(cert, key)
    await server.start()
    yield server
    await server.stop()


def port_of(server: LiveServer) -> int:
    return int(server.app.state.email.smtp.port)


async def settled(client: httpx.AsyncClient, conversation_id: str, seq: int) -> dict[str, Any]:
    """The message once the outbox has delivered (or given up on) it."""
    for _ in range(300):
        found = [m for m in await messages(client, conversation_id) if m["seq"] == seq]
        if found and found[0]["delivery_status"] in ("sent", "failed"):
            return dict(found[0])
        await asyncio.sleep(0.05)
    raise AssertionError(f"message {seq} was never delivered")


async def test_agent_reply_is_sent_with_threading_headers_and_threads_back(
    client: httpx.AsyncClient, server: LiveServer, capture: CaptureSmtp
) -> None:
    inbox = await make_inbox(client, name="客服中心", smtp=capture.smtp_config())
    port = port_of(server)
    first = simple("Router broken", "My router is broken.", message_id="c1@example.com",
                   sender="王小明 <customer@example.com>")
    assert (await deliver(port, first, [SUPPORT]))[0] == 250
    (conv,) = await conversations(client, inbox)
    upload = await client.post("/api/v1/attachments", files={
        "file": ("guide.png", PNG, "image/png")}, data={"conversation_id": conv["id"]})
    assert upload.status_code == 201, upload.text
    r = await client.post(f"/api/v1/conversations/{conv['id']}/messages", json={
        "body": "请重启光猫后再试。\n详情 https://help.example.com/a/1",
        "attachment_ids": [upload.json()["id"]]})
    assert r.status_code in (200, 201), r.text
    (caught,) = await capture.wait(1)
    assert caught.tls and caught.user == SMTP_USER
    assert caught.mail_from == SUPPORT and caught.rcpt_tos == ["customer@example.com"]
    mail = caught.message
    token = threads.tag(uuid.UUID(conv["id"]))
    assert mail["Subject"] == f"Re: Router broken {token}"
    assert mail["From"].addresses[0].display_name == "客服中心"
    assert mail["To"].addresses[0].addr_spec == "customer@example.com"
    assert mail["In-Reply-To"] == "<c1@example.com>"
    assert mail["References"] == "<c1@example.com>"
    assert mail["Auto-Submitted"] == "no"
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and "请重启光猫后再试。" in plain.get_content()
    assert html is not None and '<a href="https://help.example.com/a/1">' in html.get_content()
    (att,) = list(mail.iter_attachments())
    assert att.get_filename() == "guide.png" and att.get_content() == PNG
    sent = await settled(client, conv["id"], 2)
    assert sent["delivery_status"] == "sent"
    assert f"<{sent['external_id']}>" == mail["Message-ID"]
    assert sent["external_id"].startswith(f"od.{uuid.UUID(sent['id']).hex}.")
    # The customer answers our mail under another subject: threaded by In-Reply-To.
    answer = simple("thanks", "It works now.", message_id="c2@example.com",
                    headers=f"In-Reply-To: {mail['Message-ID']}\r\n")
    assert (await deliver(port, answer, [SUPPORT]))[0] == 250
    assert [m["body"] for m in await messages(client, conv["id"])][-1] == "It works now."
    assert len(await conversations(client, inbox)) == 1
    # A bounce of our message: marked failed, a note for the agents, nobody answered.
    bounce = fixture("postfix_dsn.eml", recipient="customer@example.com",
                     original=sent["external_id"])
    assert (await deliver(port, bounce, [SUPPORT], mail_from=""))[0] == 250
    assert (await deliver(port, bounce, [SUPPORT], mail_from=""))[0] == 250  # retried
    msgs = await messages(client, conv["id"])
    ours = next(m for m in msgs if m["id"] == sent["id"])
    assert ours["delivery_status"] == "failed"
    assert ours["data"]["delivery"]["bounce"]["status"] == "5.1.1"
    notes = [m for m in msgs if m["is_note"]]
    assert len(notes) == 1 and "customer@example.com 5.1.1" in notes[0]["body"]
    assert len(await conversations(client, inbox)) == 1  # no conversation with the daemon
    assert len(capture.caught) == 1


async def test_refused_recipient_fails_permanently_with_the_reason(
    client: httpx.AsyncClient, server: LiveServer, capture: CaptureSmtp
) -> None:
    inbox = await make_inbox(client, smtp=capture.smtp_config())
    capture.refuse["gone@example.com"] = "550 5.1.1 <gone@example.com>: user unknown"
    first = simple("hello", "hi", message_id="g1@example.com", sender="gone@example.com")
    assert (await deliver(port_of(server), first, [SUPPORT]))[0] == 250
    (conv,) = await conversations(client, inbox)
    r = await client.post(f"/api/v1/conversations/{conv['id']}/messages",
                          json={"body": "Hello!"})
    assert r.status_code in (200, 201)
    failed = await settled(client, conv["id"], 2)
    assert failed["delivery_status"] == "failed"
    assert "550" in failed["data"]["delivery"]["detail"]
    assert capture.caught == []


async def test_confident_intent_gets_an_automatic_answer_but_never_auto_mail(
    client: httpx.AsyncClient, server: LiveServer, capture: CaptureSmtp, db: Database,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await make_inbox(client, smtp=capture.smtp_config(),
                             public_url="https://help.example.com")
    group = uuid.uuid4()
    async with db.transaction() as session:
        session.add(Article(group_id=group, locale="zh-CN", title="光猫重启",
                            body="拔掉光猫电源，等待 30 秒后重新插上。\n\n更多步骤……",
                            status="published", visibility="public",
                            example_questions=["宽带断了怎么办", "家里上不了网", "光猫红灯亮了",
                                               "宽带连不上", "网络一直掉线"]))
        session.add(Article(group_id=uuid.uuid4(), locale="zh-CN", title="如何开具发票",
                            body="登录网上营业厅，选择电子发票下载。", status="published",
                            visibility="public",
                            example_questions=["我要开发票", "发票在哪里下载", "电子发票怎么获取",
                                               "怎么开增值税发票", "帮我开一张发票"]))
        session.add(KbSetting(key="bot", value={"email_auto_reply": {
            "enabled": True, "inbox_ids": [inbox["id"]], "intents": []}}))
    async with db.transaction() as session:
        await bot_model.do_train(session)  # the real intent classifier
    seen: list[int] = []
    real = autoreply.current_classifier

    async def counting(session: Any) -> Any:
        seen.append(1)
        return await real(session)

    monkeypatch.setattr(autoreply, "current_classifier", counting)
    port = port_of(server)
    ask = simple("宽带断线", "宽带断了怎么办？", message_id="q1@example.com")
    assert (await deliver(port, ask, [SUPPORT]))[0] == 250
    (caught,) = await capture.wait(1)
    mail = caught.message
    assert mail["Auto-Submitted"] == "auto-replied" and mail["In-Reply-To"] == "<q1@example.com>"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "拔掉光猫电源" in text and "https://help.example.com/help/articles/" in text
    assert "直接回复本邮件" in text  # how to reach a person
    (conv,) = await conversations(client, inbox)
    first, bot = await messages(client, conv["id"])
    assert first["data"]["intent"] == f"article:{group}"
    assert bot["sender_type"] == "bot" and bot["data"]["bot"]["kind"] == "email_auto_reply"
    # Automatic mail asking the same: stored, classified not at all, never answered.
    ooo = simple("宽带断线", "宽带断了怎么办？", message_id="q2@example.com",
                 sender="robot@example.com", headers="Auto-Submitted: auto-replied\r\n")
    classified = len(seen)
    assert (await deliver(port, ooo, [SUPPORT]))[0] == 250
    assert len(seen) == classified
    # Below the admin's threshold: no answer either.
    async with db.transaction() as session:
        row = await session.get(KbSetting, "bot")
        assert row is not None
        row.value = {**row.value, "min_confidence": 0.999}
    unsure = simple("宽带", "宽带断了怎么办？", message_id="q3@example.com",
                    sender="third@example.com")
    assert (await deliver(port, unsure, [SUPPORT]))[0] == 250
    convs = await conversations(client, inbox)
    assert len(convs) == 3
    for c in convs:
        if c["id"] != conv["id"]:
            assert [m["sender_type"] for m in await messages(client, c["id"])] == ["contact"]
    assert len(capture.caught) == 1
