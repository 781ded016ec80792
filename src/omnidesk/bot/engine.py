"""The bot on a conversation: greet from the customer's context, answer what it knows
with the article, ask whether it helped, and hand off to a person — with the transcript,
the recognised intents and the context — when asked, when unsure, after two unhelpful
answers, or for tiers the admin keeps human."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.activity.context import get_context
from omnidesk.bot import model, texts
from omnidesk.conversations.service import do_set_status, reply
from omnidesk.kit.db import after_commit
from omnidesk.kit.time import utcnow
from omnidesk.knowledge.articles import is_stale
from omnidesk.models import Article, BotSession, Conversation, KbSetting, Message

__all__ = ["BotSession", "greet", "handoff", "on_customer_message", "settings"]
from omnidesk.realtime.hub import publish

SETTINGS_KEY = "bot"
DEFAULTS: dict[str, Any] = {
    "enabled": True, "channels": ["web_chat", "app_chat", "wechat"],
    "always_human_tiers": [], "max_unhelpful": 2,
    # None: the threshold the classifier tuned on held-out training data
    "min_confidence": None,
    # E-mail: a confident answer goes out as an automatic reply only for these inboxes and
    # intents (empty intents: any article intent), always with a way to reach a person.
    "email_auto_reply": {"enabled": False, "inbox_ids": [], "intents": []},
}
BOT_NAME = "omnidesk bot"


async def settings(session: AsyncSession) -> dict[str, Any]:
    row = await session.get(KbSetting, SETTINGS_KEY)
    return {**DEFAULTS, **(row.value if row else {})}


async def _say(session: AsyncSession, conv: Conversation, body: str,
               data: dict[str, Any] | None = None) -> Message:
    message, _ = await reply(session, conv, body=body, sender_type="bot", sender_id=None,
                             author_name=BOT_NAME, data=data)
    return message


def _options(lang: str, ctx: dict[str, Any]) -> list[str]:
    """Greeting options chosen from the context: a failure that just happened first."""
    options = [texts.failure_option(lang, f) for f in ctx["recent_failures"][:2]]
    options += [texts.say(lang, "expiring", name=p["name"], days=p["expires_in_days"])
                for p in ctx["expiring_products"][:1]]
    return [*options, texts.say(lang, "other"), texts.say(lang, "agent")]


async def greet(session: AsyncSession, conv: Conversation, first_text: str) -> None:
    config = await settings(session)
    if not config["enabled"] or conv.channel not in config["channels"]:
        return
    if await session.get(BotSession, conv.id) is not None:
        return
    if await model.current(session) is None:  # nothing trained: people answer
        return
    ctx = await get_context(session, conv.contact_id)
    bot = BotSession(conversation_id=conv.id, contact_id=conv.contact_id,
                     channel=conv.channel, intents=[])
    session.add(bot)
    lang = texts.language_of(first_text, ctx["contact"].get("locale"))
    if ctx["tier"] and ctx["tier"] in config["always_human_tiers"]:
        await handoff(session, conv, bot, "always_human", lang, ctx)
        return
    options = _options(lang, ctx)
    body = "\n".join([texts.say(lang, "hello"), *(f"· {o}" for o in options)])
    await _say(session, conv, body, {"options": options, "bot": {"kind": "greeting"}})


async def on_customer_message(session: AsyncSession, conv: Conversation,
                              message: Message, first: bool = False) -> None:
    bot = await session.get(BotSession, conv.id)
    if bot is None or bot.state == "ended" or message.seq <= bot.handled_seq:
        return
    bot.handled_seq = message.seq
    if conv.assignee_id is not None or await _agent_replied(session, conv.id):
        bot.state, bot.outcome, bot.ended_at = "ended", "handed_off", utcnow()
        bot.handoff_reason = bot.handoff_reason or "agent_took_over"
        return
    config = await settings(session)
    lang = texts.language_of(message.body, None)
    if texts.wants_human(message.body):
        await handoff(session, conv, bot, "asked_for_human", lang)
        return
    if bot.state == "awaiting":
        verdict = texts.feedback(message.body)
        if verdict is True:
            bot.state, bot.outcome, bot.ended_at = "ended", "resolved", utcnow()
            await _say(session, conv, texts.say(lang, "glad"))
            await do_set_status(session, conv, "resolved")
            return
        if verdict is False:
            bot.unhelpful += 1
            if bot.unhelpful >= int(config["max_unhelpful"]):
                await handoff(session, conv, bot, "unhelpful", lang)
            else:
                bot.state = "active"
                await _say(session, conv, texts.say(lang, "rephrase"))
            return
    await _answer(session, conv, bot, message.body, lang, first)


async def _agent_replied(session: AsyncSession, conversation_id: uuid.UUID) -> bool:
    found = await session.scalar(select(Message.id).where(
        Message.conversation_id == conversation_id, Message.sender_type == "agent").limit(1))
    return found is not None


async def _answer(session: AsyncSession, conv: Conversation, bot: BotSession, text: str,
                  lang: str, first: bool = False) -> None:
    classifier = await model.current(session)
    if classifier is None:
        await handoff(session, conv, bot, "no_model", lang)
        return
    prediction = classifier.predict(text)
    config = await settings(session)
    label, in_scope = prediction.label, bool(prediction.in_scope)
    if config.get("min_confidence") is not None:  # the admin's threshold instead of the tuned one
        label = label or (prediction.ranking[0][0] if prediction.ranking else None)
        in_scope = prediction.confidence >= float(config["min_confidence"])
    bot.intents = [*bot.intents, {"text": text[:500], "label": label,
                                  "confidence": round(float(prediction.confidence), 4),
                                  "in_scope": in_scope}]
    label = label or ""
    if not in_scope or not label:
        if not first:  # a first "hello" is answered by the greeting's options
            await handoff(session, conv, bot, "not_confident", lang)
        return
    bot.last_intent = label
    if not label.startswith(model.ARTICLE):
        await handoff(session, conv, bot, f"intent:{label}", lang)
        return
    article = await article_for(session, uuid.UUID(label[len(model.ARTICLE):]), lang)
    if article is None:
        await handoff(session, conv, bot, "article_unavailable", lang)
        return
    base = (float(config["min_confidence"]) if config.get("min_confidence") is not None
            else classifier.threshold)
    if not trusted(prediction.confidence, base, is_stale(article)):
        await handoff(session, conv, bot, "stale_article", lang)
        return
    bot.state, bot.last_article_id, bot.answered_at = "awaiting", article.id, utcnow()
    short = summary(article.body)
    await _say(session, conv, texts.say(lang, "answer", summary=short,
                                        url=f"/help/articles/{article.id}"),
               {"bot": {"kind": "answer", "article_id": str(article.id), "intent": label,
                        "confidence": round(float(prediction.confidence), 4)},
                "options": ["是" if lang != "en" else "yes", "否" if lang != "en" else "no"]})


def trusted(confidence: float, threshold: float, stale: bool) -> bool:
    """Whether the bot answers with an article: above the threshold; for a stale article
    (past its review-by date, or its helpful rate dropped) only when it is half-way from
    the threshold to certainty — a doubtful answer from a doubtful article goes to a person."""
    required = threshold + (1.0 - threshold) / 2 if stale else threshold
    return confidence >= required


async def article_for(session: AsyncSession, group_id: uuid.UUID, lang: str) -> Article | None:
    rows = list(await session.scalars(select(Article).where(
        Article.group_id == group_id, Article.status == "published",
        Article.visibility == "public")))
    return next((a for a in rows if a.locale == lang), rows[0] if rows else None)


def summary(body: str, limit: int = 240) -> str:
    paragraph = next((p.strip() for p in body.split("\n\n") if p.strip()), body.strip())
    return paragraph if len(paragraph) <= limit else paragraph[: limit - 1] + "…"


async def handoff(session: AsyncSession, conv: Conversation, bot: BotSession, reason: str,
                  lang: str, ctx: dict[str, Any] | None = None) -> None:
    """Pass the conversation to a person with everything the bot learned."""
    bot.state, bot.outcome, bot.ended_at, bot.handoff_reason = (
        "ended", "handed_off", utcnow(), reason)
    ctx = ctx or await get_context(session, conv.contact_id)
    transcript = [{"sender": m.sender_type, "body": m.body[:1000],
                   "at": m.created_at.isoformat()}
                  for m in await session.scalars(select(Message).where(
                      Message.conversation_id == conv.id, Message.is_note.is_(False))
                      .order_by(Message.seq.desc()).limit(30))][::-1]
    handoff_data = {"reason": reason, "intents": bot.intents, "transcript": transcript,
                    "tier": ctx["tier"], "recent_failures": ctx["recent_failures"][:3]}
    lines = [f"Bot hand-off: {reason}"]
    lines += [f"- intent {i['label'] or '∅'} ({i['confidence']:.0%}): {i['text']}"
              for i in bot.intents[-5:]]
    lines += [f"- failure: {f['summary']}" for f in ctx["recent_failures"][:2]]
    await reply(session, conv, body="\n".join(lines), sender_type="bot", sender_id=None,
                author_name=BOT_NAME, is_note=True, data={"handoff": handoff_data})
    await _say(session, conv, texts.say(lang, "handoff"))
    frame = {"type": "conversation.handoff", "conversation_id": str(conv.id),
             "handoff": handoff_data, "context": ctx}
    topic = f"inbox:{conv.inbox_id}"

    async def _push() -> None:
        await publish(topic, frame)

    after_commit(session, _push)
