"""The unified timeline and the screen pop."""

from __future__ import annotations

from datetime import timedelta

import httpx

from omnidesk.kit.time import utcnow


def iso(delta: timedelta) -> str:
    return (utcnow() - delta).isoformat()


async def _customer(client: httpx.AsyncClient) -> tuple[str, str]:
    org = (await client.post("/api/v1/organisations", json={
        "name": "Northwind Logistics Ltd.", "tier": "key"})).json()
    contact = (await client.post("/api/v1/contacts", json={
        "name": "王小明", "vip_level": 3, "tags": ["5G"],
        "identities": [{"kind": "phone", "value": "+8613800138000"},
                       {"kind": "email", "value": "wxm@example.cn"}]})).json()
    await client.post(f"/api/v1/organisations/{org['id']}/members",
                      json={"contact_id": contact["id"], "role": "key_person"})
    await client.post(f"/api/v1/contacts/{contact['id']}/products", json={
        "product_code": "5G-199", "name": "5G 套餐 199元",
        "expires_at": (utcnow() + timedelta(days=12)).isoformat()})
    await client.post(f"/api/v1/contacts/{contact['id']}/products", json={
        "product_code": "FTTH-1000", "name": "千兆宽带",
        "expires_at": (utcnow() + timedelta(days=200)).isoformat()})
    events = [
        {"source": "payments", "id": "p1", "type": "payment.failed",
         "occurred_at": iso(timedelta(hours=2)), "contact": {"phone": "13800138000"},
         "summary": "Payment of 199.00 CNY failed: insufficient balance",
         "data": {"reason": "insufficient balance", "amount": "199.00"}},
        {"source": "shop", "id": "o1", "type": "order.abandoned", "channel": "app_chat",
         "occurred_at": iso(timedelta(days=2)), "contact": {"email": "wxm@example.cn"},
         "summary": "千兆宽带升级 cart abandoned", "data": {"reason": "price"}},
        {"source": "payments", "id": "p0", "type": "payment.succeeded",
         "occurred_at": iso(timedelta(days=40)), "contact": {"phone": "13800138000"},
         "summary": "Paid 199.00"},
        {"source": "payments", "id": "p-old", "type": "payment.failed",
         "occurred_at": iso(timedelta(days=45)), "contact": {"phone": "13800138000"},
         "summary": "old failure", "data": {"reason": "card expired"}},
    ]
    assert (await client.post("/api/v1/events", json=events)).json()["created"] == 4
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "API"})).json()
    await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"phone": "13800138000"}, "body": "我的宽带从昨晚开始就断网了"})
    return contact["id"], org["id"]


async def test_context_has_everything_for_the_screen_pop(client: httpx.AsyncClient) -> None:
    contact_id, org_id = await _customer(client)
    ctx = (await client.get("/api/v1/context", params={"phone": "138 0013 8000"})).json()
    assert ctx["contact"]["id"] == contact_id and ctx["contact"]["name"] == "王小明"
    assert {i["kind"] for i in ctx["identities"]} == {"phone", "email"}
    assert ctx["organisations"][0]["id"] == org_id
    assert ctx["organisations"][0]["role"] == "key_person"
    assert ctx["tier"] == "key" and ctx["vip_level"] == 3 and ctx["tags"] == ["5G"]
    assert [p["name"] for p in ctx["expiring_products"]] == ["5G 套餐 199元"]
    assert len(ctx["products"]) == 2
    failures = ctx["recent_failures"]
    assert [f["type"] for f in failures] == ["payment.failed", "order.abandoned"]
    assert failures[0]["reason"] == "insufficient balance"  # the old failure is not recent
    assert len(ctx["open_conversations"]) == 1
    assert set(ctx["latest_by_channel"]) == {"api", "app_chat"}
    same = (await client.get(f"/api/v1/contacts/{contact_id}/context")).json()
    assert same["contact"] == ctx["contact"]
    by_email = (await client.get("/api/v1/context", params={"email": "WXM@example.cn"})).json()
    assert by_email["contact"]["id"] == contact_id


async def test_context_lookup_errors(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/context", params={"phone": "13900000000"})
            ).status_code == 404
    assert (await client.get("/api/v1/context", params={"phone": "12"})).status_code == 422
    assert (await client.get("/api/v1/context")).status_code == 400
    assert (await client.get("/api/v1/context", params={"shoe": "42"})).status_code == 400


async def test_timeline_newest_first_filters_and_cursor(client: httpx.AsyncClient) -> None:
    contact_id, _ = await _customer(client)
    url = f"/api/v1/contacts/{contact_id}/timeline"
    items = (await client.get(url)).json()["items"]
    assert [i["type"] for i in items] == ["conversation", "payment.failed", "order.abandoned",
                                          "payment.succeeded", "payment.failed"]
    times = [i["occurred_at"] for i in items]
    assert times == sorted(times, reverse=True)
    events = (await client.get(url, params={"kind": "event"})).json()["items"]
    assert len(events) == 4
    app = (await client.get(url, params={"channel": "app_chat"})).json()["items"]
    assert [i["type"] for i in app] == ["order.abandoned"]
    failed = (await client.get(url, params={"outcome": "failed"})).json()["items"]
    assert len(failed) == 2
    walked, cursor = [], None
    while True:
        page = (await client.get(url, params={"limit": 2} | (
            {"cursor": cursor} if cursor else {}))).json()
        walked += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert walked == [i["id"] for i in items]
    assert (await client.get(url, params={"channel": "fax"})).status_code == 422
