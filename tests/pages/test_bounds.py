"""CPU-heavy work reachable from a request is bounded: diffs, merges and Markdown rendering
of the largest pages the wiki accepts stay (near-)linear and still correct.

No timings here (see tests/faults/test_diff_healthz.py): the inputs are large enough that the
old quadratic code would not finish, and the assertions check the structure of the answers.
"""

import random
import re

import pytest

from kb.errors import InvalidInput
from kb.pages.merge import (
    MAX_WORD_WORK,
    diff_lines,
    inline_diff,
    merge_edit,
    unified_diff,
    word_segments,
)
from kb.pages.render import MAX_NESTING, render
from kb.pages.service import MAX_BODY_BYTES
from tests.pages.conftest import bearer

WORDS = "робот пчёлка стрелка поле карточка маршрут задание группа занятие дети".split()


def _line(rnd: random.Random) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 12))) + f" {rnd.random()}"


def _text(seed: int, size: int = MAX_BODY_BYTES - 4096) -> list[str]:
    rnd = random.Random(seed)
    lines, total = [], 0
    while total < size:
        line = _line(rnd)
        lines.append(line)
        total += len(line.encode()) + 1
    return lines


def _edited(lines: list[str], seed: int, edits: int) -> list[str]:
    rnd = random.Random(seed)
    out = list(lines)
    for _ in range(edits):
        at = rnd.randrange(len(out))
        kind = rnd.choice(["replace", "insert", "delete", "word"])
        if kind == "replace":
            out[at] = _line(rnd)
        elif kind == "insert":
            out[at:at] = [_line(rnd) for _ in range(rnd.randint(1, 5))]
        elif kind == "delete":
            del out[at : at + rnd.randint(1, 5)]
        else:
            out[at] = out[at].replace(" ", " новое ", 1)
    return out


def _check_opcodes(a: list[str], b: list[str], opcodes) -> None:
    """The opcodes cover both sides in order, and 'equal' blocks really are equal."""
    i = j = 0
    rebuilt_a, rebuilt_b = [], []
    for tag, i1, i2, j1, j2 in opcodes:
        assert (i1, j1) == (i, j) and i1 <= i2 and j1 <= j2
        assert tag in ("equal", "replace", "delete", "insert")
        if tag == "equal":
            assert a[i1:i2] == b[j1:j2] and i2 - i1 == j2 - j1
        if tag == "delete":
            assert j1 == j2 and i2 > i1
        if tag == "insert":
            assert i1 == i2 and j2 > j1
        rebuilt_a += a[i1:i2]
        rebuilt_b += b[j1:j2]
        i, j = i2, j2
    assert (i, j) == (len(a), len(b))
    assert rebuilt_a == a and rebuilt_b == b


def _apply_unified(old: list[str], patch: str) -> list[str]:
    """Apply a unified diff (as produced by ``unified_diff``) to ``old``."""
    lines = patch.split("\n")[2:] if patch else []
    out, at = [], 0
    for line in lines:
        hunk = re.match(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$", line)
        if hunk:
            start = int(hunk.group(1))
            length = int(hunk.group(2) or 1)
            start = start - 1 if length else start  # "-0,0" and "-5,0" name the line before
            out += old[at:start]
            at = start
        elif line.startswith(" "):
            assert old[at] == line[1:]
            out.append(line[1:])
            at += 1
        elif line.startswith("-"):
            assert old[at] == line[1:]
            at += 1
        elif line.startswith("+"):
            out.append(line[1:])
    return out + old[at:]


def _check_segments(old: str, new: str, segments) -> None:
    assert "".join(text for op, text in segments if op in ("equal", "del")) == old
    assert "".join(text for op, text in segments if op in ("equal", "ins")) == new


CASES = {
    "scattered edits": lambda: (_text(1), _edited(_text(1), 2, 300)),
    "unrelated texts": lambda: (_text(1), _text(2)),
    "one huge line each": lambda: (
        [" ".join(_text(1, 300_000))],
        [" ".join(_edited(_text(1, 300_000), 3, 50))],
    ),
    "repeated lines only": lambda: (
        ["а", "б", "", "в"] * 100_000,
        ["б", "а", "", "в", "в"] * 80_000,
    ),
    "half moved": lambda: (
        _text(1),
        _text(1)[len(_text(1)) // 2 :] + _text(1)[: len(_text(1)) // 2],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_large_diffs_are_correct(case):
    a, b = CASES[case]()
    old, new = "\n".join(a), "\n".join(b)
    assert len(old.encode()) <= MAX_BODY_BYTES and len(new.encode()) <= MAX_BODY_BYTES
    _check_opcodes(a, b, diff_lines(a, b))
    patch = unified_diff(old, new, "версия 1", "версия 2")
    assert _apply_unified(a, patch) == b
    html = inline_diff(old, new)
    # escaped HTML of a bounded size, made only of our tags
    assert len(html) <= 6 * (len(old) + len(new)) + 10_000
    assert set(re.findall(r"</?([a-z]+)", html)) <= {"div", "del", "ins", "span"}


def test_small_edits_in_a_large_page_stay_small():
    a = _text(1)
    b = _edited(a, 2, 300)
    changed = sum(
        max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in diff_lines(a, b) if tag != "equal"
    )
    assert changed <= 300 * 6  # at most the edited lines, never the whole page
    html = inline_diff("\n".join(a), "\n".join(b))
    assert "<ins>новое </ins>" in html or "<ins> новое</ins>" in html  # word level kept
    assert "без изменений" in html


def test_word_segments_are_exact_and_fall_back_on_huge_hunks():
    old = "Дети быстро запомнили стрелки на поле.\nВсё получилось."
    new = "Дети медленно запомнили стрелки на поле.\nВсё получилось!"
    segments = word_segments(old, new)
    _check_segments(old, new, segments)
    assert ("del", "быстро") in segments and ("ins", "медленно") in segments
    rnd = random.Random(5)
    big_old = " ".join(rnd.choice(WORDS) for _ in range(int(MAX_WORD_WORK**0.5)))
    big_new = " ".join(rnd.choice(WORDS) for _ in range(int(MAX_WORD_WORK**0.5)))
    segments = word_segments(big_old, big_new)
    _check_segments(big_old, big_new, segments)
    assert len(segments) <= 4  # the hunk is shown as whole delete + insert


def test_word_segments_are_exact_on_random_texts():
    rnd = random.Random(7)
    for _ in range(2000):
        old = "".join(rnd.choice("аб \n.") for _ in range(rnd.randint(0, 12)))
        new = "".join(rnd.choice("аб \n.") for _ in range(rnd.randint(0, 12)))
        _check_segments(old, new, word_segments(old, new))


def test_word_segments_keep_common_ends_of_huge_hunks():
    rnd = random.Random(6)
    head = " ".join(rnd.choice(WORDS) for _ in range(int(MAX_WORD_WORK**0.5)))
    old, new = head + " было конец", head + " стало конец"
    segments = word_segments(old, new)
    _check_segments(old, new, segments)
    assert ("del", "было") in segments and ("ins", "стало") in segments


def test_inline_diff_of_a_small_change_is_readable():
    html = inline_diff("раз\nдва\nтри <b>\n", "раз\nдва!\nтри <b>\n")
    assert "<ins>!</ins>" in html and "&lt;b&gt;" in html


@pytest.mark.parametrize("case", ["scattered edits", "unrelated texts", "repeated lines only"])
def test_large_merges_are_bounded(case):
    base_lines, mine_lines = CASES[case]()
    base = "\n".join(base_lines) + "\n"
    mine = "\n".join(mine_lines) + "\n"
    theirs = base + "дописано в конце\n"
    result = merge_edit(base, theirs, mine)
    if not result.conflicts:
        assert result.body.startswith(mine.rstrip("\n").split("\n")[0])
        assert "дописано в конце" in result.body


def test_merge_keeps_both_edits_of_a_large_page():
    a = _text(1)
    base = "\n".join(a) + "\n"
    mine_lines = list(a)
    mine_lines[10] = "моя правка"
    theirs_lines = list(a)
    theirs_lines[-10] = "их правка"
    result = merge_edit(base, "\n".join(theirs_lines) + "\n", "\n".join(mine_lines) + "\n")
    assert not result.conflicts
    assert result.body.split("\n")[10] == "моя правка"
    assert result.body.split("\n")[-11] == "их правка"


# ---------------------------------------------------------------- rendering

DEEP = {
    "list": "".join("    " * i + "- пункт\n" for i in range(500)),
    "ordered list": "".join("    " * i + "1. пункт\n" for i in range(500)),
    "list on one line": "- " * 500 + "пункт\n",
    "quote": ">" * 600 + " цитата\n",
    "spaced quote": "> " * 600 + "цитата\n",
    "quote and list": "> - " * 300 + "цитата\n",
}


@pytest.mark.parametrize("name", DEEP)
def test_deep_nesting_is_refused_clearly(name):
    with pytest.raises(InvalidInput, match="вложен"):
        render(DEEP[name])


def test_normal_nesting_still_renders():
    body = "".join("    " * i + f"- пункт {i}\n" for i in range(6)) + "\n> > > цитата\n"
    html = render(body).html
    assert html.count("<ul>") == 6 and "пункт 5" in html
    assert html.count("<blockquote>") == 3
    depth = MAX_NESTING - 1
    assert render("".join("    " * i + "- x\n" for i in range(depth))).html.count("<ul>") == depth


PATHOLOGICAL = {  # 40 KB each; 5 KB of "[" took 10 s before
    "open brackets": "[" * 40_000,
    "link openers": "[](" * 13_000,
    "image openers": "![" * 20_000,
    "nested brackets": "[" * 20_000 + "x" + "]" * 20_000,
    "emphasis": "*_" * 20_000,
    "backticks": "`" * 40_000,
    "angle brackets": "<" * 40_000,
    "unclosed tags": "<a " * 13_000,
    "unclosed autolinks": "<http://" * 5_000,
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_inline_markup_renders(name):
    # Without the bounds most of these take minutes; here they must simply come back.
    try:
        html = render(PATHOLOGICAL[name]).html
    except InvalidInput:
        return
    assert "<script" not in html


def test_links_still_work():
    html = render("[сайт](https://example.org) [[Пчёлки]] [a [b] c](/x) ![к](/k.png) [x]").html
    assert 'href="https://example.org"' in html and 'class="wikilink"' in html
    assert '<a href="/x">a [b] c</a>' in html and '<img alt="к" src="/k.png"' in html
    assert "[x]" in html


@pytest.fixture
def editor(client, seeded, token_for):
    return bearer(token_for("editor"))


@pytest.mark.parametrize("name", ["list", "quote", "quote and list"])
def test_deep_nesting_is_a_4xx_on_save_and_preview(client, editor, name):
    body = DEEP[name]
    saved = client.put(
        "/api/v1/pages/Глубоко", json={"body": body, "base_revision": None}, headers=editor
    )
    assert saved.status_code == 422 and "вложен" in saved.get_json()["error"]
    preview = client.post("/api/v1/preview", json={"body": body}, headers=editor)
    assert preview.status_code == 422 and "вложен" in preview.get_json()["error"]
    # a normal nested list still saves and previews
    normal = "- раз\n    - два\n        - три\n"
    saved = client.put(
        "/api/v1/pages/Глубоко", json={"body": normal, "base_revision": None}, headers=editor
    )
    assert saved.status_code == 201, saved.get_json()
    preview = client.post("/api/v1/preview", json={"body": normal}, headers=editor)
    assert preview.status_code == 200 and preview.get_json()["html"].count("<ul>") == 3


def test_indentation_alone_is_not_nesting():
    """Found with a real seed: a line of spaces pasted from Word was refused as «too deep»."""
    body = "Конспект\n" + " " * 120 + "\n\nТекст\n\n" + " " * 100 + "отступ без списка\n"
    render(body, 1)
    deep_code = "- пункт\n\n" + " " * 96 + "код\n"
    render(deep_code, 1)
