"""Survey rules: structure, every question kind, waves, responses, comparison, export."""

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from kb.database import db, utcnow
from kb.errors import BadRequest, Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from kb.surveys import results as survey_results
from kb.surveys import service as surveys
from kb.surveys.models import Answer, Response
from tests.surveys.conftest import DEFINITION, answer, key, option, questions


def count(model) -> int:
    return db.session.query(model).count()


# ------------------------------------------------------------------ structure


def test_define_survey_keeps_sections_and_order(survey):
    assert [s.title for s in survey.sections] == ["Опыт", "Самооценка"]
    ordered = surveys.ordered_questions(survey)
    assert [q.kind for q in ordered] == ["single", "multiple", "scale", "short_text", "long_text"]
    assert [q.position for q in ordered] == [0, 1, 2, 3, 4]
    scale = questions(survey)["scale"]
    assert (scale.scale_min, scale.scale_max, scale.label_min) == (1, 5, "Совсем нет")


def test_readers_cannot_create_surveys(people):
    with pytest.raises(Forbidden):
        surveys.create_survey(people["d"], title="Анкета")


@pytest.mark.parametrize(
    "question, message",
    [
        ({"kind": "single", "text": "Один", "options": ["Да"]}, "два варианта"),
        ({"kind": "multiple", "text": "Много", "options": ["А", "а"]}, "повторяется"),
        ({"kind": "scale", "text": "Шкала", "scale_max": 7}, "от 1 до 10"),
        ({"kind": "rating", "text": "?"}, "Неизвестный тип"),
        ({"kind": "short_text", "text": ""}, "Заполните"),
        ({"kind": "short_text", "text": "я" * 501}, "длиннее 500"),
    ],
)
def test_bad_question_definitions_store_nothing(people, question, message):
    data = {"title": "Анкета", "sections": [{"questions": [question]}]}
    with pytest.raises(InvalidInput, match=message):
        surveys.define_survey(people["author"], data)
    assert count(surveys.Survey) == 0


def test_question_editing_in_the_builder(people):
    survey = surveys.create_survey(people["author"], title="Анкета")
    first = surveys.add_question(survey, people["author"], kind="scale", text="Оценка",
                                 scale_max="10", label_min="мало", label_max="много")  # fmt: skip
    section = surveys.add_section(survey, people["author"], title="Второй раздел")
    second = surveys.add_question(survey, people["author"], kind="short_text", text="Имя",
                                  section=section)  # fmt: skip
    third = surveys.add_question(survey, people["author"], kind="single", text="Выбор",
                                 options="Да\nНет\n", section=survey.sections[0])  # fmt: skip
    assert [q.text for q in surveys.ordered_questions(survey)] == ["Оценка", "Выбор", "Имя"]
    surveys.move_question(third, people["author"], -1)
    assert [q.text for q in surveys.ordered_questions(survey)] == ["Выбор", "Оценка", "Имя"]
    surveys.move_question(first, people["author"], +1)  # crosses into the next section
    assert first.section is section
    assert [q.text for q in surveys.ordered_questions(survey)] == ["Выбор", "Оценка", "Имя"]
    surveys.update_question(third, people["author"], kind="multiple", text="Выбор нескольких",
                            options=["Да", "Нет", "Иногда"], required=True)  # fmt: skip
    assert [o.text for o in third.options] == ["Да", "Нет", "Иногда"]
    surveys.delete_question(second, people["author"])
    assert len(survey.questions) == 2
    with pytest.raises(Forbidden):
        surveys.add_question(survey, people["a"], kind="short_text", text="Чужой")


def test_structure_is_locked_once_answered_but_wording_can_be_fixed(survey, people):
    surveys.open_wave(survey, people["author"])
    answer(survey, people["a"])
    single = questions(survey)["single"]
    surveys.update_question(
        single, people["author"], kind="single", required=True,
        text="Ведёте ли вы кружок сейчас?", options=["Да", "Нет", "Пока нет"],
    )  # fmt: skip
    assert single.options[2].text == "Пока нет"
    with pytest.raises(Conflict, match="волны нельзя будет сравнить"):
        surveys.update_question(single, people["author"], kind="single", required=True,
                                text="?", options=["Да", "Нет"])  # fmt: skip
    with pytest.raises(Conflict):
        surveys.add_question(survey, people["author"], kind="short_text", text="Новый")
    with pytest.raises(Conflict):
        surveys.delete_question(single, people["author"])
    with pytest.raises(Conflict):
        surveys.update_survey(survey, people["author"], title="x", description="", anonymous=True)
    copy = surveys.copy_survey(survey, people["author"])
    assert len(copy.questions) == 5 and copy.waves == [] and copy.code != survey.code


# ------------------------------------------------------------------ answers


def test_every_kind_is_stored(survey, people):
    surveys.open_wave(survey, people["author"])
    result = answer(survey, people["a"], single="Планирую", multiple=["Конструктор", "Песочница"],
                    scale=5, short="Воспитатель", long="Нужны\nметодички")  # fmt: skip
    assert not result.duplicate
    stored = {(a.question_id, a.option_id, a.number, a.text) for a in result.response.answers}
    q = questions(survey)
    assert stored == {
        (q["single"].id, option(q["single"], "Планирую"), None, None),
        (q["multiple"].id, option(q["multiple"], "Конструктор"), None, None),
        (q["multiple"].id, option(q["multiple"], "Песочница"), None, None),
        (q["scale"].id, None, 5, None),
        (q["short_text"].id, None, None, "Воспитатель"),
        (q["long_text"].id, None, None, "Нужны\nметодички"),
    }
    assert result.response.user_id == people["a"].id
    assert result.response.organization_id == people["north"].id


@pytest.mark.parametrize(
    "change, message",
    [
        ({"single": None}, "обязательный"),
        ({"scale": 6}, "от 1 до 5"),
        ({"scale": 0}, "от 1 до 5"),
        ({"scale": "пять"}, "от 1 до 5"),
        ({"short": "х" * 301}, "длиннее 300"),
        ({"long": "х" * 5001}, "длиннее 5000"),
    ],
)
def test_bad_answers_are_refused_whole(survey, people, change, message):
    surveys.open_wave(survey, people["author"])
    with pytest.raises(InvalidInput, match=message) as caught:
        answer(survey, people["a"], **change)
    assert list(caught.value.extra["errors"]) == [
        str(
            next(
                iter(
                    q.id
                    for q in surveys.ordered_questions(survey)
                    if str(q.id) in caught.value.extra["errors"]
                )
            )
        )  # fmt: skip
    ]
    assert count(Response) == 0 and count(Answer) == 0


def test_every_problem_is_reported_at_once(survey, people):
    surveys.open_wave(survey, people["author"])
    with pytest.raises(InvalidInput, match="вопросов с ошибками — 2") as caught:
        answer(survey, people["a"], single=None, scale=11)
    q = questions(survey)
    assert set(caught.value.extra["errors"]) == {str(q["single"].id), str(q["scale"].id)}


def test_foreign_options_and_questions_are_refused(survey, people):
    surveys.open_wave(survey, people["author"])
    q = questions(survey)
    foreign = option(q["multiple"], "Конструктор")
    with pytest.raises(InvalidInput, match="предложенных"):
        surveys.submit_response(survey, user=people["a"], idempotency_key=key(),
                                answers={q["single"].id: foreign, q["scale"].id: 3})  # fmt: skip
    with pytest.raises(InvalidInput, match="которых нет"):
        surveys.submit_response(survey, user=people["a"], idempotency_key=key(),
                                answers={"999999": "x"})  # fmt: skip


def test_closed_and_future_waves_refuse_answers(survey, people):
    with pytest.raises(Conflict, match="не принимает"):
        answer(survey, people["a"])
    wave = surveys.open_wave(survey, people["author"])
    surveys.close_wave(wave, people["author"])
    with pytest.raises(Conflict, match="закрыт"):
        answer(survey, people["a"])
    later = utcnow() + timedelta(days=2)
    surveys.open_wave(survey, people["author"], opens_at=later)
    with pytest.raises(Conflict, match="откроется"):
        answer(survey, people["a"])
    assert answer(survey, people["a"], now=later + timedelta(minutes=1)).response.wave.number == 2
    assert count(Response) == 1


def test_one_response_per_person_per_wave(survey, people):
    surveys.open_wave(survey, people["author"])
    answer(survey, people["a"])
    with pytest.raises(Conflict, match="уже ответили"):
        answer(survey, people["a"], scale=1)
    surveys.open_wave(survey, people["author"])
    answer(survey, people["a"])  # a new wave takes a new answer
    assert count(Response) == 2


def test_same_idempotency_key_is_stored_once(survey, people):
    """The connection dropped after the server stored the answer; the phone sends again."""
    surveys.open_wave(survey, people["author"])
    attempt = key()
    first = answer(survey, people["a"], idempotency_key=attempt)
    again = answer(survey, people["a"], idempotency_key=attempt)
    assert again.duplicate and again.response.id == first.response.id
    assert count(Response) == 1
    with pytest.raises(Conflict, match="ключ"):
        answer(survey, people["b"], idempotency_key=attempt)


def test_signed_surveys_need_a_person(survey, people):
    surveys.open_wave(survey, people["author"])
    with pytest.raises(NotAuthenticated):
        answer(survey, None)
    with pytest.raises(BadRequest):
        answer(survey, people["a"], idempotency_key="short")


def test_anonymous_survey_guards_devices_without_naming_anyone(people):
    data = {**DEFINITION, "anonymous": True}
    survey = surveys.define_survey(people["author"], data)
    surveys.open_wave(survey, people["author"])
    device = surveys.new_device_id()
    with pytest.raises(NotFound):
        answer(survey, None, device_id=device, code="wrong")
    first = answer(survey, None, device_id=device, code=survey.code,
                   organization_id=people["south"].id)  # fmt: skip
    assert first.response.user_id is None
    assert first.response.organization_id == people["south"].id
    assert device not in first.response.device_hash
    with pytest.raises(Conflict, match="С этого устройства"):
        answer(survey, None, device_id=device, code=survey.code)
    with pytest.raises(Conflict, match="С этого устройства"):
        answer(survey, people["a"], device_id=device)  # signing in does not help
    answer(survey, None, device_id=surveys.new_device_id(), code=survey.code)
    with pytest.raises(BadRequest, match="cookie"):
        answer(survey, None, code=survey.code)
    next_wave = surveys.open_wave(survey, people["author"])
    second = answer(survey, None, device_id=device, code=survey.code)
    assert second.response.wave is next_wave
    assert second.response.device_hash != first.response.device_hash  # not linkable by wave


# ------------------------------------------------------------------ results


def run_two_waves(survey, people):
    """Wave 1: А, Б (Северок), В (Южанка); wave 2: А (Северок), В, Г (Южанка)."""
    surveys.open_wave(survey, people["author"], title="Осень 2026")
    answer(survey, people["a"], single="Да", multiple=["Конструктор", "Робототехника"], scale=2)
    answer(survey, people["b"], single="Нет", multiple=["Конструктор"], scale=3,
           short="Воспитатель")  # fmt: skip
    answer(survey, people["c"], single="Да", scale=4, long="Больше практики")
    surveys.open_wave(survey, people["author"], title="Весна 2027")
    answer(survey, people["a"], single="Планирую", multiple=["Робототехника", "Песочница"],
           scale=5)  # fmt: skip
    answer(survey, people["c"], single="Да", multiple=["Конструктор"], scale=4)
    answer(survey, people["d"], single="Планирую", scale=5)


def test_results_count_and_share_of_those_who_answered(survey, people):
    run_two_waves(survey, people)
    data = survey_results.results(survey, wave_numbers=[1])
    assert data["respondents"] == 3
    single, multiple, scale, short, long = data["questions"]
    assert [(o["text"], o["count"], o["percent"]) for o in single["options"]] == [
        ("Да", 2, 66.7), ("Нет", 1, 33.3), ("Планирую", 0, 0.0)
    ]  # fmt: skip
    assert multiple["answered"] == 2
    assert [o["percent"] for o in multiple["options"]] == [100.0, 50.0, 0.0]
    assert scale["scale"]["mean"] == 3.0
    assert [v["count"] for v in scale["scale"]["values"]] == [0, 1, 1, 1, 0]
    assert [t["text"] for t in short["texts"]] == ["Воспитатель"]
    assert [t["text"] for t in long["texts"]] == ["Больше практики"]
    north = survey_results.results(survey, organization_id=people["north"].id)
    assert north["respondents"] == 3  # А and Б in wave 1, А in wave 2


def test_wave_comparison_matches_hand_computed_numbers(survey, people):
    run_two_waves(survey, people)
    data = survey_results.compare(survey)
    assert [(w["label"], w["respondents"]) for w in data["waves"]] == [
        ("Осень 2026", 3), ("Весна 2027", 3)
    ]  # fmt: skip
    single, multiple, scale, short, long = data["questions"]
    # Кружок: wave 1 Да 2/3, Нет 1/3; wave 2 Да 1/3, Планирую 2/3.
    assert [(r["label"], r["values"], r["delta"]) for r in single["rows"]] == [
        ("Да", [66.7, 33.3], -33.4),
        ("Нет", [33.3, 0.0], -33.3),
        ("Планирую", [0.0, 66.7], 66.7),
    ]
    # Наборы (optional): answered by 2 in each wave.
    assert multiple["answered"] == [2, 2]
    assert [(r["values"], r["delta"]) for r in multiple["rows"]] == [
        ([100.0, 50.0], -50.0), ([50.0, 50.0], 0.0), ([0.0, 50.0], 50.0)
    ]  # fmt: skip
    # Уверенность: (2+3+4)/3 = 3.0 → (5+4+5)/3 = 4.67.
    assert scale["means"] == [3.0, 4.67] and scale["delta"] == 1.67
    assert scale["rows"][4] == {"label": "5", "values": [0.0, 66.7], "delta": 66.7}
    assert short["texts"] == [1, 0] and long["texts"] == [1, 0]
    by_org = {o["name"]: o for o in data["organizations"]}
    # Северок: (2+3)/2 = 2.5 → 5.0; Южанка: 4.0 → (4+5)/2 = 4.5.
    assert by_org["Северок"]["respondents"] == [2, 1]
    assert by_org["Северок"]["means"][scale["id"]] == {"values": [2.5, 5.0], "delta": 2.5}
    assert by_org["Южанка"]["respondents"] == [1, 2]
    assert by_org["Южанка"]["means"][scale["id"]] == {"values": [4.0, 4.5], "delta": 0.5}
    only_south = survey_results.compare(survey, organization_id=people["south"].id)
    assert only_south["questions"][2]["means"] == [4.0, 4.5]
    with pytest.raises(NotFound):
        survey_results.compare(survey, wave_numbers=[7])


def test_only_organizers_see_individual_responses(survey, people):
    run_two_waves(survey, people)
    for outsider in ("a", "c", "d"):
        with pytest.raises(Forbidden):
            survey_results.list_responses(survey, people[outsider])
    for organizer in ("author", "admin"):
        items = survey_results.list_responses(survey, people[organizer], wave_numbers=[1])
        assert [i["person"] for i in items] == ["Педагог А", "Педагог Б", "Педагог В"]
        assert items[1]["organization"] == "Северок"


def test_exports_have_one_row_per_response_and_no_formulas(survey, people):
    surveys.open_wave(survey, people["author"])
    answer(survey, people["a"], multiple=["Конструктор", "Песочница"], short="=HYPERLINK(1)")
    text = survey_results.export_csv(survey, people["author"])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:5] == ["Волна", "Отправлено (UTC)", "Участник", "Эл. почта", "Организация"]
    assert rows[1][2:5] == ["Педагог А", "a@example.org", "Северок"]
    assert "Конструктор; Песочница" in rows[1] and "'=HYPERLINK(1)" in rows[1]
    book = load_workbook(io.BytesIO(survey_results.export_xlsx(survey, people["admin"])))
    sheet = book.active
    assert sheet.max_row == 2
    cells = {c.value: c for c in sheet[2]}
    assert cells["=HYPERLINK(1)"].data_type == "s" and 3 in cells  # text, never a formula
    assert all(c.data_type != "f" for c in sheet[2])
    with pytest.raises(Forbidden):
        survey_results.export_csv(survey, people["b"])


def test_wave_rules(survey, people):
    author = people["author"]
    empty = surveys.create_survey(author, title="Пустой")
    with pytest.raises(Conflict, match="хотя бы один вопрос"):
        surveys.open_wave(empty, author)
    with pytest.raises(InvalidInput, match="позже"):
        surveys.open_wave(survey, author, closes_at=utcnow() - timedelta(hours=1))
    with pytest.raises(InvalidInput, match="не распознана"):
        surveys.open_wave(survey, author, closes_at="завтра")
    first = surveys.open_wave(survey, author, closes_at="2099-01-01T10:00:00+03:00")
    assert first.closes_at.hour == 7  # stored as naive UTC
    second = surveys.open_wave(survey, author)
    assert not first.is_open(utcnow()) and second.is_open(utcnow())
    assert surveys.current_wave(survey) is second
    with pytest.raises(Forbidden):
        surveys.close_wave(second, people["a"])


def test_qr_code_is_svg(ctx):
    svg = surveys.qr_svg("http://localhost/s/abc")
    assert svg.startswith("<svg") and "path" in svg
    assert surveys.qr_png("http://localhost/s/abc").startswith(b"\x89PNG")
