"""What can be done in the consulting centre — with the rules.

- Any signed-in person asks; a private question is seen only by its author and methodists.
- Methodists (admins and people an admin flagged) answer; the first answer makes the
  question «answered». The author or a methodist closes and reopens it.
- Others upvote questions they share (not their own, not private ones); upvoters follow it.
- Notifications are rows written in the same transaction as the change; e-mail goes out
  after the commit, in the background (kb.consult.mail), only when SMTP is configured.
- A methodist publishes an answer as a FAQ wiki page; the question keeps the page's slug,
  the page links back to the question. The asker is never named there, and the texts are
  shown as typed (never as Markdown: no links or markup from the asker). A *private*
  question is never published in one click: the methodist writes (or checks) an anonymised
  wording and confirms it explicitly; only that wording goes to the page.
"""

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from sqlalchemy import orm as so

from kb.accounts.models import User
from kb.consult.models import (
    ConsultAnswer,
    ConsultQuestion,
    Member,
    Notification,
    NotificationKind,
    QuestionStatus,
    Upvote,
)
from kb.database import MAX_ID, db, utcnow
from kb.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from kb.pages.markdown_escape import (
    escape_markdown_inline,
    escape_markdown_lines,
    escape_markdown_lines_keeping_wikilinks,
)
from kb.pages.render import render_markdown
from kb.urls import external_url

MAX_TITLE = 200
MAX_BODY = 10_000
MAX_ANSWER = 20_000
PAGE_SIZE = 50

STATUS_LABELS = {
    QuestionStatus.NEW: lazy_gettext("Новый"),
    QuestionStatus.ANSWERED: lazy_gettext("Есть ответ"),
    QuestionStatus.CLOSED: lazy_gettext("Закрыт"),
}


def status_labels() -> dict[str, str]:
    return {s.value: str(label) for s, label in STATUS_LABELS.items()}


# ---------------------------------------------------------------- people


def _signed_in(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def check_signed_in(user) -> User:
    if not _signed_in(user):
        raise NotAuthenticated(_("Нужно войти в систему."))
    return user


def member(user: User, *, create: bool = False) -> Member | None:
    row = db.session.get(Member, user.id)
    if row is None and create:
        row = Member(user_id=user.id, feed_salt=secrets.token_hex(8))
        db.session.add(row)
        db.session.flush()
    return row


def is_methodist(user) -> bool:
    if not _signed_in(user):
        return False
    if user.is_admin:
        return True
    row = db.session.get(Member, user.id)
    return bool(row and row.is_methodist)


def check_methodist(user) -> User:
    check_signed_in(user)
    if not is_methodist(user):
        raise Forbidden(_("Отвечать на вопросы могут методисты и организаторы сети."))
    return user


def methodists() -> list[User]:
    """Everyone who answers: active admins and active flagged members."""
    flagged = sa.select(Member.user_id).where(Member.is_methodist.is_(True))
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.active.is_(True), sa.or_(User.role == "admin", User.id.in_(flagged)))
            .order_by(User.name)
        )
    )


def set_methodist(user: User, flag: bool, *, actor: User) -> None:
    check_signed_in(actor)
    if not actor.is_admin:
        raise Forbidden(_("Назначать методистов может только организатор сети."))
    row = member(user, create=True)
    row.is_methodist = bool(flag)
    row.updated_at = utcnow()
    db.session.commit()


def set_email_notifications(user: User, flag: bool) -> None:
    row = member(check_signed_in(user), create=True)
    row.email_notifications = bool(flag)
    db.session.commit()


# ---------------------------------------------------------------- feed tokens


def feed_token(user: User) -> str:
    """The secret part of the person's Atom feed URL (an HMAC; nothing secret is stored)."""
    row = member(user, create=True)
    if db.session.new or db.session.dirty:
        db.session.commit()
    key = current_app.config["SECRET_KEY"].encode()
    message = f"consult-feed:{user.id}:{row.feed_salt}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def reset_feed_token(user: User) -> str:
    row = member(check_signed_in(user), create=True)
    row.feed_salt = secrets.token_hex(8)
    db.session.commit()
    return feed_token(user)


def user_for_feed(user_id: int, token: str) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.active or db.session.get(Member, user_id) is None:
        raise NotFound(_("Лента не найдена."))
    if not hmac.compare_digest(feed_token(user), str(token)):
        raise NotFound(_("Лента не найдена."))
    return user


# ---------------------------------------------------------------- questions


def _text(value, field: str, limit: int, *, required: bool = True, multiline=False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(_("Поле «%(field)s» должно быть строкой.", field=field))
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not multiline:
        value = " ".join(value.split())
    if required and not value:
        raise InvalidInput(_("Заполните поле «%(field)s».", field=field))
    if len(value) > limit:
        raise InvalidInput(_("Поле «%(field)s» длиннее %(n)s символов.", field=field, n=limit))
    if "\x00" in value:
        raise InvalidInput(_("В поле «%(field)s» есть недопустимые символы.", field=field))
    return value


def can_see(user, question: ConsultQuestion) -> bool:
    if not _signed_in(user):
        return False
    if not question.private:
        return True
    return question.author_id == user.id or is_methodist(user)


def get_question(question_id: int, user) -> ConsultQuestion:
    check_signed_in(user)
    question = db.session.get(ConsultQuestion, question_id)
    if question is None or not can_see(user, question):
        raise NotFound(_("Вопрос не найден."))
    return question


def get_answer(answer_id: int, user) -> ConsultAnswer:
    answer = db.session.get(ConsultAnswer, answer_id)
    if answer is None:
        raise NotFound(_("Ответ не найден."))
    get_question(answer.question_id, user)
    return answer


def list_questions(
    user, *, status: str | None = None, mine: bool = False, query: str = "", limit=PAGE_SIZE
) -> list[ConsultQuestion]:
    """Questions the person may see, newest activity first; ``status`` and ``mine`` filter."""
    check_signed_in(user)
    stmt = sa.select(ConsultQuestion)
    if not is_methodist(user):
        stmt = stmt.where(
            sa.or_(ConsultQuestion.private.is_(False), ConsultQuestion.author_id == user.id)
        )
    if status:
        if status not in {s.value for s in QuestionStatus}:
            raise InvalidInput(_("Неизвестный статус «%(status)s».", status=status[:20]))
        stmt = stmt.where(ConsultQuestion.status == status)
    if mine:
        stmt = stmt.where(ConsultQuestion.author_id == user.id)
    if query:
        like = f"%{query.strip()[:100]}%"
        stmt = stmt.where(
            sa.or_(ConsultQuestion.title.ilike(like), ConsultQuestion.body.ilike(like))
        )
    stmt = stmt.order_by(ConsultQuestion.updated_at.desc(), ConsultQuestion.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def ask(user, *, title: str, body: str = "", private: bool = False) -> ConsultQuestion:
    check_signed_in(user)
    question = ConsultQuestion(
        title=_text(title, _("Вопрос"), MAX_TITLE),
        body=_text(body, _("Подробности"), MAX_BODY, required=False, multiline=True),
        private=bool(private),
        author_id=user.id,
        organization_id=user.organization_id,
    )
    db.session.add(question)
    db.session.flush()
    recipients = [m for m in methodists() if m.id != user.id]
    _notify(recipients, NotificationKind.NEW_QUESTION, question, actor=user)
    db.session.commit()
    _after_commit()
    return question


def answer(question: ConsultQuestion, user, *, body: str) -> ConsultAnswer:
    check_methodist(user)
    if question.status == QuestionStatus.CLOSED:
        raise Conflict(_("Вопрос закрыт. Откройте его снова, чтобы ответить."))
    item = ConsultAnswer(
        question_id=question.id,
        author_id=user.id,
        body=_text(body, _("Ответ"), MAX_ANSWER, multiline=True),
    )
    db.session.add(item)
    question.status = QuestionStatus.ANSWERED.value
    question.updated_at = utcnow()
    db.session.flush()
    _notify(followers(question, exclude=user), NotificationKind.NEW_ANSWER, question,
            answer=item, actor=user)  # fmt: skip
    db.session.commit()
    _after_commit()
    return item


def set_status(question: ConsultQuestion, user, status: str) -> ConsultQuestion:
    check_signed_in(user)
    if question.author_id != user.id and not is_methodist(user):
        raise Forbidden(_("Закрыть вопрос может его автор или методист."))
    if status == "open":
        status = (QuestionStatus.ANSWERED if question.answers else QuestionStatus.NEW).value
    if status not in (QuestionStatus.CLOSED.value, QuestionStatus.NEW.value,
                      QuestionStatus.ANSWERED.value):  # fmt: skip
        raise InvalidInput(_("Неизвестный статус «%(status)s».", status=str(status)[:20]))
    if status == QuestionStatus.ANSWERED.value and not question.answers:
        raise Conflict(_("У вопроса ещё нет ответа."))
    if status == question.status:
        return question
    question.status = status
    question.updated_at = utcnow()
    _notify(followers(question, exclude=user), NotificationKind.STATUS, question, actor=user)
    db.session.commit()
    _after_commit()
    return question


def upvote(question: ConsultQuestion, user, on: bool = True) -> int:
    """«У меня тот же вопрос»; returns the new count. Idempotent both ways."""
    check_signed_in(user)
    if question.private:
        raise Conflict(_("Личный вопрос методистам нельзя поддержать."))
    if question.author_id == user.id:
        raise Conflict(_("Свой вопрос поддерживать не нужно — вы и так получите ответ."))
    existing = db.session.get(Upvote, (question.id, user.id))
    if on and existing is None:
        db.session.add(Upvote(question_id=question.id, user_id=user.id))
    elif not on and existing is not None:
        db.session.delete(existing)
    db.session.flush()
    question.upvotes = db.session.scalar(
        sa.select(sa.func.count()).select_from(Upvote).where(Upvote.question_id == question.id)
    )
    db.session.commit()
    return question.upvotes


def has_upvoted(question: ConsultQuestion, user) -> bool:
    return _signed_in(user) and db.session.get(Upvote, (question.id, user.id)) is not None


def followers(question: ConsultQuestion, *, exclude: User | None = None) -> list[User]:
    """The author and those who upvoted: they hear about answers and status changes."""
    ids = set(
        db.session.scalars(sa.select(Upvote.user_id).where(Upvote.question_id == question.id))
    )
    if question.author_id:
        ids.add(question.author_id)
    if exclude is not None:
        ids.discard(exclude.id)
    if not ids:
        return []
    users = db.session.scalars(sa.select(User).where(User.id.in_(ids), User.active.is_(True)))
    return [u for u in users if can_see(u, question)]


# ---------------------------------------------------------------- FAQ


def faq_title(question: ConsultQuestion, title: str | None = None) -> str:
    return f"Вопрос-ответ — {title or question.title}"[:200]


def _quote(text: str) -> list[str]:
    return ["> " + line if line else ">" for line in escape_markdown_lines(text.strip())]


def answer_markdown(body: str) -> str:
    """An answer as Markdown: its text as typed, line breaks kept, and ``[[Страница]]``
    links to the wiki live — the same on the question page and on the FAQ page."""
    lines = escape_markdown_lines_keeping_wikilinks(body.strip())
    paragraphs = "\n".join(lines).split("\n\n")
    return "\n\n".join(
        "  \n".join(line for line in paragraph.split("\n") if line) for paragraph in paragraphs
    ).strip()


def answer_html(item: ConsultAnswer) -> str:
    """The answer as the question page shows it (sanitized HTML, wiki links live)."""
    return render_markdown(answer_markdown(item.body))


def faq_markdown(
    question: ConsultQuestion,
    item: ConsultAnswer,
    link: str,
    *,
    title: str | None = None,
    body: str | None = None,
) -> str:
    """The FAQ page: the question without the asker's name (``title``/``body`` replace its
    wording when given), the answer with its author; every text shown as typed."""
    title = question.title if title is None else title
    body = question.body if body is None else body
    lines = ["## Вопрос", "", *_quote(title)]
    if body:
        lines += [">", *_quote(body)]
    lines += ["", "## Ответ", ""]
    lines += [answer_markdown(item.body), ""]
    who = escape_markdown_inline(item.author.display_name) if item.author else "методист сети"
    lines.append(f"_Ответил(а): {who}. [Вопрос в консультативном центре]({link})._")
    return "\n".join(lines) + "\n"


def check_publishable(
    question: ConsultQuestion,
    *,
    anonymized_title: str | None = None,
    anonymized_body: str | None = None,
    confirm_anonymized: bool = False,
) -> tuple[str | None, str | None]:
    """The wording that goes to the FAQ page: ``(None, None)`` for an open question (its own
    words); for a private one, the methodist's anonymised wording — required, and confirmed."""
    given = anonymized_title is not None or anonymized_body is not None
    if not question.private:
        if not given:
            return None, None
        title = _text(anonymized_title, _("Вопрос для FAQ"), MAX_TITLE)
        return title, _text(anonymized_body, _("Подробности для FAQ"), MAX_BODY,
                            required=False, multiline=True)  # fmt: skip
    if not given or confirm_anonymized is not True:
        raise InvalidInput(
            _(
                "Вопрос личный: в одно нажатие его не публикуют. Перепишите вопрос без имён, "
                "организаций и подробностей, по которым узнают автора, и подтвердите, что "
                "текст обезличен."
            )
        )
    title = _text(anonymized_title, _("Вопрос для FAQ"), MAX_TITLE)
    body = _text(anonymized_body, _("Подробности для FAQ"), MAX_BODY, required=False,
                 multiline=True)  # fmt: skip
    return title, body


def publish_faq(
    item: ConsultAnswer,
    user,
    *,
    space=None,
    anonymized_title: str | None = None,
    anonymized_body: str | None = None,
    confirm_anonymized: bool = False,
):
    """Publish ``item`` as a FAQ page (or refresh it); returns put_page's result.

    A private question needs ``anonymized_title`` (and optionally ``anonymized_body``) and
    ``confirm_anonymized=True``: see ``check_publishable``.
    """
    from kb.pages import service as pages
    from kb.pages.slugs import slug_for_title

    check_methodist(user)
    question = item.question
    title, body = check_publishable(
        question,
        anonymized_title=anonymized_title,
        anonymized_body=anonymized_body,
        confirm_anonymized=confirm_anonymized,
    )
    link = external_url("consult.question", question_id=question.id)
    page_title = faq_title(question, title)
    slug = question.faq_slug or slug_for_title(page_title)
    page = pages.find_page(slug)
    result = pages.put_page(
        slug,
        title=None if page is not None else page_title,
        body=faq_markdown(question, item, link, title=title, body=body),
        author=user,
        space=space,
        tags=["FAQ", "консультация"],
        base_revision=page.revision_number if page is not None else None,
        comment=_("Ответ консультативного центра"),
    )
    question = db.session.get(ConsultQuestion, question.id)
    question.faq_slug = result.slug
    question.faq_answer_id = item.id
    question.updated_at = utcnow()
    _notify(followers(question, exclude=user), NotificationKind.FAQ, question, answer=item,
            actor=user)  # fmt: skip
    db.session.commit()
    _after_commit()
    return result


# ---------------------------------------------------------------- notifications


def _notify(users, kind: NotificationKind, question, *, answer=None, actor=None) -> None:
    """Add notification rows (inside the caller's transaction) and queue their e-mails."""
    outbox = db.session.info.setdefault("consult_outbox", [])
    for user in users:
        note = Notification(
            user_id=user.id,
            kind=kind.value,
            question_id=question.id,
            answer_id=answer.id if answer is not None else None,
            actor_id=actor.id if actor is not None else None,
        )
        db.session.add(note)
        outbox.append((user.id, kind.value, question.id, answer.id if answer else None))


def _after_commit() -> None:
    """Send the e-mails of the committed change (background; never blocks the request)."""
    from kb.consult import mail

    outbox = db.session.info.pop("consult_outbox", [])
    if not outbox or not mail.configured():
        return
    messages = []
    for user_id, kind, question_id, answer_id in outbox:
        user = db.session.get(User, user_id)
        row = db.session.get(Member, user_id)
        if user is None or not user.email or (row is not None and not row.email_notifications):
            continue
        question = db.session.get(ConsultQuestion, question_id)
        item = db.session.get(ConsultAnswer, answer_id) if answer_id else None
        subject, body = mail.compose(kind, question, item, user)
        messages.append((user.email, subject, body))
    mail.send_in_background(messages)


@sa.event.listens_for(so.Session, "after_rollback")
def _drop_outbox(session: so.Session) -> None:
    session.info.pop("consult_outbox", None)


def notifications(user, *, unread_only: bool = False, limit: int = PAGE_SIZE) -> list[Notification]:
    check_signed_in(user)
    stmt = sa.select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    stmt = stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return [n for n in db.session.scalars(stmt) if can_see(user, n.question)]


def unread_count(user) -> int:
    if not _signed_in(user):
        return 0
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


def unread_count_for_current_user() -> int:
    """For the menu: cached per request, 0 for guests and on any database trouble."""
    if not has_request_context() or not current_user.is_authenticated:
        return 0
    if "consult_unread" not in g:
        try:
            g.consult_unread = unread_count(current_user)
        except sa.exc.SQLAlchemyError:
            g.consult_unread = 0
    return g.consult_unread


def mark_read(user, *, question_id: int | None = None, ids: list[int] | None = None) -> int:
    """Mark the person's notifications read (all, those of a question, or by id)."""
    check_signed_in(user)
    stmt = sa.update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if question_id is not None:
        stmt = stmt.where(Notification.question_id == question_id)
    if ids is not None:
        if not all(
            isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= MAX_ID for i in ids
        ):
            raise InvalidInput(_("ids должен быть списком чисел от 1 до %(max)s.", max=MAX_ID))
        stmt = stmt.where(Notification.id.in_(ids))
    count = db.session.execute(stmt.values(read_at=utcnow())).rowcount
    db.session.commit()
    return count


def notification_text(note: Notification) -> str:
    who = note.actor.name if note.actor else _("Методист")
    title = note.question.title
    if note.kind == NotificationKind.NEW_QUESTION:
        return _("Новый вопрос: «%(title)s»", title=title)
    if note.kind == NotificationKind.NEW_ANSWER:
        return _("%(who)s ответил(а) на вопрос «%(title)s»", who=who, title=title)
    if note.kind == NotificationKind.FAQ:
        return _("Ответ на вопрос «%(title)s» опубликован в базе знаний", title=title)
    status = status_labels().get(note.question.status, note.question.status)
    return _("Вопрос «%(title)s»: статус «%(status)s»", title=title, status=status)
