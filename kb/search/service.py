"""Search: the one interface the rest of the application uses (it never imports Whoosh).

* :func:`search` — ranked, filtered, faceted, paginated results with ``<mark>`` snippets.
* :func:`suggest_titles` — page titles for the header box while typing (prefix search).
* :func:`catch_up`, :func:`rebuild`, :func:`health`, :func:`notify` — keeping the index in
  step with the database (see ``kb.search.indexer``).
"""

import math
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup, escape
from whoosh import qparser
from whoosh import query as wq
from whoosh.highlight import ContextFragmenter, Formatter, get_text
from whoosh.scoring import BM25F
from whoosh.sorting import Count, FieldFacet

from kb.pages.models import Attachment, Page, Space
from kb.search import spelling
from kb.search.analysis import WORD_PATTERN, fold_yo, normalize_text, stem_word, words
from kb.search.api import DEFAULT_PER_PAGE, MAX_PER_PAGE, SORTS, TYPES
from kb.search.changes import notify_indexer
from kb.search.index import IndexMissing, current_generation, index_root, open_searcher
from kb.search.indexer import catch_up, health, read_session, rebuild

__all__ = ["catch_up", "health", "notify", "rebuild", "search", "suggest_titles"]

MAX_QUERY = 300
SNIPPET_CHARS = 240
HIGHLIGHT_CHARLIMIT = 50_000
SUGGEST_LIMIT = 8
FACET_LIMIT = 30
# Query-time boosts (BM25F per field): the title first, the very form typed above its
# other forms, attachments' page titles only as a hint.
FIELD_BOOSTS = {
    "title": 4.0,
    "title_exact": 2.0,
    "filename": 2.5,
    "tags_text": 2.0,
    "body": 1.0,
    "body_exact": 0.6,
    "author": 0.8,
    "page_ref": 0.5,
}
FACETS = {"space": "space", "tag": "tag", "org": "org", "type": "kind"}
_WORD = re.compile(WORD_PATTERN)


def notify() -> None:
    """Wake this process's indexer now (e.g. after a commit made without record_change)."""
    notify_indexer()


@dataclass
class Hit:
    slug: str
    title: str
    space: str
    space_title: str
    snippet: Markup
    score: float
    kind: str
    attachment: dict | None
    updated: datetime | None
    tags: list[str]
    author: str | None
    org: str | None

    def as_api(self) -> dict:
        return {
            "slug": self.slug,
            "title": self.title,
            "space": self.space,
            "snippet": str(self.snippet),
            "score": self.score,
            "attachment": (
                {"id": self.attachment["id"], "filename": self.attachment["filename"]}
                if self.attachment
                else None
            ),
        }


@dataclass
class SearchResults:
    query: str
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestion: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort: str = "relevance"
    available: bool = True

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    def as_api(self) -> dict:
        return {
            "total": self.total,
            "results": [hit.as_api() for hit in self.hits],
            "facets": self.facets,
            "suggestion": self.suggestion,
        }


class MarkFormatter(Formatter):
    """Matched words in ``<mark>``; everything else escaped."""

    between = " … "

    def _text(self, text):
        return str(escape(text))

    def format_token(self, text, token, replace=False):
        return f"<mark>{escape(get_text(text, token, replace))}</mark>"


def _parser(fieldnames, schema, group) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(fieldnames, schema, fieldboosts=FIELD_BOOSTS, group=group)
    # Only words, "phrases", (groups) and AND/OR/NOT: no field names, wildcards, ranges or
    # boosts, which ordinary text («Время: 10 минут?») would trip over.
    for plugin in (
        qparser.FieldsPlugin,
        qparser.WildcardPlugin,
        qparser.RangePlugin,
        qparser.BoostPlugin,
        qparser.EveryPlugin,
        qparser.SingleQuotePlugin,
    ):
        parser.remove_plugin_class(plugin)
    return parser


def plain_words(text: str) -> str:
    return " ".join(match.group() for match in _WORD.finditer(text))


PREFIX_MIN = 5
PREFIX_BOOST = 0.3
EXACT_FIELDS = ("title_exact", "body_exact")


def _widen(node: wq.Query) -> wq.Query:
    """A typed word also matches longer words it begins, at a low constant score.

    Snowball cuts some short nouns too deep or not at all («магнит» → «магн», while
    «магнитами» → «магнит»); the exact-form fields let «магнит» still find «магнитами».
    """
    if (
        isinstance(node, wq.Term)
        and node.fieldname in EXACT_FIELDS
        and len(node.text) >= PREFIX_MIN
    ):
        return wq.Or([node, wq.Prefix(node.fieldname, node.text, boost=PREFIX_BOOST)])
    return node


def parse_query(text: str, schema, *, any_word: bool = False) -> wq.Query | None:
    """The query for ``text``; syntax it cannot use falls back to the plain words."""
    group = qparser.OrGroup if any_word else qparser.AndGroup
    parser = _parser(list(FIELD_BOOSTS), schema, group)
    try:
        parsed = parser.parse(text)
    except Exception:  # a parser bug must never become a 500: use the words
        parsed = None
    if parsed is None or parsed is wq.NullQuery or isinstance(parsed, type(wq.NullQuery)):
        words_only = plain_words(text)
        if not words_only:
            return None
        parsed = parser.parse(words_only)
        if isinstance(parsed, type(wq.NullQuery)):
            return None
    return parsed.accept(_widen)


def _hidden_mask() -> wq.Query | None:
    """Deleted pages/attachments, straight from the database (the index may lag behind)."""
    with read_session() as session:
        page_ids = session.scalars(sa.select(Page.id).where(Page.deleted.is_(True))).all()
        attachment_ids = session.scalars(
            sa.select(Attachment.id).where(Attachment.deleted.is_(True))
        ).all()
    terms = [wq.Term("page_id", str(i)) for i in page_ids]
    terms += [wq.Term("attachment_id", str(i)) for i in attachment_ids]
    return wq.Or(terms) if terms else None


def _filter(space: str | None, tag: str | None, org: str | None, kind: str | None) -> wq.Query:
    kinds = [kind] if kind in TYPES else list(TYPES)
    parts: list[wq.Query] = [wq.Or([wq.Term("kind", k) for k in kinds])]
    if space:
        parts.append(wq.Term("space", space))
    if tag:
        parts.append(wq.Term("tag", tag))
    if org:
        parts.append(wq.Term("org", org))
    return wq.And(parts)


def _clean_query(text: str | None) -> str:
    text = normalize_text((text or "").strip())[:MAX_QUERY]
    return text.replace("?", " ")


def _snippet(hit, fragmenter) -> Markup:
    try:
        highlighted = hit.highlights("body", top=2)
    except (KeyError, ValueError):
        highlighted = ""
    if highlighted:
        return Markup(highlighted)
    body = hit.get("body") or ""
    if len(body) > SNIPPET_CHARS:
        body = body[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return escape(body)


def _facet_counts(results, name: str) -> dict[str, int]:
    try:
        groups = results.groups(name)
    except KeyError:
        return {}
    counts = {str(k): int(v) for k, v in groups.items() if k not in (None, "", b"")}
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ordered[:FACET_LIMIT])


def search(
    text: str | None,
    *,
    space: str | None = None,
    tag: str | None = None,
    org: str | None = None,
    kind: str | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    sort: str = "relevance",
) -> SearchResults:
    """Find pages and attachments; the caller has checked that the user may read."""
    query_text = _clean_query(text)
    page = max(1, int(page))
    per_page = min(MAX_PER_PAGE, max(1, int(per_page)))
    sort = sort if sort in SORTS else "relevance"
    outcome = SearchResults(query=query_text, page=page, per_page=per_page, sort=sort)
    if not query_text:
        return outcome
    root = index_root()
    try:
        searcher = open_searcher(root)
    except IndexMissing:
        outcome.available = False
        return outcome
    with searcher:
        searcher.weighting = BM25F()
        schema = searcher.schema
        facets = {name: FieldFacet(fieldname, maptype=Count) for name, fieldname in FACETS.items()}
        facets["tag"] = FieldFacet("tag", allow_overlap=True, maptype=Count)
        options = {
            "filter": _filter(space, tag, org, kind),
            "mask": _hidden_mask(),
            "groupedby": facets,
            "terms": True,
        }
        if sort == "date":
            options["sortedby"] = "updated"
            options["reverse"] = True
        results = None
        for any_word in (False, True):
            parsed = parse_query(query_text, schema, any_word=any_word)
            if parsed is None:
                break
            try:
                results = searcher.search_page(parsed, page, pagelen=per_page, **options)
            except wq.QueryError:  # e.g. a phrase the fields cannot answer: use the words
                plain = plain_words(query_text)
                parsed = parse_query(plain, schema, any_word=any_word) if plain else None
                if parsed is None:
                    break
                results = searcher.search_page(parsed, page, pagelen=per_page, **options)
            if results.total or len(words(query_text)) < 2:
                break
        outcome.suggestion = _suggestion(searcher, query_text)
        if results is None:
            return outcome
        outcome.total = results.total
        beyond_the_end = results.pagenum != page  # Whoosh would repeat the last page
        inner = results.results
        inner.fragmenter = ContextFragmenter(
            maxchars=SNIPPET_CHARS, surround=70, charlimit=HIGHLIGHT_CHARLIMIT
        )
        inner.formatter = MarkFormatter()
        outcome.facets = {
            "space": _facet_counts(inner, "space"),
            "tag": _facet_counts(inner, "tag"),
            "org": _facet_counts(inner, "org"),
            "type": _facet_counts(inner, "type"),
        }
        for hit in [] if beyond_the_end else results:
            fields = hit.fields()
            attachment = None
            if fields.get("kind") == "attachment":
                attachment = {
                    "id": int(fields["attachment_id"]),
                    "filename": fields.get("filename", ""),
                    "page_id": int(fields["page_id"]),
                }
            outcome.hits.append(
                Hit(
                    slug=fields.get("slug", ""),
                    title=fields.get("page_title", ""),
                    space=fields.get("space", ""),
                    space_title=fields.get("space_title", ""),
                    snippet=_snippet(hit, inner.fragmenter),
                    score=round(float(hit.score or 0.0), 4),
                    kind=fields.get("kind", "page"),
                    attachment=attachment,
                    updated=fields.get("updated"),
                    tags=[t for t in fields.get("tag", "").split(",") if t],
                    author=fields.get("author"),
                    org=fields.get("org"),
                )
            )
    return outcome


def _is_known(reader, word: str) -> bool:
    if any(reader.doc_frequency(f, word) for f in ("body_exact", "title_exact")):
        return True
    stem = stem_word(word)
    return any(reader.doc_frequency(f, stem) for f in ("body", "title", "filename", "tags_text"))


def _suggestion(searcher, query_text: str) -> str | None:
    """The query with unknown words replaced by near, frequent index words (or None)."""
    deadline = time.monotonic() + spelling.BUDGET_SECONDS
    reader = searcher.reader()
    generation = current_generation(index_root())
    vocabulary = spelling.vocabulary_for(str(generation), reader)
    changed = False

    def replace(match: re.Match) -> str:
        nonlocal changed
        original = match.group()
        word = fold_yo(original.lower())
        if time.monotonic() > deadline or not word.isalpha() or len(word) < spelling.MIN_LENGTH:
            return original
        if _is_known(reader, word):
            return original
        better = vocabulary.correct(word)
        if better is None:
            return original
        changed = True
        return better

    suggested = _WORD.sub(replace, query_text)
    return suggested if changed else None


def suggest_titles(text: str | None, limit: int = SUGGEST_LIMIT) -> list[dict]:
    """Page titles matching what is typed so far (the last word as a prefix)."""
    typed = words(_clean_query(text))
    if not typed or len(typed[-1]) < 2:
        return []
    *complete, last = typed
    parts: list[wq.Query] = [
        wq.Or([wq.Term("title_exact", w), wq.Term("title", stem_word(w))]) for w in complete
    ]
    parts.append(wq.Or([wq.Prefix("title_exact", last), wq.Term("title", stem_word(last))]))
    try:
        searcher = open_searcher(index_root())
    except IndexMissing:
        return []
    with searcher:
        results = searcher.search(
            wq.And(parts),
            limit=max(1, min(limit, 20)),
            filter=wq.Term("kind", "page"),
            mask=_hidden_mask(),
        )
        return [{"slug": hit["slug"], "title": hit["page_title"]} for hit in results]


def space_titles() -> dict[str, str]:
    with read_session() as session:
        return {s.slug: s.title for s in session.scalars(sa.select(Space))}


def indexer_enabled() -> bool:
    return bool(current_app.config.get("KB_INDEXER"))
