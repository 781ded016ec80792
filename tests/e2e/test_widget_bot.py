"""The customer's side of the bot, in a real Chromium: the widget greets with options built
from the customer's context (the failed payment first), answers from the knowledge base,
and one tap on "talk to a person" hands the chat to the agent, whose console shows the
hand-off with the transcript — nobody asks twice."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, expect

from omnidesk.kit.db import Database
from tests.bot.test_bot_chat import failed_payment, setup_bot
from tests.conftest import LiveServer, make_user
from tests.e2e.test_agent_console import live_console, open_widget


async def test_widget_bot_options_answer_and_hand_off(
    server: LiveServer, client: httpx.AsyncClient, db: Database, browser: Browser
) -> None:
    await make_user(db, "mei@omnidesk.test", "agent", password="agent-pass-1", name="李美")
    inbox = await setup_bot(client)
    await failed_payment(client, "u-2002")

    agent_ctx, agent = await live_console(browser, server, "mei@omnidesk.test", "agent-pass-1")
    visitor_ctx, visitor, box = await open_widget(browser, server, inbox, "u-2002")
    await box.fill("你好")
    await box.press("Enter")

    # the greeting's first option is the payment that just failed, with its reason
    options = visitor.locator(".odw-option")
    await expect(options.first).to_contain_text("199.00", timeout=15_000)
    await expect(options.first).to_contain_text("insufficient balance")

    await box.fill("家里宽带上不了网")
    await box.press("Enter")
    await expect(visitor.get_by_text(re.compile("重启光猫"))).to_be_visible(timeout=15_000)

    # one tap on "talk to a person" (the greeting's last option)
    await visitor.get_by_role("button", name="转人工").first.click()
    await expect(visitor.get_by_text(re.compile("正在为您转接人工客服"))).to_be_visible(
        timeout=15_000)

    # the agent opens the conversation and finds the bot's hand-off note with the intents
    conversations = (await client.get("/api/v1/conversations",
                                      params={"inbox_id": inbox})).json()["items"]
    assert len(conversations) == 1
    await agent.goto(f"{server.url}/agent/conversations/{conversations[0]['id']}")
    thread = agent.locator("#thread")
    await expect(thread).to_contain_text("Bot hand-off: asked_for_human")
    await expect(thread).to_contain_text("家里宽带上不了网")
    context = agent.get_by_role("complementary", name="客户信息")
    await expect(context).to_contain_text("insufficient balance")
    await visitor_ctx.close()
    await agent_ctx.close()
