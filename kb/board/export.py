"""A board as CSV, as Markdown, and as a wiki page («Сохранить в базу знаний»)."""

from datetime import datetime
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _

from kb.accounts.models import User
from kb.board import service as boards
from kb.board.models import Board, Poll, PollKind, PollStatus, Post
from kb.board.seminars import KIND_LABELS
from kb.database import db, mark_write_transaction
from kb.pages.markdown_escape import escape_markdown, escape_markdown_inline
from kb.spreadsheets import spreadsheet_csv, spreadsheet_xlsx


def _local(moment: datetime) -> str:
    return format_datetime(moment, "dd.MM.yyyy HH:mm")


def _published(board: Board) -> list[Post]:
    return [p for p in boards.visible_posts(board) if p.status == "visible"]


def export_table(board: Board) -> tuple[list[str], list[list]]:
    """Published posts, one row each: the header and the rows of the spreadsheet exports."""
    header = [
        _("Колонка"),
        _("Автор"),
        _("Текст"),
        _("Лайки"),
        _("Комментарии"),
        _("Закреплено"),
        _("Создано"),
    ]
    rows = []
    for title, posts in boards.column_groups(board, _published(board)):
        for post in posts:
            comments = " | ".join(
                f"{c.author_name or _('Аноним')}: {c.text}" for c in post.comments
            )
            rows.append(
                [
                    title,
                    post.author_name or _("Аноним"),
                    post.text,
                    post.like_count,
                    comments,
                    _("да") if post.pinned else "",
                    _local(post.created_at),
                ]
            )
    return header, rows


def export_csv(board: Board) -> str:
    """The posts in the CSV dialect of ``kb.spreadsheets`` (Excel in a Russian locale)."""
    return spreadsheet_csv(*export_table(board))


def export_xlsx(board: Board) -> bytes:
    """The posts as an Excel workbook."""
    return spreadsheet_xlsx(*export_table(board), sheet_title=_("Записи"))


def _poll_markdown(poll: Poll) -> list[str]:
    kinds = {
        PollKind.SINGLE.value: _("один вариант"),
        PollKind.MULTIPLE.value: _("несколько вариантов"),
        PollKind.WORDS.value: _("облако слов"),
    }
    lines = [
        f"### {escape_markdown_inline(poll.question)}",
        "",
        _("%(kind)s, ответили: %(n)s", kind=kinds[poll.kind], n=poll.vote_count),
        "",
    ]
    options = poll.options
    if poll.kind == PollKind.WORDS:
        options = sorted(options, key=lambda o: (-o.votes, o.text))[:50]
    if not options:
        return [*lines, _("Ответов нет."), ""]
    header = _("Слово") if poll.kind == PollKind.WORDS else _("Вариант")
    votes = _("Голосов")
    lines += [f"| {header} | {votes} | % |", "|---|---:|---:|"]
    for option in options:
        share = round(100 * option.votes / poll.vote_count) if poll.vote_count else 0
        lines.append(f"| {escape_markdown_inline(option.text)} | {option.votes} | {share} |")
    return [*lines, ""]


def export_markdown(board: Board) -> str:
    """Posts grouped by column (pinned and most liked first), comments, poll results."""
    lines = [f"# {escape_markdown_inline(board.title)}", ""]
    seminar = board.seminar
    if seminar is not None:
        kind = str(KIND_LABELS[seminar.kind])
        title = escape_markdown_inline(seminar.title)
        when = _local(seminar.starts_at)
        if seminar.title.casefold().startswith(kind.casefold()):
            # «Семинар «Игры с Bee-Bot»» is already named by its kind: no «Семинар «Семинар …»»
            lines += [_("%(title)s, %(when)s.", title=title, when=when), ""]
        else:
            lines += [
                _(
                    "%(kind)s «%(title)s», %(when)s.",
                    kind=kind.capitalize(),
                    title=title,
                    when=when,
                ),
                "",
            ]
        if seminar.speakers:
            lines += [f"{_('Спикеры')}: {escape_markdown_inline(seminar.speakers)}", ""]
    if board.description:
        lines += [escape_markdown(board.description), ""]
    posts = _published(board)
    lines += [
        _(
            "Записей: %(posts)s, участников: %(people)s. Код доски: %(code)s.",
            posts=len(posts),
            people=boards.participant_count(board),
            code=board.code,
        ),
        "",
    ]
    for title, items in boards.column_groups(board, posts):
        lines += [f"## {escape_markdown_inline(title)}", ""]
        if not items:
            lines += [_("Записей нет."), ""]
        for post in boards.top_posts(items):
            marks = [f"**{escape_markdown_inline(post.author_name or _('Аноним'))}**"]
            if post.like_count:
                marks.append(_("лайков: %(n)s", n=post.like_count))
            if post.pinned:
                marks.append(_("закреплено"))
            lines += [
                "- " + escape_markdown(post.text, separator="  \n  "),
                f"  — {', '.join(marks)}",
            ]
            for comment in post.comments:
                lines.append(
                    f"    - {escape_markdown_inline(comment.author_name or _('Аноним'))}: "
                    + escape_markdown(comment.text, separator="  \n      ")
                )
        lines.append("")
    polls = [p for p in boards.visible_polls(board) if p.status != PollStatus.DRAFT]
    if polls:
        lines += [f"## {_('Опросы')}", ""]
        for poll in polls:
            lines += _poll_markdown(poll)
    return "\n".join(lines).rstrip() + "\n"


def wiki_title(board: Board) -> str:
    base = board.seminar.title if board.seminar else board.title
    return _("Отзывы: %(title)s", title=base)[:200]


def save_to_wiki(board: Board, user: User | None) -> Any:
    """Create or update the board's wiki page in the seminar's space; returns put_page's result.

    The edit is based on the revision this board saved last time, so what colleagues added
    to the page since is merged, not overwritten.
    """
    from kb.pages import service as pages

    boards.check_moderator(board, user)
    mark_write_transaction()
    title = wiki_title(board)
    page = None
    if board.wiki_slug:
        page, _redirected = pages.resolve_page(board.wiki_slug)
    if page is None or page.deleted:
        page = pages.find_page(pages.slug_for_title(title))
    space = board.seminar.space if board.seminar and board.seminar.space else None
    base = None
    if page is not None and not page.deleted:
        base = board.wiki_revision if board.wiki_slug == page.slug and board.wiki_revision else None
        base = base or page.revision_number
    result = pages.put_page(
        page.slug if page is not None else pages.slug_for_title(title),
        title=None if page is not None else title,
        body=export_markdown(board),
        author=user,
        space=space,
        tags=[_("семинар"), _("отзывы")],
        base_revision=base,
        comment=_("Сохранено с доски %(code)s", code=board.code),
    )
    board = db.session.merge(board)
    board.wiki_slug, board.wiki_revision = result.slug, result.revision
    db.session.commit()
    return result
