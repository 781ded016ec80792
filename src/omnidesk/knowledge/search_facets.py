"""Filter attributes per slot: visibility, locale, product (coded arrays) and tags (sets).

A filter is turned into one boolean mask over the slots with a few vectorised
comparisons, so filtering costs the same whether it keeps ten documents or ten thousand.
Values are compared case-insensitively; a locale filter ``zh`` also matches ``zh-CN``
and ``zh-TW`` (``_`` and ``-`` are the same).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
_NONE = -1  # slot without a value
_UNKNOWN = -2  # a filter value no document has


def fold(value: str) -> str:
    return value.strip().casefold()


def fold_locale(value: str) -> str:
    return fold(value).replace("_", "-")


def as_values(value: str | Iterable[str] | None) -> list[str]:
    """One value or several, as a list (a plain string is one value, not characters)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"filter values must be strings, got {type(item).__name__}")
    return items


class _Coded:
    """One single-valued attribute: a code per slot and the table of values."""

    def __init__(self) -> None:
        self.codes = np.full(256, _NONE, dtype=np.int32)
        self.values: dict[str, int] = {}

    def set(self, slot: int, value: str | None) -> None:
        if slot >= len(self.codes):
            grown = np.full(max(2 * len(self.codes), slot + 1), _NONE, dtype=np.int32)
            grown[: len(self.codes)] = self.codes
            self.codes = grown
        code = _NONE
        if value is not None:
            code = self.values.setdefault(value, len(self.values))
        self.codes[slot] = code

    def remap(self, remap: npt.NDArray[np.int64]) -> None:
        live = np.flatnonzero(remap >= 0)
        codes = np.full(max(256, 2 * len(live)), _NONE, dtype=np.int32)
        codes[remap[live]] = self.codes[live]
        self.codes = codes

    def mask(self, n: int, wanted: Collection[int]) -> BoolArray:
        return np.isin(self.codes[:n], np.fromiter(wanted, dtype=np.int32, count=len(wanted)))


class Facets:
    """Visibility, locale, product and tags of every slot."""

    def __init__(self) -> None:
        self._visibility = _Coded()
        self._locale = _Coded()
        self._product = _Coded()
        self._tags: dict[str, set[int]] = {}
        self._slot_tags: dict[int, frozenset[str]] = {}

    def set(
        self, slot: int, *, visibility: str, locale: str, product: str | None,
        tags: Iterable[str],
    ) -> None:
        self._visibility.set(slot, fold(visibility))
        self._locale.set(slot, fold_locale(locale))
        self._product.set(slot, None if product is None else fold(product))
        folded = frozenset(fold(t) for t in tags)
        self._slot_tags[slot] = folded
        for tag in folded:
            self._tags.setdefault(tag, set()).add(slot)

    def clear(self, slot: int) -> None:
        for tag in self._slot_tags.pop(slot, frozenset()):
            slots = self._tags[tag]
            slots.discard(slot)
            if not slots:
                del self._tags[tag]

    def remap(self, remap: npt.NDArray[np.int64]) -> None:
        for coded in (self._visibility, self._locale, self._product):
            coded.remap(remap)
        self._slot_tags = {int(remap[s]): t for s, t in self._slot_tags.items() if remap[s] >= 0}
        self._tags = {}
        for slot, tags in self._slot_tags.items():
            for tag in tags:
                self._tags.setdefault(tag, set()).add(slot)

    def mask(
        self, n: int, *, visibility: list[str], locale: list[str], product: list[str],
        tags: list[str],
    ) -> BoolArray | None:
        """Slots passing every given filter; ``None`` when no filter is given."""
        masks: list[BoolArray] = []
        if visibility:
            wanted = {self._visibility.values.get(fold(v), _UNKNOWN) for v in visibility}
            masks.append(self._visibility.mask(n, wanted))
        if locale:
            prefixes = [fold_locale(v) for v in locale]
            codes = {
                code for value, code in self._locale.values.items()
                if any(value == p or value.startswith(p + "-") for p in prefixes)
            }
            masks.append(self._locale.mask(n, codes or {_UNKNOWN}))
        if product:
            wanted = {self._product.values.get(fold(v), _UNKNOWN) for v in product}
            masks.append(self._product.mask(n, wanted))
        for tag in tags:
            tag_mask = np.zeros(n, dtype=bool)
            slots = self._tags.get(fold(tag), set())
            tag_mask[np.fromiter(slots, dtype=np.int64, count=len(slots))] = True
            masks.append(tag_mask)
        if not masks:
            return None
        result = masks[0]
        for other in masks[1:]:
            result &= other
        return result
