"""The knowledge-base editor over real HTTP on SQLite and PostgreSQL: list and filters,
create and edit with reasons for bad input, the live preview through the help centre's
safe renderer (script injection comes out inert), versions with escaped diffs,
translations of the same group, the owner's stale list, CSRF and roles."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select

from omnidesk.kit.db import Database
from omnidesk.kit.time import utcnow
from omnidesk.models import Article, ArticleVersion, User
from tests.conftest import LiveServer
from tests.web.test_supervisor import signed_in

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def post(web: httpx.AsyncClient, csrf: str, url: str, data: dict[str, object],
               ) -> httpx.Response:
    return await web.post(url, data={**data, "csrf_token": csrf}, follow_redirects=False)


def article_form(**over: object) -> dict[str, object]:
    form: dict[str, object] = {
        "title": "宽带断线怎么办", "body": "## 先重启光猫\n\n然后检查**网线**。",
        "locale": "zh-CN", "visibility": "public", "product": "宽带",
        "tags": "宽带, 断线，故障", "example_questions": "宽带断了\n\n网络连不上 \n",
        "review_by": "", "status": "published", "owner_id": ""}
    form.update(over)
    return form


def created_id(r: httpx.Response) -> uuid.UUID:
    assert r.status_code == 303, r.text
    match = re.fullmatch(r"/agent/admin/kb/([0-9a-f-]{36})\?saved=1", r.headers["location"])
    assert match, r.headers["location"]
    return uuid.UUID(match.group(1))


async def test_create_edit_versions_and_translations(server: LiveServer, db: Database) -> None:
    web, csrf = await signed_in(server, db, "admin", "kb-admin@omnidesk.test")
    try:
        async with db.transaction() as s:
            me = await s.scalar(select(User).where(User.email == "kb-admin@omnidesk.test"))
        assert me is not None
        r = await web.get("/agent/admin/kb/new")
        assert r.status_code == 200 and 'name="csrf_token"' in r.text
        assert f'<option value="{me.id}" selected>' in r.text  # the author owns it by default

        article_id = created_id(await post(web, csrf, "/agent/admin/kb",
                                           article_form(owner_id=str(me.id))))
        async with db.transaction() as s:
            a = await s.get(Article, article_id)
            assert a is not None
            assert a.tags == ["宽带", "断线", "故障"]
            assert a.example_questions == ["宽带断了", "网络连不上"]
            assert a.owner_id == me.id and a.status == "published" and a.version == 1

        page = (await web.get(f"/agent/admin/kb/{article_id}?saved=1")).text
        assert 'role="status"' in page and "<h2>先重启光猫</h2>" in page  # preview rendered
        assert f'href="/help/articles/{article_id}"' in page

        # Saving unchanged text makes no new version; changing it does, with a diff.
        form = article_form(owner_id=str(me.id), version="1")
        del form["locale"]
        assert (await post(web, csrf, f"/agent/admin/kb/{article_id}", form)).status_code == 303
        form2 = {**form, "body": "## 先重启光猫\n\n然后检查网线和 " + XSS, "version": "1"}
        assert (await post(web, csrf, f"/agent/admin/kb/{article_id}", form2)
                ).status_code == 303
        async with db.transaction() as s:
            versions = list(await s.scalars(select(ArticleVersion).where(
                ArticleVersion.article_id == article_id).order_by(ArticleVersion.version)))
        assert [v.version for v in versions] == [1, 2]
        assert versions[1].author == "user:admin 用户" and XSS in versions[1].diff

        page = (await web.get(f"/agent/admin/kb/{article_id}")).text
        assert "<script>" not in page and "onerror=alert" not in page.replace(
            "&lt;img src=x onerror=alert(1)&gt;", "")
        assert '<span class="d-add">+然后检查网线和 &lt;script&gt;alert(&#34;x&#34;)' in page
        assert '<span class="d-del">-然后检查**网线**。</span>' in page

        # A save on top of an older version is refused with the reason; the text stays.
        stale_save = {**form, "body": "我的改动", "version": "1"}
        r = await post(web, csrf, f"/agent/admin/kb/{article_id}", stale_save)
        assert r.status_code == 409 and "version 2" in r.text.replace("版本 2", "version 2")
        assert "我的改动" in r.text and 'name="version" value="2"' in r.text

        # Translations: the other locales are offered; the new one joins the group.
        assert f"/agent/admin/kb/new?group={a.group_id}&amp;locale=en" in page
        r = await web.get(f"/agent/admin/kb/new?group={a.group_id}&locale=en")
        assert r.status_code == 200 and f'name="group_id" value="{a.group_id}"' in r.text
        assert '<option value="en" selected>' in r.text and "宽带" in r.text
        en_id = created_id(await post(web, csrf, "/agent/admin/kb", article_form(
            title="Broadband keeps dropping", body="Restart the modem.", locale="en",
            group_id=str(a.group_id))))
        again = await post(web, csrf, "/agent/admin/kb", article_form(
            title="Another English one", locale="en", group_id=str(a.group_id)))
        assert again.status_code == 409 and "already has an article in this locale" in again.text
        assert "Another English one" in again.text
        page = (await web.get(f"/agent/admin/kb/{article_id}")).text
        assert f'href="/agent/admin/kb/{en_id}"' in page and "Broadband keeps dropping" in page
        assert f"group={a.group_id}&amp;locale=zh-TW" in page
        assert f"group={a.group_id}&amp;locale=en" not in page
    finally:
        await web.aclose()


async def test_bad_input_gets_reasons(server: LiveServer, db: Database) -> None:
    web, csrf = await signed_in(server, db, "admin")
    try:
        cases = [
            (article_form(title="  "), "title"),
            (article_form(body=""), "body"),
            (article_form(locale="fr"), "locale is one of zh-CN, zh-TW, en"),
            (article_form(visibility="secret"), "visibility"),
            (article_form(status="live"), "status"),
            (article_form(review_by="2026-13-45"), "review_by"),
            (article_form(owner_id="nobody"), "owner_id"),
            (article_form(owner_id=str(uuid.uuid4())), "owner not found"),
            (article_form(group_id=str(uuid.uuid4())), "no article in that group"),
            (article_form(group_id="garbage"), "group_id"),
        ]
        for data, reason in cases:
            r = await post(web, csrf, "/agent/admin/kb", {**data, "title": data["title"]})
            assert r.status_code == 422, (data, r.status_code)
            assert 'role="alert"' in r.text and reason in r.text, (reason, r.text[:3000])
            assert "宽带" in r.text  # what was typed is kept
        async with db.transaction() as s:
            assert await s.scalar(select(Article.id)) is None
        r = await web.get(f"/agent/admin/kb/{uuid.uuid4()}")
        assert r.status_code == 404
        r = await post(web, csrf, f"/agent/admin/kb/{uuid.uuid4()}", article_form())
        assert r.status_code == 404
        article_id = created_id(await post(web, csrf, "/agent/admin/kb", article_form()))
        form = article_form(review_by="yesterday")
        del form["locale"]
        r = await post(web, csrf, f"/agent/admin/kb/{article_id}", form)
        assert r.status_code == 422 and "review_by" in r.text and 'value="yesterday"' in r.text
    finally:
        await web.aclose()


async def test_preview_is_the_safe_renderer(server: LiveServer, db: Database) -> None:
    web, csrf = await signed_in(server, db, "admin")
    try:
        body = ("# 标题\n\n" + XSS + "\n\n[click](javascript:alert(1)) "
                '<a href="javascript:alert(2)">x</a>\n\n- 一\n- 二')
        r = await web.post("/agent/admin/kb/preview", data={"body": body},
                           headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
        assert r.status_code == 200
        html = r.text
        assert "<h1>标题</h1>" in html and "<li>一</li>" in html
        assert "<script" not in html and "<img" not in html and "<a href=\"javascript" not in html
        assert "&lt;script&gt;" in html and "javascript:alert(1)" not in html.replace(
            "[click](javascript:alert(1))", "")
        # without the CSRF token: refused
        r = await web.post("/agent/admin/kb/preview", data={"body": "x"})
        assert r.status_code == 403 and "CSRF" in r.text
        r = await web.post("/agent/admin/kb/preview", data={"body": "x" * 200_001},
                           headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422 and "200000" in r.text
    finally:
        await web.aclose()


async def test_list_filters_and_stale_for_the_owner(server: LiveServer, db: Database) -> None:
    web, _ = await signed_in(server, db, "admin", "owner@omnidesk.test")
    try:
        async with db.transaction() as s:
            me = await s.scalar(select(User).where(User.email == "owner@omnidesk.test"))
            assert me is not None
            past = utcnow().date() - timedelta(days=3)
            gid = uuid.uuid4
            s.add_all([
                Article(group_id=gid(), locale="zh-CN", title="过期的<b>宽带</b>文章", body="x",
                        status="published", visibility="public", review_by=past,
                        owner_id=me.id),
                Article(group_id=gid(), locale="en", title="Internal roaming notes",
                        body="Roaming fees apply", status="published", visibility="internal"),
                Article(group_id=gid(), locale="zh-TW", title="寬頻草稿", body="y",
                        status="draft", visibility="public"),
                Article(group_id=gid(), locale="zh-CN", title="没人喜欢的文章", body="z",
                        status="published", visibility="public", helpful_yes=2,
                        helpful_no=9),
            ])

        async def titles(query: str) -> list[str]:
            r = await web.get("/agent/admin/kb" + query)
            assert r.status_code == 200
            table = r.text.split('class="rows kb-articles"')[1]
            return re.findall(r'<a href="/agent/admin/kb/[0-9a-f-]{36}">([^<]*(?:&lt;[^<]*)*)</a>',
                              table)

        assert len(await titles("")) == 4
        assert await titles("?locale=en") == ["Internal roaming notes"]
        assert await titles("?visibility=internal&status=published") == [
            "Internal roaming notes"]
        assert await titles("?status=draft") == ["寬頻草稿"]
        assert await titles("?q=ROAMING+FEES") == ["Internal roaming notes"]
        assert sorted(await titles("?stale=true")) == sorted(
            ["过期的&lt;b&gt;宽带&lt;/b&gt;文章", "没人喜欢的文章"])
        page = (await web.get("/agent/admin/kb")).text
        mine = page.split('id="stale-mine"')[1].split("</section>")[0]
        assert "过期的&lt;b&gt;宽带&lt;/b&gt;文章" in mine and "没人喜欢" not in mine
        assert "<b>宽带</b>" not in page
        r = await web.get("/agent/admin/kb?stale=maybe")
        assert r.status_code == 422
    finally:
        await web.aclose()


async def test_csrf_and_roles(server: LiveServer, db: Database) -> None:
    web, csrf = await signed_in(server, db, "admin")
    agent, agent_csrf = await signed_in(server, db, "agent")
    try:
        r = await web.post("/agent/admin/kb", data=article_form(), follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text
        r = await post(web, "wrong-token", "/agent/admin/kb", article_form())
        assert r.status_code == 403
        article_id = created_id(await post(web, csrf, "/agent/admin/kb", article_form()))
        r = await web.post(f"/agent/admin/kb/{article_id}", data=article_form(title="改"),
                           follow_redirects=False)
        assert r.status_code == 403
        assert (await agent.get("/agent/admin/kb")).status_code == 403
        assert (await post(agent, agent_csrf, "/agent/admin/kb", article_form())
                ).status_code == 403
        async with db.transaction() as s:
            a = await s.get(Article, article_id)
            assert a is not None and a.title == "宽带断线怎么办"
        anon = httpx.AsyncClient(base_url=server.url)
        r = await anon.get("/agent/admin/kb", follow_redirects=False)
        assert r.status_code == 303 and "/agent/login" in r.headers["location"]
        await anon.aclose()
        nav = (await web.get("/agent/admin/users")).text
        assert 'href="/agent/admin/kb"' in nav
    finally:
        await web.aclose()
        await agent.aclose()
