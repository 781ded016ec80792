"""The contact centre's people, teams and inboxes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omnidesk.models.enums import Channel, Role

ADMIN_EMAIL = "admin@omnidesk.local"
DEMO_PASSWORD = "omnidesk-demo"
AGENT_KEY = "li_na"
TOKEN_NAME = "omnidesk demo (admin)"


@dataclass(frozen=True)
class StaffSpec:
    key: str
    email: str
    name: str
    role: str
    locale: str
    languages: tuple[str, ...]  # the customer locales this person answers in


STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("chen_jing", "chen.jing@omnidesk.local", "陈静", Role.supervisor, "zh-CN",
              ("zh-CN",)),
    StaffSpec("li_na", "li.na@omnidesk.local", "李娜", Role.agent, "zh-CN", ("zh-CN",)),
    StaffSpec("zhang_wei", "zhang.wei@omnidesk.local", "张伟", Role.agent, "zh-CN",
              ("zh-CN",)),
    StaffSpec("lin_yijun", "lin.yijun@omnidesk.local", "林怡君", Role.agent, "zh-TW",
              ("zh-TW", "en")),
    StaffSpec("huang_zhiming", "huang.zhiming@omnidesk.local", "黃志明", Role.agent, "zh-TW",
              ("zh-TW",)),
    StaffSpec("emily_carter", "emily.carter@omnidesk.local", "Emily Carter", Role.agent, "en",
              ("en",)),
    StaffSpec("liu_yang", "liu.yang@omnidesk.local", "刘洋", Role.agent, "zh-CN",
              ("zh-CN",)),
    StaffSpec("zhao_min", "zhao.min@omnidesk.local", "赵敏", Role.backoffice, "zh-CN",
              ("zh-CN",)),
    StaffSpec("zhou_jianguo", "zhou.jianguo@omnidesk.local", "周建国", Role.account_manager,
              "zh-CN", ("zh-CN",)),
    StaffSpec("grace_wong", "grace.wong@omnidesk.local", "Grace Wong", Role.account_manager,
              "en", ("en", "zh-TW")),
)

FRONT_LINE, ENTERPRISE, BILLING = "一线客服", "政企客户服务组", "账务"
TEAMS: dict[str, tuple[str, ...]] = {
    FRONT_LINE: ("chen_jing", "li_na", "zhang_wei", "lin_yijun", "huang_zhiming",
                 "emily_carter"),
    ENTERPRISE: ("liu_yang", "lin_yijun", "emily_carter", "zhou_jianguo", "grace_wong"),
    BILLING: ("zhao_min",),
}

# Who answers on the front line and on the enterprise line, by customer locale.
FRONT_AGENTS = ("li_na", "zhang_wei", "lin_yijun", "huang_zhiming", "emily_carter")
ENTERPRISE_AGENTS = ("liu_yang", "lin_yijun", "emily_carter")
BILLING_STAFF = "zhao_min"


@dataclass(frozen=True)
class InboxSpec:
    key: str
    channel: str
    name: str
    config: dict[str, Any]
    team: str | None = None
    restricted: bool = False


INBOXES: tuple[InboxSpec, ...] = (
    InboxSpec("web", Channel.web_chat, "官网在线客服",
              {"greeting": "您好，欢迎咨询在线客服！", "reopen_days": 3}, FRONT_LINE),
    InboxSpec("app", Channel.app_chat, "掌上营业厅 App", {"reopen_days": 3}, FRONT_LINE),
    InboxSpec("email", Channel.email, "support@telecom.example",
              {"address": "support@telecom.example", "reopen_days": 7}, FRONT_LINE),
    InboxSpec("wechat", Channel.wechat, "微信公众号",
              {"app_id": "wxd3m0omnidesk0001", "token": "omnidesk-demo-token",
               "mode": "plain", "fetch_user_info": False,
               "greeting": "感谢关注！随时在这里留言，我们会尽快回复。"}, FRONT_LINE),
    InboxSpec("voice", Channel.voice, "10000 热线",
              {"number": "10000", "secret": "demo-pbx-secret-0001"}, FRONT_LINE),
    InboxSpec("sms", Channel.sms, "短信", {"number": "10001"}, FRONT_LINE),
    InboxSpec("api", Channel.api, "Partner API", {}, FRONT_LINE),
    InboxSpec("enterprise", Channel.email, "政企专线",
              {"address": "enterprise@telecom.example", "reopen_days": 7}, ENTERPRISE,
              restricted=True),
)


def staff(key: str) -> StaffSpec:
    return next(s for s in STAFF if s.key == key)
