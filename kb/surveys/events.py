"""Live response counts for organizers: Socket.IO namespace ``/surveys``.

An organizer's results page connects, emits ``watch`` ``{"survey_id": N}`` and joins the room
``survey:N``; after each stored response the server emits ``response``
``{"survey_id", "wave", "wave_count", "total"}`` to that room (after the commit, from
``kb.surveys.service``). Delivery is at most once: the page refetches the results on each
event, so a missed event only delays the next refresh (the page also polls slowly).
"""

import logging
from typing import TypedDict

from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room

from kb.errors import DomainError
from kb.extensions import socketio

log = logging.getLogger(__name__)

NAMESPACE = "/surveys"


class ResponseEvent(TypedDict):
    survey_id: int
    wave: int
    wave_count: int
    total: int


def room(survey_id: int) -> str:
    return f"survey:{survey_id}"


def publish_count(survey_id: int, wave_id: int, wave_number: int, wave_count: int, total: int):
    """Call after the commit that stored the response."""
    payload: ResponseEvent = {
        "survey_id": survey_id,
        "wave": wave_number,
        "wave_count": wave_count,
        "total": total,
    }
    try:
        socketio.emit("response", payload, to=room(survey_id), namespace=NAMESPACE)
    except Exception:  # a broken message queue must not fail a stored response
        log.exception("could not announce a survey response")


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(_auth=None):
    return bool(current_user.is_authenticated)


@socketio.on("watch", namespace=NAMESPACE)
def on_watch(data=None):
    from kb.surveys import service

    try:
        survey_id = data.get("survey_id") if isinstance(data, dict) else None
        if not isinstance(survey_id, int) or isinstance(survey_id, bool):
            return {"ok": False, "error": _("Не указан опрос.")}
        survey = service.get_survey(survey_id)
        service.check_organizer(current_user, survey)
        join_room(room(survey.id))
        counts = service.wave_counts(survey)
        return {"ok": True, "total": sum(counts.values())}
    except DomainError as error:
        return {"ok": False, "error": error.message}
