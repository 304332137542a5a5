"""Search over topics and posts, in English and in Simplified and Traditional Chinese (issue 16).

`analysis.py` turns text into search terms, the same way for what is indexed
and for what is asked.
"""
