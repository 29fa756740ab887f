"""HTML pages of surveys: list, builder, respondent form, results, comparison, exports."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Response as HttpResponse,
)
from flask import (
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

from kb.database import utcnow
from kb.errors import DomainError, InvalidInput
from kb.security import acting_user, require_login
from kb.surveys import bp, service
from kb.surveys import results as survey_results
from kb.surveys.models import QuestionKind, Survey
from kb.urls import external_url

DEVICE_COOKIE = "kb_survey_device"
THANKS_KEY = "kb_survey_answered"
DEVICE_COOKIE_AGE = 2 * 365 * 24 * 3600


# ------------------------------------------------------------------ helpers


def local_to_utc(value: str | None) -> datetime | None:
    """A ``datetime-local`` field (in the network's time zone) as naive UTC."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("Дата «%(value)s» не распознана.", value=value[:40])) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    return service.to_utc(moment)


def utc_to_local_input(moment: datetime | None) -> str:
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _organizer_survey(survey_id: int) -> Survey:
    survey = service.get_survey(survey_id)
    service.check_organizer(acting_user(), survey)
    return survey


def _filters() -> dict:
    """``wave`` (repeatable or comma-separated numbers) and ``org`` from the query string
    (the API's ``_filters`` with its checks; a malformed one gives a clear 400)."""
    return service.query_filters(request.args.getlist("wave"), request.args.get("org", ""))


def public_link(survey: Survey) -> str:
    return external_url("surveys.respond_by_code", code=survey.code)


def _form_answers(survey: Survey) -> dict:
    answers: dict = {}
    for question in survey.questions:
        name = f"q{question.id}"
        if question.kind == QuestionKind.MULTIPLE:
            answers[str(question.id)] = request.form.getlist(name)
        else:
            answers[str(question.id)] = request.form.get(name, "")
    return answers


def _device_id() -> str | None:
    value = request.cookies.get(DEVICE_COOKIE)
    return value if value and service.DEVICE_RE.match(value) else None


def _with_device_cookie(response, device_id: str):
    response.set_cookie(
        DEVICE_COOKIE,
        device_id,
        max_age=DEVICE_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


@bp.app_template_filter("survey_local_input")
def _local_input_filter(moment):
    return utc_to_local_input(moment)


@bp.context_processor
def survey_helpers():
    return {
        "kind_labels": service.kind_labels(),
        "is_organizer": lambda s: service.is_organizer(acting_user(), s),
    }


# ------------------------------------------------------------------ list and creation


@bp.route("/surveys")
@require_login
def index():
    """Surveys the person runs, and those open for their answers."""
    lists = service.list_surveys(acting_user())
    answered = {s.id: service.answered_waves(acting_user(), s) for s in lists["open"]}
    return render_template(
        "surveys/index.html",
        organized=lists["organized"],
        open_surveys=lists["open"],
        answered=answered,
        current_wave=service.current_wave,
        counts={s.id: sum(service.wave_counts(s).values()) for s in lists["organized"]},
        can_create=service.can_create(acting_user()),
    )


@bp.route("/surveys/new", methods=["GET", "POST"])
@require_login
def new():
    """Create a survey (title first; questions are added in the builder)."""
    service.check_creator(acting_user())
    form = {"title": "", "description": "", "anonymous": False}
    if request.method == "POST":
        form = {
            "title": request.form.get("title", ""),
            "description": request.form.get("description", ""),
            "anonymous": request.form.get("anonymous") == "1",
        }
        try:
            survey = service.create_survey(acting_user(), **form)
        except InvalidInput as error:
            flash(error.message, "error")
        else:
            flash(_("Опрос создан. Добавьте вопросы."), "success")
            return redirect(url_for("surveys.edit", survey_id=survey.id))
    return render_template("surveys/new.html", form=form)


# ------------------------------------------------------------------ organizer overview


@bp.route("/surveys/<int:survey_id>")
def detail(survey_id: int):
    """Organizers: waves, link and QR, actions. Everyone else goes to the form."""
    survey = service.get_survey(survey_id)
    if not service.is_organizer(acting_user(), survey):
        if survey.anonymous:
            if acting_user() is None:
                abort(404)
            return redirect(url_for("surveys.respond_by_code", code=survey.code))
        return redirect(url_for("surveys.respond", survey_id=survey.id))
    counts = service.wave_counts(survey)
    return render_template(
        "surveys/detail.html",
        survey=survey,
        counts=counts,
        total=sum(counts.values()),
        current=service.current_wave(survey),
        upcoming=service.next_wave(survey),
        link=public_link(survey) if survey.anonymous else None,
        locked=bool(counts),
        now=utcnow(),
    )


@bp.route("/surveys/<int:survey_id>/qr.svg")
def qr_svg(survey_id: int):
    """The QR code of the anonymous survey's link (for slides and print)."""
    survey = _organizer_survey(survey_id)
    if not survey.anonymous:
        abort(404)
    return HttpResponse(service.qr_svg(public_link(survey)), mimetype="image/svg+xml")


@bp.route("/surveys/<int:survey_id>/qr.png")
def qr_png(survey_id: int):
    survey = _organizer_survey(survey_id)
    if not survey.anonymous:
        abort(404)
    response = HttpResponse(service.qr_png(public_link(survey)), mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="survey-{survey.id}-qr.png"'
    return response


# ------------------------------------------------------------------ builder


@bp.route("/surveys/<int:survey_id>/edit")
def edit(survey_id: int):
    """The survey builder: settings, sections, questions."""
    survey = _organizer_survey(survey_id)
    labels = service.kind_labels()
    return render_template(
        "surveys/edit.html",
        survey=survey,
        locked=service.has_responses(survey),
        kinds=list(QuestionKind),
        builder_kinds=[{"value": k.value, "label": labels[k.value]} for k in QuestionKind],
        questions=service.ordered_questions(survey),
    )


def _back_to_builder(survey: Survey, anchor: str = ""):
    return redirect(url_for("surveys.edit", survey_id=survey.id) + anchor)


def _builder_action(survey: Survey, action, anchor: str = ""):
    try:
        action()
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("Сохранено."), "success")
    return _back_to_builder(survey, anchor)


@bp.route("/surveys/<int:survey_id>/settings", methods=["POST"])
def save_settings(survey_id: int):
    survey = _organizer_survey(survey_id)
    return _builder_action(
        survey,
        lambda: service.update_survey(
            survey,
            acting_user(),
            title=request.form.get("title", ""),
            description=request.form.get("description", ""),
            anonymous=request.form.get("anonymous") == "1",
        ),
    )


@bp.route("/surveys/<int:survey_id>/sections", methods=["POST"])
def add_section(survey_id: int):
    survey = _organizer_survey(survey_id)
    return _builder_action(
        survey,
        lambda: service.add_section(
            survey,
            acting_user(),
            title=request.form.get("title", ""),
            description=request.form.get("description", ""),
        ),
    )


@bp.route("/surveys/<int:survey_id>/sections/<int:section_id>", methods=["POST"])
def change_section(survey_id: int, section_id: int):
    survey = _organizer_survey(survey_id)
    section = service.get_section(survey, section_id)
    if request.form.get("action") == "delete":
        return _builder_action(survey, lambda: service.delete_section(section, acting_user()))
    return _builder_action(
        survey,
        lambda: service.update_section(
            section,
            acting_user(),
            title=request.form.get("title", ""),
            description=request.form.get("description", ""),
        ),
        f"#section-{section.id}",
    )


def _question_form() -> dict:
    return {
        "kind": request.form.get("kind", ""),
        "text": request.form.get("text", ""),
        "help": request.form.get("help", ""),
        "required": request.form.get("required") == "1",
        "options": request.form.get("options", ""),
        "scale_max": request.form.get("scale_max", "5"),
        "label_min": request.form.get("label_min", ""),
        "label_max": request.form.get("label_max", ""),
    }


@bp.route("/surveys/<int:survey_id>/questions", methods=["POST"])
def add_question(survey_id: int):
    survey = _organizer_survey(survey_id)
    section_id = request.form.get("section_id", "")
    number = service.id_number(section_id)
    section = service.get_section(survey, number) if number is not None else None
    fields = _question_form()
    kind = fields.pop("kind")
    if not fields["text"]:
        fields["text"] = _("Новый вопрос")
    if kind in ("single", "multiple") and not fields["options"].strip():
        fields["options"] = _("Вариант 1") + "\n" + _("Вариант 2")
    result = {}

    def action():
        result["question"] = service.add_question(
            survey, acting_user(), kind=kind, section=section, **fields
        )

    try:
        action()
    except DomainError as error:
        flash(error.message, "error")
        return _back_to_builder(survey)
    flash(_("Вопрос добавлен — впишите формулировку."), "success")
    return _back_to_builder(survey, f"#question-{result['question'].id}")


@bp.route("/surveys/<int:survey_id>/questions/<int:question_id>", methods=["POST"])
def change_question(survey_id: int, question_id: int):
    survey = _organizer_survey(survey_id)
    question = service.get_question(survey, question_id)
    action = request.form.get("action", "save")
    anchor = f"#question-{question.id}"
    if action == "delete":
        return _builder_action(survey, lambda: service.delete_question(question, acting_user()))
    if action in ("up", "down"):
        direction = -1 if action == "up" else 1
        return _builder_action(
            survey, lambda: service.move_question(question, acting_user(), direction), anchor
        )
    fields = _question_form()
    fields["kind"] = fields["kind"] or question.kind
    return _builder_action(
        survey, lambda: service.update_question(question, acting_user(), **fields), anchor
    )


@bp.route("/surveys/<int:survey_id>/copy", methods=["POST"])
def copy(survey_id: int):
    survey = _organizer_survey(survey_id)
    new_survey = service.copy_survey(survey, acting_user())
    flash(_("Копия создана: в ней можно менять вопросы."), "success")
    return redirect(url_for("surveys.edit", survey_id=new_survey.id))


@bp.route("/surveys/<int:survey_id>/archive", methods=["POST"])
def archive(survey_id: int):
    survey = _organizer_survey(survey_id)
    archived = request.form.get("archived") == "1"
    service.set_archived(survey, acting_user(), archived)
    flash(_("Опрос перенесён в архив.") if archived else _("Опрос возвращён из архива."), "success")
    return redirect(url_for("surveys.detail", survey_id=survey.id))


@bp.route("/surveys/<int:survey_id>/delete", methods=["POST"])
def delete(survey_id: int):
    survey = _organizer_survey(survey_id)
    service.delete_survey(survey, acting_user())
    flash(_("Опрос удалён вместе с ответами."), "success")
    return redirect(url_for("surveys.index"))


# ------------------------------------------------------------------ waves


@bp.route("/surveys/<int:survey_id>/waves", methods=["POST"])
def open_wave(survey_id: int):
    """Open the next wave with the same questions."""
    survey = _organizer_survey(survey_id)
    try:
        wave = service.open_wave(
            survey,
            acting_user(),
            title=request.form.get("title", ""),
            opens_at=local_to_utc(request.form.get("opens_at")),
            closes_at=local_to_utc(request.form.get("closes_at")),
        )
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("Волна %(n)s открыта.", n=wave.number), "success")
    return redirect(url_for("surveys.detail", survey_id=survey.id))


@bp.route("/surveys/<int:survey_id>/waves/<int:number>", methods=["POST"])
def change_wave(survey_id: int, number: int):
    survey = _organizer_survey(survey_id)
    wave = service.get_wave(survey, number)
    try:
        if request.form.get("action") == "close":
            service.close_wave(wave, acting_user())
            flash(_("Приём ответов в волне %(n)s закрыт.", n=number), "success")
        else:
            service.update_wave(
                wave,
                acting_user(),
                title=request.form.get("title", ""),
                opens_at=local_to_utc(request.form.get("opens_at")),
                closes_at=local_to_utc(request.form.get("closes_at")),
            )
            flash(_("Волна %(n)s сохранена.", n=number), "success")
    except DomainError as error:
        flash(error.message, "error")
    return redirect(url_for("surveys.detail", survey_id=survey.id))


# ------------------------------------------------------------------ answering


def _render_form(survey: Survey, *, preview: bool, errors=None, values=None, message=None,
                 code=None, status=200):  # fmt: skip
    wave = service.current_wave(survey)
    return (
        render_template(
            "surveys/respond.html",
            survey=survey,
            wave=wave,
            preview=preview,
            questions=service.ordered_questions(survey),
            errors=errors or {},
            values=values or {},
            message=message,
            code=code,
            idempotency_key=request.form.get("idempotency_key") or uuid.uuid4().hex,
            organizations=service.list_organizations() if survey.anonymous else [],
            closed_message=None if wave else service.closed_message(survey, utcnow()),
            already=bool(wave and wave.id in service.answered_waves(acting_user(), survey))
            or (not preview and service.answered_from_device(survey, wave, _device_id())),
        ),
        status,
    )


def _submit_form(survey: Survey, code: str | None):
    values = _form_answers(survey)
    try:
        service.submit_response(
            survey,
            user=acting_user(),
            answers=values,
            idempotency_key=request.form.get("idempotency_key", ""),
            device_id=_device_id(),
            organization_id=request.form.get("organization_id") or None,
            code=code,
            address=request.remote_addr,
        )
    except DomainError as error:
        return _render_form(
            survey,
            preview=False,
            errors={int(k): v for k, v in error.extra.get("errors", {}).items()},
            values=values,
            message=error.message,
            code=code,
            status=error.status,
        )
    session[THANKS_KEY] = survey.id
    return redirect(url_for("surveys.thanks", survey_id=survey.id))


@bp.route("/surveys/<int:survey_id>/respond", methods=["GET", "POST"])
def respond(survey_id: int):
    """The form of a signed survey (sign-in needed)."""
    survey = service.get_survey(survey_id)
    if survey.anonymous:
        if acting_user() is None:
            abort(404)
        return redirect(url_for("surveys.respond_by_code", code=survey.code))
    if acting_user() is None:
        return redirect(url_for("accounts.login", next=request.path))
    if request.method == "POST":
        return _submit_form(survey, None)
    return _render_form(survey, preview=False)


@bp.route("/s/<code>", methods=["GET", "POST"])
def respond_by_code(code: str):
    """The form of an anonymous survey, reached by its link or QR code."""
    survey = service.get_survey_by_code(code)
    device = _device_id()
    if request.method == "POST":
        response = _submit_form(survey, code)
    else:
        response = _render_form(survey, preview=False, code=code)
    response = current_app.make_response(response)
    if device is None:
        _with_device_cookie(response, service.new_device_id())
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is the key
    return response


@bp.route("/surveys/<int:survey_id>/preview", methods=["GET", "POST"])
def preview(survey_id: int):
    """The form as respondents see it; checking answers stores nothing."""
    survey = _organizer_survey(survey_id)
    if request.method == "POST":
        values = _form_answers(survey)
        try:
            service.check_answers(survey, values)
        except DomainError as error:
            errors = {int(k): v for k, v in error.extra.get("errors", {}).items()}
            return _render_form(
                survey, preview=True, errors=errors, values=values, message=error.message
            )
        flash(_("Ответы заполнены верно. В предпросмотре они не сохраняются."), "success")
        return _render_form(survey, preview=True, values=values)
    return _render_form(survey, preview=True)


@bp.route("/surveys/<int:survey_id>/thanks")
def thanks(survey_id: int):
    """The thank-you page; it names the survey only to whoever has just answered it."""
    survey = service.get_survey(survey_id) if session.get(THANKS_KEY) == survey_id else None
    return render_template("surveys/thanks.html", survey=survey)


# ------------------------------------------------------------------ results


def _results_context(survey: Survey) -> dict:
    filters = _filters()
    data = survey_results.results(survey, **filters)
    return {
        "survey": survey,
        "data": data,
        "filters": filters,
        "organizations": service.list_organizations(),
        "counts": service.wave_counts(survey),
        "org_names": {o.id: o.short_name for o in service.list_organizations()},
        "wave_labels": {w.id: w.label for w in survey.waves},
    }


@bp.route("/surveys/<int:survey_id>/results")
def results(survey_id: int):
    """Live results with filters by wave and organization."""
    survey = _organizer_survey(survey_id)
    return render_template("surveys/results.html", **_results_context(survey))


@bp.route("/surveys/<int:survey_id>/results/live")
def results_fragment(survey_id: int):
    """The results block alone, refetched by the page when a response arrives."""
    survey = _organizer_survey(survey_id)
    return render_template("surveys/_results_block.html", **_results_context(survey))


@bp.route("/surveys/<int:survey_id>/compare")
def compare(survey_id: int):
    """Waves side by side: per question and per organization."""
    survey = _organizer_survey(survey_id)
    filters = _filters()
    return render_template(
        "surveys/compare.html",
        survey=survey,
        data=survey_results.compare(survey, **filters),
        filters=filters,
        organizations=service.list_organizations(),
    )


@bp.route("/surveys/<int:survey_id>/responses")
def responses(survey_id: int):
    """Individual responses; for signed surveys with names (organizers only)."""
    survey = _organizer_survey(survey_id)
    filters = _filters()
    return render_template(
        "surveys/responses.html",
        survey=survey,
        items=survey_results.list_responses(survey, acting_user(), **filters),
        questions=service.ordered_questions(survey),
        filters=filters,
        organizations=service.list_organizations(),
    )


def _export_name(survey: Survey, extension: str) -> str:
    return f"survey-{survey.id}-{utcnow():%Y%m%d}.{extension}"


@bp.route("/surveys/<int:survey_id>/export.csv")
def export_csv(survey_id: int):
    survey = _organizer_survey(survey_id)
    body = survey_results.export_csv(survey, acting_user(), **_filters())
    response = HttpResponse(body.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_export_name(survey, "csv")}"'
    )
    return response


@bp.route("/surveys/<int:survey_id>/export.xlsx")
def export_xlsx(survey_id: int):
    survey = _organizer_survey(survey_id)
    body = survey_results.export_xlsx(survey, acting_user(), **_filters())
    response = HttpResponse(
        body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_export_name(survey, "xlsx")}"'
    )
    return response


@bp.route("/surveys/<int:survey_id>/wiki", methods=["POST"])
def save_to_wiki(survey_id: int):
    """«Сохранить в базу знаний»: the results summary becomes a wiki page."""
    survey = _organizer_survey(survey_id)
    try:
        result = survey_results.save_results_page(survey, acting_user())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("surveys.detail", survey_id=survey.id))
    flash(_("Итоги сохранены в базу знаний."), "success")
    return redirect(url_for("pages.view_page", slug=result.slug))
