"""As a person would: an agent signs in, a visitor chats, the context shows the failed
payment, the agent replies, the visitor sees it; the UI switches to zh-TW; resolve."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from omnidesk.kit.db import Database
from omnidesk.kit.security import sign_value
from tests.conftest import LiveServer, make_user
from tests.e2e.conftest import SCREENSHOTS


async def sign_in(page: Page, server: LiveServer, email: str, password: str) -> None:
    await page.goto(f"{server.url}/agent")
    await expect(page).to_have_url(re.compile(r"/agent/login"))
    await page.get_by_label(re.compile("邮箱|E-mail|電子郵件")).fill(email)
    await page.get_by_label(re.compile("密码|Password|密碼")).fill(password)
    await page.get_by_role("button", name=re.compile("登录|Sign in|登入")).click()
    await expect(page).to_have_url(f"{server.url}/agent")


async def live_console(browser: Browser, server: LiveServer, email: str,
                       password: str) -> tuple[BrowserContext, Page]:
    """An agent signed in to the console, its websocket live."""
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1360, "height": 860})
    page = await ctx.new_page()
    await sign_in(page, server, email, password)
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    return ctx, page


async def open_widget(browser: Browser, server: LiveServer, inbox_id: str,
                      app_user: str) -> tuple[BrowserContext, Page, Locator]:
    """A signed-in app user on a phone-sized page with the chat widget open; the text box."""
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 760})
    page = await ctx.new_page()
    signed = sign_value("test-secret-key-123", app_user)
    await page.goto(f"{server.url}/widget/demo?inbox={inbox_id}&app_user={signed}")
    await page.get_by_role("button", name="联系客服").click()
    return ctx, page, page.get_by_role("textbox", name=re.compile("请输入"))


async def test_live_chat_with_context_reply_locale_and_resolve(
    server: LiveServer, client: httpx.AsyncClient, db: Database, browser: Browser
) -> None:
    await make_user(db, "mei@omnidesk.test", "agent", password="agent-pass-1", name="李美")
    inbox = (await client.post("/api/v1/inboxes", json={
        "channel": "web_chat", "name": "官网在线客服"})).json()
    await client.post("/api/v1/events", json={
        "source": "payments", "id": "pay-1", "type": "payment.failed",
        "occurred_at": "2026-11-24T03:00:00Z", "contact": {"app_user_id": "u-1001"},
        "contact_name": "王小明", "summary": "Payment of 199.00 CNY failed: insufficient balance",
        "data": {"reason": "insufficient balance", "amount": "199.00"}})
    _, agent = await live_console(browser, server, "mei@omnidesk.test", "agent-pass-1")
    _, visitor, box = await open_widget(browser, server, inbox["id"], "u-1001")
    await box.fill("我的话费扣款失败了，怎么办？")
    await box.press("Enter")

    # the conversation appears in the agent's inbox without a reload
    row = agent.get_by_role("link", name="王小明")
    await expect(row).to_be_visible(timeout=10_000)
    await row.click()
    context = agent.get_by_role("complementary", name="客户信息")
    await expect(context).to_contain_text("insufficient balance")
    await expect(context).to_contain_text("payment.failed")
    await expect(agent.locator("#thread")).to_contain_text("我的话费扣款失败了")
    await agent.screenshot(path=str(SCREENSHOTS / "agent-conversation.png"))

    answer = "您好，余额不足导致扣款失败，充值后会自动重试。"
    await agent.get_by_role("textbox", name="回复").fill(answer)
    await agent.get_by_role("button", name="发送").click()
    log = visitor.locator(".odw-log")
    await expect(log).to_contain_text("余额不足导致扣款失败", timeout=10_000)
    await visitor.screenshot(path=str(SCREENSHOTS / "widget-phone.png"))

    # the UI in traditional Chinese
    await agent.get_by_label("语言").select_option("zh-TW")
    await expect(agent.get_by_role("button", name="解決")).to_be_visible()
    await expect(agent.get_by_role("complementary", name="客戶資訊")).to_be_visible()
    await agent.get_by_role("button", name="解決").click()
    await expect(agent.locator("#conv-status")).to_have_text("已解決")
    messages = (await client.get("/api/v1/conversations", params={"status": "resolved"})).json()
    assert len(messages["items"]) == 1
    await agent.goto(f"{server.url}/agent")
    await agent.screenshot(path=str(SCREENSHOTS / "agent-inbox.png"))


async def test_script_injection_is_shown_as_text(
    server: LiveServer, client: httpx.AsyncClient, db: Database, browser: Browser
) -> None:
    await make_user(db, "x@omnidesk.test", "agent", password="agent-pass-1")
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "API"})).json()
    evil = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "evil@example.com"}, "contact_name": evil, "body": evil})
    conv_id = r.json()["conversation"]["id"]
    page = await (await browser.new_context(locale="en-US")).new_page()
    await sign_in(page, server, "x@omnidesk.test", "agent-pass-1")
    await page.goto(f"{server.url}/agent/conversations/{conv_id}")
    await expect(page.locator("#thread")).to_contain_text("<script>window.pwned=2</script>")
    assert await page.evaluate("window.pwned") is None
    await page.goto(f"{server.url}/agent")
    await expect(page.locator("#list")).to_contain_text("onerror")
    assert await page.evaluate("window.pwned") is None
