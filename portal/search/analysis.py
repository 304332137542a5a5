"""How text becomes search terms: the same way for a post that is indexed and for a query that is asked.

Whoosh's own analyzers make a whole run of Chinese characters one token, so a
word inside a Chinese sentence (报价 in 请问企业版的报价是多少) is never found.
Here a run of Chinese is cut into words by jieba, in its search mode (a long
word gives its shorter words too); Latin-script words are lower-cased, lose
their accents and are stemmed (upgrading and upgrade meet). Every term is
spelled as text.folded() spells it, so Traditional and Simplified Chinese
(報價, 报价), full-width and half-width, and any case find each other.

Each token keeps where it stands in the original text (startchar, endchar),
which is what highlighting marks, in the reader's own script.
"""
import logging
import re
from functools import cache

import jieba
from whoosh.analysis import StemFilter, Token, Tokenizer

from ..text import folded

# Han (with the extensions and compatibility forms) and the kana: scripts written without spaces.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_UNSPACED}]+|[^\W_{_UNSPACED}]+(?:['’.][^\W_{_UNSPACED}]+)*")
_CHINESE = re.compile(rf"[{_UNSPACED}]")
_NO_APOSTROPHES = str.maketrans("", "", "'’")


class MixedTokenizer(Tokenizer):
    """Words of English (and other spaced scripts) as they are written; runs of Chinese cut into words by
    jieba, or with `bigrams`, into every two characters side by side (as Lucene's CJK analyzer does: a name
    jieba does not know, 钉钉 say, is still one term)."""

    def __init__(self, bigrams=False):
        self.bigrams = bigrams

    def __eq__(self, other):
        return type(other) is type(self) and other.bigrams == self.bigrams

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        position = start_pos
        for word, start, end in _words(value, _chinese_bigrams if self.bigrams else _chinese_words):
            token.text = folded(word).translate(_NO_APOSTROPHES)  # it's, it’s: one term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = position
                position += 1
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


def _words(text, cut_chinese):
    """(word, start, end) of every word in `text`, with offsets into `text` itself."""
    for run in _RUNS.finditer(text):
        if _CHINESE.match(run.group()):
            yield from cut_chinese(run.group(), run.start())
        else:
            yield run.group(), run.start(), run.end()


def _chinese_bigrams(run, offset):
    if len(run) == 1:
        yield run, offset, offset + 1
    for start in range(len(run) - 1):
        yield run[start:start + 2], offset + start, offset + start + 2


def _chinese_words(run, offset):
    # jieba knows Simplified words: it cuts the run as Simplified, and the offsets fall on the original
    # (the conversion is character for character; when a character becomes two, the run stays one word).
    simplified = folded(run)
    if len(simplified) != len(run):
        yield run, offset, offset + len(run)
        return
    for word, start, end in _segmenter().tokenize(simplified, mode="search"):
        if word.strip():
            yield run[start:end], offset + start, offset + end


@cache
def _segmenter():
    jieba.setLogLevel(logging.WARNING)  # (it announces loading its dictionary on every start)
    segmenter = jieba.Tokenizer()
    segmenter.initialize()
    return segmenter


def text_analyzer(*, bigrams=False):
    """The analyzer of a text field: mixed-script words (Chinese by jieba, or in `bigrams`), folded, English
    stemmed."""
    return MixedTokenizer(bigrams=bigrams) | StemFilter()
