"""Intents and automatic answers for e-mail.

A person's mail is classified once, before it is stored, so that routing rules can use
the intent (``data["intent"]``). When the bot settings' ``email_auto_reply`` is enabled
for the inbox, the classifier is confident and the intent is an article intent allowed
by the settings (empty list: any article), the article's short answer goes back as a bot
reply — with the help-centre link and a line saying how to reach a person. Automatic mail
and bounces are never answered (the caller checks :func:`noise.automatic`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.bot import engine
from omnidesk.bot import model as bot_model
from omnidesk.conversations.service import reply
from omnidesk.kit.text import to_simplified
from omnidesk.models import Conversation, Message

ARTICLE = "article:"
BOT_NAME = "omnidesk bot"
SUMMARY_LIMIT = 400
TEXT = {
    "zh-CN": ("您好！关于您的来信，以下解答或许能帮到您：\n\n{summary}\n\n详情：{url}\n\n"
              "这是一封自动回复。如果问题仍未解决，直接回复本邮件即可，客服人员会尽快为您处理。"),
    "zh-TW": ("您好！關於您的來信，以下解答或許能幫到您：\n\n{summary}\n\n詳情：{url}\n\n"
              "這是一封自動回覆。如果問題仍未解決，直接回覆本郵件即可，客服人員會盡快為您處理。"),
    "en": ("Hello! This answer may help with your message:\n\n{summary}\n\nMore: {url}\n\n"
           "This is an automatic reply. If it does not solve your problem, just reply to this "
           "e-mail and one of our people will take care of it."),
}


@dataclass(frozen=True)
class Intent:
    label: str
    confidence: float
    confident: bool

    def json(self) -> dict[str, Any]:
        return {"label": self.label, "confidence": round(self.confidence, 4),
                "confident": self.confident}


async def bot_settings(session: AsyncSession) -> dict[str, Any]:
    return await engine.settings(session)


async def current_classifier(session: AsyncSession) -> Any | None:
    return await bot_model.current(session)


async def recognise(session: AsyncSession, text: str,
                    settings: dict[str, Any]) -> Intent | None:
    """The intent of a mail, or None when nothing is trained or nothing was recognised."""
    if not text.strip():
        return None
    classifier = await current_classifier(session)
    if classifier is None:
        return None
    prediction = classifier.predict(text[:4000])
    label = prediction.label or (prediction.ranking[0][0] if prediction.ranking else None)
    if not label:
        return None
    confidence = float(prediction.confidence)
    confident = bool(prediction.in_scope) and bool(prediction.label)
    if settings.get("min_confidence") is not None:
        confident = confidence >= float(settings["min_confidence"])
    return Intent(str(label), confidence, confident)


def language_of(text: str) -> str:
    han = "".join(c for c in text if "\u4e00" <= c <= "\u9fff")
    if not han:
        return "en"
    return "zh-TW" if to_simplified(han) != han else "zh-CN"


def allowed(settings: dict[str, Any], inbox_id: uuid.UUID, intent: Intent | None) -> bool:
    scope = settings.get("email_auto_reply") or {}
    if not scope.get("enabled") or intent is None or not intent.confident:
        return False
    if str(inbox_id) not in {str(i) for i in scope.get("inbox_ids") or []}:
        return False
    if not intent.label.startswith(ARTICLE):
        return False
    intents = scope.get("intents") or []
    return not intents or intent.label in intents


async def answer(session: AsyncSession, conversation: Conversation, intent: Intent,
                 text: str, public_url: str) -> Message | None:
    """Send the article's answer as the bot (delivered by the e-mail adapter)."""
    try:
        group_id = uuid.UUID(intent.label[len(ARTICLE):])
    except ValueError:
        return None
    lang = language_of(text)
    article = await engine.article_for(session, group_id, lang)
    if article is None:
        return None
    url = f"{public_url}/help/articles/{article.id}"
    body = TEXT.get(lang, TEXT["en"]).format(
        summary=engine.summary(article.body, SUMMARY_LIMIT), url=url)
    message, _ = await reply(session, conversation, body=body, sender_type="bot",
                             sender_id=None, author_name=BOT_NAME)
    message.data = {**message.data, "bot": {
        "kind": "email_auto_reply", "article_id": str(article.id), "intent": intent.label,
        "confidence": round(intent.confidence, 4)}}
    return message
