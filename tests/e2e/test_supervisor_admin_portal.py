"""As people would: a supervisor watches the queues and the charts, an admin creates an
inbox and mints a token, an agent uses canned responses and attachments, and a customer
signs in to the portal with a one-time code and uploads a document."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import httpx
import pytest
from playwright.async_api import Browser, expect

from omnidesk.kit.db import Database
from omnidesk.kit.time import utcnow
from omnidesk.models import CannedResponse, Case, Contact, Conversation, Inbox, Message
from tests.conftest import LiveServer, make_user
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_agent_console import sign_in

VIEWPORT = {"width": 1360, "height": 860}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def seed_month(db: Database) -> None:
    """A month of history so the charts have something to show."""
    rng = random.Random(7)
    now = utcnow()
    async with db.transaction() as s:
        boxes = [Inbox(channel=ch, name=ch) for ch in ("web_chat", "email", "wechat", "voice")]
        contact = Contact(name="历史客户")
        s.add_all([*boxes, contact])
        await s.flush()
        for day in range(1, 29):
            for box in boxes:
                for _ in range(rng.randint(1, 6)):
                    created = now - timedelta(days=day, minutes=rng.randint(0, 600))
                    bot_only = box.channel == "web_chat" and rng.random() < 0.35
                    c = Conversation(
                        inbox_id=box.id, contact_id=contact.id, channel=box.channel,
                        created_at=created, last_message_at=created, status="resolved",
                        resolved_at=created + timedelta(minutes=rng.randint(20, 900)),
                        first_response_at=None if bot_only else created + timedelta(
                            seconds=rng.randint(30, 1500)))
                    s.add(c)
                    await s.flush()
                    s.add(Message(conversation_id=c.id, seq=1, sender_type="contact",
                                  body="?", created_at=created))
                    s.add(Message(conversation_id=c.id, seq=2,
                                  sender_type="bot" if bot_only else "agent", body="!",
                                  created_at=created + timedelta(minutes=1)))
            s.add(Case(number=f"H-{day}", contact_id=contact.id, type="inquiry", subject="h",
                       created_by="seed", status="closed",
                       closed_at=now - timedelta(days=day),
                       follow_up={"outcome": "satisfaction",
                                  "satisfaction": rng.choice([3, 4, 4, 5, 5])}))


async def test_supervisor_sees_the_queue_and_the_charts(
    server: LiveServer, client: httpx.AsyncClient, db: Database, browser: Browser
) -> None:
    await seed_month(db)
    await make_user(db, "boss@omnidesk.test", "supervisor", password="boss-pass-1",
                    name="赵主管")
    team = (await client.post("/api/v1/teams", json={"name": "宽带组"})).json()
    inbox = (await client.post("/api/v1/inboxes", json={
        "channel": "api", "name": "APP 在线", "team_id": team["id"]})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"phone": "13800138000"}, "contact_name": "陈等待",
        "body": "宽带一直断线，等了好久"})
    assert r.status_code == 201

    page = await (await browser.new_context(locale="zh-CN", viewport=VIEWPORT)).new_page()
    await sign_in(page, server, "boss@omnidesk.test", "boss-pass-1")
    await page.get_by_role("link", name="班长视图").click()
    await expect(page).to_have_url(f"{server.url}/agent/supervisor")
    waiting = page.locator(".waiting-list")
    await expect(waiting.get_by_role("link", name="陈等待")).to_be_visible()
    await expect(page.locator("#queues")).to_contain_text("宽带组")
    await expect(page.locator("#charts")).to_have_attribute("data-state", "ready",
                                                           timeout=10_000)
    drawn = await page.evaluate(
        "() => { const c = document.getElementById('chart-volume');"
        " return !!(window.Chart && window.Chart.getChart(c)) && c.width > 0; }")
    assert drawn
    await expect(page.locator('[data-kpi="volume"]')).not_to_have_text("…")
    # the queues refresh by themselves (htmx polling)
    async with page.expect_response(re.compile(r"/agent/supervisor/queues"), timeout=15_000):
        pass
    await page.screenshot(path=str(SCREENSHOTS / "supervisor.png"), full_page=True)


async def test_admin_creates_an_inbox_and_mints_a_token(
    server: LiveServer, db: Database, browser: Browser
) -> None:
    await make_user(db, "root@omnidesk.test", "admin", password="root-pass-1", name="管理员")
    page = await (await browser.new_context(locale="zh-CN", viewport=VIEWPORT)).new_page()
    await sign_in(page, server, "root@omnidesk.test", "root-pass-1")
    await page.get_by_role("link", name="管理", exact=True).click()
    await page.get_by_role("link", name="收件箱与渠道").click()
    form = page.locator('form[action="/agent/admin/inboxes"]')
    await form.get_by_label("名称").fill("微信服务号")
    await form.get_by_label("渠道").select_option("wechat")
    await form.get_by_label("配置（JSON 对象）").fill('{"app_id": "wx123"')
    await form.get_by_role("button", name="创建收件箱").click()
    await expect(page.get_by_role("alert")).to_contain_text("JSON")
    await form.get_by_label("配置（JSON 对象）").fill('{"app_id": "wx123"}')
    await form.get_by_role("button", name="创建收件箱").click()
    await expect(page.locator("table.rows")).to_contain_text("微信服务号")

    await page.get_by_role("link", name="API 令牌").click()
    await page.get_by_label("名称").fill("计费系统")
    await page.get_by_label("角色").select_option("admin")
    await page.get_by_label("events:write").check()
    await page.get_by_role("button", name="生成令牌").click()
    token = await page.locator("#minted-token").input_value()
    assert token.startswith("od_")
    await page.screenshot(path=str(SCREENSHOTS / "admin.png"))
    async with httpx.AsyncClient(base_url=server.url) as api:
        me = await api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["name"] == "计费系统"
    await page.goto(f"{server.url}/agent/admin/tokens")
    await expect(page.locator("table.rows")).to_contain_text("计费系统")
    assert token not in await page.content()  # shown once only


async def test_agent_inserts_a_canned_response_and_attaches_a_file(
    server: LiveServer, client: httpx.AsyncClient, db: Database, browser: Browser
) -> None:
    await make_user(db, "mei@omnidesk.test", "agent", password="agent-pass-1", name="李美")
    async with db.transaction() as s:
        s.add(CannedResponse(shortcut="hi", title="问候",
                             body="{{contact.name}}您好，我是客服{{agent.name}}。"))
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "A"})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "wang@x.cn"}, "contact_name": "王<b>先生</b>", "body": "你好"})
    conv = r.json()["conversation"]["id"]
    page = await (await browser.new_context(locale="zh-CN", viewport=VIEWPORT)).new_page()
    await sign_in(page, server, "mei@omnidesk.test", "agent-pass-1")
    await page.goto(f"{server.url}/agent/conversations/{conv}")
    box = page.get_by_role("textbox", name="回复")
    await page.get_by_label("快捷回复").select_option(label="/hi · 问候")
    await expect(box).to_have_value("王<b>先生</b>您好，我是客服李美。")
    await box.fill("")
    await box.type("/hi")
    await box.press("Tab")
    await expect(box).to_have_value("王<b>先生</b>您好，我是客服李美。")
    await page.locator("#reply-files").set_input_files(
        files=[{"name": "说明.txt", "mimeType": "text/plain", "buffer": "资费说明".encode()}])
    await expect(page.locator("#reply-attachments")).to_contain_text("说明.txt")
    await page.get_by_role("button", name="发送").click()
    last = page.locator("#thread .msg").last
    await expect(last).to_contain_text("您好，我是客服李美")
    await expect(last.get_by_role("link", name=re.compile("说明.txt"))).to_be_visible()
    await expect(page.locator("#reply-attachments li")).to_have_count(0)
    await expect(box).to_have_value("")


async def test_customer_signs_in_to_the_portal_and_uploads_a_document(
    server: LiveServer, client: httpx.AsyncClient, db: Database, browser: Browser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMNIDESK_PORTAL_SHOW_CODE", "1")
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "企业客服"})
             ).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "li@corp.cn"}, "contact_name": "李经理",
        "body": "我们要开通企业宽带，需要提交哪些资料？", "subject": "企业宽带开通"})
    data = r.json()
    await client.post(f"/api/v1/conversations/{data['conversation']['id']}/messages",
                      json={"body": "请在客户门户上传营业执照和授权委托书。"})
    case = (await client.post("/api/v1/cases", json={
        "contact_id": data["contact_id"], "type": "qualification",
        "subject": "企业宽带资质审核"})).json()

    page = await (await browser.new_context(locale="zh-CN", viewport=VIEWPORT)).new_page()
    await page.goto(f"{server.url}/portal")
    await expect(page).to_have_url(f"{server.url}/portal/sign-in")
    await page.get_by_label("邮箱或手机号").fill("li@corp.cn")
    await page.get_by_role("button", name="获取验证码").click()
    code = (await page.locator("#dev-code").inner_text()).strip()
    assert re.fullmatch(r"\d{6}", code)
    await page.get_by_label("验证码").fill(code)
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(f"{server.url}/portal")
    await expect(page.get_by_role("heading", name="您好，李经理")).to_be_visible()
    await page.screenshot(path=str(SCREENSHOTS / "portal.png"))
    cookies = await page.context.cookies()
    portal_cookie = next(c for c in cookies if c["name"] == "omnidesk_portal")
    assert portal_cookie["httpOnly"] and portal_cookie["sameSite"] == "Lax"
    assert await page.evaluate("document.cookie.includes('omnidesk_portal')") is False

    await page.get_by_role("link", name="企业宽带开通").click()
    await expect(page.locator(".portal-thread")).to_contain_text("请在客户门户上传营业执照")
    await page.get_by_role("link", name=re.compile("返回我的记录")).click()
    await page.get_by_role("link", name=case["number"]).click()
    await page.get_by_label("资料类型").select_option("business_licence")
    await page.get_by_label(re.compile("文件")).set_input_files(files=[{
        "name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    await page.get_by_role("button", name="上传").click()
    await expect(page.get_by_role("status")).to_contain_text("已收到您的资料")
    await expect(page.locator("table.rows")).to_contain_text("营业执照.pdf")
    await expect(page.locator("table.rows")).to_contain_text("审核中")
