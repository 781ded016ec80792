"""The screen pop and the conversation view in a real Chromium, against a server process.

- *Ringing call → screen pop*: a signed `ringing` webhook is posted (as the PBX would) for
  one of N contacts (each with a failed payment, an organisation and some history); the
  time from sending the webhook to the pop being in the agent's page (a MutationObserver
  stamps it; page and bench share the machine's clock). Target: p95 ≤ 300 ms.
- *Opening a conversation*: navigation start → the context panel is in the DOM
  (DOMContentLoaded of the server-rendered page). Target: p95 ≤ 300 ms.
Baselines in the same run: the bare `GET /api/v1/context?phone=…` the pop carries, and
the webhook's own round trip (its answer comes after the pop was published).

Run: .venv/bin/python bench/bench_screen_pop.py [--calls 100] [--database sqlite|postgresql|both]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    ServerProcess,
    admin_token,
    backends,
    base_parser,
    fresh_database,
    machine_info,
    percentile,
    print_table,
)

from omnidesk.auth.service import do_create_user
from omnidesk.kit.db import Database
from omnidesk.kit.security import sign_webhook

CHROMIUM = "/usr/bin/chromium"
SECRET = "bench-pbx-secret-123456"
AGENT = ("pop-agent@omnidesk.test", "pop-agent-pass-1")
OBSERVER = """
window.__pops = {};
new MutationObserver(() => {
  const pop = document.getElementById('screenpop');
  if (pop && !(pop.dataset.call in window.__pops)) {
    window.__pops[pop.dataset.call] = performance.timeOrigin + performance.now();
  }
}).observe(document.body, {childList: true});
"""


def signed(body: bytes) -> dict[str, str]:
    stamp = int(time.time())
    return {"Content-Type": "application/json", "X-Omnidesk-Timestamp": str(stamp),
            "X-Omnidesk-Signature": sign_webhook(SECRET, stamp, body)}


async def seed(url: str, contacts: int, api: httpx.AsyncClient) -> tuple[str, list[str]]:
    db = Database(url)
    async with db.transaction() as session:
        await do_create_user(session, email=AGENT[0], name="Pop Agent", password=AGENT[1],
                             role="agent")
    await db.dispose()
    org = (await api.post("/api/v1/organisations", json={
        "name": "华东电子集团", "tier": "strategic"})).json()
    phones = [f"+86139{i:08d}" for i in range(contacts)]
    events = []
    for i, phone in enumerate(phones):
        events += [{"source": "payments", "id": f"pay-{i}", "type": "payment.failed",
                    "occurred_at": "2026-11-30T01:00:00Z", "contact": {"phone": phone},
                    "summary": f"Payment of {100 + i}.00 CNY failed",
                    "data": {"reason": "card declined", "amount": f"{100 + i}.00"}}]
        events += [{"source": "app", "id": f"login-{i}-{k}", "type": "app.login",
                    "occurred_at": f"2026-11-{10 + k:02d}T08:00:00Z",
                    "contact": {"phone": phone}, "summary": "Signed in to the app"}
                   for k in range(5)]
    for start in range(0, len(events), 1000):
        r = await api.post("/api/v1/events", json=events[start:start + 1000])
        r.raise_for_status()
    ctx = (await api.get("/api/v1/context", params={"phone": phones[0]})).json()
    await api.post(f"/api/v1/organisations/{org['id']}/members", json={
        "contact_id": ctx["contact"]["id"], "role": "decision_maker"})
    inbox = (await api.post("/api/v1/inboxes", json={
        "channel": "voice", "name": "400 热线", "config": {"secret": SECRET}})).json()
    return str(inbox["id"]), phones


async def run(kind: str, args: object) -> list[list[str]]:
    url = await fresh_database(kind, f"omnidesk_bench_pop_{kind}", args)  # type: ignore[arg-type]
    token = await admin_token(url)
    rows: list[list[str]] = []
    async with ServerProcess(url, args.data_dir) as server, httpx.AsyncClient(  # type: ignore[attr-defined]
            base_url=server.url, timeout=30,
            headers={"Authorization": f"Bearer {token}"}) as api:
        inbox, phones = await seed(url, args.contacts, api)  # type: ignore[attr-defined]
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = await browser.new_page(locale="zh-CN")
            await page.goto(f"{server.url}/agent/login")
            await page.fill("input[name=email]", AGENT[0])
            await page.fill("input[name=password]", AGENT[1])
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{server.url}/agent")
            await page.wait_for_selector("#live[data-state=live]")
            await page.evaluate(OBSERVER)
            pops, hooks, bare = [], [], []
            for i in range(args.calls):  # type: ignore[attr-defined]
                phone = phones[i % len(phones)]
                t0 = time.perf_counter()
                await api.get("/api/v1/context", params={"phone": phone})
                bare.append(time.perf_counter() - t0)
                call = f"bench-{kind}-{i}"
                body = json.dumps({"event": "ringing", "call_id": call, "caller": phone,
                                   "agent": AGENT[0]}).encode()
                sent = time.time() * 1000
                t0 = time.perf_counter()
                r = await api.post(f"/channels/voice/{inbox}/events", content=body,
                                   headers=signed(body))
                hooks.append(time.perf_counter() - t0)
                r.raise_for_status()
                await page.wait_for_function(f"window.__pops[{json.dumps(call)}]")
                shown = await page.evaluate(f"window.__pops[{json.dumps(call)}]")
                pops.append((shown - sent) / 1000)
                end = json.dumps({"event": "ended", "call_id": call,
                                  "outcome": "abandoned"}).encode()
                await api.post(f"/channels/voice/{inbox}/events", content=end,
                               headers=signed(end))
            # opening a conversation: the server-rendered view with the context panel
            convs = (await api.get("/api/v1/conversations", params={"limit": 50})).json()
            opens = []
            for conv in (convs.get("items") or [])[: args.calls]:  # type: ignore[attr-defined]
                await page.goto(f"{server.url}/agent/conversations/{conv['id']}")
                await page.wait_for_selector("[aria-label] >> text=card declined",
                                             state="attached")
                timing = await page.evaluate(
                    "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
                opens.append(timing / 1000)
            await browser.close()
    def row(name: str, values: list[float]) -> list[str]:
        return [kind, name, str(len(values)), f"{percentile(values, 50) * 1000:.1f}",
                f"{percentile(values, 95) * 1000:.1f}"]
    rows.append(row("ringing webhook → pop in the page", pops))
    rows.append(row("open conversation → context panel", opens))
    rows.append(row("baseline: GET /api/v1/context", bare))
    rows.append(row("baseline: the webhook's round trip", hooks))
    rows.append([kind, "pop p95 ÷ bare context p95", "",
                 "", f"{percentile(pops, 95) / percentile(bare, 95):.1f}×"])
    return rows


async def main() -> None:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--contacts", type=int, default=200)
    args = parser.parse_args()
    print(await machine_info(args.pg_url))
    rows = []
    for kind in backends(args):
        rows += await run(kind, args)
    print_table("Screen pop and conversation view (ms)",
                ["database", "what", "n", "p50", "p95"], rows)


if __name__ == "__main__":
    asyncio.run(main())
