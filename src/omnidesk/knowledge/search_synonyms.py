"""Admin-managed synonym groups, applied as query expansion.

A group such as ``["宽带", "寬頻", "broadband"]`` says its members mean the same thing.
When a query contains a member, the tokens of every other member of the group are added
to the query with a lower weight; the index itself never changes, so replacing the
synonyms takes effect on the next query without a rebuild.

A member is recognised in a query after normalisation (so 寬頻 and 宽带 are the same
member):
- a member written only in CJK characters when it occurs as a substring of the
  normalised query (Chinese has no spaces to align on);
- any other member (English, digits, mixed) when its word sequence — stems, jieba words
  — occurs contiguously in the query's words ("passwords" matches "password").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from omnidesk.kit.text import is_cjk, normalize, tokens, words


@dataclass(frozen=True, slots=True)
class _Member:
    group: int
    normalized: str
    words: tuple[str, ...]


class SynonymTable:
    """Synonym groups indexed for expansion in time proportional to the query length."""

    def __init__(self, groups: Iterable[Iterable[str]] = ()) -> None:
        self._group_tokens: list[tuple[str, ...]] = []
        self._by_char: dict[str, list[_Member]] = defaultdict(list)
        self._by_word: dict[str, list[_Member]] = defaultdict(list)
        for group in groups:
            if isinstance(group, str):
                raise TypeError("each synonym group must be a list of strings, not a string")
            self._add_group(list(group))

    def __len__(self) -> int:
        return len(self._group_tokens)

    def _add_group(self, members: list[str]) -> None:
        gid = len(self._group_tokens)
        seen: set[str] = set()
        group_tokens: dict[str, None] = {}
        for member in members:
            if not isinstance(member, str):
                raise TypeError(f"synonym must be a string, got {type(member).__name__}")
            norm = normalize(member)
            member_words = tuple(words(member))
            if not member_words or norm in seen:
                continue
            seen.add(norm)
            group_tokens.update(dict.fromkeys(tokens(member)))
            entry = _Member(gid, norm, member_words)
            if is_cjk(norm):
                self._by_char[norm[0]].append(entry)
            else:
                self._by_word[member_words[0]].append(entry)
        self._group_tokens.append(tuple(group_tokens))

    def _matched_groups(self, query_norm: str, query_words: Sequence[str]) -> set[int]:
        groups: set[int] = set()
        for i, ch in enumerate(query_norm):
            for m in self._by_char.get(ch, ()):
                if m.group not in groups and query_norm.startswith(m.normalized, i):
                    groups.add(m.group)
        for i, word in enumerate(query_words):
            for m in self._by_word.get(word, ()):
                if tuple(query_words[i : i + len(m.words)]) == m.words:
                    groups.add(m.group)
        return groups

    def expand(self, query_norm: str, query_words: Sequence[str]) -> list[str]:
        """Tokens of every group with a member in the query (in group order, unique)."""
        if not self._group_tokens:
            return []
        out: dict[str, None] = {}
        for gid in sorted(self._matched_groups(query_norm, query_words)):
            out.update(dict.fromkeys(self._group_tokens[gid]))
        return list(out)
