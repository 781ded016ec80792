"""Knowledge search: highlighted titles and snippets over the original, escaped text."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from omnidesk.kit.text import cjk_bigrams, normalize, words
from omnidesk.knowledge.search import SearchDoc, SearchIndex
from omnidesk.knowledge.search_align import fold_with_offsets
from omnidesk.knowledge.search_highlight import STOP_STEMS, MarkTerms, find_spans, snippet

MARK_RE = re.compile(r"<mark>(.*?)</mark>")


def one_hit(title: str, body: str, query: str, **kw: Any) -> tuple[str, str]:
    index = SearchIndex(snippet_chars=kw.pop("snippet_chars", 160))
    index.add(SearchDoc(id="a", title=title, body=body, locale="zh-CN", visibility="public"))
    index.add(SearchDoc(id="b", title="其他", body="无关内容 other", locale="zh-CN",
                        visibility="public"))
    hits = [h for h in index.search(query, **kw) if h.doc_id == "a"]
    assert hits, f"{query!r} did not find the article"
    return hits[0].title_highlighted, hits[0].snippet


def marks(fragment: str) -> list[str]:
    return [html.unescape(m) for m in MARK_RE.findall(fragment)]


def test_body_html_comes_back_escaped() -> None:
    body = '重启路由器<script>alert("x")</script>后再试 & 检查 <b>网线</b>'
    title, snip = one_hit("路由器 <重启> 指南", body, "重启路由器")
    assert "<script>" not in snip and "<b>" not in snip
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in snip
    assert "&amp; 检查 &lt;b&gt;" in snip
    assert title == "<mark>路由器</mark> &lt;<mark>重启</mark>&gt; 指南"
    # Only <mark> tags remain once the escaped text is taken out.
    assert re.sub(r"&[a-z#0-9]+;", "", re.sub(r"</?mark>", "", snip)).count("<") == 0


def test_a_query_cannot_inject_markup() -> None:
    _, snip = one_hit("说明", "请输入 script 标签以外的内容", "<script>")
    assert marks(snip) == ["script"]
    assert "<script>" not in snip


def test_traditional_query_marks_simplified_original_and_back() -> None:
    _, snip = one_hit("网络", "如果宽带断线了，请重启光猫。", "寬頻斷線")
    assert marks(snip) == ["宽带断线"]
    _, snip = one_hit("網路", "如果寬頻斷線了，請重新啟動數據機。", "宽带断线")
    assert marks(snip) == ["寬頻斷線"]


def test_phrases_that_change_length_map_back_to_the_whole_phrase() -> None:
    # tw2sp: 記憶體 → 内存 (3 → 2), 網際網路 → 互联网 (4 → 3)
    body = "電腦記憶體不足時，請關閉網際網路瀏覽器的分頁。"
    _, snip = one_hit("說明", body, "内存")
    assert marks(snip) == ["記憶體"]
    _, snip = one_hit("說明", body, "互联网 浏览器")
    assert marks(snip) == ["網際網路瀏覽器"]


def test_full_width_and_expanding_characters_keep_offsets() -> None:
    body = "提示……ＷＩＦＩ密码错误㈱½，请在 Refunds 页面重设 WiFi 密码"
    _, snip = one_hit("说明", body, "wifi 密码 refund")
    assert marks(snip) == ["ＷＩＦＩ密码", "Refunds", "WiFi", "密码"]


def test_snippet_is_the_best_window_of_a_long_body() -> None:
    middle = "国际漫游需要在出国前开通，漫游资费按地区计算。"
    body = "开头的介绍文字。" * 40 + middle + "结尾的补充说明。" * 40
    _, snip = one_hit("说明", body, "国际漫游资费", snippet_chars=60)
    assert "国际漫游" in MARK_RE.sub(r"\1", snip)
    assert snip.startswith("…") and snip.endswith("…")
    assert len(MARK_RE.sub(r"\1", snip)) <= 60 + 2 * 20 + 2
    assert marks(snip) == ["国际漫游", "漫游资费"]


def test_snippet_prefers_the_window_with_more_distinct_terms() -> None:
    body = ("password " * 30 + "filler text here. " * 10
            + "To reset your password open the reset page. " + "more filler. " * 20)
    index = SearchIndex(snippet_chars=50)
    index.add(SearchDoc(id="a", title="t", body=body, locale="en", visibility="public"))
    snip = index.search("reset password")[0].snippet
    assert "reset" in [m.lower() for m in marks(snip)]


def test_english_snippet_does_not_cut_words_and_skips_function_words() -> None:
    body = ("Refunds are usually processed within five working days after the request "
            "has been approved by the billing team, and you will receive an email.")
    _, snip = one_hit("Refunds", body, "how are my refunds processed", snippet_chars=40)
    assert marks(snip) == ["Refunds", "processed"]
    text = MARK_RE.sub(r"\1", snip).rstrip("…")
    assert body.startswith(text) and body[len(text)] == " "


def test_no_body_match_gives_the_start_of_the_body() -> None:
    title, snip = one_hit("宽带安装", "请先预约上门时间。" * 30, "宽带", snippet_chars=40)
    assert title == "<mark>宽带</mark>安装"
    assert snip.startswith("请先预约上门时间") and snip.endswith("…")
    assert "<mark>" not in snip


def test_lone_characters_of_a_phrase_are_not_marked() -> None:
    _, snip = one_hit("说明", "我的卡丢了怎么办，的确需要挂失。", "我的卡丢了")
    assert "的确" not in "".join(marks(snip))


def test_highlight_can_be_turned_off() -> None:
    index = SearchIndex()
    index.add(SearchDoc(id="a", title="A <b> title", body="宽带", locale="en",
                        visibility="public"))
    hit = index.search("宽带", highlight=False)[0]
    assert hit.title_highlighted == "A &lt;b&gt; title" and hit.snippet == ""


@pytest.mark.parametrize("text", [
    "我的寬頻斷線了，ＷｉＦｉ也連不上…… Refunds don't arrive; 記憶體不足 İstanbul ﬁle",
    "網際網路瀏覽器 123abc 軟體更新失敗，請聯絡客服（0800-000-123）",
])
def test_marking_agrees_with_the_kit_tokeniser(text: str) -> None:
    """Every word and bigram the kit tokeniser makes of a text is found in its original."""
    assert fold_with_offsets(text).folded.split() == normalize(text).split()
    kit_terms = set(words(text) + cjk_bigrams(text)) - STOP_STEMS
    for term in kit_terms:
        spans = find_spans(text, MarkTerms.build({term: 1.0}))
        assert spans, f"{term!r} not found in {text!r}"
        assert all(normalize(text[s.start : s.end]) for s in spans)


def test_snippet_function_without_terms() -> None:
    escaped = "&lt;i&gt;hello&lt;/i&gt; world"
    assert snippet("<i>hello</i> world", MarkTerms.build({}), 40) == escaped
    assert snippet("", MarkTerms.build({"a": 1.0}), 40) == ""


def test_taiwan_phrases_map_back_phrase_by_phrase() -> None:
    # tw2sp converts phrases the character table cannot: 滑鼠 → 鼠标, 設定 → 设置,
    # 資訊 → 信息; with …… expanding to six dots before them.
    body = "電腦……記憶體不足，請洽資訊室。滑鼠設定壞了，網際網路也斷了"
    _, snip = one_hit("說明", body, "内存 信息 鼠标 互联网")
    assert marks(snip) == ["記憶體", "資訊", "滑鼠", "網際網路"]
    title, _ = one_hit("滑鼠設定", "說明", "设置")
    assert title == "滑鼠<mark>設定</mark>"


def test_lone_surrogates_neither_crash_nor_reach_the_page() -> None:
    title, snip = one_hit("宽带\ud800说明", "宽带\udc00 安装", "宽带\ud800")
    assert marks(title) == ["宽带"] and marks(snip) == ["宽带"]
    for fragment in (title, snip):
        fragment.encode("utf-8")


def test_same_length_phrase_changes_map_character_by_character() -> None:
    folded = fold_with_offsets("請洽資訊室，滑鼠")
    assert folded.folded == "请洽信息室,鼠标"
    assert [folded.original_span(i, i + 1) for i in range(8)] == [(i, i + 1) for i in range(8)]
    # 記憶體 → 内存 changes length: each half of 内存 maps to the whole phrase.
    folded = fold_with_offsets("記憶體很大")
    assert folded.folded == "内存很大"
    assert folded.original_span(0, 1) == (0, 3) and folded.original_span(2, 4) == (3, 5)
