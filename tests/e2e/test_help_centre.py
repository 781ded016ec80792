"""The help centre as a customer uses it: a traditional-character query finds an article
written in simplified characters; the article page; a vote; a way to reach a person."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect

from tests.conftest import LiveServer
from tests.e2e.conftest import SCREENSHOTS


async def test_traditional_query_finds_simplified_article(
    server: LiveServer, client: httpx.AsyncClient, browser: Browser
) -> None:
    await client.post("/api/v1/inboxes", json={"channel": "web_chat", "name": "官网在线客服"})
    r = await client.post("/api/v1/kb/articles", json={
        "title": "宽带断网怎么办", "locale": "zh-CN", "status": "published",
        "body": "1. 重启光猫和路由器。\n2. 检查光纤指示灯是否红灯。\n\n<script>alert(1)</script>",
        "example_questions": ["家里宽带上不了网"]})
    assert r.status_code == 201
    page = await (await browser.new_context(locale="zh-TW",
                                            viewport={"width": 1200, "height": 800})).new_page()
    await page.goto(f"{server.url}/help")
    await expect(page.get_by_role("heading", name="有什麼可以幫您？")).to_be_visible()
    await page.get_by_role("searchbox", name="搜尋幫助中心").fill("寬頻斷網了怎麼辦")
    await page.get_by_role("button", name="搜尋", exact=True).click()
    link = page.get_by_role("link", name="宽带断网怎么办")
    await expect(link).to_be_visible()
    await expect(page.locator(".result mark").first).to_be_visible()
    await page.screenshot(path=str(SCREENSHOTS / "help-search.png"))
    await link.click()
    await expect(page.locator(".md")).to_contain_text("重启光猫")
    await expect(page.locator(".md")).to_contain_text("<script>alert(1)</script>")
    await expect(page.get_by_role("complementary", name="聯絡我們")).to_contain_text("10000")
    await page.get_by_role("button", name="有幫助").click()
    await expect(page.get_by_role("status")).to_have_text("感謝您的回饋！")
    votes = (await client.get("/api/v1/kb/articles")).json()[0]
    assert votes["helpful_yes"] == 1
