"""Text that treats Chinese and English alike: how long it is, and one spelling to match it by."""
import re
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


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class Terms:
    """A list of words to look for in English and Chinese posts (complaints, buying intent).

    Chinese terms are found anywhere in the text, since Chinese puts no
    spaces between words; English terms only as whole words, so "price"
    never matches "priceless", and a trailing * allows endings: "refund*"
    finds "refunds" and "refunded". Both sides are folded first, so
    Traditional terms find Simplified text and the other way round.
    """

    def __init__(self, terms):
        self.terms = tuple(terms)
        chinese = [folded(t) for t in self.terms if _CJK.search(t)]
        english = [folded(t) for t in self.terms if not _CJK.search(t)]
        patterns = [re.escape(t) for t in sorted(chinese, key=len, reverse=True)]
        patterns += [r"(?<!\w)" + re.escape(t.rstrip("*")).replace(r"\ ", r"\s+") + (r"\w*" if t.endswith("*") else "")
                     + r"(?!\w)" for t in sorted(english, key=len, reverse=True)]
        self._pattern = re.compile("|".join(patterns)) if patterns else None
        self._term_of = {folded(t).rstrip("*"): t for t in self.terms}

    def found_in(self, text):
        """The terms `text` uses, each once, in the order of the list."""
        if self._pattern is None or not text:
            return []
        hits = {self._term_for(match.group(0)) for match in self._pattern.finditer(folded(text))}
        return [term for term in self.terms if term in hits]

    def _term_for(self, matched):
        matched = " ".join(matched.split())
        if matched in self._term_of:
            return self._term_of[matched]
        # An English word with an ending: the term whose stem it starts with (the longest).
        stems = [stem for stem in self._term_of if matched.startswith(stem)]
        return self._term_of[max(stems, key=len)] if stems else matched
