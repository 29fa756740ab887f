"""The analyzer: Russian word forms meet, ё is е, names with hyphens and digits stay whole."""

import pickle

import pytest

from kb.search.analysis import index_terms, stem_word, stems, words
from kb.search.index import make_schema


@pytest.mark.parametrize(
    "forms",
    [
        # падежи
        ["робототехника", "робототехники", "робототехнике", "робототехнику", "робототехникой"],
        ["конструктор", "конструктора", "конструктору", "конструктором", "конструкторе"],
        ["лаборатория", "лаборатории", "лабораторию", "лабораторией"],
        # число
        ["занятие", "занятия", "занятий", "занятиям", "занятиями", "занятиях"],
        ["датчик", "датчики", "датчиков", "датчиками"],
        ["педагог", "педагоги", "педагогов", "педагогам"],
        # ё
        ["ёлка", "елка", "ёлки", "елки", "ёлкой"],
        ["счёт", "счет", "счёта", "счета"],
    ],
)
def test_word_forms_share_one_stem(forms):
    assert len({stem_word(words(form)[0]) for form in forms}) == 1, [stems(f) for f in forms]


def test_yo_is_folded_before_stop_words():
    # «все» is a stop word; «всё» must be one too, not an indexed word.
    assert stems("всё") == stems("все") == []
    assert words("Ёжик в тумане") == ["ежик", "тумане"]


def test_stop_words_of_both_languages_are_dropped():
    assert stems("и в на по the of and") == []
    assert stems("игры для детей") == [stem_word("игры"), stem_word("детей")]


def test_hyphenated_and_latin_names_stay_findable():
    indexed = index_terms("Программируем Bee-Bot, WeDo 2.0 и LEGO Education, 3D-ручка")
    for term in ("bee-bot", "bee", "bot", "wedo", "2.0", "lego", "educ", "3d-ручк", "3d", "ручк"):
        assert term in indexed, term
    # A query keeps a hyphenated name whole: precise, and present in the index.
    assert stems("Bee-Bot") == ["bee-bot"]
    assert stems("LEGO") == ["lego"]
    assert stems("WeDo 2.0") == ["wedo", "2.0"]


def test_english_words_get_english_stems():
    assert stem_word("programming") == stem_word("programs") == "program"
    assert stem_word("роботы") == "робот"


def test_compound_parts_carry_their_own_character_offsets():
    from kb.search.analysis import stemming_analyzer

    text = "с Bee-Bot"
    tokens = [
        (t.text, text[t.startchar : t.endchar])
        for t in stemming_analyzer()(text, chars=True, mode="index")
    ]
    assert ("bee-bot", "Bee-Bot") in tokens
    assert ("bee", "Bee") in tokens and ("bot", "Bot") in tokens


def test_schema_pickles_with_the_stemmer():
    # Whoosh pickles the schema into the index: the stemmer must be a module-level function.
    schema = pickle.loads(pickle.dumps(make_schema()))
    analyzer = schema["body"].analyzer
    assert [t.text for t in analyzer("Робототехникой")] == ["робототехник"]


def test_decomposed_letters_are_normalized():
    decomposed = "и\u0306грушка"  # «й» typed as и + combining breve
    assert words(decomposed) == words("игрушка".replace("и", "й", 1))
