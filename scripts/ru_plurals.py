"""Fill the Russian catalogue's plural forms (Russian is the source language, so only
messages with a plural need an entry: one / few / many, nplurals=3).

    python scripts/ru_plurals.py   # after `make translations`; prints what is missing
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "kb/translations/ru/LC_MESSAGES/messages.po"

# msgid -> (one, few, many): 1 / 2 / 5 of the thing.
FORMS = {
    "Найден %(num)d материал": (
        "Найден %(num)d материал",
        "Найдено %(num)d материала",
        "Найдено %(num)d материалов",
    ),
    "голос": ("голос", "голоса", "голосов"),
    "%(num)d знак": ("%(num)d знак", "%(num)d знака", "%(num)d знаков"),
}


def main() -> int:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="ru")
    missing = []
    for message in catalog:
        if not message.id or not message.pluralizable:
            continue
        forms = FORMS.get(message.id[0])
        if forms is None:
            missing.append(message.id[0])
            continue
        message.string = forms
        message.flags.discard("fuzzy")
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=0, sort_output=True, omit_header=False)
    for msgid in missing:
        print(f"no Russian plural forms for «{msgid}»: add them to {__file__}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
