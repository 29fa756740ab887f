"""JSON API of the consulting centre under /api/v1 (described in kb/consult/openapi.py)."""

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from kb.accounts import service as accounts
from kb.api import iso, json_body, person
from kb.consult import service
from kb.consult.models import ConsultAnswer, ConsultQuestion, Notification
from kb.errors import BadRequest, InvalidInput
from kb.security import require_login
from kb.urls import external_url

bp = Blueprint("api", __name__, url_prefix="/api/v1/consult")


def answer_json(item: ConsultAnswer) -> dict:
    return {
        "id": item.id,
        "body": item.body,
        "author": person(item.author),
        "created_at": iso(item.created_at),
        "published": item.question.faq_answer_id == item.id,
    }


def question_json(item: ConsultQuestion, *, full: bool = False) -> dict:
    data = {
        "id": item.id,
        "title": item.title,
        "private": item.private,
        "status": item.status,
        "upvotes": item.upvotes,
        "answers_count": len(item.answers),
        "author": person(item.author),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "faq_slug": item.faq_slug,
        "url": external_url("consult.question", question_id=item.id),
    }
    if full:
        data["body"] = item.body
        data["answers"] = [answer_json(a) for a in item.answers]
        data["upvoted"] = service.has_upvoted(item, current_user)
    return data


def notification_json(note: Notification) -> dict:
    return {
        "id": note.id,
        "kind": note.kind,
        "text": service.notification_text(note),
        "question_id": note.question_id,
        "answer_id": note.answer_id,
        "created_at": iso(note.created_at),
        "read": note.read_at is not None,
    }


@bp.route("/questions")
@require_login
def list_questions():
    items = service.list_questions(
        current_user,
        status=request.args.get("status") or None,
        mine=request.args.get("mine") in ("1", "true"),
        query=request.args.get("q", ""),
    )
    return jsonify([question_json(q) for q in items])


@bp.route("/questions", methods=["POST"])
@require_login
def ask():
    data = json_body()
    private = data.get("private", False)
    if not isinstance(private, bool):
        raise InvalidInput(_("private должен быть true или false."))
    item = service.ask(
        current_user, title=data.get("title"), body=data.get("body", ""), private=private
    )
    return jsonify(question_json(item, full=True)), 201


@bp.route("/questions/<int:question_id>")
@require_login
def get_question(question_id: int):
    return jsonify(question_json(service.get_question(question_id, current_user), full=True))


@bp.route("/questions/<int:question_id>/answers", methods=["POST"])
@require_login
def answer(question_id: int):
    item = service.get_question(question_id, current_user)
    created = service.answer(item, current_user, body=json_body().get("body"))
    return jsonify(answer_json(created)), 201


@bp.route("/questions/<int:question_id>/upvote", methods=["PUT", "DELETE"])
@require_login
def upvote(question_id: int):
    item = service.get_question(question_id, current_user)
    count = service.upvote(item, current_user, request.method == "PUT")
    return jsonify({"upvotes": count, "upvoted": request.method == "PUT"})


@bp.route("/questions/<int:question_id>/status", methods=["POST"])
@require_login
def status(question_id: int):
    item = service.get_question(question_id, current_user)
    service.set_status(item, current_user, str(json_body().get("status", "")))
    return jsonify(question_json(item, full=True))


@bp.route("/answers/<int:answer_id>/faq", methods=["POST"])
@require_login
def publish_faq(answer_id: int):
    """A private question needs ``title`` (anonymised), ``body`` and confirm_anonymized."""
    item = service.get_answer(answer_id, current_user)
    data = request.get_json(silent=True)
    if data is None:
        data = {}  # no body: publish an open question as it is
    if not isinstance(data, dict):
        raise BadRequest(_("Тело запроса должно быть JSON-объектом."))
    confirm = data.get("confirm_anonymized", False)
    if not isinstance(confirm, bool):
        raise InvalidInput(_("confirm_anonymized должен быть true или false."))
    result = service.publish_faq(
        item,
        current_user,
        anonymized_title=data.get("title"),
        anonymized_body=data.get("body"),
        confirm_anonymized=confirm,
    )
    return jsonify(
        {
            "slug": result.slug,
            "revision": result.revision,
            "created": result.created,
            "url": external_url("pages.view_page", slug=result.slug),
        }
    )


@bp.route("/notifications")
@require_login
def notifications():
    items = service.notifications(current_user, unread_only=request.args.get("unread") == "1")
    return jsonify(
        {
            "unread": service.unread_count(current_user),
            "items": [notification_json(n) for n in items],
        }
    )


@bp.route("/notifications/read", methods=["POST"])
@require_login
def mark_read():
    data = request.get_json(silent=True) or {}
    ids = data.get("ids") if isinstance(data, dict) else None
    if ids is not None and not isinstance(ids, list):
        raise InvalidInput(_("ids должен быть списком чисел."))
    return jsonify({"marked": service.mark_read(current_user, ids=ids)})


@bp.route("/methodists")
@require_login
def list_methodists():
    return jsonify([{"id": u.id, **person(u)} for u in service.methodists()])


@bp.route("/methodists/<int:user_id>", methods=["PUT", "DELETE"])
@require_login
def set_methodist(user_id: int):
    user = accounts.get_user_by_id(user_id)
    service.set_methodist(user, request.method == "PUT", actor=current_user)
    return jsonify({"id": user.id, "methodist": service.is_methodist(user)})
