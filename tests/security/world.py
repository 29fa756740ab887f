"""A small world of objects owned by one editor (`owner`), made through the services.

The authorization tests ask every role for every object of it; the ids are whatever the
database gave, so a test that guesses ids guesses real ones.
"""

import io
from dataclasses import dataclass, field
from datetime import timedelta

from kb.accounts import service as accounts
from kb.board import seminars
from kb.board import service as boards
from kb.consult import service as consult
from kb.database import db, utcnow
from kb.pages import attachments
from kb.pages import service as pages
from kb.pages.models import PageTemplate
from kb.pages.slugs import slug_for_title
from kb.surveys import service as surveys

OWNER_EMAIL = "owner@example.org"
SURVEY = {
    "title": "Анкета педагога",
    "anonymous": False,
    "sections": [
        {
            "title": "Опыт",
            "questions": [
                {"kind": "single", "text": "Ведёте кружок?", "required": True,
                 "options": ["Да", "Нет"]},
                {"kind": "long_text", "text": "Что нужно?", "required": False},
            ],
        }
    ],
}  # fmt: skip


@dataclass
class World:
    ids: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.ids[key]


def ensure_owner(password: str):
    """The editor who owns every object of the world (not one of the roles under test)."""
    owner = accounts.find_user(OWNER_EMAIL)
    if owner is None:
        org = accounts.save_organization("МАДОУ «Радуга»", "Радуга", "kindergarten", "Сургут")
        owner = accounts.create_user(OWNER_EMAIL, "Владелец Объектов", "editor", password, org)
    return owner


def build_world(password: str, n: int) -> World:
    """Every kind of object, owned by `owner`; `n` makes names unique across worlds."""
    owner = ensure_owner(password)
    admin = next(u for u in accounts.list_users() if u.is_admin)
    ids: dict = {"owner_id": owner.id}

    if pages.get_space("obshchee") is None and not any(s.is_default for s in pages.list_spaces()):
        pages.create_space("obshchee", "Общее", is_default=True)
    space = pages.create_space(f"club-{n}", f"Клуб {n}", "Клуб")
    page = pages.put_page(
        slug_for_title(f"План {n}"),
        title=f"План {n}",
        body="# План\n\nТекст [[Другая страница]].",
        author=owner,
        space=space,
        tags=[f"тег{n}"],
        base_revision=None,
    )
    page = pages.get_page(page.slug)
    pages.put_page(
        page.slug, title=page.title, body="# План\n\nВторая версия.", author=owner,
        space=space, tags=[f"тег{n}"], base_revision=1,
    )  # fmt: skip
    version = attachments.add_attachment(page, "plan.txt", io.BytesIO(b"plain text\n"), owner)
    template = PageTemplate(name=f"Шаблон {n}", body="## Цель\n")
    db.session.add(template)
    db.session.commit()
    ids.update(
        space_slug=space.slug,
        page_slug=page.slug,
        page_title=page.title,
        page_id=page.id,
        attachment_id=version.attachment_id,
        filename="plan.txt",
        template_id=template.id,
        tag=f"тег{n}",
    )

    start = utcnow() + timedelta(days=3)
    seminar = seminars.create_seminar(
        owner,
        {
            "title": f"Семинар {n}",
            "date": start.strftime("%Y-%m-%d"),
            "start": "10:00",
            "end": "12:00",
        },
    )
    board = boards.create_board(owner, f"Доска {n}", columns=["Плюсы", "Вопросы"])
    joined = boards.join_board(board.code, name="Гость")
    post = boards.create_post(board, joined.participant, "Первый пост")
    comment_post = boards.comment_post(board, joined.participant, post.id, "Комментарий")
    poll = boards.create_poll(board, owner, "Как вам?", "single", ["Да", "Нет"])
    boards.set_poll_status(board, owner, poll.id, "open")
    draft = boards.create_poll(board, owner, "Черновик?", "single", ["Да", "Нет"])
    secret = boards.create_poll(board, owner, "Кто победит?", "single", ["А", "Б"], "revealed")
    ids.update(
        seminar_id=seminar.id,
        board_code=board.code,
        board_id=board.id,
        participant_token=joined.token,
        participant_key=joined.participant.key,
        post_id=post.id,
        comment_id=comment_post.comments[0].id,
        poll_id=poll.id,
        draft_poll_id=draft.id,
        secret_poll_id=secret.id,
        option_id=poll.options[0].id,
    )

    survey = surveys.define_survey(owner, SURVEY)
    surveys.open_wave(survey, owner, title="Весна")
    anonymous = surveys.define_survey(owner, {**SURVEY, "anonymous": True})
    surveys.open_wave(anonymous, owner, title="Весна")
    question = surveys.ordered_questions(survey)[0]
    surveys.submit_response(
        survey,
        user=owner,
        answers={str(question.id): question.options[0].id},
        idempotency_key=f"world-key-{n:04d}",
    )
    ids.update(
        survey_id=survey.id,
        survey_question_id=question.id,
        section_id=survey.sections[0].id,
        anon_survey_id=anonymous.id,
        survey_code=anonymous.code,
    )

    private = consult.ask(owner, title=f"Личный вопрос {n}", body="Секрет", private=True)
    reply = consult.answer(private, admin, body="Ответ методиста")
    ids.update(consult_question_id=private.id, consult_answer_id=reply.id)
    ids["feed_token"] = consult.feed_token(owner)

    accounts.create_token(owner, f"world {n}")
    ids["token_id"] = accounts.list_tokens(owner)[0].id
    ids["org_id"] = owner.organization_id
    ids["invitation"] = accounts.create_invitation(
        f"invited{n}@example.org", "Приглашённый", "reader", None, admin
    )
    return World(ids)
