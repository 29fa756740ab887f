"""«Возможно, вы имели в виду …»: a spelling corrector built from the index vocabulary.

Whoosh's own corrector slows down with the vocabulary (about a second per word at ~57k
words), so this one bounds its cost three ways:

* the vocabulary is the ``MAX_WORDS`` most frequent unstemmed words of titles and bodies,
  built once per index generation and refreshed at most every ``REFRESH_SECONDS``;
* candidates come from symmetric deletes (every word is filed under itself and its
  one-letter deletions; a typed word looks up the same keys: a typo anywhere, even in the
  first letter) plus the words of similar length that share the first letter (two letters
  left out); each is checked by edit distance (at most two edits, one for short words);
* a per-query time budget.
"""

import threading
import time
from dataclasses import dataclass, field

MAX_WORDS = 20_000
MIN_LENGTH = 3
REFRESH_SECONDS = 300.0
BUDGET_SECONDS = 0.05
FIELDS = ("title_exact", "body_exact")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Optimal-string-alignment distance (a transposition counts as one edit), capped."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@dataclass
class Vocabulary:
    frequency: dict[str, int]
    built_at: float = field(default_factory=time.monotonic)
    keys: dict[str, list[str]] = field(default_factory=dict)
    by_initial: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self):
        for word in self.frequency:
            self.keys.setdefault(word, []).append(word)
            for key in _deletes(word):
                self.keys.setdefault(key, []).append(word)
            self.by_initial.setdefault(word[0], []).append(word)

    def correct(self, word: str) -> str | None:
        """The most frequent known word within reach of ``word`` (None if known/none)."""
        if word in self.frequency or len(word) < MIN_LENGTH or not word.isalpha():
            return None
        limit = 1 if len(word) <= 4 else 2
        candidates: set[str] = set(self.keys.get(word, ()))
        for key in _deletes(word):
            candidates.update(self.keys.get(key, ()))
            if key in self.frequency:
                candidates.add(key)
        size = len(word)
        candidates.update(w for w in self.by_initial.get(word[0], ()) if 0 < len(w) - size <= limit)
        best: tuple[int, int, str] | None = None
        for candidate in candidates:
            distance = edit_distance(word, candidate, limit)
            if distance <= limit:
                rank = (distance, -self.frequency[candidate], candidate)
                if best is None or rank < best:
                    best = rank
        return best[2] if best else None


def build_vocabulary(reader) -> Vocabulary:
    counts: dict[str, int] = {}
    for fieldname in FIELDS:
        for text, info in reader.iter_field(fieldname):
            word = text.decode("utf-8") if isinstance(text, bytes) else text
            if len(word) >= MIN_LENGTH and word.isalpha():
                counts[word] = counts.get(word, 0) + info.doc_frequency()
    top = sorted(counts.items(), key=lambda item: -item[1])[:MAX_WORDS]
    return Vocabulary(dict(top))


_lock = threading.Lock()
_cache: dict[str, Vocabulary] = {}


def vocabulary_for(key: str, reader) -> Vocabulary:
    """The cached vocabulary of the index generation ``key`` (rebuilt when it is old)."""
    with _lock:
        vocabulary = _cache.get(key)
    if vocabulary is None or time.monotonic() - vocabulary.built_at > REFRESH_SECONDS:
        vocabulary = build_vocabulary(reader)
        with _lock:
            _cache.clear()
            _cache[key] = vocabulary
    return vocabulary


def forget() -> None:
    with _lock:
        _cache.clear()
