"""A small trilingual intent set in the way contact-centre customers write."""

from __future__ import annotations

import pytest

from omnidesk.nlu.classifier import IntentClassifier

EXAMPLES: dict[str, list[str]] = {
    "payment_failed": [
        "my payment failed", "why was my card declined", "the payment did not go through",
        "payment error when paying my bill", "I couldn't pay, it says insufficient balance",
        "支付失败了", "为什么扣款失败", "付款不成功怎么办", "缴费时提示余额不足",
        "银行卡支付不了", "付款一直失败",
    ],
    "broadband_down": [
        "my broadband is not working", "the internet is down at home", "wifi keeps dropping",
        "no internet connection since this morning", "the router light is red",
        "宽带断网了", "家里宽带上不了网", "网络一直掉线", "光猫红灯亮了", "宽带很慢连不上",
    ],
    "cancel_contract": [
        "I want to cancel my contract", "how do I terminate my plan", "cancel my subscription",
        "end my mobile contract", "stop my service please",
        "我要取消合约", "怎么退订套餐", "我想销户", "解除合同要怎么办理", "取消我的业务",
    ],
    "invoice": [
        "I need an invoice", "send me the receipt for last month", "where can I download my bill",
        "can I get a VAT invoice", "invoice for my company",
        "我要开发票", "上个月的发票在哪里下载", "怎么开增值税专用发票", "电子发票怎么获取",
        "帮我开一张发票",
    ],
    "roaming": [
        "how do I turn on roaming", "will my phone work abroad", "roaming charges in Japan",
        "activate international roaming", "data roaming price",
        "怎么开通国际漫游", "出国手机能用吗", "漫游资费多少", "去香港要开漫游吗", "境外流量包",
    ],
    "change_plan": [
        "I want a bigger data plan", "upgrade my package", "switch to a cheaper plan",
        "change my tariff", "more data every month",
        "我想换套餐", "升级流量套餐", "有没有便宜一点的套餐", "改套餐怎么收费", "换个流量多的套餐",
    ],
}


@pytest.fixture(scope="session")
def trilingual() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for label, items in EXAMPLES.items():
        texts += items
        labels += [label] * len(items)
    return texts, labels


@pytest.fixture(scope="session")
def model(trilingual: tuple[list[str], list[str]]) -> IntentClassifier:
    return IntentClassifier.train(*trilingual)
