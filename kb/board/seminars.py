"""Seminars and other events of the network: rules, local time, iCalendar (RFC 5545)."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from kb.accounts.models import Organization, User
from kb.board.models import Seminar, SeminarKind
from kb.board.service import clean_text
from kb.database import MAX_ID, db, mark_write_transaction, utcnow
from kb.errors import Forbidden, InvalidInput, NotFound
from kb.pages.models import Space

KIND_LABELS = {
    SeminarKind.SEMINAR.value: lazy_gettext("семинар"),
    SeminarKind.MASTER_CLASS.value: lazy_gettext("мастер-класс"),
    SeminarKind.ROUND_TABLE.value: lazy_gettext("круглый стол"),
    SeminarKind.FESTIVAL.value: lazy_gettext("фестиваль"),
    SeminarKind.CONTEST.value: lazy_gettext("конкурс"),
}
MAX_DURATION = timedelta(days=31)


def zone() -> ZoneInfo:
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:  # pragma: no cover - a misconfigured zone
        return ZoneInfo("UTC")


def to_utc(local: datetime) -> datetime:
    """A wall-clock time in the configured zone → naive UTC for storage."""
    return local.replace(tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)


def to_local(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(zone())


def can_create(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role("editor"))


def can_edit(seminar: Seminar, user: User | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_admin or (seminar.created_by_id == user.id and user.has_role("editor"))


def get_seminar(seminar_id: int) -> Seminar:
    seminar = db.session.get(Seminar, seminar_id)
    if seminar is None:
        raise NotFound(_("Мероприятие не найдено."))
    return seminar


def list_seminars() -> tuple[list[Seminar], list[Seminar]]:
    """Upcoming (soonest first, including those running now) and past (latest first)."""
    now = utcnow()
    upcoming = db.session.scalars(
        sa.select(Seminar).where(Seminar.ends_at >= now).order_by(Seminar.starts_at)
    ).all()
    past = db.session.scalars(
        sa.select(Seminar).where(Seminar.ends_at < now).order_by(Seminar.starts_at.desc())
    ).all()
    return list(upcoming), list(past)


def all_seminars() -> list[Seminar]:
    return list(db.session.scalars(sa.select(Seminar).order_by(Seminar.starts_at.desc())))


def check_meeting_url(value: Any) -> str:
    url = clean_text(value, limit=500, what=_("Ссылка на встречу"), required=False)
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise InvalidInput(_("Ссылка на встречу должна начинаться с http:// или https://."))
    return url


def _parse_local(day: Any, clock: Any, what: str) -> datetime:
    try:
        parsed_day = date.fromisoformat(str(day).strip())
        parsed_time = time.fromisoformat(str(clock).strip())
    except ValueError:
        raise InvalidInput(
            _("%(what)s: укажите дату (ГГГГ-ММ-ДД) и время (ЧЧ:ММ).", what=what)
        ) from None
    return to_utc(datetime.combine(parsed_day, parsed_time))


def check_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a seminar form (local date and times) into model fields."""
    kind = data.get("kind") or SeminarKind.SEMINAR.value
    if kind not in KIND_LABELS:
        raise InvalidInput(_("Неизвестный вид мероприятия."))
    starts_at = _parse_local(data.get("date"), data.get("start"), _("Начало"))
    ends_at = _parse_local(data.get("end_date") or data.get("date"), data.get("end"), _("Конец"))
    if ends_at <= starts_at:
        raise InvalidInput(_("Конец мероприятия должен быть позже начала."))
    if ends_at - starts_at > MAX_DURATION:
        raise InvalidInput(_("Мероприятие не может длиться больше месяца."))
    organization = None
    if data.get("organization_id"):
        organization = db.session.get(Organization, _int(data["organization_id"]))
        if organization is None:
            raise InvalidInput(_("Организация не найдена."))
    space = None
    if data.get("space_id"):
        space = db.session.get(Space, _int(data["space_id"]))
        if space is None:
            raise InvalidInput(_("Клуб (пространство) не найден."))
    return {
        "title": clean_text(data.get("title"), limit=200, what=_("Название")),
        "kind": kind,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "description": clean_text(
            data.get("description"), limit=5000, what=_("Описание"), required=False
        ),
        "speakers": clean_text(data.get("speakers"), limit=500, what=_("Спикеры"), required=False),
        "meeting_url": check_meeting_url(data.get("meeting_url")),
        "organization": organization,
        "space": space,
    }


def _int(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("Ожидалось число.")) from None
    return number if 0 < number <= MAX_ID else 0  # names nothing instead of overflowing the db


def create_seminar(user: User, data: dict[str, Any]) -> Seminar:
    if not can_create(user):
        raise Forbidden(_("Создавать мероприятия могут педагоги и администраторы."))
    mark_write_transaction()
    seminar = Seminar(created_by_id=user.id, **check_fields(data))
    db.session.add(seminar)
    db.session.commit()
    return seminar


def update_seminar(seminar: Seminar, user: User, data: dict[str, Any]) -> Seminar:
    if not can_edit(seminar, user):
        raise Forbidden(_("Изменять мероприятие может его автор или администратор."))
    mark_write_transaction()
    for key, value in check_fields(data).items():
        setattr(seminar, key, value)
    seminar.updated_at = utcnow()
    db.session.commit()
    return seminar


def delete_seminar(seminar: Seminar, user: User) -> None:
    if not can_edit(seminar, user):
        raise Forbidden(_("Удалять мероприятие может его автор или администратор."))
    mark_write_transaction()
    db.session.delete(seminar)
    db.session.commit()


# ------------------------------------------------------------------ iCalendar


def _ical_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 5545 3.1: lines of at most 75 octets, continued with CRLF + space."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def ical(seminars: list[Seminar], base_url: str, host: str, name: str) -> str:
    """A VCALENDAR with one VEVENT per seminar; times in UTC (…Z), so no VTIMEZONE is needed."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Metodkabinet//Seminars//RU",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ical_escape(name)}",
    ]
    for seminar in seminars:
        url = f"{base_url.rstrip('/')}/seminars/{seminar.id}"
        description = seminar.description
        if seminar.speakers:
            speakers = _("Спикеры")
            description = f"{speakers}: {seminar.speakers}\n\n{description}"
        if seminar.meeting_url:
            join = _("Подключиться")
            description = f"{description}\n\n{join}: {seminar.meeting_url}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:seminar-{seminar.id}@{host}",
            f"DTSTAMP:{_stamp(seminar.updated_at)}",
            f"DTSTART:{_stamp(seminar.starts_at)}",
            f"DTEND:{_stamp(seminar.ends_at)}",
            f"SUMMARY:{_ical_escape(seminar.title)}",
            f"DESCRIPTION:{_ical_escape(description.strip())}",
            f"CATEGORIES:{_ical_escape(str(KIND_LABELS[seminar.kind]))}",
            f"URL:{url}",
            f"LOCATION:{_ical_escape(seminar.meeting_url or url)}",
        ]
        if seminar.organization:
            lines.append(f"ORGANIZER;CN={_quote_param(seminar.organization.name)}:{url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _quote_param(value: str) -> str:
    return '"' + value.replace('"', "'").replace("\n", " ") + '"'
