"""FAQ pages: the asker's text is shown literally; a private question is published only
through an explicit, anonymising step; numbers out of range are 4xx."""

import re
from html import unescape

import pytest

from kb.accounts import service as accounts
from kb.consult import service
from kb.errors import InvalidInput
from kb.pages import service as pages

LINK = "[официальная таблица](https://evil.example/login)"


def _shown(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_faq_page_shows_the_askers_text_literally(people):
    question = service.ask(
        people["teacher"],
        title="Где " + LINK,
        body=f'<a href="https://evil.example/">вход</a>\n# [[Главная]]\n    код\n{"](" * 1500}',
    )
    reply = service.answer(question, people["methodist"], body="Ответ: <b>не</b> " + LINK)
    result = service.publish_faq(reply, people["methodist"])
    page = pages.find_page(result.slug)
    links = re.findall(r'<a [^>]*href="([^"]*)"', page.html)
    assert len(links) == 1 and links[0].endswith(f"/consult/questions/{question.id}"), links
    assert not re.search(r"<(img|b|h1|pre)\b", page.html), page.html
    shown = _shown(page.html)
    assert LINK in shown and '<a href="https://evil.example/">вход</a>' in shown
    assert "[[Главная]]" in shown and "<b>не</b>" in shown


def test_answer_links_to_wiki_pages_on_the_question_and_the_faq_page(app, people):
    """A methodist points to a material with [[…]]: a live wiki link in both places, while
    the rest of the answer is still shown as typed."""
    from flask_login import login_user

    question = service.ask(people["teacher"], title="Где конспект про Bee-Bot?")
    body = "Смотрите [[Пчёлки Bee-Bot|конспект]] и [[Главная]].\nВторая строка: <b>x</b> **y**"
    reply = service.answer(question, people["methodist"], body=body)
    expected = ['href="/wiki/%D0%9F%D1%87%D1%91%D0%BB%D0%BA%D0%B8_Bee-Bot">конспект</a>',
                'href="/wiki/%D0%93%D0%BB%D0%B0%D0%B2%D0%BD%D0%B0%D1%8F">Главная</a>']  # fmt: skip
    with app.test_request_context(f"/consult/questions/{question.id}"):
        login_user(people["teacher"])
        shown = app.view_functions["consult.question"](question_id=question.id)
    for html in (shown, pages.find_page(service.publish_faq(reply, people["methodist"]).slug).html):
        assert all(link in html for link in expected), html
        assert "[[" not in html and "&lt;b&gt;x&lt;/b&gt; **y**" in html
        assert "конспект</a> и" in html and "<br" in html  # the line break is kept


def test_private_question_is_not_published_in_one_click(people):
    teacher, methodist = people["teacher"], people["methodist"]
    question = service.ask(teacher, title="Конфликт с родителями Ивановых в «Радуге»",
                           body="Пишу от имени МАДОУ «Радуга»", private=True)  # fmt: skip
    reply = service.answer(question, methodist, body="Пригласите их на встречу с психологом.")
    with pytest.raises(InvalidInput, match="личный"):
        service.publish_faq(reply, methodist)
    with pytest.raises(InvalidInput, match="личный"):  # edited text without the confirmation
        service.publish_faq(reply, methodist, anonymized_title="Конфликт с родителями")
    with pytest.raises(InvalidInput):  # confirmation without the edited text
        service.publish_faq(reply, methodist, anonymized_title=" ", confirm_anonymized=True)
    assert question.faq_slug is None and not any(
        service.faq_title(question) == p.title for p in pages.list_pages()
    )
    result = service.publish_faq(
        reply,
        methodist,
        anonymized_title="Как говорить с родителями при конфликте?",
        anonymized_body="Родители недовольны занятиями ребёнка.",
        confirm_anonymized=True,
    )
    page = pages.find_page(result.slug)
    assert page.title == "Вопрос-ответ — Как говорить с родителями при конфликте?"
    assert "Родители недовольны" in page.body and "психологом" in page.body
    for secret in ("Ивановых", "Радуга", "Педагог Анна", "МАДОУ"):
        assert secret not in page.body and secret not in page.title
    assert question.faq_slug == result.slug


def test_private_publishing_over_http(app, client, auth, users, token_for):
    with app.test_request_context():
        asker = accounts.get_user(users["editor"])
        admin = accounts.get_user(users["admin"])
        question = service.ask(asker, title="Личное: Иванова", private=True)
        reply = service.answer(question, admin, body="Ответ методиста")
        answer_id, question_id = reply.id, question.id
    ah = {"Authorization": f"Bearer {token_for('admin')}"}
    url = f"/api/v1/consult/answers/{answer_id}/faq"
    refused = client.post(url, headers=ah)
    assert refused.status_code == 422 and "личный" in refused.json["error"]
    done = client.post(url, headers=ah, json={"title": "Как ответить родителям?",
                                              "confirm_anonymized": True})  # fmt: skip
    assert done.status_code == 200 and "Иванова" not in done.json["slug"]
    auth.login(users["admin"])
    page = client.get(f"/consult/questions/{question_id}").get_data(as_text=True)
    assert "confirm_anonymized" in page and 'name="title"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    html = client.post(f"/consult/answers/{answer_id}/faq", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "личный" in html


def test_numbers_out_of_range_are_4xx(app, client, auth, users, token_for):
    ah = {"Authorization": f"Bearer {token_for('admin')}"}
    for ids in ([2**70], [2**31], [-1], [0], ["1"], [True]):
        got = client.post("/api/v1/consult/notifications/read", json={"ids": ids}, headers=ah)
        assert got.status_code == 422 and "ids" in got.json["error"], (ids, got.status_code)
    assert client.post("/api/v1/consult/notifications/read", json={"ids": [2**31 - 1]},
                       headers=ah).json == {"marked": 0}  # fmt: skip
    auth.login(users["admin"])
    page = client.get("/consult/methodists").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for user_id in (str(2**70), "²", "-1"):
        got = client.post("/consult/methodists", data={"csrf_token": token, "user_id": user_id,
                                                       "methodist": "1"})  # fmt: skip
        assert got.status_code == 302, (user_id, got.status_code)
