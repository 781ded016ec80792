"""The whole demo, planned as plain values from a fixed random seed and ``now``."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from omnidesk.demo.business_events import plan_events
from omnidesk.demo.organisations import organisations
from omnidesk.demo.people import WANG_XIAOMING, individuals
from omnidesk.demo.scripts_intl import SCRIPTS_INTL
from omnidesk.demo.scripts_zh import SCRIPTS_ZH_CN
from omnidesk.demo.specs import (
    CallSpec,
    ConversationSpec,
    PersonSpec,
    Plan,
    Script,
    TurnSpec,
)
from omnidesk.demo.staff import ENTERPRISE_AGENTS, FRONT_AGENTS, staff

SEED = 20240611
CHAT_INBOXES = ("web", "app", "wechat", "sms", "api")
NEEDS = {"app": "app_user_id", "wechat": "wechat_openid", "voice": "phone", "sms": "phone",
         "api": "phone", "email": "email", "enterprise": "email"}
QUEUES = ("宽带报修", "账单查询", "套餐办理", "投诉建议", "国际及港澳台")


def build_plan(now: datetime) -> Plan:
    rng = random.Random(SEED)
    used: set[str] = set()
    persons = individuals(rng, now, used)
    orgs, members = organisations(rng, now, persons, used)
    persons = persons + members
    conversations = wang_conversations(now)
    for script in (*SCRIPTS_ZH_CN, *SCRIPTS_INTL):
        conversations.extend(from_script(rng, now, script, persons))
    for index, conversation in enumerate(conversations):
        if conversation.inbox in ("email", "enterprise"):
            conversation.external_prefix = f"demo-{index:04d}"
    events = plan_events(rng, now, persons, orgs)
    return Plan(persons, orgs, conversations, events, abandoned_calls(rng, now, persons))


def _eligible(script: Script, persons: list[PersonSpec]) -> list[PersonSpec]:
    need = NEEDS.get(script.inbox)
    return [p for p in persons
            if p.locale == script.locale and p.key != WANG_XIAOMING
            and (p.is_member if script.enterprise else p.is_private)
            and (need is None or getattr(p, need))]


def _agent_for(rng: random.Random, script: Script) -> str:
    pool = ENTERPRISE_AGENTS if script.enterprise else FRONT_AGENTS
    return rng.choice([key for key in pool if script.locale in staff(key).languages])


def _start(rng: random.Random, now: datetime, status: str) -> datetime:
    if status == "open":
        return now - timedelta(minutes=rng.randint(5, 36 * 60))
    if status == "pending":
        return now - timedelta(hours=rng.randint(4, 6 * 24))
    return now - timedelta(minutes=rng.randint(3 * 60, 30 * 24 * 60))


def _gap(rng: random.Random, inbox: str, role: str) -> timedelta:
    if role == "bn":  # the billing back office answers later
        return timedelta(minutes=rng.randint(5, 30 if inbox in CHAT_INBOXES else 180))
    if inbox == "voice":  # the agent writes the call summary as the call ends
        return timedelta(seconds=rng.randint(20, 150))
    if role == "n":
        return timedelta(minutes=rng.randint(1, 15))
    if inbox in ("email", "enterprise"):
        return timedelta(minutes=rng.randint(40, 16 * 60))
    return timedelta(seconds=rng.randint(25, 240))


def _times(rng: random.Random, now: datetime, script: Script) -> tuple[list[datetime], int]:
    """When each turn happens; a call lasts ``duration`` seconds before its summary."""
    duration = rng.randint(70, 900) if script.inbox == "voice" else 0
    offsets, at = [timedelta(0)], timedelta(0)
    for index, (role, _) in enumerate(script.turns[1:], start=1):
        at += _gap(rng, script.inbox, role)
        if index == 1 and duration:
            at += timedelta(seconds=duration)
        offsets.append(at)
    start = _start(rng, now, script.status)
    if start + offsets[-1] > now - timedelta(minutes=2):
        start = now - offsets[-1] - timedelta(minutes=rng.randint(2, 90))
    return [start + offset for offset in offsets], duration


def _fill(text: str, person: PersonSpec, agent: str) -> str:
    first = person.name.split()[0] if person.locale == "en" else person.name
    return text.format(name=person.name, first=first, agent=staff(agent).name)


def from_script(rng: random.Random, now: datetime, script: Script,
                persons: list[PersonSpec]) -> list[ConversationSpec]:
    eligible = _eligible(script, persons)
    out: list[ConversationSpec] = []
    for person in rng.sample(eligible, k=min(script.uses, len(eligible))):
        agent = _agent_for(rng, script)
        times, duration = _times(rng, now, script)
        turns = [TurnSpec(role, _fill(text, person, agent), at)
                 for (role, text), at in zip(script.turns, times, strict=True)]
        if duration:
            turns[0] = TurnSpec(turns[0].role, turns[0].text, turns[0].at, {
                "duration_seconds": duration, "direction": "inbound",
                "queue": script.queue, "recording": f"rec-{rng.randrange(16**8):08x}.wav"})
        answered = any(role in ("a", "n") for role, _ in script.turns)
        resolved_at = None
        if script.status == "resolved":
            resolved_at = min(times[-1] + _gap(rng, script.inbox, "n"), now)
        out.append(ConversationSpec(
            inbox=script.inbox, person=person.key, turns=turns, status=script.status,
            agent=agent, assigned=answered, subject=script.subject, resolved_at=resolved_at))
    return out


def wang_conversations(now: datetime) -> list[ConversationSpec]:
    """王小明's story: a roaming question on WeChat, a call about slow broadband, and the
    web chat he has open right now about the failed payment and his expiring plan."""
    def at(**delta: float) -> datetime:
        return now - timedelta(**delta)

    roaming = [
        TurnSpec("c", "下个月去日本旅游，国际漫游包怎么订？", at(days=10, hours=3)),
        TurnSpec("a", "您好，我是客服李娜。日本 7 天包 98 元，每天 1GB 高速流量，"
                      "在「掌上营业厅」里就能订。", at(days=10, hours=2, minutes=57)),
        TurnSpec("c", "好的，已经订了，谢谢", at(days=10, hours=2, minutes=50)),
    ]
    call = [
        TurnSpec("c", "你好，我家千兆宽带晚上网速特别慢，测速才一百多兆。", at(days=6, hours=5),
                 {"duration_seconds": 428, "direction": "inbound", "queue": "宽带报修",
                  "recording": "rec-5a1f0c2e.wav"}),
        TurnSpec("n", "通话小结：路由器为百兆口旧型号，建议更换千兆路由器；已预约装维上门更换",
                 at(days=6, hours=4, minutes=51)),
    ]
    web = [
        TurnSpec("c", "你好，我刚才交话费没成功，提示余额不足，可我银行卡里明明有钱",
                 at(minutes=18)),
        TurnSpec("c", "另外我的 5G 套餐是不是快到期了？续约有什么优惠吗", at(minutes=16)),
    ]
    return [
        ConversationSpec("wechat", WANG_XIAOMING, roaming, "resolved", "li_na", True,
                         resolved_at=at(days=10, hours=2, minutes=40)),
        ConversationSpec("voice", WANG_XIAOMING, call, "resolved", "zhang_wei", True,
                         resolved_at=at(days=6, hours=4, minutes=50)),
        ConversationSpec("web", WANG_XIAOMING, web, "open", None, False),
    ]


def abandoned_calls(rng: random.Random, now: datetime,
                    persons: list[PersonSpec]) -> list[CallSpec]:
    """Calls that hung up in the queue before an agent answered."""
    callers = [p for p in persons if p.phone and p.is_private and p.key != WANG_XIAOMING]
    calls = [CallSpec(WANG_XIAOMING, now - timedelta(days=2, hours=3), 215, "账单查询")]
    for person in rng.sample(callers, k=12):
        calls.append(CallSpec(person.key, now - timedelta(minutes=rng.randint(30, 29 * 1440)),
                              rng.randint(60, 420), rng.choice(QUEUES)))
    return calls
