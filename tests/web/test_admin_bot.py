"""The bot settings page over real HTTP on SQLite and PostgreSQL: the settings form
(validated like the API, reasons shown, 4xx), the CSV import of labelled utterances with
clear errors, "train now", and the models with their metrics; CSRF and roles."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from omnidesk.bot import engine
from omnidesk.kit.db import Database
from omnidesk.kit.ids import new_id
from omnidesk.models import Article, Inbox, NluModel, NluUtterance
from tests.conftest import LiveServer
from tests.web.test_supervisor import signed_in

GOOD_CSV = ("text,label\n查一下话费,billing\n我的账单多少钱,billing\n"
            "宽带坏了,broadband\n寬頻斷線了,broadband\n"
            '"<script>alert(1)</script>, hi",<b>evil</b>\n').encode()


async def post(web: httpx.AsyncClient, csrf: str, url: str, data: dict[str, object],
               ) -> httpx.Response:
    return await web.post(url, data={**data, "csrf_token": csrf}, follow_redirects=False)


async def upload(web: httpx.AsyncClient, csrf: str, content: bytes, name: str = "u.csv",
                 replace: bool = False) -> httpx.Response:
    data = {"csrf_token": csrf, **({"replace": "true"} if replace else {})}
    return await web.post("/agent/admin/bot/utterances", data=data,
                          files={"file": (name, content, "text/csv")}, follow_redirects=False)


async def test_settings_saved_and_validated(server: LiveServer, db: Database) -> None:
    web, csrf = await signed_in(server, db, "admin")
    try:
        async with db.transaction() as s:
            mail = Inbox(channel="email", name="客服邮箱")
            chat = Inbox(channel="web_chat", name="官网")
            s.add_all([mail, chat])
        page = (await web.get("/agent/admin/bot")).text
        assert 'name="channels" value="web_chat" checked' in page  # the defaults
        assert 'name="channels" value="email" >' in page or 'value="email" checked' not in page
        assert "客服邮箱" in page and "官网" not in page.split('name="inbox_ids"')[1][:400]

        good = {"enabled": "true", "channels": ["web_chat", "wechat"],
                "always_human_tiers": ["strategic"], "max_unhelpful": "3",
                "min_confidence": "0.72", "email_enabled": "true",
                "inbox_ids": [str(mail.id)], "intents": ["billing"]}
        r = await post(web, csrf, "/agent/admin/bot/settings", good)
        assert r.status_code == 303 and r.headers["location"] == "/agent/admin/bot?saved=1"
        async with db.transaction() as s:
            config = await engine.settings(s)
        assert config == {"enabled": True, "channels": ["web_chat", "wechat"],
                          "always_human_tiers": ["strategic"], "max_unhelpful": 3,
                          "min_confidence": 0.72,
                          "email_auto_reply": {"enabled": True, "inbox_ids": [str(mail.id)],
                                               "intents": ["billing"]}}
        page = (await web.get("/agent/admin/bot?saved=1")).text
        assert 'role="status"' in page and 'value="0.72"' in page
        assert 'name="channels" value="app_chat" >' in page  # now unticked
        assert f'<option value="{mail.id}" selected>' in page
        assert '<option value="billing" selected>' in page

        bad = [
            ({"max_unhelpful": "9"}, "max_unhelpful: Input should be less than or equal to 5"),
            ({"max_unhelpful": "two"}, "max_unhelpful"),
            ({"min_confidence": "high"}, "min_confidence"),
            ({"min_confidence": "1.5"}, "min_confidence: Input should be less than or equal"),
            ({"channels": ["web_chat", "fax"]}, "unknown channel &#39;fax&#39;"),
            ({"inbox_ids": [str(chat.id)]}, "is not an e-mail inbox"),
            ({"inbox_ids": ["not-a-uuid"]}, "email_auto_reply.inbox_ids.0"),
        ]
        for change, reason in bad:
            r = await post(web, csrf, "/agent/admin/bot/settings", {**good, **change})
            assert r.status_code == 422, (change, r.status_code)
            assert 'id="settings-error"' in r.text and reason in r.text, (reason, r.text[:2000])
        r = await post(web, csrf, "/agent/admin/bot/settings", {**good, "max_unhelpful": "9"})
        assert 'name="max_unhelpful" min="1" max="5" value="9"' in r.text  # typed is kept
        async with db.transaction() as s:
            assert (await engine.settings(s))["max_unhelpful"] == 3  # unchanged

        # Switching the bot off with nothing ticked is valid: empty lists, no auto-reply.
        r = await post(web, csrf, "/agent/admin/bot/settings", {"max_unhelpful": "2"})
        assert r.status_code == 303
        async with db.transaction() as s:
            config = await engine.settings(s)
        assert config["enabled"] is False and config["channels"] == []
        assert config["min_confidence"] is None and not config["email_auto_reply"]["enabled"]
    finally:
        await web.aclose()


async def test_csv_import_train_and_models(server: LiveServer, db: Database) -> None:
    web, csrf = await signed_in(server, db, "admin")
    try:
        r = await post(web, csrf, "/agent/admin/bot/train", {})
        assert r.status_code == 422 and "at least two intents" in r.text
        assert 'id="train-error"' in r.text

        for content, reason in [
            (b"", "the CSV holds no utterances"),
            (b"text,label\n", "the CSV holds no utterances"),
            ("text,label\n只有一列\n".encode(), "row 1: expected text,label"),
            (b"a,b\n,empty\n", "row 2: expected text,label"),
            ("话费,billing\n".encode("gb18030"), "the CSV must be UTF-8"),
        ]:
            r = await upload(web, csrf, content)
            assert r.status_code == 422, (content, r.status_code)
            assert 'id="upload-error"' in r.text and reason in r.text, (reason, r.text[:2000])
        r = await web.post("/agent/admin/bot/utterances", data={"csrf_token": csrf},
                           follow_redirects=False)
        assert r.status_code == 422 and "choose a CSV file" in r.text
        r = await upload(web, csrf, b"x,y\n" * (5 * 1024 * 1024 // 4 + 1))
        assert r.status_code == 413 and "5 MiB" in r.text
        async with db.transaction() as s:
            assert await s.scalar(select(func.count()).select_from(NluUtterance)) == 0

        r = await upload(web, csrf, GOOD_CSV)
        assert r.status_code == 303 and r.headers["location"] == "/agent/admin/bot?imported=5"
        r = await upload(web, csrf, "退订,cancel\n".encode())
        assert r.status_code == 303
        page = (await web.get("/agent/admin/bot?imported=5")).text
        assert "6 utterances in all" in page.replace("共 6 条", "6 utterances in all")
        assert "&lt;b&gt;evil&lt;/b&gt;" in page and "<b>evil</b>" not in page
        assert re.search(r"<td>billing</td><td>2</td>", page)
        r = await upload(web, csrf, "退订,cancel\n查话费,billing\n".encode(), replace=True)
        assert r.status_code == 303
        async with db.transaction() as s:
            labels = sorted(await s.scalars(select(NluUtterance.label)))
            assert labels == ["billing", "cancel"]
            s.add(Article(group_id=new_id(), locale="zh-CN", title="话费查询", body="拨打 10000",
                          status="published", visibility="public",
                          example_questions=["怎么查话费"]))

        r = await post(web, csrf, "/agent/admin/bot/train", {})
        assert r.status_code == 303, r.text
        async with db.transaction() as s:
            trained = await s.scalar(select(NluModel))
        assert trained is not None and r.headers["location"].endswith(str(trained.id))
        assert trained.metrics["examples"] == 4 and trained.metrics["intents"] == 3
        page = (await web.get(r.headers["location"])).text
        models = page.split('class="rows bot-models"')[1].split("</table>")[0]
        assert "<td>4</td><td>3</td>" in models and "in use" in models.replace("使用中", "in use")
        # the article intent is offered by its title for e-mail auto-replies
        assert "话费查询 (zh-CN)</option>" in page
    finally:
        await web.aclose()


async def test_csrf_and_roles(server: LiveServer, db: Database) -> None:
    web, _ = await signed_in(server, db, "admin")
    sup, sup_csrf = await signed_in(server, db, "supervisor")
    try:
        r = await web.post("/agent/admin/bot/settings", data={"max_unhelpful": "4"},
                           follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text
        r = await web.post("/agent/admin/bot/utterances",
                           files={"file": ("u.csv", GOOD_CSV, "text/csv")})
        assert r.status_code == 403
        r = await web.post("/agent/admin/bot/train", data={"csrf_token": "nope"})
        assert r.status_code == 403
        assert (await sup.get("/agent/admin/bot")).status_code == 403
        assert (await post(sup, sup_csrf, "/agent/admin/bot/settings",
                           {"max_unhelpful": "4"})).status_code == 403
        async with db.transaction() as s:
            assert (await engine.settings(s))["max_unhelpful"] == 2
            assert await s.scalar(select(func.count()).select_from(NluUtterance)) == 0
        assert 'href="/agent/admin/bot"' in (await web.get("/agent/admin/users")).text
    finally:
        await web.aclose()
        await sup.aclose()
