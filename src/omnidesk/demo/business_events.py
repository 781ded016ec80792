"""Business events from billing, the e-shop, the app and the CRM, in the event feed's
wire format (``omnidesk.events.schemas.EventIn``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from omnidesk.demo.people import WANG_XIAOMING
from omnidesk.demo.specs import OrgSpec, PersonSpec, ProductSpec
from omnidesk.models.enums import Channel, Outcome

EVENT_TYPES: tuple[tuple[str, str, str], ...] = (
    ("payment.failed", Outcome.failed, "A bill payment or top-up was declined (话费支付失败)"),
    ("payment.succeeded", Outcome.succeeded, "A bill payment or top-up went through"),
    ("order.abandoned", Outcome.abandoned, "A cart was left at checkout (购物车未支付)"),
    ("app.checkin.failed", Outcome.failed, "The app's daily check-in failed (App 签到失败)"),
    ("app.cancellation.failed", Outcome.failed,
     "Cancelling a service in the app failed (App 退订失败)"),
    ("contract.expiring", Outcome.info, "A contract or plan expires within 30 days"),
    ("plan.changed", Outcome.info, "A customer's plan was changed (套餐变更)"),
)
REASONS = (("insufficient balance", "insufficient_balance", "余额不足"),
           ("insufficient balance", "insufficient_balance", "余额不足"),
           ("card expired", "card_expired", "银行卡已过期"),
           ("bank declined", "bank_declined", "银行拒绝交易"))
METHODS = {"alipay": "Alipay", "wechat_pay": "WeChat Pay", "bank_card": "bank card",
           "unionpay": "UnionPay"}
PRICES = {"5G-199": "199.00", "5G-129": "129.00", "5G-99": "99.00"}
CARTS = (("FTTH-1000-UP", "千兆宽带升级", "1200.00"),
         ("FTTH-1000-UP", "千兆宽带升级", "1200.00"),
         ("5G-199-UP", "5G 套餐 199元 升级", "199.00"),
         ("ROAM-JP7", "国际漫游包 日本 7 天", "98.00"))
CHECKIN_ERRORS = (("E503", "系统繁忙，请稍后再试"), ("E1104", "签到活动已结束"),
                  ("E408", "网络超时"))
CANCEL_ERRORS = (("视频彩铃包月", "E1021", "订单处理中，暂不能退订"),
                 ("视频会员", "E2007", "第三方平台订购，需在对方平台取消"),
                 ("10元夜间流量包", "E1030", "当月已使用，次月生效"))
PLANS = (("5G 套餐 129元", "5G 套餐 199元"), ("5G 套餐 99元", "5G 套餐 129元"),
         ("5G 套餐 199元", "5G 套餐 129元"), ("宽带 300M", "千兆宽带"))


def _event(kind: str, n: int, source: str, person: PersonSpec, at: datetime,
           summary: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"source": source, "id": f"demo-{kind}-{n:04d}", "type": kind,
            "occurred_at": at, "contact": person.primary_identity(),
            "contact_name": person.name, "summary": summary, "data": data, **extra}


def _ago(rng: random.Random, now: datetime, max_days: int = 30) -> datetime:
    return now - timedelta(minutes=rng.randint(20, max_days * 1440 - 60))


def _price(person: PersonSpec) -> str:
    return next((PRICES[p.code] for p in person.products if p.code in PRICES), "129.00")


def payment(n: int, person: PersonSpec, at: datetime, amount: str, method: str,
            reason: tuple[str, str, str] | None) -> dict[str, Any]:
    data: dict[str, Any] = {"amount": amount, "currency": "CNY", "method": method,
                            "bill_month": f"{at:%Y-%m}"}
    if reason is None:
        return _event("payment.succeeded", n, "billing", person, at,
                      f"Payment of {amount} CNY succeeded ({METHODS[method]})", data)
    text, code, zh = reason
    data.update(reason=text, reason_code=code, reason_zh=zh)
    return _event("payment.failed", n, "billing", person, at,
                  f"Payment of {amount} CNY failed: {text}", data)


def _payments(rng: random.Random, now: datetime, people: list[PersonSpec]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for person in people:
        for _ in range(1 + (rng.random() < 0.35)):
            amount = rng.choice([_price(person), _price(person), "50.00", "100.00"])
            out.append(payment(len(out), person, _ago(rng, now), amount,
                               rng.choice(list(METHODS)), None))
    for index, person in enumerate(rng.sample(people, k=34)):
        reason = rng.choice(REASONS)
        method = "bank_card" if reason[1] != "insufficient_balance" else rng.choice(
            ["alipay", "bank_card", "wechat_pay"])
        out.append(payment(index, person, _ago(rng, now), _price(person), method, reason))
    return out


def _orders(rng: random.Random, now: datetime, people: list[PersonSpec]) -> list[dict[str, Any]]:
    out = []
    for n, person in enumerate(rng.sample(people, k=24)):
        sku, name, price = rng.choice(CARTS)
        step = rng.choice([("payment", "支付页面退出"), ("address", "填写安装地址时离开"),
                           ("payment", "支付超时")])
        out.append(_event(
            "order.abandoned", n, "eshop", person, _ago(rng, now), f"购物车未支付：{name}",
            {"cart_id": f"C{rng.randrange(10**9):09d}", "total": price, "currency": "CNY",
             "items": [{"sku": sku, "name": name, "price": price, "qty": 1}],
             "step": step[0], "reason": step[1]},
            channel=rng.choice([Channel.app_chat, Channel.web_chat])))
    return out


def _app(rng: random.Random, now: datetime, people: list[PersonSpec]) -> list[dict[str, Any]]:
    users = [p for p in people if p.app_user_id]
    out = []
    for n, person in enumerate(rng.sample(users, k=min(20, len(users)))):
        code, error = rng.choice(CHECKIN_ERRORS)
        out.append(_event("app.checkin.failed", n, "app", person, _ago(rng, now),
                          f"App 签到失败：{error}",
                          {"error_code": code, "reason": error, "platform": rng.choice(
                              ["iOS", "Android", "HarmonyOS"]), "app_version": "10.4.2"},
                          contact={"app_user_id": person.app_user_id}, channel=Channel.app_chat))
    for n, person in enumerate(rng.sample(users, k=min(15, len(users)))):
        service, code, error = rng.choice(CANCEL_ERRORS)
        out.append(_event("app.cancellation.failed", n, "app", person, _ago(rng, now),
                          f"App 退订失败：{service}（{error}）",
                          {"service": service, "error_code": code, "reason": error},
                          contact={"app_user_id": person.app_user_id}, channel=Channel.app_chat))
    return out


def _plans(rng: random.Random, now: datetime, people: list[PersonSpec]) -> list[dict[str, Any]]:
    out = []
    for n, person in enumerate(rng.sample(people, k=30)):
        before, after = rng.choice(PLANS)
        out.append(_event("plan.changed", n, "crm", person, _ago(rng, now),
                          f"套餐变更：{before} → {after}，次月生效",
                          {"from": before, "to": after, "effective": "next_month",
                           "channel_of_order": rng.choice(["app", "hotline", "store"])}))
    return out


def expiring(n: int, person: PersonSpec, product: ProductSpec, now: datetime,
             organisation: OrgSpec | None = None) -> dict[str, Any]:
    assert product.expires_at is not None
    at = max(product.expires_at - timedelta(days=30), now - timedelta(days=27))
    owner = f"{organisation.name}：" if organisation else ""
    data: dict[str, Any] = {"product_code": product.code, "product": product.name,
                            "expires_at": product.expires_at.isoformat()}
    if organisation is not None:
        data.update(organisation=organisation.name,
                    contract_no=organisation.attributes.get("contract_no"))
    return _event("contract.expiring", n, "crm", person, at,
                  f"{owner}{product.name} 合约将于 {product.expires_at:%Y-%m-%d} 到期", data)


def _expiring_all(now: datetime, people: list[PersonSpec], orgs: list[OrgSpec],
                  by_key: dict[str, PersonSpec]) -> list[dict[str, Any]]:
    soon = now + timedelta(days=30)
    out: list[dict[str, Any]] = []
    for person in people:
        for product in person.products:
            if product.expires_at and now < product.expires_at <= soon and \
                    product.code != "ROAM-INTL":
                out.append(expiring(len(out), person, product, now))
    for org in orgs:
        contact = by_key[org.members[0].person_key]
        for product in org.products:
            if product.expires_at and now < product.expires_at <= soon:
                out.append(expiring(len(out), contact, product, now, org))
    return out


def wang_events(now: datetime, wang: PersonSpec) -> list[dict[str, Any]]:
    """Paid last month; left a renewal cart; the failed payment of a few hours ago last."""
    plan = wang.products[0]
    renewal = _event("order.abandoned", 900, "eshop", wang, now - timedelta(days=3, hours=2),
                     "购物车未支付：5G 套餐 199元 续约 24 个月",
                     {"cart_id": "C138001380", "total": "199.00", "currency": "CNY",
                      "items": [{"sku": "5G-199-RENEW24", "name": "5G 套餐 199元 续约 24 个月",
                                 "price": "199.00", "qty": 1}],
                      "step": "payment", "reason": "支付页面退出"}, channel=Channel.app_chat)
    return [
        payment(900, wang, now - timedelta(days=27, hours=4), "199.00", "bank_card", None),
        expiring(900, wang, plan, now),
        renewal,
        payment(901, wang, now - timedelta(hours=5), "199.00", "bank_card", REASONS[0]),
    ]


def plan_events(rng: random.Random, now: datetime, persons: list[PersonSpec],
                orgs: list[OrgSpec]) -> list[dict[str, Any]]:
    by_key = {p.key: p for p in persons}
    people = [p for p in persons if p.is_private and p.key != WANG_XIAOMING]
    return [*_payments(rng, now, people), *_orders(rng, now, people), *_app(rng, now, people),
            *_plans(rng, now, people), *_expiring_all(now, people, orgs, by_key),
            *wang_events(now, by_key[WANG_XIAOMING])]
