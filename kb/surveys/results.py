"""Survey results for organizers: counts, shares, means, wave-to-wave comparison, exports,
and the summary page written into the wiki.

Shares are of the respondents who answered the question in that wave (an optional question
left empty does not lower the share); percents have one decimal, means two, and ``delta`` is
the last wave minus the first.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import gettext as _

from kb.accounts.models import Organization, User
from kb.database import db
from kb.errors import Conflict, NotFound
from kb.pages.markdown_escape import (
    escape_markdown,
    escape_markdown_inline,
    escape_markdown_lines,
)
from kb.spreadsheets import spreadsheet_csv, spreadsheet_xlsx
from kb.surveys.models import Answer, Question, QuestionKind, Response, Survey, Wave
from kb.surveys.service import check_organizer, ordered_questions

# ---------------------------------------------------------------- results


def _selected_waves(survey: Survey, wave_numbers: Iterable[int] | None) -> list[Wave]:
    if not wave_numbers:
        return list(survey.waves)
    wanted = set(wave_numbers)
    waves = [w for w in survey.waves if w.number in wanted]
    if len(waves) != len(wanted):
        raise NotFound(_("Такой волны в опросе нет."))
    return waves


def _rows(survey: Survey, waves: list[Wave], organization_id: int | None):
    """Responses and their answers for the selection, in two queries."""
    wave_ids = [w.id for w in waves]
    query = sa.select(Response).where(Response.wave_id.in_(wave_ids)).order_by(Response.id)
    if organization_id is not None:
        query = query.where(Response.organization_id == organization_id)
    responses = list(db.session.scalars(query))
    answers: dict[int, list[Answer]] = defaultdict(list)
    ids = [r.id for r in responses]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for answer in db.session.scalars(
            sa.select(Answer).where(Answer.response_id.in_(chunk)).order_by(Answer.id)
        ):
            answers[answer.response_id].append(answer)
    return responses, answers


def _percent(count: int, total: int) -> float | None:
    return round(100.0 * count / total, 1) if total else None


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _summarize(question: Question, responses: list[Response], answers: dict) -> dict:
    """One question over a set of responses: counts, shares (of those who answered), mean."""
    kind = question.kind_enum
    mine = [(r, [a for a in answers[r.id] if a.question_id == question.id]) for r in responses]
    mine = [(r, items) for r, items in mine if items]
    answered = len(mine)
    summary: dict = {
        "id": question.id,
        "text": question.text,
        "kind": question.kind,
        "required": question.required,
        "answered": answered,
    }
    if kind.has_options:
        counts = Counter(a.option_id for _r, items in mine for a in items)
        summary["options"] = [
            {
                "id": o.id,
                "text": o.text,
                "count": counts.get(o.id, 0),
                "percent": _percent(counts.get(o.id, 0), answered),
            }
            for o in question.options
        ]
    elif kind == QuestionKind.SCALE:
        values = [a.number for _r, items in mine for a in items]
        counts = Counter(values)
        summary["scale"] = {
            "min": question.scale_min,
            "max": question.scale_max,
            "label_min": question.label_min,
            "label_max": question.label_max,
            "mean": _mean(values),
            "values": [
                {
                    "value": v,
                    "count": counts.get(v, 0),
                    "percent": _percent(counts.get(v, 0), answered),
                }
                for v in question.scale_values
            ],
        }
    else:
        summary["texts"] = [
            {
                "response_id": r.id,
                "wave_id": r.wave_id,
                "organization_id": r.organization_id,
                "text": items[0].text,
            }  # fmt: skip
            for r, items in mine
        ]
    return summary


def results(
    survey: Survey, *, wave_numbers: Iterable[int] | None = None, organization_id: int | None = None
) -> dict:
    """Results for organizers: per question over the chosen waves and organization."""
    waves = _selected_waves(survey, wave_numbers)
    responses, answers = _rows(survey, waves, organization_id)
    return {
        "survey_id": survey.id,
        "waves": [w.number for w in waves],
        "organization_id": organization_id,
        "respondents": len(responses),
        "questions": [_summarize(q, responses, answers) for q in ordered_questions(survey)],
    }


def _delta(values: list) -> float | None:
    known = [v for v in values if v is not None]
    if len(values) < 2 or values[0] is None or values[-1] is None or len(known) < 2:
        return None
    return round(values[-1] - values[0], 2)


def compare(
    survey: Survey, *, wave_numbers: Iterable[int] | None = None, organization_id: int | None = None
) -> dict:
    """Wave against wave on one screen.

    Per question: for choices, the share of the wave's answerers who chose each option
    (percent, one decimal); for scales, the mean (two decimals) and the share of each value.
    ``delta`` is last wave minus first. Per organization: respondents and scale means per wave.
    """
    waves = _selected_waves(survey, wave_numbers)
    responses, answers = _rows(survey, waves, organization_id)
    by_wave: dict[int, list[Response]] = defaultdict(list)
    for response in responses:
        by_wave[response.wave_id].append(response)
    questions = []
    scale_questions = [q for q in ordered_questions(survey) if q.kind == QuestionKind.SCALE]
    for question in ordered_questions(survey):
        per_wave = [_summarize(question, by_wave[w.id], answers) for w in waves]
        item = {
            "id": question.id,
            "text": question.text,
            "kind": question.kind,
            "answered": [s["answered"] for s in per_wave],
        }
        if question.kind_enum.has_options:
            rows = []
            for index, option in enumerate(question.options):
                values = [s["options"][index]["percent"] for s in per_wave]
                rows.append({"label": option.text, "values": values, "delta": _delta(values)})
            item["rows"] = rows
        elif question.kind == QuestionKind.SCALE:
            means = [s["scale"]["mean"] for s in per_wave]
            item["means"] = means
            item["delta"] = _delta(means)
            item["scale"] = {
                "min": question.scale_min,
                "max": question.scale_max,
                "label_min": question.label_min,
                "label_max": question.label_max,
            }
            item["rows"] = [
                {
                    "label": str(value),
                    "values": [s["scale"]["values"][i]["percent"] for s in per_wave],
                    "delta": _delta([s["scale"]["values"][i]["percent"] for s in per_wave]),
                }
                for i, value in enumerate(question.scale_values)
            ]
        else:
            item["texts"] = [len(s["texts"]) for s in per_wave]
        questions.append(item)
    organizations = []
    org_ids = sorted(
        {r.organization_id for r in responses},
        key=lambda i: (i is None, _org_name(i)),
    )
    for org_id in org_ids:
        mine = [r for r in responses if r.organization_id == org_id]
        row = {
            "id": org_id,
            "name": _org_name(org_id),
            "respondents": [sum(1 for r in mine if r.wave_id == w.id) for w in waves],
            "means": {},
        }
        for question in scale_questions:
            means = []
            for wave in waves:
                values = [
                    a.number
                    for r in mine
                    if r.wave_id == wave.id
                    for a in answers[r.id]
                    if a.question_id == question.id
                ]
                means.append(_mean(values))
            row["means"][question.id] = {"values": means, "delta": _delta(means)}
        organizations.append(row)
    return {
        "survey_id": survey.id,
        "organization_id": organization_id,
        "waves": [
            {"number": w.number, "label": w.label, "respondents": len(by_wave[w.id])} for w in waves
        ],
        "questions": questions,
        "scale_questions": [{"id": q.id, "text": q.text} for q in scale_questions],
        "organizations": organizations,
    }


def _org_name(org_id: int | None) -> str:
    if org_id is None:
        return _("Организация не указана")
    organization = db.session.get(Organization, org_id)
    return organization.short_name if organization else _("Организация не указана")


def list_responses(
    survey: Survey,
    actor: User,
    *,
    wave_numbers: Iterable[int] | None = None,
    organization_id: int | None = None,
) -> list[dict]:
    """Individual responses (organizers only); signed surveys name the person."""
    check_organizer(actor, survey)
    waves = _selected_waves(survey, wave_numbers)
    wave_number = {w.id: w.number for w in waves}
    responses, answers = _rows(survey, waves, organization_id)
    questions = ordered_questions(survey)
    options = {o.id: o.text for q in questions for o in q.options}
    items = []
    for response in responses:
        values: dict[int, list] = defaultdict(list)
        for answer in answers[response.id]:
            if answer.option_id is not None:
                values[answer.question_id].append(options.get(answer.option_id, ""))
            elif answer.number is not None:
                values[answer.question_id].append(answer.number)
            else:
                values[answer.question_id].append(answer.text)
        items.append(
            {
                "id": response.id,
                "wave": wave_number[response.wave_id],
                "submitted_at": response.submitted_at,
                "person": None if survey.anonymous or response.user is None else response.user.name,
                "email": None if survey.anonymous or response.user is None else response.user.email,
                "organization": response.organization.short_name if response.organization else None,
                "answers": {q.id: values.get(q.id, []) for q in questions},
            }
        )
    return items


# ---------------------------------------------------------------- export


def export_table(survey: Survey, actor: User, **filters) -> tuple[list[str], list[list]]:
    items = list_responses(survey, actor, **filters)
    questions = ordered_questions(survey)
    header = [_("Волна"), _("Отправлено (UTC)")]
    if not survey.anonymous:
        header += [_("Участник"), _("Эл. почта")]
    header.append(_("Организация"))
    header += [f"{i}. {q.text}" for i, q in enumerate(questions, start=1)]
    rows = []
    for item in items:
        row = [item["wave"], item["submitted_at"].strftime("%Y-%m-%d %H:%M")]
        if not survey.anonymous:
            row += [item["person"] or "", item["email"] or ""]
        row.append(item["organization"] or "")
        for question in questions:
            values = item["answers"][question.id]
            if question.kind == QuestionKind.SCALE and values:
                row.append(values[0])
            else:
                row.append("; ".join(str(v) for v in values))
        rows.append(row)
    return header, rows


def export_csv(survey: Survey, actor: User, **filters) -> str:
    """CSV for Excel in a Russian locale (the dialect of ``kb.spreadsheets``)."""
    return spreadsheet_csv(*export_table(survey, actor, **filters))


def export_xlsx(survey: Survey, actor: User, **filters) -> bytes:
    return spreadsheet_xlsx(*export_table(survey, actor, **filters), sheet_title=_("Ответы"))


# ---------------------------------------------------------------- knowledge base


def results_markdown(survey: Survey) -> str:
    """A summary for the wiki: no names, only numbers and (anonymized) text answers."""
    data = compare(survey)
    waves = data["waves"]
    lines = [f"Итоги опроса «{_md(survey.title)}».", ""]
    if survey.description:
        lines += [escape_markdown(survey.description), ""]
    lines.append("| Волна | Ответов |")
    lines.append("|---|---|")
    for wave in waves:
        lines.append(f"| {_md(wave['label'])} | {wave['respondents']} |")
    lines.append("")
    header = "| | " + " | ".join(_md(w["label"]) for w in waves) + " |"
    rule = "|---|" + "---|" * len(waves)
    if len(waves) > 1:
        header += " Изменение |"
        rule += "---|"
    full = results(survey)
    texts_by_question = {q["id"]: q.get("texts", []) for q in full["questions"]}
    for number, question in enumerate(data["questions"], start=1):
        lines += [f"## {number}. {_md(question['text'])}", ""]
        if "rows" in question:
            lines += [header, rule]
            if question["kind"] == QuestionKind.SCALE:
                lines.append(_md_row("Среднее", question["means"], question["delta"], waves, ""))
            for row in question["rows"]:
                lines.append(_md_row(row["label"], row["values"], row["delta"], waves, " %"))
            lines.append("")
            lines.append(
                "Ответили: "
                + ", ".join(
                    f"{_md(w['label'])} — {n}"
                    for w, n in zip(waves, question["answered"], strict=True)
                )
            )
        else:
            texts = texts_by_question[question["id"]]
            lines.append(f"Текстовых ответов: {len(texts)}.")
            for text in texts[:20]:
                # The respondent's words, shown as typed: never a link, image or markup.
                lines += ["> " + line if line else ">" for line in _quoted(text["text"])]
                lines.append("")
            if len(texts) > 20:
                lines.append(
                    f"…и ещё {len(texts) - 20} (полностью — в выгрузке для организаторов)."
                )
        lines.append("")
    lines.append(
        f"_Страница собрана из опроса №{survey.id}; данные обновляются повторным сохранением._"
    )
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return escape_markdown_inline(text)


def _quoted(text: str) -> list[str]:
    lines = escape_markdown_lines(text)
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def _fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:g}{unit}".replace(".", ",")


def _md_row(label, values, delta, waves, unit) -> str:
    cells = [_fmt(v, unit) for v in values]
    row = f"| {_md(label)} | " + " | ".join(cells) + " |"
    if len(waves) > 1:
        sign = "+" if delta is not None and delta > 0 else ""
        row += f" {sign}{_fmt(delta, unit)} |" if delta is not None else " — |"
    return row


def results_title(survey: Survey) -> str:
    return f"Итоги опроса — {survey.title}"[:200]


def save_results_page(survey: Survey, actor: User, *, space=None):
    """Write (or refresh) the survey's summary page in the wiki; returns put_page's result."""
    from kb.pages import service as pages
    from kb.pages.slugs import slug_for_title

    check_organizer(actor, survey)
    if not survey.waves:
        raise Conflict(_("У опроса ещё нет волн — сохранять нечего."))
    title = results_title(survey)
    slug = survey.results_slug or slug_for_title(title)
    page = pages.find_page(slug)
    if page is None and survey.results_slug:
        slug = slug_for_title(title)
        page = pages.find_page(slug)
    survey.results_slug = slug
    result = pages.put_page(
        slug,
        title=None if page is not None else title,
        body=results_markdown(survey),
        author=actor,
        space=space,
        tags=["опрос", "мониторинг"],
        base_revision=page.revision_number if page is not None else None,
        comment=_("Итоги опроса обновлены"),
    )
    if survey.results_slug != result.slug:
        survey.results_slug = result.slug
        db.session.commit()
    return result
