"""Relevance on a corpus written for the tests: any word form finds the right pages first."""

import pytest

from kb.pages import service as pages
from kb.search import service as search
from tests.search.conftest import add_page, catch_up, titles, user
from tests.search.corpus import PAGES


@pytest.fixture
def fresh_corpus(ctx):
    """A corpus of its own, for tests that change pages."""
    for title, body, author, space, tags in PAGES:
        add_page(title, body, author, space=space, tags=tags)
    catch_up()
    return ctx


FIRST_HITS = [
    ("робототехника", "Робототехника в детском саду"),
    ("робототехнике", "Робототехника в детском саду"),
    ("РОБОТОТЕХНИКОЙ", "Робототехника в детском саду"),
    ("Bee-Bot", "Занятие с Bee-Bot: путешествие пчёлки"),
    ("bee bot", "Занятие с Bee-Bot: путешествие пчёлки"),
    ("WeDo 2.0", "Конструируем с LEGO WeDo 2.0"),
    ("lego", "Конструируем с LEGO WeDo 2.0"),
    ("елка", "Ёлка из конструктора"),
    ("ёлки", "Ёлка из конструктора"),
    ("шестеренки", "Шестерёнки и передачи"),
    ("3D-ручка", "Памятка: безопасность при работе с 3D-ручкой"),
    ("QR-код", "Игры с QR-кодами"),
    ("магнит", "Опыты с магнитами"),
    ("датчики", "Датчики и измерения"),
    ("театры теней", "Театр теней"),
    ("семьи", "Работа с семьями воспитанников"),
    ("Наураша свет", "Наураша: опыты со светом"),
]


def test_word_in_any_form_finds_the_page_first(corpus):
    wrong = {}
    for query, expected_first in FIRST_HITS:
        found = titles(search.search(query))
        if not found or found[0] != expected_first:
            wrong[query] = found[:3]
    assert not wrong


def test_title_outranks_a_mention_in_the_body(corpus):
    found = titles(search.search("робототехника"))
    assert found[0] == "Робототехника в детском саду"
    assert "Программа кружка «Умелые руки»" in found  # only mentions it: lower
    assert found.index("Программа кружка «Умелые руки»") > 1


def test_exact_form_gets_a_boost(fresh_corpus):
    # Both pages contain a form of «программа»; the one with the very form typed wins.
    add_page("Первая страница", "Наша программа для средней группы.")
    add_page("Вторая страница", "Наших программ для средней группы пока нет.")
    catch_up()
    found = [t for t in titles(search.search("программ")) if "страница" in t]
    assert found[0] == "Вторая страница"
    found = [t for t in titles(search.search("программа")) if "страница" in t]
    assert found[0] == "Первая страница"


def test_all_words_must_match_but_falls_back_to_any(corpus):
    top_two = titles(search.search("датчик температуры"))[:2]
    assert set(top_two) == {"Наураша: температура", "Датчики и измерения"}
    assert search.search("датчик температуры").total < search.search("датчик").total
    # No page has both words: any word will do rather than nothing.
    assert search.search("магниты плотины").total == 2


def test_tags_author_and_space_are_searchable(corpus):
    assert "Итоги года" in titles(search.search("отчёт"))
    irina = search.search("Кузнецова", per_page=50)
    assert irina.total == sum(1 for p in PAGES if p[2] == "irina@example.org")


def test_snippets_mark_matches_and_escape_everything_else(corpus):
    hit = search.search("неравенства").hits[0]
    assert "<mark>неравенства</mark>" in hit.snippet
    assert "5 &lt; 7 &amp; 9 &gt; 3" in hit.snippet
    assert "<" not in hit.snippet.replace("<mark>", "").replace("</mark>", "")
    hit = search.search("робототехнике").hits[0]
    assert "<mark>Робототехника</mark>" in hit.snippet


def test_facets_count_and_filters_narrow(corpus):
    results = search.search("датчик", per_page=50)
    assert results.facets["space"] == {"Наураша": 3, "Растим_инженеров": 2, "Общее": 1}
    assert results.facets["type"] == {"page": results.total}
    assert results.facets["org"]["CYBERKID"] >= 4
    assert results.facets["tag"]["эксперименты"] == 3
    filtered = search.search("датчик", space="Наураша")
    assert filtered.total == 3 and {h.space for h in filtered.hits} == {"Наураша"}
    assert search.search("датчик", tag="конспект").total == 1
    assert search.search("датчик", org="Сказка").total == 1
    assert search.search("датчик", kind="attachment").total == 0


def test_pagination_and_sort_by_date(corpus):
    first = search.search("дети", per_page=3)
    second = search.search("дети", per_page=3, page=2)
    assert first.total == second.total > 6
    assert first.pages == -(-first.total // 3)
    assert not set(titles(first)) & set(titles(second))
    newest = search.search("дети", sort="date", per_page=50)
    dates = [hit.updated for hit in newest.hits]
    assert dates == sorted(dates, reverse=True)


def test_did_you_mean(corpus):
    assert search.search("роботехника").suggestion == "робототехника"
    assert search.search("датчек").suggestion == "датчик"
    assert search.search("конструктар ёлка").suggestion == "конструктора ёлка"
    assert search.search("робототехника").suggestion is None
    assert search.search("робототехникой").suggestion is None  # a known stem


def test_title_suggestions_while_typing(corpus):
    assert {"slug": "Наураша:_опыты_со_светом", "title": "Наураша: опыты со светом"} in (
        search.suggest_titles("наур")
    )
    assert [t["title"] for t in search.suggest_titles("ёлк")] == ["Ёлка из конструктора"]
    assert [t["title"] for t in search.suggest_titles("наураша темп")] == ["Наураша: температура"]
    assert search.suggest_titles("щщщ") == [] and search.suggest_titles("") == []


def test_syntax_errors_never_fail(corpus):
    for query in ['"незакрытая кавычка', "(датчик OR", "AND", "NOT", ")))", "title:датчик",
                  "датчик*?", "^2", '"датчик', "датчик:", "[a TO"]:  # fmt: skip
        results = search.search(query)
        assert results.total >= 0
        if "датчик" in query:
            assert results.total >= 1, query


def test_quoted_phrases_and_operators(corpus):
    assert titles(search.search('"театр теней"')) == ["Театр теней"]
    both = search.search("магнитами OR песком")
    assert set(titles(both)) == {"Опыты с магнитами", "Всё о песочнице"}
    assert "Опыты с магнитами" not in titles(search.search("дети NOT магниты", per_page=50))


def test_deleted_pages_never_appear(fresh_corpus):
    page = pages.find_page("Опыты_с_магнитами")
    pages.delete_page(page, user("boss@example.org"))
    # Even before the index catches up, the database says it is gone.
    assert search.search("магниты").total == 0
    assert search.suggest_titles("магн") == []
    catch_up()
    assert search.search("магниты").total == 0
    pages.restore_page(pages.find_page("Опыты_с_магнитами"), user("boss@example.org"))
    catch_up()
    assert titles(search.search("магниты")) == ["Опыты с магнитами"]


def test_edits_and_renames_are_followed(fresh_corpus):
    page = pages.find_page("Театр_теней")
    pages.put_page(
        page.slug,
        title=None,
        body="Ширма и фонарик: теневой театр с кукловодами.",
        author=user("anna@example.org"),
        base_revision=page.revision_number,
    )
    catch_up()
    assert titles(search.search("кукловоды")) == ["Театр теней"]
    pages.rename_page(pages.find_page("Театр_теней"), "Теневой театр", user("anna@example.org"))
    catch_up()
    hit = search.search("кукловоды").hits[0]
    assert (hit.title, hit.slug) == ("Теневой театр", "Теневой_театр")


def test_seed_documents(ctx, shared_dir):
    """The network's real Russian documents: word forms meet across them."""
    seeds = sorted((shared_dir / "seeds").glob("*.txt"))
    assert seeds
    for number, path in enumerate(seeds):
        add_page(f"Документ сети {number}", path.read_text(encoding="utf-8"))
    catch_up()
    for query in ("сотрудничество", "сотрудничества", "сетевого взаимодействия", "семинары"):
        results = search.search(query)
        assert results.total >= 1, query
        assert "<mark>" in results.hits[0].snippet
    assert (
        search.search("сетевое взаимодействие").total
        == search.search("сетевого взаимодействия").total
    )
