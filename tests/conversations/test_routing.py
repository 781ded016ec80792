"""Routing rules choose the team, agent and priority of a new conversation."""

from __future__ import annotations

import httpx

from omnidesk.kit.db import Database
from tests.conftest import make_user


async def test_rules_by_domain_keyword_and_channel(client: httpx.AsyncClient,
                                                   db: Database) -> None:
    network = (await client.post("/api/v1/teams", json={"name": "网络部"})).json()
    billing = (await client.post("/api/v1/teams", json={"name": "账务"})).json()
    vip_agent = await make_user(db, "vip@omnidesk.test", "agent")
    rules = [
        {"name": "bank partner", "position": 1, "conditions": {"sender_domains": ["bank.cn"]},
         "actions": {"assignee_id": vip_agent, "priority": 2}},
        {"name": "broadband faults", "position": 2,
         "conditions": {"keywords": ["宽带", "光猫", "broadband"]},
         "actions": {"team_id": network["id"]}},
        {"name": "bills", "position": 3, "conditions": {"keywords": ["账单", "bill"],
                                                         "channels": ["api"]},
         "actions": {"team_id": billing["id"]}},
    ]
    for rule in rules:
        r = await client.post("/api/v1/routing-rules", json=rule)
        assert r.status_code == 201, r.text
    bad = await client.post("/api/v1/routing-rules", json={
        "name": "x", "conditions": {"keywords": ["x"]}, "actions": {}})
    assert bad.status_code == 422
    bad = await client.post("/api/v1/routing-rules", json={
        "name": "x", "conditions": {"moods": ["angry"]}, "actions": {"priority": 1}})
    assert bad.status_code == 422
    inbox = (await client.post("/api/v1/inboxes", json={"channel": "api", "name": "A"})).json()

    async def new(email: str, body: str) -> dict[str, object]:
        r = await client.post(f"/api/v1/inboxes/{inbox['id']}/messages",
                              json={"contact": {"email": email}, "body": body})
        return dict(r.json()["conversation"])

    c = await new("ops@sub.bank.cn", "宽带账单有问题")
    assert c["assignee_id"] == vip_agent and c["priority"] == 2
    assert c["routing_rule"] == "bank partner"
    c = await new("li@example.cn", "家裡的寬頻斷了")  # traditional finds 宽带
    assert c["team_id"] == network["id"] and c["routing_rule"] == "broadband faults"
    c = await new("wang@example.cn", "Where is my BILL?")
    assert c["team_id"] == billing["id"]
    c = await new("zhao@example.cn", "你好")
    assert c["team_id"] is None and c["routing_rule"] is None
