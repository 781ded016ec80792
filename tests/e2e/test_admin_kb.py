"""As an admin would, in Chromium: find an article in the knowledge base, edit it by
keyboard, watch the live preview (a script typed into the body stays text), save, and
find the new version with its diff; then upload labelled utterances to the bot, train it
and see the model's metrics. Writes docs/screenshots/admin-kb.png and admin-bot.png."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect

from omnidesk.kit.db import Database
from omnidesk.kit.time import utcnow
from tests.conftest import LiveServer, make_user
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_agent_console import sign_in

VIEWPORT = {"width": 1360, "height": 860}
SCRIPT = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


async def focus_ring(page: Page) -> str:
    """The outline of the focused element (the keyboard user's cue)."""
    style: str = await page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle + ' ' + s.outlineWidth; }")
    return style


async def test_admin_edits_an_article_with_preview_and_finds_the_new_version(
    server: LiveServer, client: httpx.AsyncClient, db: Database, browser: Browser
) -> None:
    await make_user(db, "kb@omnidesk.test", "admin", password="kb-pass-123", name="王编辑")
    me = (await client.get("/api/v1/users")).json()
    owner = next(u["id"] for u in me if u["email"] == "kb@omnidesk.test")
    past = (utcnow().date() - timedelta(days=5)).isoformat()
    for body in [
        {"title": "宽带断线怎么办", "body": "## 先重启光猫\n\n拔掉电源 **10 秒** 后再插上。",
         "product": "宽带", "tags": ["宽带", "故障"], "status": "published",
         "example_questions": ["宽带断了", "网络连不上"], "owner_id": owner,
         "review_by": past},
        {"title": "话费怎么查", "body": "发送 CXHF 到 10001。", "status": "published",
         "product": "话费"},
        {"title": "Roaming charges", "body": "Roaming is billed per day.", "locale": "en",
         "visibility": "internal", "status": "published"},
        {"title": "套餐变更（草稿）", "body": "待补充", "status": "draft", "locale": "zh-CN"},
    ]:
        r = await client.post("/api/v1/kb/articles", json=body)
        assert r.status_code == 201, r.text

    page = await (await browser.new_context(locale="zh-CN", viewport=VIEWPORT)).new_page()
    await sign_in(page, server, "kb@omnidesk.test", "kb-pass-123")
    await page.get_by_role("link", name="管理", exact=True).click()
    await page.get_by_role("link", name="知识库").click()
    await expect(page).to_have_url(f"{server.url}/agent/admin/kb")
    stale = page.locator("section.kb-stale")  # the owner's review list
    await expect(stale.get_by_role("link", name="宽带断线怎么办")).to_be_visible()

    search = page.get_by_label("搜索标题和正文")
    await search.fill("光猫")
    await search.press("Enter")
    await expect(page).to_have_url(re.compile(r"q=%E5%85%89%E7%8C%AB"))
    rows = page.locator("table.kb-articles tbody tr")
    await expect(rows).to_have_count(1)
    await rows.get_by_role("link", name="宽带断线怎么办").click()
    await expect(page.get_by_role("heading", name=re.compile("编辑文章"))).to_be_visible()

    # Every field has a label (a wrapped select adds its chosen value to the name).
    for label in ["标题", "正文（Markdown）", "可见范围", "状态", "产品", "标签（逗号分隔）",
                  "示例问题（每行一个：客户会怎么问）", "复审日期", "负责人"]:
        await expect(page.get_by_label(re.compile("^" + re.escape(label)))).to_have_count(1)

    body = page.get_by_label("正文（Markdown）")
    await body.focus()
    assert (await focus_ring(page)).startswith("solid")
    await page.keyboard.press("Control+End")
    await page.keyboard.type("\n\n## 夜间维护\n\n" + SCRIPT)
    preview = page.locator("#kb-preview")
    await expect(preview.get_by_role("heading", name="夜间维护")).to_be_visible()
    await expect(preview).to_contain_text("<script>window.pwned = 1</script>")
    assert await preview.locator("script, img").count() == 0
    assert await page.evaluate("() => window.pwned") is None

    future = (utcnow().date() + timedelta(days=180)).isoformat()
    await page.get_by_label("复审日期").fill(future)
    await page.get_by_label("示例问题（每行一个：客户会怎么问）").fill(
        "宽带断了\n网络连不上\n晚上总是掉线")
    # From the last field, Tab reaches "Save article"; Enter saves.
    await page.get_by_label("负责人").focus()
    await page.keyboard.press("Tab")
    save = page.get_by_role("button", name="保存文章")
    await expect(save).to_be_focused()
    assert (await focus_ring(page)).startswith("solid")
    await page.keyboard.press("Enter")

    await expect(page.locator("p.ok[role=status]")).to_have_text("已保存。")
    await expect(page.locator("h1")).to_contain_text("版本 2")
    versions = page.locator("ol.kb-versions > li")
    await expect(versions).to_have_count(2)
    newest = versions.first
    await expect(newest.locator("summary")).to_contain_text("版本 2")
    await expect(newest.locator("summary")).to_contain_text("王编辑")
    await expect(newest.locator(".d-add", has_text="## 夜间维护")).to_be_visible()
    await expect(newest.locator(".d-add", has_text="window.pwned = 1")).to_be_visible()
    assert await page.evaluate("() => window.pwned") is None
    await expect(page.locator("section.kb-stale")).to_have_count(0)  # not on this page
    await page.evaluate("() => window.scrollTo(0, 0)")
    await page.screenshot(path=str(SCREENSHOTS / "admin-kb.png"))

    # No longer stale: the owner's review list is empty now.
    await page.get_by_role("link", name="全部文章").click()
    await expect(page.locator("section.kb-stale")).to_have_count(0)
    await expect(page.locator("table.kb-articles tbody tr")).to_have_count(4)


async def test_admin_uploads_utterances_and_trains_the_bot(
    server: LiveServer, db: Database, browser: Browser, tmp_path: Path
) -> None:
    await make_user(db, "bot@omnidesk.test", "admin", password="bot-pass-123", name="赵管理")
    phrases = {
        "billing": ["查一下话费", "我的账单多少钱", "这个月话费多少", "话费余额", "查詢話費",
                    "how much is my bill", "check my balance", "账单明细", "话费怎么这么多",
                    "为什么扣费"],
        "broadband": ["宽带坏了", "寬頻斷線了", "网络连不上", "wifi 很慢", "光猫红灯",
                      "broadband is down", "internet not working", "宽带老掉线", "网速太慢",
                      "宽带报修"],
        "cancel": ["我要退订", "取消套餐", "销户", "cancel my plan", "不想用了", "退掉业务",
                   "怎么注销", "取消自动续费", "unsubscribe", "停机保号"],
    }
    csv = tmp_path / "utterances.csv"
    csv.write_text("text,label\n" + "".join(
        f"{t},{label}\n" for label, texts in phrases.items() for t in texts), "utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\n只有一列\n", "utf-8")

    page = await (await browser.new_context(locale="zh-CN", viewport=VIEWPORT)).new_page()
    await sign_in(page, server, "bot@omnidesk.test", "bot-pass-123")
    await page.goto(f"{server.url}/agent/admin")
    await page.get_by_role("link", name="机器人").click()
    await expect(page).to_have_url(f"{server.url}/agent/admin/bot")

    upload = page.get_by_label(re.compile("CSV 文件"))
    await upload.set_input_files(str(bad))
    await page.get_by_role("button", name="导入").click()
    await expect(page.get_by_role("alert")).to_contain_text("row 1: expected text,label")
    await page.get_by_label(re.compile("CSV 文件")).set_input_files(str(csv))
    await page.get_by_role("button", name="导入").click()
    await expect(page.locator("p.ok[role=status]")).to_contain_text("已导入 30 条标注语料")

    await page.get_by_label(re.compile("最低置信度")).fill("很高")
    await page.get_by_role("button", name="保存设置").click()
    await expect(page.locator("#settings-error")).to_contain_text("min_confidence")
    await expect(page.get_by_label(re.compile("最低置信度"))).to_have_value("很高")
    await page.get_by_label(re.compile("转人工前允许")).fill("2")
    await page.get_by_label(re.compile("最低置信度")).fill("0.6")
    await page.get_by_label("strategic").check()
    await page.get_by_role("button", name="保存设置").click()
    await expect(page.locator("p.ok[role=status]")).to_have_text("机器人设置已保存。")
    await expect(page.get_by_label("strategic")).to_be_checked()

    train = page.get_by_role("button", name="立即训练")
    await train.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("p.ok[role=status]")).to_have_text("新模型已训练完成并投入使用。")
    models = page.locator("table.bot-models tbody tr")
    await expect(models).to_have_count(1)
    await expect(models.first).to_contain_text("使用中")
    await expect(models.first.locator("td").nth(1)).to_have_text("30")
    await expect(models.first.locator("td").nth(2)).to_have_text("3")
    await page.screenshot(path=str(SCREENSHOTS / "admin-bot.png"), full_page=True)
