"""Text analysis for Russian and English: what a word becomes in the index.

Pipeline (both analyzers): words (hyphenated/dotted names kept whole) → lower case →
ё→е → stop words → compound parts; the stemmed analyzer then applies Snowball stemming
(PyStemmer, Russian for Cyrillic words, English otherwise).

* ``ё`` is folded *before* the stop filter: «всё» must become «все», which is a stop word
  in both spellings.
* A name such as «Bee-Bot», «WeDo 2.0» or «3D-ручка» is indexed whole («bee-bot») and by
  its parts («bee», «bot») at the same position, so «Bee-Bot», «bee bot» and «bot» all find
  it. In query mode only the whole token is produced, so «Bee-Bot» stays a precise term.
* Stemming goes through the module-level function :func:`stem_word`: Whoosh pickles the
  schema with the index, and a C method of a ``Stemmer`` object cannot be pickled.
"""

import re
import unicodedata
from functools import lru_cache

import Stemmer
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.lang.stopwords import stoplists

# A word: letters/digits, optionally joined by hyphens, dots or underscores («Bee-Bot», «2.0»).
WORD_PATTERN = r"[^\W_]+(?:[-‐‑._][^\W_]+)*"
JOINERS = re.compile(r"[-‐‑._]")
CYRILLIC = re.compile(r"[а-яё]")


def fold_yo(text: str) -> str:
    return text.replace("ё", "е").replace("Ё", "Е")


def normalize_text(text: str) -> str:
    """NFC (so «й» typed as и + breve is one letter); done before analysis and storing."""
    return unicodedata.normalize("NFC", text)


STOP_WORDS = frozenset(fold_yo(word) for word in stoplists["ru"] | stoplists["en"])

_russian = Stemmer.Stemmer("russian")
_english = Stemmer.Stemmer("english")


def stem_word(word: str) -> str:
    """Snowball stem: Russian for words with Cyrillic letters, English for the rest."""
    if word.isdigit():
        return word
    if CYRILLIC.search(word):
        return _russian.stemWord(word)
    return _english.stemWord(word)


class YoFilter(Filter):
    """ё → е (lower case is applied before, so only «ё» needs folding)."""

    def __call__(self, tokens):
        for token in tokens:
            if "ё" in token.text:
                token.text = token.text.replace("ё", "е")
            yield token


class CompoundFilter(Filter):
    """Index «bee-bot» as «bee-bot», «bee» and «bot» (parts at the same position).

    In query mode the whole token alone is kept: the index has it, and a word typed with a
    hyphen should not match every page that mentions one of its parts.
    """

    def __call__(self, tokens):
        for token in tokens:
            text = token.text
            if token.mode == "query" or not JOINERS.search(text) or token.stopped:
                yield token
                continue
            start = token.startchar if token.chars else None
            pieces = [(m.start(), m.group()) for m in re.finditer(r"[^\W_]+", text)]
            yield token
            for offset, piece in pieces:
                if len(piece) < 2 or piece in STOP_WORDS:
                    continue
                token.text = piece
                if start is not None:
                    token.startchar = start + offset
                    token.endchar = start + offset + len(piece)
                yield token


def _base_chain():
    return (
        RegexTokenizer(WORD_PATTERN)
        | LowercaseFilter()
        | YoFilter()
        | StopFilter(stoplist=STOP_WORDS, minsize=2)
        | CompoundFilter()
    )


def stemming_analyzer():
    """For the main fields: word forms meet at their stem («робототехнике» → «робототехник»)."""
    return _base_chain() | StemFilter(stemfn=stem_word, cachesize=50000)


def exact_analyzer():
    """For the exact-form fields (boost for the very form typed) and the spelling vocabulary."""
    return _base_chain()


@lru_cache(maxsize=1)
def _analyzers():
    return stemming_analyzer(), exact_analyzer()


def stems(text: str) -> list[str]:
    """The index terms of ``text`` (as a query would produce them)."""
    return [t.text for t in _analyzers()[0](normalize_text(text), mode="query")]


def words(text: str) -> list[str]:
    """The unstemmed, folded query words of ``text``."""
    return [t.text for t in _analyzers()[1](normalize_text(text), mode="query")]


def index_terms(text: str) -> list[str]:
    """Every stemmed term ``text`` puts into the index (compound parts included)."""
    return [t.text for t in _analyzers()[0](normalize_text(text), mode="index")]
