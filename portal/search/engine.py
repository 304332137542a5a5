"""The search index, on Whoosh, behind four calls: index, remove, search, suggest.

Nothing outside this package knows it is Whoosh: another engine could take
its place behind the same calls. One document per visible post, carrying what
results show and filter by: its topic's title (on the opening post only, so a
long topic does not count its title once per reply), body, tags, category,
kind, author, whether the topic is solved and the post accepted, when it was
written, its score, and the read access of its category, which every search
filters by in the query itself, so counts and pages hold only what the reader
may read.

Chinese is indexed twice, as jieba's words and as bigrams (analysis.py), and
a query is looked for in both: words rank what jieba knows, bigrams still
find names it does not (钉钉).
"""
import os
import re
from dataclasses import dataclass, field
from datetime import datetime

from whoosh import fields, highlight, index, qparser, query, sorting
from whoosh.highlight import ContextFragmenter

from .analysis import text_analyzer

TEXT_FIELDS = ("title", "body")
_BOOSTS = {"title": 3.0, "title_grams": 2.0, "body": 1.0, "body_grams": 0.6}
SORTS = ("relevance", "newest", "votes")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_QUERY_CHARACTERS = 200


def schema():
    words, grams = text_analyzer(), text_analyzer(bigrams=True)
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        topic_id=fields.NUMERIC(stored=True),
        number=fields.NUMERIC(stored=True),
        opening=fields.BOOLEAN(),
        title=fields.TEXT(analyzer=words, stored=True, spelling=True),
        title_grams=fields.TEXT(analyzer=grams),
        body=fields.TEXT(analyzer=words, stored=True, spelling=True),
        body_grams=fields.TEXT(analyzer=grams),
        tags=fields.KEYWORD(stored=True, commas=True, lowercase=True),
        category=fields.ID(stored=True),
        kind=fields.ID(stored=True),
        author=fields.ID(stored=True),
        solved=fields.BOOLEAN(stored=True),
        accepted=fields.BOOLEAN(stored=True),
        created=fields.DATETIME(stored=True, sortable=True),
        score=fields.NUMERIC(stored=True, sortable=True, signed=True),
        access=fields.ID(),
    )


@dataclass(frozen=True)
class Document:
    """What the index keeps of one visible post."""
    post_id: int
    topic_id: int
    number: int
    title: str
    body: str
    category: str
    kind: str
    author: str
    access: str
    created: datetime
    score: int = 0
    tags: tuple = ()
    solved: bool = False
    accepted: bool = False


@dataclass(frozen=True)
class Hit:
    post_id: int
    topic_id: int
    number: int
    title: str
    snippet: str  # HTML: the body's best passage, the words found marked with <mark>


@dataclass(frozen=True)
class Results:
    total: int
    page: int
    per_page: int
    hits: list = field(default_factory=list)
    suggestion: str | None = None  # "did you mean", for a misspelt English word


class SearchIndex:
    """The index in `directory` (made on first use)."""

    def __init__(self, directory):
        self.directory = directory

    def _index(self):
        if not index.exists_in(self.directory):
            os.makedirs(self.directory, exist_ok=True)
            return index.create_in(self.directory, schema())
        return index.open_dir(self.directory)

    def index(self, documents):
        """Add or replace `documents` (by post id), in one commit."""
        with self._index().writer() as writer:
            for document in documents:
                writer.update_document(**_fields(document))

    def remove(self, post_ids):
        with self._index().writer() as writer:
            for post_id in post_ids:
                writer.delete_by_term("id", str(post_id))

    def search(self, text, *, access, sort="relevance", filters=None, page=1, per_page=20):
        """The posts matching `text` that a reader of `access` (the read levels they have) may read."""
        ix = self._index()
        wanted = _parse(ix, text)
        with ix.searcher() as searcher:
            allowed = _allowed(access, filters or {})
            found = searcher.search_page(wanted, page, pagelen=per_page, filter=allowed, sortedby=_order(sort))
            found.results.fragmenter = ContextFragmenter(maxchars=240, surround=60)
            found.results.formatter = _Marked()
            hits = [Hit(int(hit["id"]), hit["topic_id"], hit["number"], hit.get("title", ""),
                        hit.highlights("body") or "") for hit in found]
            suggestion = _did_you_mean(searcher, text) if found.total == 0 else None
            return Results(found.total, found.pagenum, per_page, hits, suggestion)

    def suggest(self, text, *, access, limit=5):
        """Opening posts whose title or body is like `text` (a question being typed), solved ones first."""
        ix = self._index()
        wanted = _parse(ix, text, group=qparser.OrGroup.factory(0.9))
        with ix.searcher() as searcher:
            opening = query.And([_allowed(access, {}), query.Term("opening", True)])
            found = searcher.search(wanted, limit=limit, filter=opening,
                                    sortedby=[sorting.FieldFacet("solved", reverse=True), sorting.ScoreFacet()])
            return [Hit(int(hit["id"]), hit["topic_id"], 1, hit.get("title", ""), "") for hit in found]


def _fields(document):
    title = document.title if document.number == 1 else ""
    return {"id": str(document.post_id), "topic_id": document.topic_id, "number": document.number,
            "opening": document.number == 1,
            "title": title, "title_grams": title, "body": document.body, "body_grams": document.body,
            "tags": ",".join(document.tags), "category": document.category, "kind": document.kind,
            "author": document.author, "solved": document.solved, "accepted": document.accepted,
            "created": document.created, "score": document.score, "access": document.access}


def _clean(text):
    return _CONTROL.sub(" ", text or "")[:MAX_QUERY_CHARACTERS].strip()


def _parse(ix, text, group=qparser.AndGroup):
    parser = qparser.MultifieldParser(list(_BOOSTS), ix.schema, fieldboosts=_BOOSTS, group=group)
    # Members type words, not a query language: no field:value, no wildcards, no fuzzy or ranges to trip on.
    for plugin in (qparser.FieldsPlugin, qparser.WildcardPlugin, qparser.FuzzyTermPlugin, qparser.RangePlugin,
                   qparser.BoostPlugin):
        parser.remove_plugin_class(plugin)
    parsed = parser.parse(_clean(text))
    return parsed if parsed is not query.NullQuery else query.NullQuery


def _allowed(access, filters):
    clauses = [query.Or([query.Term("access", level) for level in access]) if access else query.NullQuery]
    for name in ("category", "kind", "author"):
        if filters.get(name):
            clauses.append(query.Term(name, filters[name]))
    if filters.get("tag"):
        clauses.append(query.Term("tags", filters["tag"].lower()))
    if filters.get("solved") is not None:
        clauses.append(query.Term("solved", bool(filters["solved"])))
    if filters.get("since") or filters.get("until"):
        clauses.append(query.DateRange("created", filters.get("since"), filters.get("until")))
    return query.And(clauses)


def _order(sort):
    if sort == "newest":
        return sorting.FieldFacet("created", reverse=True)
    if sort == "votes":
        return [sorting.FieldFacet("score", reverse=True), sorting.FieldFacet("created", reverse=True)]
    return None  # relevance: BM25F


def _did_you_mean(searcher, text):
    """The query with each English word the index does not hold replaced by the nearest one it does, or
    None when nothing would change."""
    corrector = searcher.corrector("body")
    words = _clean(text).split()
    better = [_nearest(corrector, word) for word in words]
    return " ".join(better) if better != words else None


def _nearest(corrector, word):
    if not word.isascii() or not word.isalpha() or len(word) < 3:
        return word
    found = corrector.suggest(word.lower(), limit=1)
    return found[0] if found and found[0] != word.lower() else word


class _Marked(highlight.Formatter):
    """Snippets with the words found as <mark>, the rest escaped; passages joined by an ellipsis."""
    between = " … "

    def format_token(self, text, token, replace=False):
        return f"<mark>{highlight.htmlescape(highlight.get_text(text, token, replace))}</mark>"
