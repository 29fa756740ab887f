"""HTML views: seminars, their calendar, boards, the join page, the presenter wall."""

import io

import segno
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from kb.accounts.service import list_organizations
from kb.board import bp, export, seminars
from kb.board import service as boards
from kb.board.models import SeminarKind
from kb.board.seminars import KIND_LABELS
from kb.database import mark_write_transaction
from kb.errors import DomainError
from kb.pages.service import list_spaces
from kb.security import acting_user, require_read, require_role
from kb.urls import base_url, external_url, site_host


def _form_flags(form) -> dict:
    return {key: key in form for key in ("moderated", "anonymous", "likes", "comments")}


# ------------------------------------------------------------------ seminars


@bp.route("/seminars", endpoint="seminars")
@require_read
def seminars_list():
    """Upcoming and past seminars."""
    upcoming, past = seminars.list_seminars()
    return render_template(
        "board/seminars.html",
        upcoming=upcoming,
        past=past,
        kinds=KIND_LABELS,
        can_create=seminars.can_create(acting_user()),
    )


def _seminar_form(seminar=None, form=None):
    return render_template(
        "board/seminar_form.html",
        seminar=seminar,
        form=form or {},
        kinds=KIND_LABELS,
        organizations=list_organizations(),
        spaces=list_spaces(),
        local=seminars.to_local,
    )


@bp.route("/seminars/new", methods=["GET", "POST"])
@require_role("editor")
def seminar_new():
    """Announce a seminar or another event."""
    if request.method == "POST":
        try:
            seminar = seminars.create_seminar(current_user, request.form.to_dict())
        except DomainError as error:
            flash(error.message, "error")
            return _seminar_form(form=request.form), error.status
        flash(_("Мероприятие добавлено."), "success")
        return redirect(url_for("board.seminar", seminar_id=seminar.id))
    return _seminar_form(form={"kind": SeminarKind.SEMINAR.value})


@bp.route("/seminars/<int:seminar_id>")
@require_read
def seminar(seminar_id: int):
    """A seminar: when, who, link, its boards with code and QR."""
    item = seminars.get_seminar(seminar_id)
    return render_template(
        "board/seminar.html",
        seminar=item,
        kinds=KIND_LABELS,
        can_edit=seminars.can_edit(item, acting_user()),
        can_create_board=boards.can_create_boards(acting_user()),
        local=seminars.to_local,
    )


@bp.route("/seminars/<int:seminar_id>/edit", methods=["GET", "POST"])
@require_role("editor")
def seminar_edit(seminar_id: int):
    """Change a seminar."""
    item = seminars.get_seminar(seminar_id)
    if not seminars.can_edit(item, current_user):
        abort(403)
    if request.method == "POST":
        try:
            seminars.update_seminar(item, current_user, request.form.to_dict())
        except DomainError as error:
            flash(error.message, "error")
            return _seminar_form(item, request.form), error.status
        flash(_("Изменения сохранены."), "success")
        return redirect(url_for("board.seminar", seminar_id=item.id))
    local_start, local_end = seminars.to_local(item.starts_at), seminars.to_local(item.ends_at)
    form = {
        "title": item.title,
        "kind": item.kind,
        "date": local_start.strftime("%Y-%m-%d"),
        "start": local_start.strftime("%H:%M"),
        "end_date": local_end.strftime("%Y-%m-%d"),
        "end": local_end.strftime("%H:%M"),
        "description": item.description,
        "speakers": item.speakers,
        "meeting_url": item.meeting_url,
        "organization_id": str(item.organization_id or ""),
        "space_id": str(item.space_id or ""),
    }
    return _seminar_form(item, form)


@bp.route("/seminars/<int:seminar_id>/delete", methods=["POST"])
@require_role("editor")
def seminar_delete(seminar_id: int):
    """Delete a seminar (its boards stay)."""
    seminars.delete_seminar(seminars.get_seminar(seminar_id), current_user)
    flash(_("Мероприятие удалено."), "success")
    return redirect(url_for("board.seminars"))


def _calendar(items, filename: str) -> Response:
    text = seminars.ical(
        items,
        base_url(),
        site_host(),
        current_app.config.get("KB_NETWORK_NAME", "Методкабинет"),
    )
    response = Response(text, mimetype="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/seminars/<int:seminar_id>.ics")
@require_read
def seminar_ics(seminar_id: int):
    """One seminar as an iCalendar file."""
    return _calendar([seminars.get_seminar(seminar_id)], f"seminar-{seminar_id}.ics")


@bp.route("/seminars.ics")
@require_read
def seminars_ics():
    """A calendar feed of all events (subscribe in a calendar program)."""
    return _calendar(seminars.all_seminars(), "seminars.ics")


# ------------------------------------------------------------------ boards


@bp.route("/boards")
@require_role("editor")
def boards_list():
    """The boards I run (all boards for admins)."""
    return render_template("board/boards.html", boards=boards.list_boards(current_user))


def _board_form(board=None, form=None, seminar_id=None):
    return render_template(
        "board/board_form.html",
        board=board,
        form=form,
        seminar_id=seminar_id,
        all_seminars=seminars.all_seminars(),
    )


@bp.route("/boards/new", methods=["GET", "POST"])
@require_role("editor")
def board_new():
    """Create a board (standalone or for a seminar)."""
    seminar_id = request.values.get("seminar_id") or None
    if request.method == "POST":
        columns = [c for c in request.form.get("columns", "").splitlines() if c.strip()]
        try:
            board = boards.create_board(
                current_user,
                request.form.get("title"),
                description=request.form.get("description", ""),
                columns=columns or None,
                seminar_id=seminar_id,
                **_form_flags(request.form),
            )
        except DomainError as error:
            flash(error.message, "error")
            return _board_form(form=request.form, seminar_id=seminar_id), error.status
        flash(_("Доска создана. Код для участников: %(code)s", code=board.code), "success")
        return redirect(url_for("board.join", code=board.code))
    form = {
        "anonymous": "on",
        "likes": "on",
        "comments": "on",
        "columns": _("Отзывы и впечатления"),
    }
    return _board_form(form=form, seminar_id=seminar_id)


@bp.route("/b/<code>/settings", methods=["GET", "POST"])
def board_settings(code: str):
    """Board title, columns and switches (moderators)."""
    board = boards.get_board(code)
    boards.check_moderator(board, acting_user())
    if request.method == "POST":
        names = [c.strip() for c in request.form.get("columns", "").splitlines() if c.strip()]
        existing = {c.title: c.id for c in board.columns}
        columns = [{"id": existing.get(name), "title": name} for name in names]
        try:
            boards.update_board(
                board,
                current_user,
                title=request.form.get("title"),
                description=request.form.get("description", ""),
                columns=columns,
                **_form_flags(request.form),
            )
        except DomainError as error:
            flash(error.message, "error")
            return _board_form(board, request.form), error.status
        flash(_("Настройки доски сохранены."), "success")
        return redirect(url_for("board.join", code=board.code))
    form = {
        "title": board.title,
        "description": board.description,
        "columns": "\n".join(c.title for c in board.columns),
        **{k: "on" for k, v in _board_flags(board).items() if v},
    }
    return _board_form(board, form)


def _board_flags(board) -> dict:
    return {
        "moderated": board.moderated,
        "anonymous": board.anonymous,
        "likes": board.likes_enabled,
        "comments": board.comments_enabled,
    }


@bp.route("/b/<code>/delete", methods=["POST"])
def board_delete(code: str):
    """Delete a board with everything on it (moderators)."""
    board = boards.get_board(code)
    boards.delete_board(board, acting_user())
    flash(_("Доска удалена."), "success")
    return redirect(url_for("board.boards_list"))


@bp.route("/b")
def find():
    """Enter a board code."""
    code = boards.normalize_code(request.args.get("code", ""))
    if code:
        if boards.find_board(code) is not None:
            return redirect(url_for("board.join", code=code))
        flash(_("Доска с кодом «%(code)s» не найдена. Проверьте код.", code=code[:12]), "error")
    return render_template("board/find.html", code=code)


@bp.route("/b/<code>")
def join(code: str):
    """The board: join with a name, post, like, comment, vote; moderators moderate here."""
    board = boards.get_board(code)
    if board.code != code:
        return redirect(url_for("board.join", code=board.code))
    if boards.BROWSER_SESSION_KEY not in session:
        # One participant per browser: joining again from this session finds the same one.
        session[boards.BROWSER_SESSION_KEY] = boards.new_browser_id()
    return render_template(
        "board/board.html",
        board=board,
        moderator=boards.is_moderator(board, acting_user()),
        join_url=external_url("board.join", code=board.code),
        client=_client_config(board, "board"),
    )


@bp.route("/b/<code>/wall")
def wall(code: str):
    """The presenter wall: large type, live posts and poll, QR code and code in the corner."""
    board = boards.get_board(code)
    return render_template(
        "board/wall.html",
        board=board,
        join_url=external_url("board.join", code=board.code),
        client=_client_config(board, "wall"),
    )


def _client_config(board, mode: str) -> dict:
    return {
        "mode": mode,
        "code": board.code,
        "namespace": "/board",
        "signed_in": current_user.is_authenticated,
        "anonymous": board.anonymous,
        "text_max": boards.TEXT_MAX,
        "comment_max": boards.COMMENT_MAX,
        "strings": ui_strings(),
    }


@bp.route("/b/<code>/qr.svg")
def qr(code: str):
    """The join link as a QR code (made here, no external service)."""
    board = boards.get_board(code)
    out = io.BytesIO()
    segno.make(external_url("board.join", code=board.code), error="m").save(
        out, kind="svg", scale=8, border=2, xmldecl=False, svgns=True, title=board.code
    )
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/b/<code>/save-to-wiki", methods=["POST"])
def save_to_wiki(code: str):
    """«Сохранить в базу знаний»: create or update the board's wiki page."""
    board = boards.get_board(code)
    mark_write_transaction()
    result = export.save_to_wiki(board, acting_user())
    if result.merged:
        flash(_("Страница обновлена: ваши изменения объединены с правками коллег."), "success")
    else:
        flash(_("Доска сохранена в базу знаний."), "success")
    if "pages.view_page" in current_app.view_functions:
        return redirect(url_for("pages.view_page", slug=result.slug))
    return redirect(url_for("board.join", code=board.code))


def ui_strings() -> dict[str, str]:
    """Texts the browser client shows (translated here: the JS has no catalog)."""
    return {
        "connecting": _("Подключение…"),
        "online": _("На связи"),
        "offline": _("Нет связи — переподключаемся…"),
        "resynced": _("Связь восстановлена"),
        "anonymous": _("Аноним"),
        "like": _("Нравится"),
        "unlike": _("Убрать отметку"),
        "comment": _("Комментировать"),
        "comments": _("Комментарии"),
        "send": _("Отправить"),
        "edit": _("Изменить"),
        "save": _("Сохранить"),
        "cancel": _("Отмена"),
        "delete": _("Удалить"),
        "confirm_delete": _("Удалить запись?"),
        "approve": _("Одобрить"),
        "hide": _("Скрыть"),
        "show": _("Показать"),
        "pin": _("Закрепить"),
        "unpin": _("Открепить"),
        "move": _("Перенести в колонку"),
        "remove_author": _("Удалить все записи автора"),
        "confirm_remove_author": _("Удалить все записи этого участника?"),
        "pending": _("На модерации"),
        "hidden": _("Скрыта"),
        "pinned": _("Закреплено"),
        "edited": _("изменено"),
        "mine": _("Вы"),
        "empty_column": _("Пока нет записей."),
        "locked": _("Доска закрыта ведущим: можно только читать."),
        "lock": _("Закрыть доску"),
        "unlock": _("Открыть доску"),
        "vote": _("Ответить"),
        "voted": _("Ваш ответ учтён."),
        "voters": _("Ответили"),
        "poll_open": _("Открыть опрос"),
        "poll_close": _("Закрыть опрос"),
        "poll_delete": _("Удалить опрос"),
        "poll_draft": _("Черновик"),
        "poll_closed": _("Опрос закрыт"),
        "words_placeholder": _("До трёх слов через запятую"),
        "no_polls": _("Опросов пока нет."),
        "participants": _("Участников онлайн"),
        "chars_left": _("Осталось символов"),
        "error": _("Ошибка"),
        "posted_pending": _("Запись отправлена ведущему на проверку."),
        "saved_offline": _(
            "Нет связи. Запись сохранена на этом устройстве и уйдёт, как только связь вернётся."
        ),
        "sent_from_device": _("Связь вернулась: записи с этого устройства опубликованы."),
        "host_menu": _("Ведущему"),
        "results_after_vote": _("Результаты появятся после вашего ответа."),
        "results_later": _("Результаты покажет ведущий."),
        "results_label": _("Участники видят результаты"),
        "results_after_vote_label": _("после своего ответа"),
        "results_revealed_label": _("когда вы покажете"),
        "results_always_label": _("сразу"),
        "results_shown": _("показаны"),
        "results_reveal": _("Показать результаты всем"),
        "results_conceal": _("Скрыть результаты"),
    }
