"""JSON API of surveys under /api/v1 (described in kb/surveys/openapi.py)."""

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _

from kb.api import iso, json_body
from kb.errors import NotAuthenticated, NotFound
from kb.security import acting_user
from kb.surveys import results as survey_results
from kb.surveys import service
from kb.surveys.models import Question, Survey, Wave
from kb.surveys.views import DEVICE_COOKIE
from kb.urls import external_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _require_user():
    if acting_user() is None:
        raise NotAuthenticated(_("Нужно войти в систему."))
    return acting_user()


def question_json(question: Question) -> dict:
    item = {
        "id": question.id,
        "section_id": question.section_id,
        "position": question.position,
        "kind": question.kind,
        "text": question.text,
        "help": question.help,
        "required": question.required,
    }
    if question.kind_enum.has_options:
        item["options"] = [{"id": o.id, "text": o.text} for o in question.options]
    if question.kind == "scale":
        item.update(
            scale_min=question.scale_min,
            scale_max=question.scale_max,
            label_min=question.label_min,
            label_max=question.label_max,
        )
    if question.kind_enum.is_text:
        item["max_length"] = service.MAX_TEXT[question.kind_enum]
    return item


def wave_json(wave: Wave, counts: dict | None = None) -> dict:
    item = {
        "number": wave.number,
        "title": wave.title,
        "label": wave.label,
        "opens_at": iso(wave.opens_at),
        "closes_at": iso(wave.closes_at),
        "open": wave.is_open(service.utcnow()),
    }
    if counts is not None:
        item["responses"] = counts.get(wave.id, 0)
    return item


def survey_json(survey: Survey, *, full: bool = True) -> dict:
    organizer = service.is_organizer(acting_user(), survey)
    current = service.current_wave(survey)
    item = {
        "id": survey.id,
        "title": survey.title,
        "description": survey.description,
        "anonymous": survey.anonymous,
        "accepting": current is not None and not survey.archived,
        "current_wave": current.number if current else None,
        "archived": survey.archived,
        "url": external_url("surveys.detail", survey_id=survey.id),
    }
    if organizer:
        counts = service.wave_counts(survey)
        item["waves"] = [wave_json(w, counts) for w in survey.waves]
        item["author"] = survey.author.name if survey.author else None
        if survey.anonymous:
            item["code"] = survey.code
            item["link"] = external_url("surveys.respond_by_code", code=survey.code)
        item["results_page"] = survey.results_slug
    if full:
        item["sections"] = [
            {
                "id": section.id,
                "title": section.title,
                "description": section.description,
                "questions": [
                    question_json(q)
                    for q in service.ordered_questions(survey)
                    if q.section_id == section.id
                ],  # fmt: skip
            }
            for section in survey.sections
        ]
    return item


def _visible_survey(survey_id: int) -> Survey:
    """Organizers see any of their surveys; respondents a survey that is accepting answers
    (signed ones after sign-in, anonymous ones with the link's ``code``)."""
    survey = service.get_survey(survey_id)
    if service.is_organizer(acting_user(), survey):
        return survey
    code = request.args.get("code") or (request.get_json(silent=True) or {}).get("code")
    if survey.anonymous and acting_user() is None and code != survey.code:
        raise NotFound(_("Опрос не найден."))
    if not survey.anonymous and acting_user() is None:
        raise NotAuthenticated(_("Нужно войти в систему."))
    return survey


def _organizer_survey(survey_id: int) -> Survey:
    survey = service.get_survey(survey_id)
    service.check_organizer(_require_user(), survey)
    return survey


def _filters() -> dict:
    return service.query_filters(
        request.args.getlist("wave"), request.args.get("organization", ""), org_name="organization"
    )


# ------------------------------------------------------------------ surveys


@bp.route("/surveys")
def list_surveys():
    """Surveys the caller organizes and those open for their answers."""
    lists = service.list_surveys(_require_user())
    return jsonify(
        {
            "organized": [survey_json(s, full=False) for s in lists["organized"]],
            "open": [survey_json(s, full=False) for s in lists["open"]],
        }
    )


@bp.route("/surveys", methods=["POST"])
def create_survey():
    survey = service.define_survey(_require_user(), json_body())
    return jsonify(survey_json(survey)), 201


@bp.route("/surveys/<int:survey_id>")
def get_survey(survey_id: int):
    return jsonify(survey_json(_visible_survey(survey_id)))


@bp.route("/surveys/<int:survey_id>", methods=["PUT"])
def replace_survey(survey_id: int):
    survey = _organizer_survey(survey_id)
    return jsonify(survey_json(service.define_survey(acting_user(), json_body(), survey)))


@bp.route("/surveys/<int:survey_id>", methods=["DELETE"])
def delete_survey(survey_id: int):
    service.delete_survey(_organizer_survey(survey_id), acting_user())
    return "", 204


# ------------------------------------------------------------------ waves


@bp.route("/surveys/<int:survey_id>/waves")
def list_waves(survey_id: int):
    survey = _organizer_survey(survey_id)
    counts = service.wave_counts(survey)
    return jsonify([wave_json(w, counts) for w in survey.waves])


@bp.route("/surveys/<int:survey_id>/waves", methods=["POST"])
def open_wave(survey_id: int):
    survey = _organizer_survey(survey_id)
    data = json_body()
    wave = service.open_wave(
        survey,
        acting_user(),
        title=data.get("title", ""),
        opens_at=data.get("opens_at"),
        closes_at=data.get("closes_at"),
    )
    return jsonify(wave_json(wave, {})), 201


@bp.route("/surveys/<int:survey_id>/waves/<int:number>/close", methods=["POST"])
def close_wave(survey_id: int, number: int):
    survey = _organizer_survey(survey_id)
    wave = service.close_wave(service.get_wave(survey, number), acting_user())
    return jsonify(wave_json(wave, service.wave_counts(survey)))


# ------------------------------------------------------------------ responding


@bp.route("/surveys/<int:survey_id>/responses", methods=["POST"])
def submit(survey_id: int):
    """Submit a response; resubmitting with the same idempotency_key returns the stored one."""
    data = json_body()
    survey = _visible_survey(survey_id)
    device_id = data.get("device_id") or request.cookies.get(DEVICE_COOKIE)
    result = service.submit_response(
        survey,
        user=acting_user(),
        answers=data.get("answers"),
        idempotency_key=data.get("idempotency_key"),
        device_id=device_id,
        organization_id=data.get("organization_id"),
        code=data.get("code"),
        address=request.remote_addr,
    )
    body = {
        "id": result.response.id,
        "wave": result.response.wave.number,
        "submitted_at": iso(result.response.submitted_at),
        "duplicate": result.duplicate,
        "thanks_url": url_for("surveys.thanks", survey_id=survey.id),
    }
    return jsonify(body), 200 if result.duplicate else 201


# ------------------------------------------------------------------ results


@bp.route("/surveys/<int:survey_id>/results")
def results(survey_id: int):
    survey = _organizer_survey(survey_id)
    return jsonify(survey_results.results(survey, **_filters()))


@bp.route("/surveys/<int:survey_id>/compare")
def compare(survey_id: int):
    survey = _organizer_survey(survey_id)
    data = survey_results.compare(survey, **_filters())
    for row in data["organizations"]:
        row["means"] = {str(k): v for k, v in row["means"].items()}
    return jsonify(data)


@bp.route("/surveys/<int:survey_id>/responses")
def list_responses(survey_id: int):
    survey = _organizer_survey(survey_id)
    items = survey_results.list_responses(survey, acting_user(), **_filters())
    for item in items:
        item["submitted_at"] = iso(item["submitted_at"])
        item["answers"] = {str(k): v for k, v in item["answers"].items()}
    return jsonify(items)


@bp.route("/surveys/<int:survey_id>/wiki", methods=["POST"])
def save_to_wiki(survey_id: int):
    survey = _organizer_survey(survey_id)
    result = survey_results.save_results_page(survey, acting_user())
    return jsonify(
        {
            "slug": result.slug,
            "revision": result.revision,
            "created": result.created,
            "url": external_url("pages.view_page", slug=result.slug),
        }
    )
