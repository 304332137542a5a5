"""Text that treats Chinese and English alike: how long it is, and one spelling to match it by."""
import unicodedata
from functools import cache

import opencc


def weighted_length(text):
    """Length for minimum-length rules: a wide (CJK) character counts as two.

    我们明年想续费 ("we want to renew next year") is a whole question in 7
    characters; the same thought in English takes 30. Maximums stay in
    characters, which is what storage limits count.
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@cache
def _to_simplified():
    return opencc.OpenCC("t2s")


def folded(text):
    """One spelling for matching: Traditional Chinese as Simplified, one case, no accents, full-width as ASCII.

    報價 and 报价 fold alike, as do "Müller", "MULLER" and "ｍｕｌｌｅｒ", so
    a search finds a record however either side typed it.
    """
    text = _to_simplified().convert(unicodedata.normalize("NFKC", text or ""))
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
