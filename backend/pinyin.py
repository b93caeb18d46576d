"""Pinyin for search: what a person types on a phone without a Chinese keyboard ("fengmi",
"fm") finds the Chinese name (蜂蜜)."""

import functools

from pypinyin import Style, lazy_pinyin


def pinyin_for_search(name_zh: str) -> str:
    """ "fengmi fm" for 蜂蜜: full pinyin and initials, lower case, without tones."""
    full = "".join(lazy_pinyin(name_zh)).lower()
    initials = "".join(lazy_pinyin(name_zh, style=Style.FIRST_LETTER)).lower()
    return f"{full} {initials}"


@functools.lru_cache(maxsize=8192)
def searchable(text: str) -> str:
    """``text`` as a search term is matched against: its pinyin and initials, then itself in
    lower case ("zhangsan zs 张三"; sorting by it is pinyin order). Kept per process: names
    and villages repeat, and pypinyin takes about 0.1 ms a name (a cooperative's few hundred
    households: some 50 ms once)."""
    return f"{pinyin_for_search(text)} {text.lower()}"


def matches(terms: list[str], texts: tuple[str, ...]) -> bool:
    """Every term (lower case) is found in one of the texts, in Chinese or in pinyin: the
    rule of DRF's search (each word somewhere), with pinyin besides."""
    found = [searchable(text) for text in texts if text]
    return all(any(term in text for text in found) for term in terms)
