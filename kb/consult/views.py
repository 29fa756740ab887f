"""HTML pages of the consulting centre, and the personal Atom feed."""

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from kb.accounts import service as accounts
from kb.consult import bp, service
from kb.consult.models import NotificationKind
from kb.database import MAX_ID, utcnow
from kb.errors import DomainError
from kb.security import require_login
from kb.urls import external_url

TABS = ("all", "mine", "answers", "new", "answered", "closed")


@bp.context_processor
def consult_helpers():
    return {
        "status_labels": service.status_labels(),
        "is_methodist": service.is_methodist(current_user),
        "unread": service.unread_count_for_current_user(),
        "notification_text": service.notification_text,
    }


@bp.route("/consult")
@require_login
def index():
    """Questions (all, mine, by status), new answers to me, and the form to ask."""
    tab = request.args.get("tab", "all")
    tab = tab if tab in TABS else "all"
    query = request.args.get("q", "").strip()
    answers = []
    questions = []
    if tab == "answers":
        answers = [
            n
            for n in service.notifications(current_user)
            if n.kind in (NotificationKind.NEW_ANSWER, NotificationKind.FAQ)
        ]
    else:
        questions = service.list_questions(
            current_user,
            status=tab if tab in ("new", "answered", "closed") else None,
            mine=tab == "mine",
            query=query,
        )
    return render_template(
        "consult/index.html", tab=tab, questions=questions, answers=answers, query=query
    )


@bp.route("/consult/ask", methods=["GET", "POST"])
@require_login
def ask():
    """Ask the methodists a question."""
    form = {"title": request.args.get("title", ""), "body": "", "private": False}
    if request.method == "POST":
        form = {
            "title": request.form.get("title", ""),
            "body": request.form.get("body", ""),
            "private": request.form.get("private") == "1",
        }
        try:
            question = service.ask(current_user, **form)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Вопрос отправлен. Ответ придёт в «Уведомления»."), "success")
            return redirect(url_for("consult.question", question_id=question.id))
    return render_template("consult/ask.html", form=form)


@bp.route("/consult/questions/<int:question_id>")
@require_login
def question(question_id: int):
    """A question with its answers; opening it marks its notifications read."""
    item = service.get_question(question_id, current_user)
    if service.unread_count(current_user):
        service.mark_read(current_user, question_id=item.id)
    return render_template(
        "consult/question.html",
        question=item,
        upvoted=service.has_upvoted(item, current_user),
        answer_html={answer.id: Markup(service.answer_html(answer)) for answer in item.answers},
        can_change_status=item.author_id == current_user.id or service.is_methodist(current_user),
    )


def _back(question_id: int, anchor: str = ""):
    return redirect(url_for("consult.question", question_id=question_id) + anchor)


@bp.route("/consult/questions/<int:question_id>/answers", methods=["POST"])
@require_login
def post_answer(question_id: int):
    item = service.get_question(question_id, current_user)
    try:
        created = service.answer(item, current_user, body=request.form.get("body", ""))
    except DomainError as error:
        flash(error.message, "error")
        return _back(item.id, "#answer-form")
    flash(_("Ответ опубликован, автор вопроса получит уведомление."), "success")
    return _back(item.id, f"#answer-{created.id}")


@bp.route("/consult/questions/<int:question_id>/upvote", methods=["POST"])
@require_login
def upvote(question_id: int):
    item = service.get_question(question_id, current_user)
    try:
        service.upvote(item, current_user, request.form.get("on", "1") == "1")
    except DomainError as error:
        flash(error.message, "error")
    return _back(item.id)


@bp.route("/consult/questions/<int:question_id>/status", methods=["POST"])
@require_login
def change_status(question_id: int):
    item = service.get_question(question_id, current_user)
    try:
        service.set_status(item, current_user, request.form.get("status", ""))
    except DomainError as error:
        flash(error.message, "error")
    return _back(item.id)


@bp.route("/consult/answers/<int:answer_id>/faq", methods=["POST"])
@require_login
def publish_faq(answer_id: int):
    """Publish the answer as a FAQ page (a private question: only its anonymised wording)."""
    item = service.get_answer(answer_id, current_user)
    edited = "title" in request.form
    try:
        result = service.publish_faq(
            item,
            current_user,
            anonymized_title=request.form.get("title") if edited else None,
            anonymized_body=request.form.get("body", "") if edited else None,
            confirm_anonymized=request.form.get("confirm_anonymized") == "1",
        )
    except DomainError as error:
        flash(error.message, "error")
        return _back(item.question_id)
    flash(_("Ответ опубликован в базе знаний."), "success")
    return redirect(url_for("pages.view_page", slug=result.slug))


@bp.route("/consult/notifications")
@require_login
def notifications():
    """Notifications, e-mail setting and the personal feed address."""
    token = service.feed_token(current_user)
    member = service.member(current_user)
    return render_template(
        "consult/notifications.html",
        items=service.notifications(current_user, limit=100),
        feed_url=external_url("consult.feed", user_id=current_user.id, token=token),
        email_on=member.email_notifications if member else True,
    )


@bp.route("/consult/notifications/read", methods=["POST"])
@require_login
def mark_read():
    service.mark_read(current_user)
    flash(_("Все уведомления отмечены прочитанными."), "success")
    return redirect(url_for("consult.notifications"))


@bp.route("/consult/settings", methods=["POST"])
@require_login
def settings():
    if request.form.get("action") == "reset_feed":
        service.reset_feed_token(current_user)
        flash(_("Адрес ленты изменён: старый больше не работает."), "success")
    else:
        service.set_email_notifications(current_user, request.form.get("email") == "1")
        flash(_("Настройки сохранены."), "success")
    return redirect(url_for("consult.notifications"))


@bp.route("/consult/feed/<int:user_id>/<token>.atom")
def feed(user_id: int, token: str):
    """The person's Atom feed (the secret token in the URL is the key; no sign-in)."""
    user = service.user_for_feed(user_id, token)
    items = service.notifications(user, limit=50)
    body = render_template(
        "consult/feed.xml",
        user=user,
        items=items,
        updated=items[0].created_at if items else utcnow(),
        text=service.notification_text,
    )
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "private, max-age=60"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/consult/methodists", methods=["GET", "POST"])
@require_login
def methodists():
    """Admins: who answers in the centre."""
    if not current_user.is_admin:
        flash(_("Назначать методистов может только организатор сети."), "error")
        return redirect(url_for("consult.index"))
    if request.method == "POST":
        try:
            user_id = int(request.form.get("user_id", "0") or 0)
            if not 0 < user_id <= MAX_ID:
                raise ValueError(user_id)
            user = accounts.get_user_by_id(user_id)
            service.set_methodist(user, request.form.get("methodist") == "1", actor=current_user)
        except (DomainError, ValueError):
            flash(_("Не удалось изменить список методистов."), "error")
        else:
            flash(_("Список методистов сохранён."), "success")
        return redirect(url_for("consult.methodists"))
    current = {u.id for u in service.methodists()}
    return render_template("consult/methodists.html", users=accounts.list_users(), current=current)
