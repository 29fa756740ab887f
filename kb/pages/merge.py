"""Three-way merge of page bodies and readable diffs between revisions.

Diffs are reachable by guests, so their cost is bounded for the largest bodies we accept
(``MAX_BODY_BYTES``): lines are matched by common ends and lines unique to both sides
(patience diff), ``difflib`` only sees small leftover blocks, and word-level diffs are made
only inside small changed blocks; anything bigger is shown as whole lines deleted and
inserted. Long loops yield (``time.sleep(0)``, a gevent switch in ``kb serve``) so one big
diff never holds up the other requests of its worker.
"""

import difflib
import re
import time
from bisect import bisect_left
from dataclasses import dataclass
from html import escape

from merge3 import Merge3

MINE_MARKER = "<<<<<<< ваша версия"
SEPARATOR = "======="
THEIRS_MARKER = ">>>>>>> сохранённая версия"

MAX_LINE_WORK = 40_000  # lines × lines of one leftover block handed to difflib
MAX_WORD_WORK = 40_000  # words × words of one changed block diffed word by word
MAX_WORD_CHARS = 20_000  # characters of one changed block (both sides) split into words
MAX_TOTAL_WORK = 2_000_000  # all difflib blocks of one diff together
MAX_ANCHOR_DEPTH = 4  # rounds of unique-line matching inside the gaps between anchors
YIELD_EVERY = 0.005  # seconds of work between two switches to other requests

Opcode = tuple[str, int, int, int, int]


class _Budget:
    """Work allowed to difflib for one diff, and cooperative yielding."""

    def __init__(self, total: int = MAX_TOTAL_WORK):
        self.left = total
        self.since = time.monotonic()

    def take(self, work: int, limit: int) -> bool:
        if work > limit or work > self.left:
            return False
        self.left -= work
        return True

    def pause(self) -> None:
        now = time.monotonic()
        if now - self.since > YIELD_EVERY:
            time.sleep(0)  # lets the gevent hub serve other requests
            self.since = time.monotonic()


def _unique_anchors(a, b, alo, ahi, blo, bhi, budget: _Budget) -> list[tuple[int, int]]:
    """Pairs (i, j) of lines unique in both ranges, the longest run increasing in both."""
    seen_a: dict = {}
    for i in range(alo, ahi):
        seen_a[a[i]] = -1 if a[i] in seen_a else i
        if not i % 4096:
            budget.pause()
    seen_b: dict = {}
    for j in range(blo, bhi):
        line = b[j]
        if seen_a.get(line, -1) >= 0:
            seen_b[line] = -1 if line in seen_b else j
        if not j % 4096:
            budget.pause()
    pairs = sorted((seen_a[line], j) for line, j in seen_b.items() if j >= 0)
    # longest increasing subsequence of j (patience sorting), O(k log k)
    tails: list[int] = []
    tail_index: list[int] = []
    previous = [-1] * len(pairs)
    for k, (_i, j) in enumerate(pairs):
        if not k % 4096:
            budget.pause()
        at = bisect_left(tails, j)
        if at == len(tails):
            tails.append(j)
            tail_index.append(k)
        else:
            tails[at] = j
            tail_index[at] = k
        previous[k] = tail_index[at - 1] if at else -1
    chain = []
    k = tail_index[-1] if tail_index else -1
    while k >= 0:
        chain.append(pairs[k])
        k = previous[k]
    return chain[::-1]


def _matching_blocks(a: list, b: list, budget: _Budget | None = None) -> list[tuple[int, int, int]]:
    """Like ``difflib.SequenceMatcher.get_matching_blocks``, with bounded work."""
    budget = budget or _Budget()
    matches: list[tuple[int, int, int]] = []
    todo = [(0, len(a), 0, len(b), 0)]
    while todo:
        budget.pause()
        alo, ahi, blo, bhi, depth = todo.pop()
        start = alo
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            alo, blo = alo + 1, blo + 1
            if not alo % 4096:
                budget.pause()
        if alo > start:
            matches.append((start, blo - (alo - start), alo - start))
        end = ahi
        while ahi > alo and bhi > blo and a[ahi - 1] == b[bhi - 1]:
            ahi, bhi = ahi - 1, bhi - 1
            if not ahi % 4096:
                budget.pause()
        if end > ahi:
            matches.append((ahi, bhi, end - ahi))
        if alo == ahi or blo == bhi:
            continue
        work = (ahi - alo) * (bhi - blo)
        if work <= MAX_LINE_WORK and budget.take(work, MAX_LINE_WORK):
            matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
            matches += [(alo + i, blo + j, n) for i, j, n in matcher.get_matching_blocks() if n]
            continue
        if depth >= MAX_ANCHOR_DEPTH:
            continue  # shown as replaced
        anchors = _unique_anchors(a, b, alo, ahi, blo, bhi, budget)
        i0, j0 = alo, blo
        for i, j in anchors:
            matches.append((i, j, 1))
            todo.append((i0, i, j0, j, depth + 1))
            i0, j0 = i + 1, j + 1
        if anchors:
            todo.append((i0, ahi, j0, bhi, depth + 1))
    matches.sort()
    merged: list[tuple[int, int, int]] = []
    for k, (i, j, n) in enumerate(matches):
        if not k % 4096:
            budget.pause()
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + n)
        else:
            merged.append((i, j, n))
    merged.append((len(a), len(b), 0))
    return merged


def _opcodes(blocks: list[tuple[int, int, int]]) -> list[Opcode]:
    opcodes: list[Opcode] = []
    i = j = 0
    for ai, bj, size in blocks:
        tag = "replace" if i < ai and j < bj else "delete" if i < ai else "insert" if j < bj else ""
        if tag:
            opcodes.append((tag, i, ai, j, bj))
        i, j = ai + size, bj + size
        if size:
            opcodes.append(("equal", ai, i, bj, j))
    return opcodes


def diff_lines(a: list[str], b: list[str], budget: _Budget | None = None) -> list[Opcode]:
    """Opcodes like ``difflib.SequenceMatcher.get_opcodes``, in near-linear time."""
    return _opcodes(_matching_blocks(a, b, budget))


class BoundedMatcher:
    """The sequence matcher interface merge3 needs, backed by ``_matching_blocks``."""

    def __init__(self, isjunk, a, b):
        self.a, self.b = a, b

    def get_matching_blocks(self) -> list[tuple[int, int, int]]:
        return _matching_blocks(self.a, self.b)


@dataclass
class MergeResult:
    body: str
    conflicts: bool
    # The merge as passages for a «выберите вариант» view: {"text": …} where both edits
    # agree, {"mine": …, "theirs": …} where they overlap (empty only with a conflict).
    passages: tuple[dict[str, str], ...] = ()


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"  # a missing final newline must not make the last line conflict
    return lines


def merge_edit(base: str, theirs: str, mine: str) -> MergeResult:
    """Merge my edit of ``base`` with the edit stored meanwhile (``theirs``).

    Non-overlapping changes are both kept; overlapping ones come back between conflict
    markers, my version first. Blocks too large to match line by line count as changed,
    so a bound can only turn a merge into a conflict, never lose an edit.
    """
    if mine == theirs or theirs == base:
        return MergeResult(mine, False)
    if mine == base:
        return MergeResult(theirs, False)
    base_lines, mine_lines, theirs_lines = _lines(base), _lines(mine), _lines(theirs)
    merger = Merge3(base_lines, mine_lines, theirs_lines, sequence_matcher=BoundedMatcher)
    regions = list(merger.merge_regions())
    conflicts = any(region[0] == "conflict" for region in regions)
    merged = "".join(
        merger.merge_lines(
            start_marker=MINE_MARKER,
            mid_marker=SEPARATOR,
            end_marker=THEIRS_MARKER,
        )
    )
    trim = not (mine.endswith("\n") and theirs.endswith("\n"))
    if trim and merged.endswith("\n"):
        merged = merged[:-1]
    passages = _passages(regions, base_lines, mine_lines, theirs_lines) if conflicts else []
    if trim and passages:
        last = passages[-1]
        for key, text in last.items():
            if text.endswith("\n"):
                last[key] = text[:-1]
    return MergeResult(merged, conflicts, tuple(passages))


def _passages(regions, base, mine, theirs) -> list[dict[str, str]]:
    """Merge3's regions as agreed text and overlapping pairs, neighbours joined."""
    passages: list[dict[str, str]] = []
    for region in regions:
        kind = region[0]
        if kind == "conflict":
            _, _z1, _z2, a1, a2, b1, b2 = region
            passages.append({"mine": "".join(mine[a1:a2]), "theirs": "".join(theirs[b1:b2])})
            continue
        source = {"unchanged": base, "same": mine, "a": mine, "b": theirs}[kind]
        text = "".join(source[region[1] : region[2]])
        if passages and "text" in passages[-1]:
            passages[-1]["text"] += text
        elif text:
            passages.append({"text": text})
    return passages


def unresolved_markers(body: str) -> bool:
    """Whether ``body`` still holds the conflict lines our merge writes (a save refuses it)."""
    lines = set(body.splitlines())
    return MINE_MARKER in lines or THEIRS_MARKER in lines


def _unified_range(start: int, stop: int) -> str:
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start if not length else start + 1},{length}"


_last_line_diff: list = [None]


def _line_diff(old: str, new: str, budget: _Budget) -> tuple[list[str], list[str], list[Opcode]]:
    """Lines of both texts and their opcodes; the last answer is kept, as a diff page asks
    for the unified and the inline diff of the same two texts one after the other."""
    last = _last_line_diff[0]
    if last and last[0] is old and last[1] is new:
        return last[2], last[3], last[4]
    a, b = old.splitlines(), new.splitlines()
    opcodes = diff_lines(a, b, budget)
    _last_line_diff[0] = (old, new, a, b, opcodes)
    return a, b, opcodes


def unified_diff(old: str, new: str, old_label: str, new_label: str, context: int = 3) -> str:
    """The unified diff (as ``difflib.unified_diff`` writes it) of two texts."""
    budget = _Budget()
    a, b, opcodes = _line_diff(old, new, budget)
    grouper = difflib.SequenceMatcher(None, (), ())
    grouper.get_opcodes = lambda: opcodes  # type: ignore[method-assign]
    out: list[str] = []
    for group in grouper.get_grouped_opcodes(context):
        budget.pause()
        if not out:
            out += [f"--- {old_label}", f"+++ {new_label}"]
        first, last = group[0], group[-1]
        out.append(
            f"@@ -{_unified_range(first[1], last[2])} +{_unified_range(first[3], last[4])} @@"
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + line for line in a[i1:i2]]
                continue
            out += ["-" + line for line in a[i1:i2]]
            out += ["+" + line for line in b[j1:j2]]
    return "\n".join(out)


_WORDS = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


def _common_prefix(x: str, y: str) -> int:
    """Length of the common start of two strings (binary search: string compares run in C)."""
    low, high = 0, min(len(x), len(y))
    while low < high:
        middle = (low + high + 1) // 2
        if x[:middle] == y[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


_SPACE = re.compile(r"\s")


def word_segments(old: str, new: str, budget: _Budget | None = None) -> list[tuple[str, str]]:
    """``(op, text)`` pieces, op in equal/del/ins: equal+del give ``old``, equal+ins ``new``.

    The common start and end (cut at whitespace, so words stay whole) are found on the
    characters; words of the changed middle are compared only when it is small
    (``MAX_WORD_CHARS``, ``MAX_WORD_WORK``), otherwise it is one deletion and one insertion.
    """
    budget = budget or _Budget()
    head = _common_prefix(old, new)
    if head < min(len(old), len(new)) or len(old) != len(new):
        head = max(old.rfind(" ", 0, head), old.rfind("\n", 0, head), old.rfind("\t", 0, head)) + 1
    tail = _common_prefix(old[head:][::-1], new[head:][::-1])
    if tail and tail < min(len(old), len(new)) - head:
        space = _SPACE.search(old, len(old) - tail)
        tail = len(old) - space.start() if space else 0
    middle_old, middle_new = old[head : len(old) - tail], new[head : len(new) - tail]
    segments = [("equal", old[:head])]
    a = b = None
    if len(middle_old) + len(middle_new) <= MAX_WORD_CHARS:
        a, b = _WORDS.findall(middle_old), _WORDS.findall(middle_new)
    if a is not None and b is not None and budget.take(len(a) * len(b), MAX_WORD_WORK):
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                segments.append(("equal", "".join(a[i1:i2])))
                continue
            segments.append(("del", "".join(a[i1:i2])))
            segments.append(("ins", "".join(b[j1:j2])))
    else:
        segments += [("del", middle_old), ("ins", middle_new)]
    segments.append(("equal", old[len(old) - tail :]))
    return [(op, text) for op, text in segments if text]


def _word_diff(old: str, new: str, budget: _Budget) -> str:
    out = []
    for op, text in word_segments(old, new, budget):
        out.append(escape(text) if op == "equal" else f"<{op}>{escape(text)}</{op}>")
    return "".join(out)


def inline_diff(old: str, new: str) -> str:
    """Word-level HTML diff: lines are matched first, then words inside changed blocks.

    Unchanged runs longer than a few lines are folded so a one-word change in a long page
    stays readable. The result is escaped HTML made only of ``<del>``, ``<ins>``, ``<div>``.
    """
    budget = _Budget()
    a, b, opcodes = _line_diff(old, new, budget)
    parts = []
    for op, i1, i2, j1, j2 in opcodes:
        budget.pause()
        if op == "equal":
            lines = a[i1:i2]
            if len(lines) > 6:
                hidden = len(lines) - 4
                shown = [*map(escape, lines[:2])]
                shown.append(f'<span class="diff-fold">… без изменений: {hidden} стр. …</span>')
                shown.extend(map(escape, lines[-2:]))
            else:
                shown = [escape(line) for line in lines]
            parts.append('<div class="diff-same">' + "\n".join(shown) + "</div>")
        elif op == "replace":
            parts.append(
                '<div class="diff-changed">'
                + _word_diff("\n".join(a[i1:i2]), "\n".join(b[j1:j2]), budget)
                + "</div>"
            )
        elif op == "delete":
            text = escape("\n".join(a[i1:i2]))
            parts.append(f'<div class="diff-changed"><del>{text}</del></div>')
        else:
            text = escape("\n".join(b[j1:j2]))
            parts.append(f'<div class="diff-changed"><ins>{text}</ins></div>')
    return "".join(parts)
