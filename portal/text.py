"""How long a text is, fairly for Chinese and English alike."""
import unicodedata


def weighted_length(text):
    """Length for minimum-length rules: a wide (CJK) character counts as two.

    我们明年想续费 ("we want to renew next year") is a whole question in 7
    characters; the same thought in English takes 30. Maximums stay in
    characters, which is what storage limits count.
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
