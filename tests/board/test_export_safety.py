"""A board's exports against hostile participants: the wiki page shows their text literally,
and the CSV opens in Excel (Russian locale, «;») without a single formula cell."""

import csv
import io
import re
from html import unescape

from kb.board import export
from kb.board import service as boards
from kb.pages import service as pages
from tests.board.conftest import guest

EXCEL = "…;=cmd|' /C calc'!A0"
LINK = "[официальная таблица](https://evil.example/login)"
HTML = '<a href="https://evil.example/">вход</a> <b>жирно</b>'


def _board(ctx):
    board = boards.create_board(ctx["editor"], "Отзывы", columns=["Идеи"])
    someone = guest(board, "-Аноним <i>x</i>")
    boards.create_post(board, someone, f"{LINK}\n{HTML}\n~~~\n    код\n===\nа ~ б = в")
    post = boards.create_post(board, someone, EXCEL)
    boards.comment_post(board, someone, post.id, "@SUM(A1);+1")
    boards.create_post(board, someone, "=1+1;-2")
    return board


def test_wiki_page_shows_participants_text_literally(ctx):
    result = export.save_to_wiki(_board(ctx), ctx["editor"])
    html = pages.find_page(result.slug).html
    assert not re.search(r"<(a|b|i|img|pre)\b", html), html
    assert "<h2" in html  # the column heading is ours
    shown = unescape(re.sub(r"<[^>]+>", "", html))
    assert LINK in shown and HTML in shown and "а ~ б = в" in shown and "~~~" in shown
    assert "\\" not in shown  # no stray backslashes from escaping


def test_csv_for_excel_quotes_everything_and_has_no_formula_cell(ctx):
    text = export.export_csv(_board(ctx))
    assert text.startswith("\ufeff")
    lines = text[1:].split("\r\n")
    assert lines[0].startswith('"Колонка";"Автор";"Текст"')
    # Excel splits a line on «;» outside quotes: every field quoted, the payload stays one cell.
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert all(len(row) == len(rows[0]) for row in rows if row)
    cells = [cell for row in rows[1:] for cell in row]
    assert EXCEL in cells and "'=1+1;-2" in cells and "'-Аноним <i>x</i>" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
