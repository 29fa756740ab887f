"""Consulting centre: rules, notifications, FAQ publishing, feed, e-mail over real SMTP."""

import email
import email.policy
import xml.etree.ElementTree as ET

import pytest

from kb.consult import mail, service
from kb.consult.models import NotificationKind
from kb.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from kb.pages import service as pages
from kb.surveys import results as survey_results
from kb.surveys import service as surveys
from tests.conftest import wait_for
from tests.surveys.conftest import DEFINITION


def kinds(user) -> list[str]:
    return [n.kind for n in service.notifications(user)]


def test_question_lifecycle_and_notifications(people):
    teacher, colleague, methodist = people["teacher"], people["colleague"], people["methodist"]
    question = service.ask(teacher, title="Как начать кружок робототехники?", body="Группа 5–6 лет")
    assert question.status == "new" and question.organization_id == teacher.organization_id
    # Both methodists (the flagged one and the admin) hear about the new question.
    assert kinds(methodist) == ["question"] and kinds(people["admin"]) == ["question"]
    assert service.upvote(question, colleague) == 1
    assert service.upvote(question, colleague) == 1  # idempotent
    with pytest.raises(Conflict, match="Свой вопрос"):
        service.upvote(question, teacher)
    with pytest.raises(Forbidden):
        service.answer(question, colleague, body="Я не методист")
    with pytest.raises(InvalidInput):
        service.answer(question, methodist, body="   ")
    reply = service.answer(question, methodist, body="Начните с конструктора.")
    assert question.status == "answered"
    assert kinds(teacher) == ["answer"] and kinds(colleague) == ["answer"]  # upvoters follow
    assert service.unread_count(teacher) == 1
    assert "ответил" in service.notification_text(service.notifications(teacher)[0])
    service.mark_read(teacher, question_id=question.id)
    assert service.unread_count(teacher) == 0
    service.set_status(question, teacher, "closed")
    assert question.status == "closed"
    assert kinds(colleague) == ["status", "answer"]
    with pytest.raises(Conflict, match="закрыт"):
        service.answer(question, methodist, body="Ещё")
    with pytest.raises(Forbidden):
        service.set_status(question, colleague, "open")
    service.set_status(question, methodist, "open")
    assert question.status == "answered" and reply.question is question
    assert [q.id for q in service.list_questions(teacher, mine=True)] == [question.id]
    assert service.list_questions(teacher, status="new") == []


def test_private_questions_are_seen_by_author_and_methodists_only(people):
    question = service.ask(people["teacher"], title="Конфликт с родителями", private=True)
    assert service.get_question(question.id, people["methodist"]) is question
    assert service.get_question(question.id, people["admin"]) is question
    with pytest.raises(NotFound):
        service.get_question(question.id, people["colleague"])
    assert service.list_questions(people["colleague"]) == []
    with pytest.raises(Conflict):
        service.upvote(question, people["methodist"])
    with pytest.raises(NotAuthenticated):
        service.ask(None, title="?")


def test_only_admins_appoint_methodists(people):
    with pytest.raises(Forbidden):
        service.set_methodist(people["colleague"], True, actor=people["methodist"])
    assert not service.is_methodist(people["colleague"])
    service.set_methodist(people["methodist"], False, actor=people["admin"])
    assert not service.is_methodist(people["methodist"])
    assert service.is_methodist(people["admin"])
    assert [u.name for u in service.methodists()] == ["Организатор"]


def test_publish_answer_as_faq_page_keeps_the_link(people):
    question = service.ask(
        people["teacher"], title="Где взять схемы для ЛЕГО?", body="Для старшей группы"
    )
    reply = service.answer(question, people["methodist"], body="В библиотеке сети, раздел «Схемы».")
    with pytest.raises(Forbidden):
        service.publish_faq(reply, people["teacher"])
    result = service.publish_faq(reply, people["methodist"])
    assert result.created
    page = pages.find_page(result.slug)
    assert page.title == "Вопрос-ответ — Где взять схемы для ЛЕГО?"
    assert "В библиотеке сети" in page.body and "Для старшей группы" in page.body
    assert f"/consult/questions/{question.id}" in page.body
    assert "Педагог Анна" not in page.body  # the asker is not named
    assert {t.name for t in page.tags} == {"FAQ", "консультация"}
    assert question.faq_slug == result.slug and question.faq_answer_id == reply.id
    assert NotificationKind.FAQ.value in kinds(people["teacher"])
    again = service.publish_faq(reply, people["methodist"])  # refresh: same page
    assert again.slug == result.slug and not again.created


def test_survey_results_are_saved_into_the_wiki(people):
    author = people["methodist"]
    survey = surveys.define_survey(author, DEFINITION)
    surveys.open_wave(survey, author, title="Осень")
    single = surveys.ordered_questions(survey)[0]
    scale = surveys.ordered_questions(survey)[2]
    surveys.submit_response(survey, user=people["teacher"], idempotency_key="k" * 16,
                            answers={single.id: single.options[0].id, scale.id: 4})  # fmt: skip
    with pytest.raises(Forbidden):
        survey_results.save_results_page(survey, people["teacher"])
    result = survey_results.save_results_page(survey, author)
    page = pages.find_page(result.slug)
    assert page.title.startswith("Итоги опроса")
    assert "| Да | 100 % |" in page.body and "| Среднее | 4 |" in page.body
    assert "Педагог Анна" not in page.body
    assert survey.results_slug == result.slug
    assert survey_results.save_results_page(survey, author).slug == result.slug


def test_feed_is_personal_and_revocable(app, people, client):
    teacher = people["teacher"]
    question = service.ask(teacher, title="Вопрос для ленты")
    service.answer(question, people["methodist"], body="Ответ & <пояснение>")
    token = service.feed_token(teacher)
    url = f"/consult/feed/{teacher.id}/{token}.atom"
    got = client.get(url)
    assert got.status_code == 200 and got.mimetype == "application/atom+xml"
    feed = ET.fromstring(got.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = feed.findall("a:entry", ns)
    assert len(entries) == 1
    assert entries[0].find("a:summary", ns).text == "Ответ & <пояснение>"
    assert client.get(f"/consult/feed/{teacher.id}/{'0' * 32}.atom").status_code == 404
    service.reset_feed_token(teacher)
    assert client.get(url).status_code == 404


def test_email_goes_through_a_real_smtp_server(app, people, smtp_server):
    controller, inbox = smtp_server
    app.config.update(KB_SMTP_HOST="127.0.0.1", KB_SMTP_PORT=controller.port,
                      KB_SMTP_FROM="kb@example.org")  # fmt: skip
    teacher, methodist = people["teacher"], people["methodist"]
    service.set_email_notifications(people["admin"], False)
    # (that sending never holds up the request: test_mail_transport.py holds the server)
    question = service.ask(teacher, title="Нужна консультация по STEM")
    messages = wait_for(inbox, 1)
    assert [m.rcpt_tos for m in messages] == [["m@example.org"]]  # admin opted out
    service.answer(question, methodist, body="Посмотрите запись семинара.")
    messages = wait_for(inbox, 2)
    mail.wait_for_outgoing()
    assert messages[1].rcpt_tos == ["t@example.org"]
    parsed = email.message_from_bytes(messages[1].content, policy=email.policy.default)
    assert parsed["Subject"] == "Ответ на вопрос: Нужна консультация по STEM"
    body = parsed.get_content()
    assert "Посмотрите запись семинара." in body and f"/consult/questions/{question.id}" in body
    assert messages[1].mail_from == "kb@example.org"


def test_no_smtp_means_no_email_and_no_errors(app, people):
    assert not mail.configured()
    question = service.ask(people["teacher"], title="Без почты")
    assert question.id


def test_pages_and_api(app, client, auth, users, token_for):
    teacher, admin = token_for("editor"), token_for("admin")
    h = {"Authorization": f"Bearer {teacher}"}
    asked = client.post("/api/v1/consult/questions", json={"title": "Как оформить портфолио?"},
                        headers=h)  # fmt: skip
    assert asked.status_code == 201 and asked.json["status"] == "new"
    qid = asked.json["id"]
    bad = client.post("/api/v1/consult/questions", json={"title": ""}, headers=h)
    assert bad.status_code == 422 and "Заполните" in bad.json["error"]
    forbidden = client.post(f"/api/v1/consult/questions/{qid}/answers", json={"body": "x"},
                            headers=h)  # fmt: skip
    assert forbidden.status_code == 403
    ah = {"Authorization": f"Bearer {admin}"}
    answered = client.post(f"/api/v1/consult/questions/{qid}/answers",
                           json={"body": "Шаблон — в библиотеке."}, headers=ah)  # fmt: skip
    assert answered.status_code == 201
    notes = client.get("/api/v1/consult/notifications", headers=h).json
    assert notes["unread"] == 1 and notes["items"][0]["kind"] == "answer"
    reader = {"Authorization": f"Bearer {token_for('reader')}"}
    assert client.put(f"/api/v1/consult/questions/{qid}/upvote", headers=reader).json == {
        "upvotes": 1, "upvoted": True}  # fmt: skip
    closed = client.post(f"/api/v1/consult/questions/{qid}/status", json={"status": "closed"},
                         headers=h)  # fmt: skip
    assert closed.json["status"] == "closed"
    faq = client.post(f"/api/v1/consult/answers/{answered.json['id']}/faq", headers=ah)
    assert faq.status_code == 200 and faq.json["slug"].startswith("Вопрос-ответ")
    assert client.get("/consult").status_code == 401
    auth.login(users["editor"])
    for path in ("/consult", "/consult?tab=answers", "/consult?tab=mine", "/consult/ask",
                 f"/consult/questions/{qid}", "/consult/notifications"):  # fmt: skip
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'style="' not in page.get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "Консультативный центр" in home and "Опросы" in home
    assert client.get("/consult/methodists").status_code == 302  # admins only
