"""Three-way merge of page bodies and readable diffs between revisions."""

import difflib
import re
from dataclasses import dataclass
from html import escape

from merge3 import Merge3

MINE_MARKER = "<<<<<<< ваша версия"
SEPARATOR = "======="
THEIRS_MARKER = ">>>>>>> сохранённая версия"


@dataclass
class MergeResult:
    body: str
    conflicts: bool


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"  # a missing final newline must not make the last line conflict
    return lines


def merge_edit(base: str, theirs: str, mine: str) -> MergeResult:
    """Merge my edit of ``base`` with the edit stored meanwhile (``theirs``).

    Non-overlapping changes are both kept; overlapping ones come back between conflict
    markers, my version first.
    """
    if mine == theirs or theirs == base:
        return MergeResult(mine, False)
    if mine == base:
        return MergeResult(theirs, False)
    merger = Merge3(_lines(base), _lines(mine), _lines(theirs))
    conflicts = any(region[0] == "conflict" for region in merger.merge_regions())
    merged = "".join(
        merger.merge_lines(
            start_marker=MINE_MARKER,
            mid_marker=SEPARATOR,
            end_marker=THEIRS_MARKER,
        )
    )
    if not (mine.endswith("\n") and theirs.endswith("\n")) and merged.endswith("\n"):
        merged = merged[:-1]
    return MergeResult(merged, conflicts)


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    return "\n".join(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), fromfile=old_label, tofile=new_label, lineterm=""
        )
    )


_WORDS = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)


def _word_diff(old: str, new: str) -> str:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    out = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return "".join(out)


def inline_diff(old: str, new: str) -> str:
    """Word-level HTML diff: lines are matched first, then words inside changed blocks.

    Unchanged runs longer than a few lines are folded so a one-word change in a long page
    stays readable. The result is escaped HTML made only of ``<del>``, ``<ins>``, ``<div>``.
    """
    a, b = old.splitlines(), new.splitlines()
    parts = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
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
                + _word_diff("\n".join(a[i1:i2]), "\n".join(b[j1:j2]))
                + "</div>"
            )
        elif op == "delete":
            text = escape("\n".join(a[i1:i2]))
            parts.append(f'<div class="diff-changed"><del>{text}</del></div>')
        else:
            text = escape("\n".join(b[j1:j2]))
            parts.append(f'<div class="diff-changed"><ins>{text}</ins></div>')
    return "".join(parts)
