"""HTML mail: a plain-text reading for the message body, and a sanitised copy for display.

The text reading keeps paragraphs and line breaks, list bullets, link targets and
``<blockquote>`` as ``>`` lines (so quoted history in HTML-only mail folds like plain
text). The display copy goes through nh3 (ammonia): no scripts, styles, event handlers or
``javascript:`` URLs; remote images stay as they are (the console decides whether to load
them).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul",
})
PARAGRAPH = frozenset({"blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "ol", "p",
                       "pre", "table", "ul"})
SKIP = frozenset({"head", "script", "style", "title", "noscript", "template", "xml", "object"})
MAX_HTML = 200_000
_SPACES = re.compile(r"[ \t\r\n\f\u00a0\u200b]+")


class _TextReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote = 0
        self.skip = 0
        self.pre = 0
        self.href: list[str | None] = []
        self.link_text: list[list[str]] = []

    def _newline(self) -> None:
        """End the current line (``<br>``: even an empty one)."""
        text = "".join(self.current)
        self.current = []
        prefix = "> " * self.quote
        if self.pre:
            self.lines.extend((prefix + line).rstrip() for line in text.split("\n"))
            return
        text = _SPACES.sub(" ", text).strip()
        self.lines.append((prefix + text).rstrip() if text else prefix.rstrip())

    def _break(self) -> None:
        """End the current line if it has any text (``<div>``, ``<li>``, …)."""
        if "".join(self.current).strip():
            self._newline()
        else:
            self.current = []

    def _paragraph(self) -> None:
        self._break()
        if self.lines and self.lines[-1].strip("> "):
            self.lines.append(("> " * self.quote).rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            self._newline()
        elif tag in PARAGRAPH:
            self._paragraph()
        elif tag in BLOCK:
            self._break()
        if tag == "blockquote":
            self.quote += 1
        elif tag == "pre":
            self.pre += 1
        elif tag == "li":
            self.current.append("- ")
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))
            self.link_text.append([])
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.handle_data(f"[{alt}]")
        elif tag in ("td", "th") and self.current:
            self.current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "a" and self.href:
            href, text = self.href.pop(), "".join(self.link_text.pop()).strip()
            if href and re.match(r"https?://", href) and href.rstrip("/") not in text:
                self.current.append(f" <{href}>")
        if tag in PARAGRAPH:
            self._paragraph()
        elif tag in BLOCK and tag != "br":
            self._break()
        if tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.current.append(data)
        for parts in self.link_text:
            parts.append(data)

    def text(self) -> str:
        self._break()
        out: list[str] = []
        for line in self.lines:
            if not line.strip("> ") and (not out or not out[-1].strip("> ")):
                continue  # one blank line at most
            out.append(line)
        while out and not out[-1].strip("> "):
            out.pop()
        return "\n".join(out).strip()


def html_to_text(html: str) -> str:
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    return reader.text()


def sanitise(html: str) -> str:
    """Safe to show in the console: nh3's allow-list, scripts and handlers removed."""
    return nh3.clean(html[:MAX_HTML], link_rel="noopener noreferrer nofollow",
                     clean_content_tags={"script", "style", "title", "head", "noscript",
                                         "template", "xml"},
                     url_schemes={"http", "https", "mailto", "cid", "tel"})
