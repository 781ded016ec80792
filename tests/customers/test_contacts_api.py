"""Contacts, identities, merges and organisations over the real HTTP API."""

from __future__ import annotations

import httpx

from omnidesk.kit.db import Database


async def test_create_read_update_contact_with_canonical_identities(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post("/api/v1/contacts", json={
        "name": "王小明", "vip_level": 3, "tags": ["vip"],
        "identities": [{"kind": "phone", "value": "138 0013 8000"},
                       {"kind": "email", "value": "Xiaoming.Wang@Example.COM"}]})
    assert r.status_code == 201, r.text
    contact = r.json()
    values = {i["kind"]: i["value"] for i in contact["identities"]}
    assert values == {"phone": "+8613800138000", "email": "xiaoming.wang@example.com"}
    r = await client.patch(f"/api/v1/contacts/{contact['id']}", json={"name": "王小明 (VIP)"})
    assert r.status_code == 200 and r.json()["name"] == "王小明 (VIP)"
    r = await client.get(f"/api/v1/contacts/{contact['id']}")
    assert r.json()["vip_level"] == 3


async def test_search_by_name_traditional_and_phone(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/contacts", json={"name": "陳大文", "tags": ["enterprise"],
                      "identities": [{"kind": "phone", "value": "+852 9123 4567"}]})
    await client.post("/api/v1/contacts", json={"name": "Alice Smith"})
    r = await client.get("/api/v1/contacts", params={"q": "陈大文"})  # simplified query
    assert [c["name"] for c in r.json()["items"]] == ["陳大文"]
    r = await client.get("/api/v1/contacts", params={"q": "+85291234567"})
    assert [c["name"] for c in r.json()["items"]] == ["陳大文"]
    r = await client.get("/api/v1/contacts", params={"tag": "enterprise"})
    assert [c["name"] for c in r.json()["items"]] == ["陳大文"]
    r = await client.get("/api/v1/contacts", params={"q": "alice"})
    assert [c["name"] for c in r.json()["items"]] == ["Alice Smith"]


async def test_pagination_walks_every_contact_once(client: httpx.AsyncClient) -> None:
    for i in range(7):
        await client.post("/api/v1/contacts", json={"name": f"Customer {i}"})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/contacts", params=params)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7


async def test_bad_input_is_a_4xx_with_a_reason(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/contacts", json={
        "identities": [{"kind": "phone", "value": "12345"}]})
    assert r.status_code == 422 and "phone" in r.json()["detail"]
    r = await client.post("/api/v1/contacts", json={"name": "x", "nickname": "y"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "nickname"
    r = await client.post("/api/v1/contacts", content=b"{not json",
                          headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    r = await client.post("/api/v1/contacts", json={
        "identities": [{"kind": "fax", "value": "1"}]})
    assert r.status_code == 422 and "unknown identity kind" in r.json()["detail"]
    r = await client.get("/api/v1/contacts", params={"cursor": "garbage"})
    assert r.status_code == 400


async def test_identity_held_by_another_contact_is_409_unless_merge(
    client: httpx.AsyncClient,
) -> None:
    a = (await client.post("/api/v1/contacts", json={
        "name": "Li Lei", "identities": [{"kind": "phone", "value": "13900139000"}]})).json()
    b = (await client.post("/api/v1/contacts", json={
        "name": None, "tags": ["wechat"],
        "identities": [{"kind": "wechat_openid", "value": "oABC123"}]})).json()
    await client.post("/api/v1/events", json={
        "source": "app", "id": "e1", "type": "checkin.failed",
        "occurred_at": "2026-11-20T08:00:00Z", "contact": {"wechat_openid": "oABC123"},
        "summary": "Check-in failed"})
    r = await client.post(f"/api/v1/contacts/{a['id']}/identities",
                          json={"kind": "wechat_openid", "value": "oABC123"})
    assert r.status_code == 409 and r.json()["contact_id"] == b["id"]
    r = await client.post(f"/api/v1/contacts/{a['id']}/identities",
                          json={"kind": "wechat_openid", "value": "oABC123", "merge": True})
    assert r.status_code == 201, r.text
    merged = (await client.get(f"/api/v1/contacts/{a['id']}")).json()
    assert {i["kind"] for i in merged["identities"]} == {"phone", "wechat_openid"}
    assert merged["tags"] == ["wechat"]
    timeline = (await client.get(f"/api/v1/contacts/{a['id']}/timeline")).json()["items"]
    assert [t["type"] for t in timeline] == ["checkin.failed"]
    # the merged-away contact resolves to the survivor; the merge is on record
    assert (await client.get(f"/api/v1/contacts/{b['id']}")).json()["id"] == a["id"]
    merges = (await client.get(f"/api/v1/contacts/{a['id']}/merges")).json()
    assert merges[0]["source_contact_id"] == b["id"]
    assert merges[0]["moved"]["activities"] == 1


async def test_merge_endpoint_moves_conversations(client: httpx.AsyncClient) -> None:
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "API"})).json()
    r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages", json={
        "contact": {"email": "zhang@example.cn"}, "body": "发票在哪里下载？"})
    assert r.status_code == 201, r.text
    source_id = r.json()["contact_id"]
    target = (await client.post("/api/v1/contacts", json={"name": "张三"})).json()
    r = await client.post(f"/api/v1/contacts/{target['id']}/merge",
                          json={"source_contact_id": source_id, "reason": "same person"})
    assert r.status_code == 201 and r.json()["moved"]["conversations"] == 1
    convs = (await client.get("/api/v1/conversations",
                              params={"contact_id": target["id"]})).json()["items"]
    assert len(convs) == 1
    r = await client.post(f"/api/v1/contacts/{target['id']}/merge",
                          json={"source_contact_id": target["id"]})
    assert r.status_code == 409


async def test_organisations_members_and_roles(client: httpx.AsyncClient, db: Database) -> None:
    from tests.conftest import make_user

    manager = await make_user(db, "am@omnidesk.test", "account_manager", name="周经理")
    r = await client.post("/api/v1/organisations", json={
        "name": "華信科技有限公司", "tier": "strategic", "account_manager_id": manager,
        "tags": ["cloud"], "attributes": {"industry": "IT"}})
    assert r.status_code == 201, r.text
    org = r.json()
    person = (await client.post("/api/v1/contacts", json={
        "name": "林志玲", "vip_level": 2,
        "identities": [{"kind": "phone", "value": "13700137000"}]})).json()
    r = await client.post(f"/api/v1/organisations/{org['id']}/members",
                          json={"contact_id": person["id"], "role": "decision_maker",
                                "title": "CIO"})
    assert r.status_code == 201
    r = await client.post(f"/api/v1/organisations/{org['id']}/members",
                          json={"contact_id": person["id"], "role": "chief"})
    assert r.status_code == 422
    members = (await client.get(f"/api/v1/organisations/{org['id']}/members")).json()
    assert [(m["contact_name"], m["role"]) for m in members] == [("林志玲", "decision_maker")]
    r = await client.get("/api/v1/organisations", params={"q": "华信"})
    assert [o["name"] for o in r.json()["items"]] == ["華信科技有限公司"]
    r = await client.post("/api/v1/organisations", json={"name": "x", "tier": "gold"})
    assert r.status_code == 422
    r = await client.post("/api/v1/organisations", json={
        "name": "x", "account_manager_id": "0190b0a0-0000-7000-8000-000000000000"})
    assert r.status_code == 422


async def test_idempotency_key_makes_creates_safe_to_retry(client: httpx.AsyncClient) -> None:
    body = {"name": "重试客户", "identities": [{"kind": "email", "value": "retry@example.cn"}]}
    headers = {"Idempotency-Key": "crm-42"}
    first = await client.post("/api/v1/contacts", json=body, headers=headers)
    again = await client.post("/api/v1/contacts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    other = await client.post("/api/v1/contacts", json={**body, "name": "x"}, headers=headers)
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    found = (await client.get("/api/v1/contacts", params={"q": "retry@example.cn"})).json()
    assert len(found["items"]) == 1
    org = {"name": "重试公司"}
    a = await client.post("/api/v1/organisations", json=org, headers={"Idempotency-Key": "o1"})
    b = await client.post("/api/v1/organisations", json=org, headers={"Idempotency-Key": "o1"})
    assert a.json()["id"] == b.json()["id"]
    case = {"contact_id": first.json()["id"], "type": "inquiry", "title": "重试"}
    c1 = await client.post("/api/v1/cases", json=case, headers={"Idempotency-Key": "c1"})
    c2 = await client.post("/api/v1/cases", json=case, headers={"Idempotency-Key": "c1"})
    assert c1.status_code == 201 and c1.json()["id"] == c2.json()["id"]
