"""The MIME layer on recorded shapes of real clients' mail (Foxmail GBK, Outlook Big5,
QQ Mail GB18030, Gmail HTML-only, Postfix DSN, Exchange out-of-office), and the small
pure parts: loop detection, the rate limiter, conversation tokens, subjects."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from omnidesk.channels.email import parse_listen, threads
from omnidesk.channels.email.charsets import decode_bytes, decode_words
from omnidesk.channels.email.config import ConfigError, EmailConfig
from omnidesk.channels.email.inbound import clean_subject
from omnidesk.channels.email.mime import MalformedMail, parse
from omnidesk.channels.email.noise import RateLimiter, automatic
from omnidesk.channels.email.quoting import fold

FIXTURES = Path(__file__).parent / "fixtures" / "email"


def fixture(name: str, **values: str) -> bytes:
    raw = (FIXTURES / name).read_bytes()
    for key, value in values.items():
        raw = raw.replace(f"${key}".encode(), value.encode())
    return raw


def test_foxmail_gb2312_label_with_gbk_characters() -> None:
    mail = parse(fixture("foxmail_gbk.eml"))
    assert mail.sender.name == "王小明" and mail.sender.address == "wang.xiaoming@example.com"
    assert mail.subject == "宽带又断了，请帮忙"
    assert "朱镕基路" in mail.body  # 镕 is GBK, not GB2312: decoded as GB18030
    assert mail.charset == "gb18030" and mail.quoted == ""
    assert mail.html is not None and "朱镕基路" in mail.html and "<script" not in mail.html
    assert mail.message_id == "202403041015001234567@example.com" and automatic(mail) is None


def test_outlook_big5_quoted_printable_folds_the_outlook_header_block() -> None:
    mail = parse(fixture("outlook_big5.eml"))
    assert mail.sender.name == "陳大文" and mail.subject == "回覆: 帳單問題"
    assert mail.body == "您好，\n\n我的帳單金額不對，請幫我確認。\n\n陳大文"
    assert mail.quoted.startswith("____") and "寄件者: 客服中心" in mail.quoted
    assert "請問有什麼可以幫您" in mail.quoted and "請問" not in mail.body


def test_qq_gb18030_split_encoded_words_signature_quote_and_attachments() -> None:
    mail = parse(fixture("qq_gb18030_reply.eml", parent="od.x@omnidesk.test"))
    assert mail.subject == "回复：宽带又断了，请帮忙"
    assert mail.body == "还是不行，截图附上。㐀"  # a GB18030 four-byte character survives
    assert mail.signature == "发自我的iPhone"
    assert mail.quoted.startswith("------------------ 原始邮件")
    assert mail.thread_ids == ["od.x@omnidesk.test", "202403041015001234567@example.com"]
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("截图.png", "image/png"), ("setup.exe", "application/x-msdownload")]


def test_html_only_mail_is_read_as_text_and_sanitised() -> None:
    mail = parse(fixture("gmail_html_only.eml"))
    assert mail.body.startswith("I'd like a refund for order 123 — it arrived broken.")
    assert mail.quoted.startswith("On Tue, 5 Mar 2024 at 10:00, Support")
    assert mail.html is not None
    assert "onerror" not in mail.html and "javascript:" not in mail.html


def test_dsn_bounce_names_the_original_message() -> None:
    mail = parse(fixture("postfix_dsn.eml", recipient="gone@example.com",
                         original="od.abc@omnidesk.test"))
    assert mail.bounce is not None and mail.bounce.permanent
    assert mail.bounce.status == "5.1.1" and mail.bounce.recipient == "gone@example.com"
    assert mail.bounce.original_message_id == "od.abc@omnidesk.test"
    assert automatic(mail) == "bounce"


@pytest.mark.parametrize(("headers", "reason"), [
    ("Auto-Submitted: auto-generated\r\n", "auto-submitted: auto-generated"),
    ("Auto-Submitted: no\r\n", None),
    ("Precedence: bulk\r\n", "precedence: bulk"),
    ("Precedence: junk\r\n", "precedence: junk"),
    ("Precedence: list\r\n", "precedence: list"),
    ("X-Autoreply: yes\r\n", "x-autoreply"),
    ("List-Id: <news.example.com>\r\n", "mailing list"),
    ("", None),
])
def test_automatic_mail_is_recognised(headers: str, reason: str | None) -> None:
    raw = (f"From: a@example.com\r\nTo: support@omnidesk.test\r\nSubject: hi\r\n{headers}"
           "Message-ID: <1@example.com>\r\n\r\nhello\r\n").encode()
    assert automatic(parse(raw)) == reason


def test_postmaster_sender_is_a_bounce_even_without_a_report() -> None:
    raw = (b"From: postmaster@example.net\r\nSubject: failure notice\r\n\r\n"
           b"Sorry, 5.2.2 mailbox full\r\n")
    mail = parse(raw)
    assert mail.bounce is not None and automatic(mail) == "bounce"
    assert mail.bounce.status == "5.2.2"


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"Subject: no sender\r\n\r\nbody\r\n",
                                 b"\x00\xff\xfe garbage without headers"])
def test_unreadable_mail_raises_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedMail):
        parse(raw)


def test_envelope_sender_stands_in_for_a_missing_from() -> None:
    mail = parse(b"Subject: hi\r\n\r\nbody\r\n", envelope_sender="Someone@Example.com")
    assert mail.sender.address == "someone@example.com"
    assert not mail.has_message_id and mail.message_id.endswith("@no-message-id.omnidesk")


def test_charset_guessing_without_a_declaration() -> None:
    assert decode_bytes("退款到账了吗".encode("gbk"), None)[0] == "退款到账了吗"
    assert decode_bytes("退款到賬了嗎".encode("big5"), None)[0] == "退款到賬了嗎"
    assert decode_bytes("退款".encode(), "gb2312")[0] == "退款"  # mislabelled UTF-8
    assert decode_words("=?GBK?B?1dSjrA==?= =?GBK?B?xOO6ww==?=") == "赵，你好"


def test_fold_keeps_text_when_everything_looks_quoted() -> None:
    folded = fold("> only a quote\n> nothing else")
    assert folded.body == "> only a quote\n> nothing else" and folded.quoted == ""


def test_rate_limiter_sliding_window() -> None:
    now = [1000.0]
    limiter = RateLimiter(window=60, clock=lambda: now[0])
    assert [limiter.allow("a@x.cn", 2) for _ in range(3)] == [True, True, False]
    assert limiter.allow("b@x.cn", 2)  # per sender
    now[0] += 59.9
    assert not limiter.allow("a@x.cn", 2)
    now[0] += 0.2
    assert limiter.allow("a@x.cn", 2)


def test_tokens_subjects_and_config() -> None:
    cid = uuid.UUID("0190b0a0-0000-7000-8000-000000000001")
    token = threads.token_of(cid)
    assert len(token) == 8 and token == threads.token_of(cid)
    assert token != threads.token_of(uuid.UUID("0190b0a0-0000-7000-8000-000000000002"))
    assert threads.subject_tokens(f"Re: 宽带 {threads.tag(cid)}") == [token]
    assert clean_subject(f"回复：Re: FW: 宽带又断了 {threads.tag(cid)}") == "宽带又断了"
    assert clean_subject("Re[2]: 答复: Billing") == "Billing"
    cfg = EmailConfig.from_dict({"address": "Support@Example.COM",
                                 "smtp": {"host": "smtp.example.com"}})
    assert cfg.address == "support@example.com" and cfg.smtp is not None
    assert cfg.smtp.port == 587 and cfg.smtp.starttls and cfg.imap is None
    for bad in ({}, {"address": "nobody"}, {"address": "a@b.c", "smtp": {}},
                {"address": "a@b.c", "rate_limit_per_minute": 0},
                {"address": "a@b.c", "imap": {"host": "h"}},
                {"address": "a@b.c", "smtp": {"host": "h", "port": 70000}}):
        with pytest.raises(ConfigError):
            EmailConfig.from_dict(bad)
    assert parse_listen("0.0.0.0:2525") == ("0.0.0.0", 2525)
    assert parse_listen(":25") == ("127.0.0.1", 25)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen("localhost:smtp")


def test_raw_8bit_headers_in_utf8_and_gbk() -> None:
    utf8 = "From: 王小明 <a@example.com>\r\nSubject: 宽带断线\r\n\r\nx\r\n".encode()
    mail = parse(utf8)
    assert mail.subject == "宽带断线" and mail.sender.name == "王小明"
    gbk = "From: 陈大文 <b@example.com>\r\nSubject: 帐单有误\r\n\r\ny\r\n".encode("gbk")
    mail = parse(gbk)
    assert mail.subject == "帐单有误" and mail.sender.name == "陈大文"
