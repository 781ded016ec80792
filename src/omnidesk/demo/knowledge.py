"""The demo's help centre and bot: knowledge articles, search synonyms, labelled
utterances for the intents that go to people, and a trained intent model.

Everything is written through the knowledge and bot services (articles get their
versions, the model its metrics), so the demo holds what an admin would have made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from omnidesk.bot.model import do_import_utterances, do_train
from omnidesk.demo.knowledge_articles import ARTICLES, ArticleSpec
from omnidesk.knowledge.articles import ArticleIn, ArticlePatch, do_create, do_update, do_vote
from omnidesk.knowledge.articles import set_synonyms as store_synonyms
from omnidesk.models import Article, User

# Articles whose first version lacked their last line: the editor shows a version 2 + diff.
REVISED = ("invoice", "bill-dispute")

SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("宽带", "寬頻", "宽频", "broadband", "光纤", "光纖", "fibre", "fiber"),
    ("断网", "斷線", "掉线", "上不了网", "不能上網", "没网", "outage"),
    ("光猫", "數據機", "modem"),
    ("Wi-Fi", "wifi", "无线网", "無線網路", "wlan"),
    ("发票", "發票", "invoice", "fapiao"),
    ("专票", "專票", "增值税专用发票", "增值稅專用發票", "VAT invoice"),
    ("漫游", "漫遊", "roaming"),
    ("套餐", "資費方案", "方案", "plan"),
    ("充值", "儲值", "top up", "recharge"),
    ("缴费", "繳費", "交费", "交話費", "pay bill"),
    ("话费", "話費", "電話費", "phone bill"),
    ("账单", "帳單", "bill"),
    ("携号转网", "攜碼", "攜號轉網", "带号转网", "number porting", "port my number"),
    ("停机", "停話", "停機", "suspended"),
    ("复机", "復話", "restore service"),
    ("销户", "退租", "注销", "解约", "解約", "cancel contract"),
    ("SIM卡", "手机卡", "手機卡", "SIM card", "eSIM"),
    ("密码", "密碼", "password", "PIN"),
    ("信号", "訊號", "收訊", "signal", "coverage"),
    ("营业厅", "門市", "store"),
    ("短信", "簡訊", "text message", "SMS"),
    ("企业账户", "企業帳戶", "集团账户", "集團帳戶", "enterprise account", "business account"),
)

# Intents that go to a person rather than an article: the bot hands off with the label.
UTTERANCES: dict[str, tuple[str, ...]] = {
    "complaint": (
        "我要投诉！你们服务太差了", "你们装维师傅约好了又不来 我要投诉他",
        "再不解决我就去工信部投诉",
        "客服态度太恶劣了，我要找你们领导", "打了三次电话都没人处理，必须给个说法",
        "我要投诉你们营业厅的工作人员", "这件事我要向消协反映", "你们一直推脱责任 我要投诉",
        "我要客訴，你們的服務真的很爛", "打了好幾次電話都沒人處理 我要申訴",
        "門市人員態度很差我要投訴", "再不處理我就去NCC檢舉",
        "I want to file a complaint", "your service is terrible and I want to complain",
        "I'm going to report you to the regulator", "the engineer never showed up, this is "
        "unacceptable, I want to complain", "who can I complain to about your staff",
    ),
    "sales_lead": (
        "我们公司有200人，想办集团套餐", "想了解一下企业专线的价格",
        "门店要装宽带和监控，有什么方案",
        "想给全体员工统一办手机卡 有优惠吗", "云服务器和专线能不能一起报价",
        "想新装一条千兆宽带多少钱",
        "我想再办一个新号码，现在有什么优惠活动", "我们新开了一个办公室需要装网络和电话",
        "公司想辦企業方案，可以請業務聯絡我嗎", "我們有50位員工想一起辦門號",
        "想申請新的寬頻 有什麼優惠", "辦公室要拉專線 費用大概多少",
        "we'd like a quote for 100 business lines", "interested in a dedicated internet line "
        "for our office", "can a sales rep contact me about business plans",
        "what deals do you have for a new family plan", "we are opening a new store and need "
        "internet and phones",
    ),
}


@dataclass(frozen=True)
class KnowledgeWritten:
    articles: int
    intents: int


def _votes(number: int) -> tuple[int, int]:
    """A fixed, plausible helpful / not-helpful count for the n-th public article."""
    return 3 + (number * 7) % 10, number % 3


async def _write_article(session: AsyncSession, spec: ArticleSpec, owner: User,
                         today: datetime) -> list[Article]:
    written: list[Article] = []
    author = f"user:{owner.name}"
    for locale, text in spec.texts.items():
        body = text.body
        revised = spec.key in REVISED and locale == "zh-CN"
        if revised:
            body = body.rsplit("\n", 1)[0]
        article = await do_create(session, ArticleIn(
            title=text.title, body=body, locale=locale, visibility=spec.visibility,
            product=spec.product, tags=list(spec.tags), example_questions=list(text.questions),
            owner_id=owner.id, status="published",
            review_by=(today + timedelta(days=spec.review_days)).date(),
            group_id=written[0].group_id if written else None,
            external_key=f"demo/{spec.key}/{locale}"), author)
        if revised:
            await do_update(session, article, ArticlePatch(body=text.body), author)
        written.append(article)
    return written


async def write_knowledge(session: AsyncSession, users: dict[str, User],
                          now: datetime) -> KnowledgeWritten:
    """Articles, synonyms, utterances and votes; then a trained model for the bot."""
    count, public = 0, 0
    for spec in ARTICLES:
        rows = await _write_article(session, spec, users[spec.owner], now)
        count += len(rows)
        if spec.visibility != "public":
            continue
        for article in rows:
            public += 1
            yes, no = _votes(public)
            for n in range(yes + no):
                await do_vote(session, article, f"demo:visitor-{n}", n < yes)
    await store_synonyms(session, [list(g) for g in SYNONYMS])
    await do_import_utterances(session, [(text, label) for label, texts in UTTERANCES.items()
                                         for text in texts], replace=False)
    await session.flush()
    model = await do_train(session)
    return KnowledgeWritten(articles=count, intents=len(model.labels))
