"""A reproducible corpus of Russian wiki pages for the benchmarks.

``generate(count, seed)`` yields the same pages for the same arguments (and the same
``../shared/seeds/`` files, whose sentences are mixed in when present): Markdown bodies of
about ``BODY_CHARS`` characters built from a preschool-education vocabulary declined into
its word forms (cases and numbers), with a Zipf-like word frequency, headings, lists,
wikilinks to other pages, tags, a space and now and then an attachment.
"""

import io
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

BODY_CHARS = 2000
SEEDS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"

# Declension classes: endings for nom, gen, dat, acc, ins, prep (singular), then plural
# nom, gen, dat, ins, prep.
ENDINGS = {
    "m": ["", "а", "у", "", "ом", "е", "ы", "ов", "ам", "ами", "ах"],
    "f": ["а", "ы", "е", "у", "ой", "е", "ы", "", "ам", "ами", "ах"],  # gen. pl. as is
    "ija": ["ия", "ии", "ии", "ию", "ией", "ии", "ии", "ий", "иям", "иями", "иях"],
    "ie": ["ие", "ия", "ию", "ие", "ием", "ии", "ия", "ий", "иям", "иями", "иях"],
    "ost": ["ость", "ости", "ости", "ость", "остью", "ости", "ости", "остей", "остям"],
}
NOUNS = {
    "m": "конструктор педагог проект робот магнит датчик мотор опыт эксперимент материал "
    "кабинет семинар конкурс результат метод подход навык интерес процесс сюжет театр "
    "алгоритм механизм блок кубик воспитатель родитель праздник детсад урожай мост "
    "маршрут лабиринт пазл квест сад планшет микроскоп компас глобус",
    "f": "групп программ игр машин команд работ систем схем карт форм культур "
    "природ музык фигур методик книг выставк сказк планет ракет",
    "ija": "технолог экскурс презентац конструкц консультац коллекц лаборатор истор "
    "энерг экспозиц категор стратег",
    "ie": "занят развит мышлен воображен наблюден упражнен задан мероприят "
    "взаимодейств исследован объединен образован воспитан конструирован "
    "программирован моделирован",
    "ost": "деятельн активн самостоятельн любознательн безопасн способн",
}
ADJECTIVES = {
    "hard": (
        ["ый", "ого", "ому", "ым", "ом", "ая", "ой", "ую", "ое", "ые", "ых", "ыми"],
        "нов интересн познавательн современн проектн творческ-",
    ),
    "k": (
        ["ий", "ого", "ому", "им", "ом", "ая", "ой", "ую", "ое", "ие", "их", "ими"],
        "методическ педагогическ техническ логическ математическ практическ "
        "дидактическ экологическ художественн- физическ музыкальн- дошкольн-",
    ),
}
VERBS = (
    "развивает развивают развивали развивать формирует формируют формировать "
    "помогает помогают помогло помогать создаёт создают создали создать изучает изучают "
    "изучали изучить конструируют конструировали собирает собирают собрали собрать "
    "программируют запрограммировали наблюдают наблюдали исследуют исследовали "
    "показывает показали рассказывает рассказали проводит проводят провели провести "
    "готовит готовят подготовили использует используют использовали играют играли "
    "рисуют нарисовали строят построили обсуждают обсудили"
).split()
FUNCTION_WORDS = (
    "и в на с по для о к у из от за при что как это также уже ещё очень вместе затем "
    "после перед каждый можно нужно важно сначала потом теперь поэтому однако"
).split()
BRANDS = (
    "Bee-Bot LEGO WeDo 2.0 3D-ручка ТИКО Фрёбель Кюизенер Дьенеш Мататалаб Robotis "
    "Scratch-Junior Полидрон"
).split()
KINDS = (
    "Конспект занятия",
    "Мастер-класс",
    "Проект",
    "Консультация для родителей",
    "Сценарий праздника",
    "Картотека игр",
    "Методическая разработка",
    "Отчёт о семинаре",
    "План недели",
    "Дидактическая игра",
)
GROUPS = ("младшая группа", "средняя группа", "старшая группа", "подготовительная группа")
SPACES = (
    ("Растим инженеров", "Робототехника и конструирование"),
    ("Юные экологи", "Экологическое воспитание"),
    ("Музыкальная гостиная", "Музыка и ритмика"),
    ("Математика вокруг", "Логика и математика"),
    ("Театр и сказка", "Театрализованная деятельность"),
    ("Здоровячок", "Физическое развитие"),
    ("Говорушки", "Развитие речи"),
    ("Маленький исследователь", "Опыты и эксперименты"),
    ("Семья и сад", "Работа с родителями"),
    ("Методический совет", "Общие вопросы"),
    ("Мультстудия", "Анимация и медиа"),
    ("Шахматная школа", "Шахматы для дошкольников"),
)
TAGS = (
    "робототехника конструирование lego wedo bee-bot экология опыты музыка ритмика "
    "математика логика театр сказка фгос родители праздник речь чтение здоровье "
    "физкультура шахматы анимация стем игры проект мастер-класс конспект семинар "
    "консультация диагностика инклюзия одарённость безопасность пдд патриотизм "
    "краеведение весна осень зима лето новый-год 8-марта масленица космос вода "
    "песок магниты свет звук цвет форма счёт буквы моторика рисование лепка "
    "аппликация оригами пазлы квест"
).split()


@dataclass
class CorpusPage:
    title: str
    body: str
    space: int  # index into SPACES
    tags: list[str]
    author: int  # index of one of the corpus editors
    attachments: list[tuple[str, bytes]] = field(default_factory=list)


def _forms(stem: str, endings: list[str]) -> list[str]:
    forms = []
    for ending in endings:
        if ending.startswith("ы") and stem[-1] in "гкхжшщч":
            ending = "и" + ending[1:]
        forms.append(stem + ending)
    return forms


# Which adjective form agrees with a noun class in the nominative singular.
NOMINATIVE_ADJECTIVE = {"m": 0, "f": 5, "ija": 5, "ost": 5, "ie": 8}


def vocabulary() -> tuple[list[str], list[tuple[str, list[str]]], list[list[str]]]:
    """Verbs, nouns (class and all forms of each lemma), adjectives (all forms)."""
    nouns = [
        (cls, _forms(stem, ENDINGS[cls])) for cls, stems in NOUNS.items() for stem in stems.split()
    ]
    adjectives = []
    for endings, stems in ADJECTIVES.values():
        for stem in stems.split():
            own = endings
            if stem.endswith("-"):  # a soft-ish stem declined like the other class
                stem = stem[:-1]
                own = ADJECTIVES["k" if endings is ADJECTIVES["hard"][0] else "hard"][0]
            adjectives.append(_forms(stem, own))
    return VERBS, nouns, adjectives


def seed_sentences(directory: Path = SEEDS_DIR) -> list[str]:
    """Sentences of the shared seed texts (none when the directory is missing)."""
    if not directory.is_dir():
        return []
    text = " ".join(
        path.read_text(encoding="utf-8", errors="ignore")
        for path in sorted(directory.glob("*.txt"))
    )
    text = re.sub(r"\s+", " ", text)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text)]
    return [s for s in sentences if 40 <= len(s) <= 300 and re.search(r"[а-я]{4}", s)]


class Writer:
    def __init__(self, rng: random.Random, seeds: list[str]):
        self.rng = rng
        self.verbs, self.nouns, self.adjectives = vocabulary()
        self.seeds = seeds
        # Zipf-like: a fixed shuffled rank order, weight 1 / rank^0.9.
        rng.shuffle(self.nouns)
        rng.shuffle(self.adjectives)
        self.noun_weights = list(accumulate(1 / (i + 1) ** 0.9 for i in range(len(self.nouns))))
        self.adj_weights = list(accumulate(1 / (i + 1) ** 0.9 for i in range(len(self.adjectives))))
        # Everyday words of the seed texts, with their own frequencies.
        counts = Counter(
            word for sentence in seeds for word in re.findall(r"[а-яё]{3,}", sentence.lower())
        )
        self.fillers = sorted(counts)
        self.filler_weights = list(accumulate(counts[word] for word in self.fillers))
        self.topic = [self.nouns[0]]

    def noun(self) -> str:
        forms = self.rng.choices(self.nouns, cum_weights=self.noun_weights)[0][1]
        return forms[0] if self.rng.random() < 0.35 else self.rng.choice(forms)

    def adjective(self) -> str:
        forms = self.rng.choices(self.adjectives, cum_weights=self.adj_weights)[0]
        return self.rng.choice(forms)

    def phrase(self, cls_forms=None) -> str:
        """An adjective and a noun that agree, in the nominative."""
        cls, forms = cls_forms or self.rng.choices(self.nouns, cum_weights=self.noun_weights)[0]
        adjective = self.rng.choices(self.adjectives, cum_weights=self.adj_weights)[0]
        return f"{adjective[NOMINATIVE_ADJECTIVE[cls]]} {forms[0]}"

    def start_page(self) -> None:
        """A page is about a few things: its topic nouns recur, other nouns are rare.

        So a word's document frequency is realistic (a few per cent of pages for most
        nouns, more for the frequent ones) instead of every noun being on every page.
        """
        rng = self.rng
        self.topic = [rng.choices(self.nouns, cum_weights=self.noun_weights)[0] for _ in range(4)]

    def topic_noun(self) -> str:
        forms = self.rng.choice(self.topic)[1]
        return forms[0] if self.rng.random() < 0.35 else self.rng.choice(forms)

    def filler(self) -> str:
        if self.fillers:
            return self.rng.choices(self.fillers, cum_weights=self.filler_weights)[0]
        return self.rng.choice(FUNCTION_WORDS)

    def sentence(self) -> str:
        rng = self.rng
        if self.seeds and rng.random() < 0.04:
            return rng.choice(self.seeds)
        words = [self.phrase(rng.choice(self.topic)), rng.choice(self.verbs)]
        for _ in range(rng.randint(4, 9)):
            roll = rng.random()
            if roll < 0.40:
                words.append(self.filler())
            elif roll < 0.55:
                words.append(rng.choice(FUNCTION_WORDS))
            elif roll < 0.75:
                words.append(self.topic_noun())
            elif roll < 0.85:
                words.append(self.adjective())
            elif roll < 0.86:
                words.append(rng.choice(BRANDS))
            elif roll < 0.92:
                words.append(self.noun())
            else:
                words.append(rng.choice(self.verbs))
        words.append(self.topic_noun())
        text = " ".join(words)
        return text[0].upper() + text[1:] + rng.choice(".....!?")

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence() for _ in range(sentences))

    def title(self) -> str:
        rng = self.rng
        phrase = self.phrase(self.topic[0])
        phrase = phrase[0].upper() + phrase[1:]
        return f"{rng.choice(KINDS)} «{phrase}» ({rng.choice(GROUPS)})"


def _docx(paragraphs: list[str]) -> bytes:
    from docx import Document

    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def generate(
    count: int, seed: int = 20261121, *, use_seeds: bool = True, editors: int = 6
) -> Iterator[CorpusPage]:
    """``count`` pages, the same ones for the same ``seed``."""
    rng = random.Random(seed)
    writer = Writer(rng, seed_sentences() if use_seeds else [])
    titles: list[str] = []
    seen: set[str] = set()
    topics = []
    for number in range(count):
        writer.start_page()
        topics.append(writer.topic)
        title = writer.title()
        if title.lower() in seen:
            title = f"{title} — {number}"
        seen.add(title.lower())
        titles.append(title)
    for number, title in enumerate(titles):
        writer.topic = topics[number]
        parts = [writer.paragraph(rng.randint(3, 5))]
        parts.append("## Цель\n\n" + writer.paragraph(2))
        parts.append(
            "## Ход занятия\n\n"
            + "\n".join(f"{i}. {writer.sentence()}" for i in range(1, rng.randint(4, 7)))
        )
        parts.append("## Материалы\n\n" + "\n".join(f"- {writer.sentence()}" for _ in range(3)))
        links = rng.sample(titles, k=min(len(titles), rng.randint(0, 3)))
        body = "\n\n".join(parts)
        while len(body) < BODY_CHARS - 200:
            body += "\n\n" + writer.paragraph(2)
        if links:
            body += "\n\nСм. также: " + ", ".join(f"[[{link}]]" for link in links)
        page = CorpusPage(
            title=title,
            body=body,
            space=rng.randrange(len(SPACES)),
            tags=sorted(set(rng.sample(TAGS, k=rng.randint(1, 4)))),
            author=rng.randrange(editors),
        )
        if number % 50 == 7:
            page.attachments.append(
                (f"Материалы к занятию {number}.txt", writer.paragraph(6).encode("utf-8"))
            )
        if number % 500 == 13:
            page.attachments.append(
                (f"Конспект {number}.docx", _docx([writer.paragraph(4) for _ in range(3)]))
            )
        yield page


if __name__ == "__main__":
    import sys

    for page in generate(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
        print(f"# {page.title}  [{SPACES[page.space][0]}] {page.tags}\n\n{page.body}\n")
