"""Russian needs three plural forms (1 материал, 2 материала, 5 материалов); every message
with a plural has all three in the Russian catalogue and two in the English one."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext

TRANSLATIONS = Path(__file__).resolve().parent.parent / "kb/translations"
COUNTS = (1, 2, 5, 11, 21, 22, 25, 111, 112)
# The Russian form of each count: 1 and 21 → one, 2 and 22 → few, 5, 11, 25, 111, 112 → many.
RUSSIAN_FORM = {1: 0, 2: 1, 5: 2, 11: 2, 21: 0, 22: 1, 25: 2, 111: 2, 112: 2}


def catalog(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.fixture(scope="module")
def plural_messages(tmp_path_factory):
    """Every ngettext of the code and templates, extracted afresh (as `make translations`
    does), so a plural message missing from a catalogue fails here."""
    root = TRANSLATIONS.parent.parent
    template = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "lazy_gettext", "-o", str(template), "."],
        cwd=root, check=True,
    )  # fmt: skip
    with template.open("rb") as handle:
        found = [m for m in read_po(handle) if m.id and m.pluralizable]
    assert found, "no plural message found: the checks would pass on nothing"
    return found


def test_russian_catalogue_has_three_forms_for_every_plural_message(plural_messages):
    russian = catalog("ru")
    assert russian.num_plurals == 3
    for message in plural_messages:
        translated = russian.get(message.id[0])
        assert translated is not None and not translated.fuzzy, message.id[0]
        one, few, many = translated.string
        assert one and few and many and few != many, message.id[0]


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_plural_message_renders_each_count(app, language, plural_messages):
    po = catalog(language)
    for message in plural_messages:
        translated = po.get(message.id[0])
        assert translated is not None, (language, message.id[0])
        forms = translated.string
        with app.test_request_context(), force_locale(language):
            for n in COUNTS:
                rendered = ngettext(message.id[0], message.id[1], n)
                expected = forms[RUSSIAN_FORM[n]] if language == "ru" else forms[0 if n == 1 else 1]
                assert rendered == expected.replace("%(num)d", str(n)), (message.id[0], n)
