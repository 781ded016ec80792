"""The knowledge base over the API: versions, translations, search across scripts,
synonyms, visibility, votes and staleness; import and export."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from omnidesk.config import Settings
from omnidesk.kit.time import utcnow

BROADBAND = {
    "title": "宽带断网怎么办", "locale": "zh-CN", "status": "published",
    "body": "1. 重启光猫和路由器。\n2. 检查光纤指示灯 **LOS** 是否红灯。\n3. 仍不能上网请报修。",
    "example_questions": ["家里宽带上不了网", "光猫红灯", "网络断了"],
    "tags": ["宽带"], "product": "FTTH",
}


async def create(client: httpx.AsyncClient, **over: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/kb/articles", json={**BROADBAND, **over})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_versions_translations_and_cross_script_search(
    client: httpx.AsyncClient, anon: httpx.AsyncClient,
) -> None:
    a = await create(client)
    r = await client.patch(f"/api/v1/kb/articles/{a['id']}",
                           json={"body": BROADBAND["body"] + "\n4. 拨打 10000。"})
    assert r.json()["version"] == 2
    versions = (await client.get(f"/api/v1/kb/articles/{a['id']}/versions")).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert "+4. 拨打 10000。" in versions[1]["diff"]
    tw = await create(client, title="寬頻斷線怎麼辦", locale="zh-TW", group_id=a["group_id"],
                      body="請重新啟動數據機。", example_questions=["寬頻上不了網"])
    detail = (await client.get(f"/api/v1/kb/articles/{a['id']}")).json()
    assert detail["translations"][0]["id"] == tw["id"]
    r = await client.post("/api/v1/kb/articles", json={**BROADBAND, "group_id": a["group_id"]})
    assert r.status_code == 409  # the group already has zh-CN
    # a traditional-character query finds the simplified article and the other way round
    hits = (await anon.get("/api/v1/help/search", params={"q": "寬頻斷網"})).json()
    assert a["id"] in [h["id"] for h in hits]
    hits = (await anon.get("/api/v1/help/search",
                           params={"q": "宽带断线", "locale": "zh-TW"})).json()
    assert [h["id"] for h in hits] == [tw["id"]]
    assert "<mark>" in hits[0]["title_highlighted"]


async def test_internal_articles_and_synonyms(client: httpx.AsyncClient,
                                              anon: httpx.AsyncClient) -> None:
    internal = await create(client, title="OLT 端口故障排查", visibility="internal",
                            body="登录网管检查 PON 口光功率。", example_questions=[])
    assert (await anon.get("/api/v1/help/search", params={"q": "OLT"})).json() == []
    hits = (await client.get("/api/v1/kb/search", params={"q": "OLT"})).json()
    assert [h["id"] for h in hits] == [internal["id"]]
    assert (await anon.get("/api/v1/kb/search", params={"q": "OLT"})).status_code == 401
    await create(client, title="Broadband speed test", locale="en",
                 body="Run the speed test on a wired connection.", example_questions=[])
    await create(client)
    before = (await anon.get("/api/v1/help/search", params={"q": "broadband"})).json()
    assert [h["title"] for h in before] == ["Broadband speed test"]
    r = await client.put("/api/v1/kb/synonyms", json={"groups": [["宽带", "寬頻", "broadband"]]})
    assert r.json() == {"groups": [["broadband", "宽带", "寬頻"]]}
    after = (await anon.get("/api/v1/help/search", params={"q": "broadband"})).json()
    titles = [h["title"] for h in after]
    assert "Broadband speed test" in titles and "宽带断网怎么办" in titles


async def test_votes_and_staleness(client: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    a = await create(client, review_by=(utcnow().date() + timedelta(days=30)).isoformat())
    for i in range(8):
        await anon.post(f"/api/v1/help/articles/{a['id']}/vote",
                        json={"helpful": False, "voter": f"v{i}"})
    r = await anon.post(f"/api/v1/help/articles/{a['id']}/vote",
                        json={"helpful": True, "voter": "v0"})  # v0 changes their mind
    assert r.json() == {"helpful_yes": 1, "helpful_no": 7}
    assert (await client.get("/api/v1/kb/stale")).json() == []
    for i in range(8, 12):
        await anon.post(f"/api/v1/help/articles/{a['id']}/vote",
                        json={"helpful": False, "voter": f"v{i}"})
    stale = (await client.get("/api/v1/kb/stale")).json()
    assert [s["id"] for s in stale] == [a["id"]] and stale[0]["helpful_rate"] < 0.5
    old = await create(client, title="旧资费说明", body="旧资费。", external_key="old",
                       review_by=(utcnow().date() - timedelta(days=1)).isoformat())
    assert old["stale"] is True
    r = await client.post("/api/v1/kb/articles", json={**BROADBAND, "locale": "fr"})
    assert r.status_code == 422


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMNIDESK_DATABASE_URL": settings.database_url}
    return subprocess.run([sys.executable, "-m", "omnidesk", *args], env=env,
                          capture_output=True, text=True, timeout=120)


async def test_import_export_markdown_csv_json(
    settings: Settings, client: httpx.AsyncClient, tmp_path: Path,
) -> None:
    folder = tmp_path / "kb"
    (folder / "billing").mkdir(parents=True)
    (folder / "billing" / "refund.md").write_text(
        "---\ntitle: 如何申请退费\nlocale: zh-CN\nstatus: published\n"
        "example_questions:\n  - 多扣的钱能退吗\n  - 申请退款\ntags: [账单]\n"
        "review_by: 2027-06-30\n---\n在 App「账单」页点击「申请退费」。\n", "utf-8")
    (folder / "bad.md").write_text("---\ntitle: x\nlocale: klingon\n---\nbody\n", "utf-8")
    done = await asyncio.to_thread(run_cli, settings, "kb", "import", str(folder))
    assert done.returncode == 2 and "bad.md" in done.stderr
    (folder / "bad.md").unlink()
    done = await asyncio.to_thread(run_cli, settings, "kb", "import", str(folder))
    assert done.returncode == 0 and "1 created" in done.stdout, done.stderr
    done = await asyncio.to_thread(run_cli, settings, "kb", "import", str(folder))
    assert "1 updated" in done.stdout
    hits = (await client.get("/api/v1/kb/search", params={"q": "多扣的錢能退嗎"})).json()
    assert hits and hits[0]["title"] == "如何申请退费"
    for target in (tmp_path / "out.json", tmp_path / "out.csv", tmp_path / "out"):
        done = await asyncio.to_thread(run_cli, settings, "kb", "export", str(target))
        assert done.returncode == 0 and "exported 1" in done.stdout, done.stderr
    exported = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert exported[0]["external_key"] == "billing/refund"
    assert exported[0]["example_questions"] == ["多扣的钱能退吗", "申请退款"]
    assert "如何申请退费" in (tmp_path / "out" / "billing" / "refund.md").read_text("utf-8")
    done = await asyncio.to_thread(run_cli, settings, "kb", "import", str(tmp_path / "out.csv"))
    assert "1 updated" in done.stdout, done.stderr
