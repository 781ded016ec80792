"""What the bot says, in the customer's language, and how it reads short answers."""

from __future__ import annotations

import re
from typing import Any

from omnidesk.kit.text import normalize, to_simplified

HUMAN = ("人工", "转人工", "真人", "客服人员", "找客服", "human", "agent", "operator",
         "representative", "real person")
YES = ("是", "是的", "对", "解决了", "好了", "可以了", "有用", "谢谢", "明白了", "yes", "yep",
       "solved", "thanks", "thank you", "ok", "great", "it worked")
NO = ("没有", "不是", "不行", "没用", "没解决", "还是不行", "不对", "no", "nope", "not really",
      "didn't help", "did not help", "still not", "doesn't work")

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "hello": "您好，我是智能客服。请问有什么可以帮您？",
        "failure": "您的{what}未成功：{reason} —— 需要帮您重试或换一种方式吗？",
        "expiring": "您的「{name}」将于 {days} 天内到期，需要续订吗？",
        "answer": "{summary}\n详情：{url}\n这解决您的问题了吗？（是 / 否）",
        "glad": "很高兴帮到您！如还有问题，随时告诉我。",
        "rephrase": "抱歉没帮上忙。能换个说法描述一下您的问题吗？",
        "handoff": "正在为您转接人工客服，请稍候，您不需要重复说明问题。",
        "human_anyway": "如需人工服务，回复“人工”即可。",
        "other": "其他问题",
        "agent": "转人工",
    },
    "zh-TW": {
        "hello": "您好，我是智慧客服。請問有什麼可以幫您？",
        "failure": "您的{what}未成功：{reason} —— 需要幫您重試或換一種方式嗎？",
        "expiring": "您的「{name}」將於 {days} 天內到期，需要續約嗎？",
        "answer": "{summary}\n詳情：{url}\n這解決您的問題了嗎？（是 / 否）",
        "glad": "很高興幫到您！如還有問題，隨時告訴我。",
        "rephrase": "抱歉沒幫上忙。能換個說法描述一下您的問題嗎？",
        "handoff": "正在為您轉接真人客服，請稍候，您不需要重複說明問題。",
        "human_anyway": "如需真人服務，回覆「人工」即可。",
        "other": "其他問題",
        "agent": "轉真人客服",
    },
    "en": {
        "hello": "Hi, I'm the virtual assistant. How can I help?",
        "failure": "Your {what} didn't go through: {reason} — try again or another way?",
        "expiring": "Your {name} expires within {days} days — would you like to renew?",
        "answer": "{summary}\nMore: {url}\nDid this solve your problem? (yes / no)",
        "glad": "Glad I could help! Tell me if there is anything else.",
        "rephrase": "Sorry that didn't help. Could you describe the problem another way?",
        "handoff": "I'm connecting you with a colleague — no need to repeat yourself.",
        "human_anyway": "Reply \"agent\" any time to talk to a person.",
        "other": "Something else",
        "agent": "Talk to a person",
    },
}
WHAT = {"zh-CN": {"payment": "付款", "order": "订单", "default": "操作"},
        "zh-TW": {"payment": "付款", "order": "訂單", "default": "操作"},
        "en": {"payment": "payment", "order": "order", "default": "request"}}


def language_of(text: str, preferred: str | None) -> str:
    if preferred in TEXT:
        return str(preferred)
    cjk = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not cjk:
        return "en"
    han = "".join(cjk)
    return "zh-TW" if to_simplified(han) != han else "zh-CN"


def say(lang: str, key: str, **values: Any) -> str:
    return TEXT.get(lang, TEXT["en"])[key].format(**values)


def _matches(text: str, words: tuple[str, ...]) -> bool:
    """Chinese words match anywhere; English ones as whole words ("no" is not in "know")."""
    norm = normalize(text).strip(" 。.!！?？~～")
    for w in words:
        if norm == w:
            return True
        if w.isascii():
            if re.search(rf"(?<![a-z']){re.escape(w)}(?![a-z'])", norm):
                return True
        elif len(w) > 1 and w in norm:
            return True
    return False


def wants_human(text: str) -> bool:
    return _matches(text, HUMAN)


def feedback(text: str) -> bool | None:
    """True: helped; False: did not; None: not an answer to "did this help?"."""
    norm = normalize(text).strip(" 。.!！?？~～")
    if len(norm) > 20:
        return None
    if _matches(norm, NO):
        return False
    if _matches(norm, YES):
        return True
    return None


def failure_option(lang: str, failure: dict[str, Any]) -> str:
    kind = "payment" if "payment" in failure["type"] else (
        "order" if "order" in failure["type"] else "default")
    data = failure.get("data") or {}
    what = WHAT[lang][kind]
    if data.get("amount"):
        what = (f"{data['amount']} {data.get('currency', '')} {what}".strip()
                if lang == "en" else f"{data['amount']} 元{what}")
    return say(lang, "failure", what=what, reason=failure.get("reason") or failure["summary"])
