"""What can be done with surveys, waves and responses — with the rules.

Rules in one place (the HTML views, the JSON API and the tests call the same functions):

- Admins and editors create surveys; the survey's *organizers* are its author and the admins.
  Only organizers see results, individual responses and who answered a signed survey.
- A survey's questions are shared by all its waves. Once any response is stored the
  structure is locked: wording may be fixed, but questions, options, kinds and scales may
  not change (the waves must stay comparable).
- At most one wave accepts answers at a time; opening a new wave closes the current one.
- A response is validated whole and stored in one transaction, or not at all. Signed
  surveys take one response per person per wave; anonymous ones one per device per wave
  (an HMAC of a random device id — it cannot be turned back into a person). A repeated
  submission with the same idempotency key returns the response already stored.
"""

import hashlib
import hmac
import io
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from limits import RateLimitItemPerHour

from kb.accounts.models import Organization, User
from kb.database import MAX_ID, db, utcnow
from kb.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
)
from kb.extensions import limiter
from kb.surveys.models import (
    Answer,
    Option,
    Question,
    QuestionKind,
    Response,
    Section,
    Survey,
    Wave,
)

MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_QUESTION = 500
MAX_HELP = 1000
MAX_OPTION = 300
MAX_OPTIONS = 30
MAX_QUESTIONS = 200
MAX_SECTIONS = 30
MAX_LABEL = 80
MAX_WAVE_TITLE = 200
MAX_TEXT = {QuestionKind.SHORT_TEXT: 300, QuestionKind.LONG_TEXT: 5000}
SCALE_MAXES = (5, 10)
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
DEVICE_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

log = logging.getLogger(__name__)

KIND_LABELS = {
    QuestionKind.SINGLE: "Один вариант",
    QuestionKind.MULTIPLE: "Несколько вариантов",
    QuestionKind.SCALE: "Шкала",
    QuestionKind.SHORT_TEXT: "Короткий ответ",
    QuestionKind.LONG_TEXT: "Развёрнутый ответ",
}


def kind_labels() -> dict[str, str]:
    return {kind.value: _(label) for kind, label in KIND_LABELS.items()}


# ---------------------------------------------------------------- permissions


def _signed_in(user: User | None) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def can_create(user: User | None) -> bool:
    return _signed_in(user) and user.has_role("editor")


def is_organizer(user: User | None, survey: Survey) -> bool:
    """Organizers of a survey: its author and the network's admins."""
    return _signed_in(user) and (user.is_admin or survey.author_id == user.id)


def check_creator(user: User | None) -> User:
    if not _signed_in(user):
        raise NotAuthenticated(_("Нужно войти в систему."))
    if not user.has_role("editor"):
        raise Forbidden(_("Создавать опросы могут педагоги и организаторы сети."))
    return user


def check_organizer(user: User | None, survey: Survey) -> User:
    if not _signed_in(user):
        raise NotAuthenticated(_("Нужно войти в систему."))
    if not is_organizer(user, survey):
        raise Forbidden(_("Это доступно только автору опроса и организаторам сети."))
    return user


# ---------------------------------------------------------------- field checks


def _text(value, field: str, limit: int, *, required: bool = False, multiline: bool = False) -> str:
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
        raise InvalidInput(
            _("Поле «%(field)s» длиннее %(n)s символов.", field=field, n=limit)  # fmt: skip
        )
    if _CONTROL.search(value):
        raise InvalidInput(_("В поле «%(field)s» есть недопустимые символы.", field=field))
    return value


def _flag(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "off"):
        return False
    if value in ("1", "true", "on", "yes"):
        return True
    raise InvalidInput(_("Поле «%(field)s» должно быть да или нет.", field=field))


def _kind(value) -> QuestionKind:
    try:
        return QuestionKind(value)
    except ValueError:
        raise InvalidInput(_("Неизвестный тип вопроса «%(kind)s».", kind=str(value)[:40])) from None


def _options(value) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple):
        raise InvalidInput(_("Варианты ответа должны быть списком строк."))
    cleaned: list[str] = []
    for item in value:
        text = _text(item, _("Вариант ответа"), MAX_OPTION)
        if text:
            if text.casefold() in {c.casefold() for c in cleaned}:
                raise InvalidInput(_("Вариант «%(text)s» повторяется.", text=text))
            cleaned.append(text)
    if len(cleaned) < 2:
        raise InvalidInput(_("Укажите хотя бы два варианта ответа."))
    if len(cleaned) > MAX_OPTIONS:
        raise InvalidInput(_("Не больше %(n)s вариантов ответа.", n=MAX_OPTIONS))
    return cleaned


def _scale_max(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's Infinity
        number = 0
    if isinstance(value, bool) or number not in SCALE_MAXES:
        raise InvalidInput(_("Шкала бывает от 1 до 5 или от 1 до 10."))
    return number


def to_utc(value) -> datetime | None:
    """A datetime from the API (ISO 8601; naive means UTC) as naive UTC, or None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(
                _(
                    "Дата «%(value)s» не распознана: нужен формат 2027-03-01T09:00.",
                    value=value[:40],
                )
            ) from None
    else:
        raise InvalidInput(_("Дата должна быть строкой в формате ISO 8601."))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


# ---------------------------------------------------------------- queries


def get_survey(survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(_("Опрос не найден."))
    return survey


def get_survey_by_code(code: str) -> Survey:
    survey = db.session.scalar(sa.select(Survey).where(Survey.code == str(code)[:16]))
    if survey is None or not survey.anonymous:
        raise NotFound(_("Опрос по этой ссылке не найден. Проверьте адрес или QR-код."))
    return survey


def get_question(survey: Survey, question_id: int) -> Question:
    for question in survey.questions:
        if question.id == question_id:
            return question
    raise NotFound(_("Вопрос не найден."))


def get_section(survey: Survey, section_id: int) -> Section:
    for section in survey.sections:
        if section.id == section_id:
            return section
    raise NotFound(_("Раздел не найден."))


def get_wave(survey: Survey, number: int) -> Wave:
    for wave in survey.waves:
        if wave.number == number:
            return wave
    raise NotFound(_("Волна %(n)s не найдена.", n=number))


def current_wave(survey: Survey, now: datetime | None = None) -> Wave | None:
    """The wave accepting answers now, if any."""
    now = now or utcnow()
    open_waves = [w for w in survey.waves if w.is_open(now)]
    return open_waves[-1] if open_waves else None


def next_wave(survey: Survey, now: datetime | None = None) -> Wave | None:
    now = now or utcnow()
    future = [w for w in survey.waves if w.opens_at > now]
    return future[0] if future else None


def has_responses(survey: Survey) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(Response.id))
            .join(Wave, Response.wave_id == Wave.id)
            .where(Wave.survey_id == survey.id)
        )
    )


def wave_counts(survey: Survey) -> dict[int, int]:
    """Responses per wave id."""
    rows = db.session.execute(
        sa.select(Response.wave_id, sa.func.count(Response.id))
        .join(Wave, Response.wave_id == Wave.id)
        .where(Wave.survey_id == survey.id)
        .group_by(Response.wave_id)
    )
    return {wave_id: count for wave_id, count in rows}


def list_surveys(user: User | None) -> dict[str, list[Survey]]:
    """``organized``: surveys the user runs; ``open``: those accepting answers from them."""
    if not _signed_in(user):
        return {"organized": [], "open": []}
    surveys = list(
        db.session.scalars(
            sa.select(Survey).where(Survey.archived.is_(False)).order_by(Survey.created_at.desc())
        )
    )
    now = utcnow()
    organized = [s for s in surveys if is_organizer(user, s)]
    answerable = [s for s in surveys if current_wave(s, now) is not None]
    return {"organized": organized, "open": answerable}


def answered_waves(user: User | None, survey: Survey) -> set[int]:
    if not _signed_in(user) or survey.anonymous:
        return set()
    return set(
        db.session.scalars(
            sa.select(Response.wave_id)
            .join(Wave, Response.wave_id == Wave.id)
            .where(Wave.survey_id == survey.id, Response.user_id == user.id)
        )
    )


def answered_from_device(survey: Survey, wave: Wave | None, device_id: str | None) -> bool:
    """Whether this device already answered the anonymous survey's current wave — said
    before the form, not after it was filled in again."""
    if not survey.anonymous or wave is None or not isinstance(device_id, str):
        return False
    if not DEVICE_RE.match(device_id):
        return False
    device = device_hash(wave, device_id)
    return _already_answered(survey, wave, None, device) is not None


def list_organizations() -> list[Organization]:
    return list(db.session.scalars(sa.select(Organization).order_by(Organization.name)))


# ---------------------------------------------------------------- structure


def _touch(survey: Survey) -> None:
    survey.updated_at = utcnow()


def _check_unlocked(survey: Survey) -> None:
    if has_responses(survey):
        raise Conflict(
            _(
                "В опросе уже есть ответы: можно исправлять формулировки, но не состав "
                "вопросов, варианты и шкалы — иначе волны нельзя будет сравнить. "
                "Сделайте копию опроса."
            )
        )


def create_survey(
    actor: User, *, title: str, description: str = "", anonymous: bool = False
) -> Survey:
    check_creator(actor)
    survey = Survey(
        title=_text(title, _("Название"), MAX_TITLE, required=True),
        description=_text(description, _("Описание"), MAX_DESCRIPTION, multiline=True),
        anonymous=_flag(anonymous, _("Анонимный")),
        code=secrets.token_urlsafe(9),
        author=actor,
    )
    survey.sections.append(Section(position=0))
    db.session.add(survey)
    db.session.commit()
    return survey


def update_survey(
    survey: Survey, actor: User, *, title: str, description: str, anonymous: bool
) -> Survey:
    check_organizer(actor, survey)
    title = _text(title, _("Название"), MAX_TITLE, required=True)
    description = _text(description, _("Описание"), MAX_DESCRIPTION, multiline=True)
    anonymous = _flag(anonymous, _("Анонимный"))
    if anonymous != survey.anonymous and has_responses(survey):
        raise Conflict(
            _("В опросе уже есть ответы: анонимный опрос нельзя сделать подписанным и наоборот.")
        )
    survey.title, survey.description, survey.anonymous = title, description, anonymous
    _touch(survey)
    db.session.commit()
    return survey


def set_archived(survey: Survey, actor: User, archived: bool) -> None:
    check_organizer(actor, survey)
    survey.archived = bool(archived)
    if archived:
        wave = current_wave(survey)
        if wave is not None:
            wave.closes_at = utcnow()
    db.session.commit()


def delete_survey(survey: Survey, actor: User) -> None:
    check_organizer(actor, survey)
    db.session.delete(survey)
    db.session.commit()


def add_section(survey: Survey, actor: User, *, title: str = "", description: str = "") -> Section:
    check_organizer(actor, survey)
    _check_unlocked(survey)
    if len(survey.sections) >= MAX_SECTIONS:
        raise InvalidInput(_("Не больше %(n)s разделов в опросе.", n=MAX_SECTIONS))
    section = Section(
        position=len(survey.sections),
        title=_text(title, _("Название раздела"), MAX_TITLE),
        description=_text(description, _("Описание раздела"), MAX_DESCRIPTION, multiline=True),
    )
    survey.sections.append(section)
    _touch(survey)
    db.session.commit()
    return section


def update_section(section: Section, actor: User, *, title: str, description: str) -> Section:
    check_organizer(actor, section.survey)
    section.title = _text(title, _("Название раздела"), MAX_TITLE)
    section.description = _text(description, _("Описание раздела"), MAX_DESCRIPTION, multiline=True)
    _touch(section.survey)
    db.session.commit()
    return section


def delete_section(section: Section, actor: User) -> None:
    survey = section.survey
    check_organizer(actor, survey)
    _check_unlocked(survey)
    if len(survey.sections) == 1:
        raise Conflict(_("В опросе должен остаться хотя бы один раздел."))
    for question in list(section.questions):
        survey.questions.remove(question)
    survey.sections.remove(section)
    _renumber(survey)
    _touch(survey)
    db.session.commit()


def _question_fields(kind: QuestionKind, data: Mapping) -> dict:
    fields = {
        "text": _text(data.get("text"), _("Вопрос"), MAX_QUESTION, required=True),
        "help": _text(data.get("help"), _("Пояснение"), MAX_HELP, multiline=True),
        "required": _flag(data.get("required", False), _("Обязательный")),
        "scale_max": 5,
        "label_min": "",
        "label_max": "",
        "options": [],
    }
    if kind.has_options:
        fields["options"] = _options(data.get("options") or [])
    if kind == QuestionKind.SCALE:
        fields["scale_max"] = _scale_max(data.get("scale_max", 5))
        fields["label_min"] = _text(data.get("label_min"), _("Подпись начала шкалы"), MAX_LABEL)
        fields["label_max"] = _text(data.get("label_max"), _("Подпись конца шкалы"), MAX_LABEL)
    return fields


def _renumber(survey: Survey) -> None:
    """Questions are numbered through the survey in section order."""
    survey.sections.sort(key=lambda s: s.position)
    for index, section in enumerate(survey.sections):
        section.position = index
    ordered = sorted(
        survey.questions, key=lambda q: (q.section.position if q.section else 0, q.position)
    )
    for index, question in enumerate(ordered):
        question.position = index
    survey.questions.sort(key=lambda q: q.position)


def ordered_questions(survey: Survey) -> list[Question]:
    return sorted(survey.questions, key=lambda q: q.position)


def add_question(
    survey: Survey, actor: User, *, kind: str, section: Section | None = None, **data
) -> Question:
    check_organizer(actor, survey)
    _check_unlocked(survey)
    if len(survey.questions) >= MAX_QUESTIONS:
        raise InvalidInput(_("Не больше %(n)s вопросов в опросе.", n=MAX_QUESTIONS))
    kind_value = _kind(kind)
    fields = _question_fields(kind_value, data)
    section = section or survey.sections[-1]
    if section.survey_id != survey.id:
        raise NotFound(_("Раздел не найден."))
    question = Question(
        kind=kind_value.value,
        text=fields["text"],
        help=fields["help"],
        required=fields["required"],
        scale_min=1,
        scale_max=fields["scale_max"],
        label_min=fields["label_min"],
        label_max=fields["label_max"],
        position=len(survey.questions),
        options=[Option(position=i, text=t) for i, t in enumerate(fields["options"])],
    )
    question.section = section
    survey.questions.append(question)
    _place_last_in_section(survey, question, section)
    _touch(survey)
    db.session.commit()
    return question


def _place_last_in_section(survey: Survey, question: Question, section: Section) -> None:
    others = [q for q in ordered_questions(survey) if q is not question]
    before = [q for q in others if q.section.position <= section.position]
    after = [q for q in others if q.section.position > section.position]
    for index, item in enumerate([*before, question, *after]):
        item.position = index
    survey.questions.sort(key=lambda q: q.position)


def update_question(question: Question, actor: User, **data) -> Question:
    """Change a question. With responses stored, only the wording may change."""
    survey = question.survey
    check_organizer(actor, survey)
    kind = _kind(data.get("kind", question.kind))
    fields = _question_fields(kind, data)
    if has_responses(survey):
        same_shape = (
            kind.value == question.kind
            and fields["required"] == question.required
            and (kind != QuestionKind.SCALE or fields["scale_max"] == question.scale_max)
            and len(fields["options"]) == len(question.options)
        )
        if not same_shape:
            _check_unlocked(survey)
    question.kind = kind.value
    question.text = fields["text"]
    question.help = fields["help"]
    question.required = fields["required"]
    question.scale_max = fields["scale_max"]
    question.label_min = fields["label_min"]
    question.label_max = fields["label_max"]
    # Options keep their rows (and ids) by position: renaming an option keeps its answers.
    texts = fields["options"]
    for index, text in enumerate(texts):
        if index < len(question.options):
            question.options[index].text = text
        else:
            question.options.append(Option(position=index, text=text))
    del question.options[len(texts) :]
    _touch(survey)
    db.session.commit()
    return question


def delete_question(question: Question, actor: User) -> None:
    survey = question.survey
    check_organizer(actor, survey)
    _check_unlocked(survey)
    survey.questions.remove(question)
    _renumber(survey)
    _touch(survey)
    db.session.commit()


def move_question(question: Question, actor: User, direction: int) -> None:
    """Move one step up (-1) or down (+1); at a section's edge it moves to the next section."""
    survey = question.survey
    check_organizer(actor, survey)
    _check_unlocked(survey)
    _renumber(survey)
    sections = survey.sections
    ordered = ordered_questions(survey)
    index = ordered.index(question)
    neighbour_index = index + (1 if direction > 0 else -1)
    neighbour = ordered[neighbour_index] if 0 <= neighbour_index < len(ordered) else None
    if neighbour is not None and neighbour.section is question.section:
        question.position, neighbour.position = neighbour.position, question.position
    else:
        target = question.section.position + (1 if direction > 0 else -1)
        if not 0 <= target < len(sections):
            return
        question.section = sections[target]
        # Entering a section from above puts it first; from below, last.
        question.position = -1 if direction > 0 else len(ordered) + 1
    _renumber(survey)
    _touch(survey)
    db.session.commit()


def copy_survey(survey: Survey, actor: User) -> Survey:
    """A new survey with the same sections and questions and no waves."""
    check_organizer(actor, survey)
    check_creator(actor)
    copy = Survey(
        title=_text(_("%(title)s (копия)", title=survey.title), _("Название"), MAX_TITLE),
        description=survey.description,
        anonymous=survey.anonymous,
        code=secrets.token_urlsafe(9),
        author=actor,
    )
    sections = {}
    for section in survey.sections:
        sections[section.id] = Section(
            position=section.position, title=section.title, description=section.description
        )
        copy.sections.append(sections[section.id])
    for question in ordered_questions(survey):
        new = Question(
            kind=question.kind,
            text=question.text,
            help=question.help,
            required=question.required,
            scale_min=question.scale_min,
            scale_max=question.scale_max,
            label_min=question.label_min,
            label_max=question.label_max,
            position=question.position,
            options=[Option(position=o.position, text=o.text) for o in question.options],
        )
        new.section = sections[question.section_id]
        copy.questions.append(new)
    db.session.add(copy)
    db.session.commit()
    return copy


def define_survey(actor: User, data: Mapping, survey: Survey | None = None) -> Survey:
    """Create (or, while it has no responses, replace) a whole survey from one JSON object:
    ``{title, description, anonymous, sections: [{title, description, questions: [...]}]}``
    where a question is ``{kind, text, help, required, options, scale_max, label_min,
    label_max}``. Everything is checked before anything is stored."""
    if survey is None:
        check_creator(actor)
    else:
        check_organizer(actor, survey)
        _check_unlocked(survey)
    title = _text(data.get("title"), _("Название"), MAX_TITLE, required=True)
    description = _text(data.get("description"), _("Описание"), MAX_DESCRIPTION, multiline=True)
    anonymous = _flag(data.get("anonymous", False), _("Анонимный"))
    raw_sections = data.get("sections")
    if raw_sections is None and "questions" in data:
        raw_sections = [{"questions": data.get("questions")}]
    if not isinstance(raw_sections, list) or not raw_sections:
        raise InvalidInput(_("Нужен хотя бы один раздел с вопросами (sections)."))
    if len(raw_sections) > MAX_SECTIONS:
        raise InvalidInput(_("Не больше %(n)s разделов в опросе.", n=MAX_SECTIONS))
    sections: list[Section] = []
    questions: list[Question] = []
    for s_index, raw in enumerate(raw_sections):
        if not isinstance(raw, dict):
            raise InvalidInput(_("Раздел должен быть объектом."))
        section = Section(
            position=s_index,
            title=_text(raw.get("title"), _("Название раздела"), MAX_TITLE),
            description=_text(
                raw.get("description"), _("Описание раздела"), MAX_DESCRIPTION, multiline=True
            ),
        )
        sections.append(section)
        raw_questions = raw.get("questions") or []
        if not isinstance(raw_questions, list):
            raise InvalidInput(_("Вопросы раздела должны быть списком."))
        for raw_q in raw_questions:
            if not isinstance(raw_q, dict):
                raise InvalidInput(_("Вопрос должен быть объектом."))
            kind = _kind(raw_q.get("kind"))
            fields = _question_fields(kind, raw_q)
            question = Question(
                kind=kind.value,
                text=fields["text"],
                help=fields["help"],
                required=fields["required"],
                scale_min=1,
                scale_max=fields["scale_max"],
                label_min=fields["label_min"],
                label_max=fields["label_max"],
                position=len(questions),
                options=[Option(position=i, text=t) for i, t in enumerate(fields["options"])],
            )
            question.section = section
            questions.append(question)
    if len(questions) > MAX_QUESTIONS:
        raise InvalidInput(_("Не больше %(n)s вопросов в опросе.", n=MAX_QUESTIONS))
    if survey is None:
        survey = Survey(code=secrets.token_urlsafe(9), author=actor)
        db.session.add(survey)
    else:
        survey.questions.clear()
        survey.sections.clear()
        db.session.flush()
    survey.title, survey.description, survey.anonymous = title, description, anonymous
    survey.sections.extend(sections)
    survey.questions.extend(questions)
    _touch(survey)
    db.session.commit()
    return survey


# ---------------------------------------------------------------- waves


def open_wave(
    survey: Survey,
    actor: User,
    *,
    title: str = "",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> Wave:
    """Start a new wave with the same questions; the wave accepting answers now is closed."""
    check_organizer(actor, survey)
    if not survey.questions:
        raise Conflict(_("Добавьте в опрос хотя бы один вопрос, чтобы открыть волну."))
    if survey.archived:
        raise Conflict(_("Опрос в архиве: верните его из архива, чтобы открыть волну."))
    now = utcnow()
    opens_at = to_utc(opens_at) or now
    closes_at = to_utc(closes_at)
    if closes_at is not None and closes_at <= max(opens_at, now):
        raise InvalidInput(_("Дата закрытия должна быть позже открытия и позже текущего момента."))
    if next_wave(survey, now) is not None:
        raise Conflict(_("Следующая волна уже запланирована. Измените или закройте её."))
    current = current_wave(survey, now)
    if current is not None:
        current.closes_at = max(opens_at, now) if opens_at > now else now
    wave = Wave(
        number=max((w.number for w in survey.waves), default=0) + 1,
        title=_text(title, _("Название волны"), MAX_WAVE_TITLE),
        opens_at=opens_at,
        closes_at=closes_at,
    )
    survey.waves.append(wave)
    _touch(survey)
    db.session.commit()
    return wave


def update_wave(wave: Wave, actor: User, *, title: str, opens_at=None, closes_at=None) -> Wave:
    check_organizer(actor, wave.survey)
    now = utcnow()
    new_opens = to_utc(opens_at) or wave.opens_at
    new_closes = to_utc(closes_at)
    if new_opens != wave.opens_at and wave.opens_at <= now:
        raise Conflict(_("Волна уже началась: дату открытия изменить нельзя."))
    if new_closes is not None and new_closes <= new_opens:
        raise InvalidInput(_("Дата закрытия должна быть позже даты открытия."))
    for other in wave.survey.waves:
        if other is wave:
            continue
        other_end = other.closes_at or datetime.max
        wave_end = new_closes or datetime.max
        if other.opens_at < wave_end and new_opens < other_end:
            raise Conflict(_("Волна пересекается по времени с волной %(n)s.", n=other.number))
    wave.title = _text(title, _("Название волны"), MAX_WAVE_TITLE)
    wave.opens_at, wave.closes_at = new_opens, new_closes
    db.session.commit()
    return wave


def close_wave(wave: Wave, actor: User) -> Wave:
    check_organizer(actor, wave.survey)
    now = utcnow()
    if wave.closes_at is None or wave.closes_at > now:
        wave.closes_at = max(now, wave.opens_at)
        db.session.commit()
    return wave


# ---------------------------------------------------------------- responding


@dataclass
class SubmitResult:
    response: Response
    duplicate: bool  # the same attempt was stored before (same idempotency key)


def closed_message(survey: Survey, now: datetime) -> str:
    upcoming = next_wave(survey, now)
    if upcoming is not None:
        return _(
            "Опрос откроется %(when)s.",
            when=format_datetime(upcoming.opens_at, "d MMMM yyyy, HH:mm"),
        )
    if survey.waves:
        last = survey.waves[-1]
        if last.closes_at is not None:
            return _(
                "Приём ответов закрыт %(when)s.",
                when=format_datetime(last.closes_at, "d MMMM yyyy, HH:mm"),
            )
    return _("Опрос сейчас не принимает ответы.")


def _int(value) -> int | None:
    """An id or number from a form or JSON; None when it is not one (or past 32 bits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -MAX_ID <= value <= MAX_ID else None
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        return int(value)
    return None


_DIGITS = re.compile(r"[0-9]{1,10}")


def id_number(value) -> int | None:
    """A positive id typed into a form or query string («12»); None for anything else,
    also for a number past 32 bits (it names nothing) or digits like «²»."""
    text = str(value or "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def query_filters(waves: list[str], org: str, *, org_name: str = "org") -> dict:
    """``wave`` numbers (repeatable or comma-separated) and an organization id for results,
    comparison and exports; ``BadRequest`` names the parameter that is not a valid number."""
    numbers = set()
    for raw in waves:
        for part in raw.split(","):
            if not part.strip():
                continue
            number = id_number(part)
            if number is None:
                raise BadRequest(
                    _("Номер волны должен быть целым числом от 1 до %(max)s.", max=MAX_ID)
                )
            numbers.add(number)
    org = (org or "").strip()
    organization_id = id_number(org) if org else None
    if org and organization_id is None:
        raise BadRequest(
            _(
                "%(name)s должен быть номером организации (от 1 до %(max)s).",
                name=org_name,
                max=MAX_ID,
            )  # fmt: skip
        )
    return {"wave_numbers": sorted(numbers) or None, "organization_id": organization_id}


def _missing(value) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def check_answers(survey: Survey, raw: Mapping) -> dict[int, list]:
    """Checked answers ``{question id: [values]}``, or ``InvalidInput`` with ``errors``
    ``{question id: message}`` naming every problem at once."""
    if not isinstance(raw, Mapping):
        raise BadRequest(_("Ответы должны быть объектом {номер вопроса: ответ}."))
    by_id = {q.id: q for q in survey.questions}
    unknown = [key for key in raw if _int(key) not in by_id]
    if unknown:
        raise InvalidInput(_("В ответе есть вопросы, которых нет в опросе."))
    given = {_int(key): value for key, value in raw.items()}
    errors: dict[int, str] = {}
    checked: dict[int, list] = {}
    for question in ordered_questions(survey):
        value = given.get(question.id)
        kind = question.kind_enum
        if kind == QuestionKind.MULTIPLE and isinstance(value, str | int) and not _missing(value):
            value = [value]
        if _missing(value):
            if question.required:
                errors[question.id] = _("Это обязательный вопрос.")
            continue
        option_ids = {o.id for o in question.options}
        if kind == QuestionKind.SINGLE:
            choice = _int(value)
            if choice not in option_ids:
                errors[question.id] = _("Выберите один из предложенных вариантов.")
                continue
            checked[question.id] = [choice]
        elif kind == QuestionKind.MULTIPLE:
            if not isinstance(value, list):
                errors[question.id] = _("Ответ должен быть списком вариантов.")
                continue
            choices = [_int(v) for v in value]
            if any(c not in option_ids for c in choices):
                errors[question.id] = _("Выберите варианты из предложенных.")
                continue
            checked[question.id] = sorted(set(choices))
        elif kind == QuestionKind.SCALE:
            number = _int(value)
            if number is None or not question.scale_min <= number <= question.scale_max:
                errors[question.id] = _(
                    "Оценка должна быть целым числом от %(lo)s до %(hi)s.",
                    lo=question.scale_min,
                    hi=question.scale_max,
                )
                continue
            checked[question.id] = [number]
        else:
            if not isinstance(value, str):
                errors[question.id] = _("Ответ должен быть текстом.")
                continue
            text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
            if kind == QuestionKind.SHORT_TEXT:
                text = " ".join(text.split())
            limit = MAX_TEXT[kind]
            if len(text) > limit:
                errors[question.id] = _(
                    "Ответ длиннее %(n)s символов (сейчас %(len)s). Сократите его.",
                    n=limit,
                    len=len(text),
                )
                continue
            if "\x00" in text or _CONTROL.search(text):
                errors[question.id] = _("В ответе есть недопустимые символы.")
                continue
            checked[question.id] = [text]
    if errors:
        first = next(q for q in ordered_questions(survey) if q.id in errors)
        if len(errors) == 1:
            message = _(
                "Вопрос «%(question)s»: %(problem)s", question=first.text, problem=errors[first.id]
            )
        else:
            message = _(
                "Проверьте ответы: вопросов с ошибками — %(n)s. "
                "Первый: «%(question)s» — %(problem)s",
                n=len(errors),
                question=first.text,
                problem=errors[first.id],
            )
        raise InvalidInput(message, errors={str(k): v for k, v in errors.items()})
    return checked


def device_hash(wave: Wave, device_id: str) -> str:
    """Per-wave HMAC of the device id: repeats are caught, devices are not tracked across
    waves or surveys, and the stored value cannot be turned back into the cookie."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(
        key, f"survey-device:{wave.id}:{device_id}".encode(), hashlib.sha256
    ).hexdigest()


def new_device_id() -> str:
    return secrets.token_urlsafe(24)


def _find_by_key(wave: Wave, key: str) -> Response | None:
    return db.session.scalar(
        sa.select(Response).where(Response.wave_id == wave.id, Response.idempotency_key == key)
    )


def _same_attempt(response: Response, user: User | None, device: str | None) -> bool:
    if response.wave.survey.anonymous:
        return response.device_hash == device
    return user is not None and response.user_id == user.id


def _already_answered(survey: Survey, wave: Wave, user: User | None, device: str | None):
    if survey.anonymous:
        return db.session.scalar(
            sa.select(Response).where(Response.wave_id == wave.id, Response.device_hash == device)
        )
    return db.session.scalar(
        sa.select(Response).where(Response.wave_id == wave.id, Response.user_id == user.id)
    )


def _repeat_error(survey: Survey) -> Conflict:
    if survey.anonymous:
        return Conflict(_("С этого устройства уже отправлен ответ в этой волне опроса. Спасибо!"))
    return Conflict(_("Вы уже ответили на этот опрос в текущей волне. Спасибо!"))


def check_response_rate(survey: Survey, address: str | None) -> None:
    """At most KB_SURVEY_RESPONSES_PER_HOUR new responses per client address per anonymous
    survey (``RateLimited`` past it).

    The device id of an anonymous survey is the client's word — a script makes a new one for
    every response — so the address is the only brake on stuffing. A school answering
    behind one NAT address shares the budget, hence a generous default. Counted in
    Flask-Limiter's storage (KB_RATELIMIT_STORAGE), which every process shares; if that
    storage is down the limit is skipped (and logged) rather than refusing every answer.
    """
    per_hour = int(current_app.config.get("KB_SURVEY_RESPONSES_PER_HOUR") or 0)
    if not survey.anonymous or not address or per_hour <= 0:
        return
    if not (limiter.enabled and limiter.initialized):
        return
    try:
        allowed = limiter.limiter.hit(
            RateLimitItemPerHour(per_hour), "survey-responses", str(survey.id), address
        )
    except Exception:  # the storage (Redis) is unreachable: answers still go in
        log.warning("rate-limit storage failed; survey limit not applied", exc_info=True)
        return
    if not allowed:
        raise RateLimited(
            _(
                "Слишком много ответов в этот опрос с одного адреса за час (можно "
                "%(n)s). Попробуйте позже.",
                n=per_hour,
            )
        )


def submit_response(
    survey: Survey,
    *,
    user: User | None,
    answers: Mapping,
    idempotency_key: str,
    device_id: str | None = None,
    organization_id: int | None = None,
    code: str | None = None,
    now: datetime | None = None,
    address: str | None = None,
) -> SubmitResult:
    """Store one response whole, or nothing. See the module docstring for the rules.

    ``address`` is the client's network address, for ``check_response_rate``.
    """
    user = user if _signed_in(user) else None
    if survey.anonymous:
        if user is None and not (isinstance(code, str) and hmac.compare_digest(code, survey.code)):
            raise NotFound(_("Опрос по этой ссылке не найден. Проверьте адрес или QR-код."))
    elif user is None:
        raise NotAuthenticated(_("Этот опрос подписной: войдите, чтобы ответить."))
    if not isinstance(idempotency_key, str) or not KEY_RE.match(idempotency_key):
        raise BadRequest(
            _("Нужен ключ отправки idempotency_key: 8–64 латинских букв, цифр, «-» или «_».")
        )
    now = now or utcnow()
    wave = current_wave(survey, now)
    if wave is None or survey.archived:
        # A replay of an attempt stored just before the wave closed still gets its answer.
        for closed in reversed(survey.waves):
            stored = _find_by_key(closed, idempotency_key)
            if stored is not None:
                device = device_hash(closed, device_id) if device_id else None
                if _same_attempt(stored, user, device):
                    return SubmitResult(stored, duplicate=True)
        raise Conflict(closed_message(survey, now))
    device = None
    if survey.anonymous:
        if not isinstance(device_id, str) or not DEVICE_RE.match(device_id):
            raise BadRequest(
                _("Не удалось определить устройство: разрешите сайту сохранять cookie.")
            )
        device = device_hash(wave, device_id)
    stored = _find_by_key(wave, idempotency_key)
    if stored is not None:
        if _same_attempt(stored, user, device):
            return SubmitResult(stored, duplicate=True)
        raise Conflict(_("Этот ключ отправки уже использован. Обновите страницу."))
    if _already_answered(survey, wave, user, device) is not None:
        raise _repeat_error(survey)
    checked = check_answers(survey, answers)
    if survey.anonymous:
        organization = None
        if organization_id not in (None, ""):
            org_id = _int(organization_id)
            organization = db.session.get(Organization, org_id) if org_id else None
            if organization is None:
                raise InvalidInput(_("Такой организации нет в списке."))
    else:
        organization = user.organization
    check_response_rate(survey, address)
    response = Response(
        wave=wave,
        user_id=None if survey.anonymous else user.id,
        organization=organization,
        device_hash=device,
        idempotency_key=idempotency_key,
        submitted_at=now,
    )
    by_id = {q.id: q for q in survey.questions}
    for question_id, values in checked.items():
        kind = by_id[question_id].kind_enum
        for value in values:
            if kind.has_options:
                response.answers.append(Answer(question_id=question_id, option_id=value))
            elif kind == QuestionKind.SCALE:
                response.answers.append(Answer(question_id=question_id, number=value))
            else:
                response.answers.append(Answer(question_id=question_id, text=value))
    db.session.add(response)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # A concurrent request stored the same attempt (or this person's answer) first.
        db.session.rollback()
        stored = _find_by_key(wave, idempotency_key)
        if stored is not None and _same_attempt(stored, user, device):
            return SubmitResult(stored, duplicate=True)
        raise _repeat_error(survey) from None
    _announce(survey, wave)
    return SubmitResult(response, duplicate=False)


def _announce(survey: Survey, wave: Wave) -> None:
    """Tell organizers watching the results that a response arrived (after the commit)."""
    from kb.surveys import events

    counts = wave_counts(survey)
    events.publish_count(
        survey.id, wave.id, wave.number, counts.get(wave.id, 0), sum(counts.values())
    )


# ---------------------------------------------------------------- link and QR


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as SVG markup, made locally (segno)."""
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=6, border=2, xmldecl=False, svgns=True, title=None
    )
    return buffer.getvalue().decode()


def qr_png(url: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=10, border=2)
    return buffer.getvalue()
