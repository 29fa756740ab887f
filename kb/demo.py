"""Demo network: organizations, people, clubs, page templates and a few pages.

Facts (names of clubs, partners and programmes) follow the network's own description;
every sentence here is written by the project. Loading is idempotent: the admin account
is the marker, and a second run changes nothing.
"""

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from kb.accounts import service as accounts
from kb.accounts.models import Organization, User
from kb.database import db, utcnow
from kb.pages import service as pages
from kb.pages.models import PageTemplate, Space

ADMIN_EMAIL = "admin@example.org"
PASSWORD_FILE = "demo_admin_password"

ORGANIZATIONS = [
    ("МАДОУ «Сказка»", "Сказка", "kindergarten"),
    ("МАДОУ «Колокольчик»", "Колокольчик", "kindergarten"),
    ("МАДОУ «Буратино»", "Буратино", "kindergarten"),
    ("МАОУ «СОШ №8»", "СОШ №8", "school"),
    ("МАУ ДО «Дом детского творчества»", "ДДТ", "additional"),
    ("Центр инновационного развития детей «CYBERKID»", "CYBERKID", "center"),
]

PEOPLE = [
    ("anna.petrova@example.org", "Анна Петрова", "editor", "Сказка"),
    ("olga.smirnova@example.org", "Ольга Смирнова", "editor", "Колокольчик"),
    ("irina.kuznetsova@example.org", "Ирина Кузнецова", "editor", "CYBERKID"),
    ("parent@example.org", "Мария Иванова", "reader", None),
]

SPACES = [
    ("Общее", "Общие материалы", "Материалы для всей сети: положения, планы, объявления.", True),
    (
        "Растим_инженеров",
        "Растим инженеров",
        "Клуб педагогов, которые ведут техническое творчество с дошкольниками.",
        False,
    ),
    (
        "Цифровая_лаборатория",
        "Цифровая лаборатория",
        "Опыт работы с цифровыми лабораториями и датчиками в детском саду.",
        False,
    ),
    ("Кюарик", "Кюарик", "Игры и задания с QR-кодами для детей и родителей.", False),
    (
        "Наураша",
        "Наураша в стране Наурандии",
        "Занятия с цифровой лабораторией «Наураша»: сценарии, наблюдения, находки.",
        False,
    ),
]

TEMPLATES = [
    (
        "Конспект занятия",
        "План занятия с целями, оборудованием и ходом работы.",
        """\
## Возрастная группа

Средняя группа (4–5 лет)

## Цель

Чему научатся дети на этом занятии.

## Задачи

1. Обучающая: …
2. Развивающая: …
3. Воспитательная: …

## Оборудование и материалы

- …

## Ход занятия

### Организационный момент

### Основная часть

### Рефлексия

## Результаты и наблюдения педагога
""",
    ),
    (
        "Мастер-класс",
        "Описание мастер-класса для коллег.",
        """\
## Тема мастер-класса

## Для кого

## Что понадобится

## Шаги

1. …
2. …
3. …

## Что получилось у участников

## Материалы для скачивания
""",
    ),
    (
        "Методическая разработка",
        "Программа, проект или цикл занятий.",
        """\
## Аннотация

## Актуальность

## Цели и задачи

## Содержание

| Неделя | Тема | Форма работы |
|---|---|---|
| 1 |  |  |

## Ожидаемые результаты

## Список литературы
""",
    ),
    (
        "Отчёт о мероприятии",
        "Что прошло, кто участвовал, что получилось.",
        """\
## Мероприятие

Дата, место или ссылка на трансляцию.

## Участники

## Как прошло

## Итоги и отзывы

## Фотографии и материалы
""",
    ),
]

PAGES = [
    (
        "Растим инженеров",
        "Растим_инженеров",
        ["робототехника", "клуб"],
        "anna.petrova@example.org",
        """\
Клуб **«Растим инженеров»** объединяет педагогов детских садов, школы и центров
дополнительного образования, которые занимаются с дошкольниками конструированием и
робототехникой.

## Чем мы занимаемся

- делимся конспектами занятий с Bee-Bot, LEGO WeDo 2.0 и конструкторами;
- проводим онлайн-семинары и мастер-классы для коллег;
- готовим детей к городскому фестивалю технического творчества.

## Программы, которые реализуются в сети

| Программа | Возраст | Где посмотреть |
|---|---|---|
| «Пчёлки Bee-Bot» | 4–5 лет | [[Пчёлки Bee-Bot: первое занятие]] |
| «РоботоWeDы» | 6–7 лет | [[Собираем вентилятор из WeDo 2.0]] |
| «Занимательная робототехника» | 5–7 лет | скоро |
| «Мульти-пульти» | 5–7 лет | скоро |

Хотите присоединиться? Напишите организатору сети или приходите на ближайший семинар.
""",
    ),
    (
        "Пчёлки Bee-Bot: первое занятие",
        "Растим_инженеров",
        ["Bee-Bot", "средняя группа", "конспект"],
        "olga.smirnova@example.org",
        """\
## Возрастная группа

Средняя группа (4–5 лет), 6–8 детей.

## Цель

Познакомить детей с мини-роботом Bee-Bot и научить задавать ему маршрут из двух-трёх шагов.

## Оборудование

- два робота Bee-Bot;
- коврик-поле с картинками овощей;
- карточки со стрелками.

## Ход занятия

1. Пчёлка «прилетает» в группу и просит помочь ей добраться до огорода.
2. Дети рассматривают кнопки на спине робота и вместе угадывают, что делает каждая.
3. По очереди программируют пчёлку: «вперёд, вперёд, поворот».
4. Проверяем, куда приехала пчёлка, и исправляем маршрут, если ошиблись.

## Наблюдения

Дети быстро запомнили стрелки, но путали повороты направо и налево. На следующем занятии
добавим игру «Зеркало», чтобы потренировать стороны.

Смотрите также: [[Растим инженеров]].
""",
    ),
    (
        "Собираем вентилятор из WeDo 2.0",
        "Растим_инженеров",
        ["LEGO", "WeDo 2.0", "мастер-класс"],
        "irina.kuznetsova@example.org",
        """\
Мастер-класс для педагогов подготовительных групп: собираем модель вентилятора из набора
LEGO Education WeDo 2.0 и пишем для неё простую программу.

## Что понадобится

- набор WeDo 2.0 на пару участников;
- планшет или ноутбук с приложением WeDo 2.0;
- таймер.

## Шаги

1. Собрать основание и закрепить мотор.
2. Подключить смартхаб и проверить мотор из приложения.
3. Составить программу: мотор включается на пять секунд, затем меняет направление.
4. Обсудить с детьми, где в жизни встречаются вентиляторы и зачем они нужны.

## Что получилось у участников

Все пары собрали модель за 25 минут. Больше всего вопросов вызвало подключение смартхаба
по Bluetooth, поэтому перед занятием с детьми стоит проверить заряд батарей.
""",
    ),
    (
        "Как пользоваться методкабинетом",
        "Общее",
        ["инструкция"],
        ADMIN_EMAIL,
        """\
Здесь собирается опыт всей сети: конспекты, мастер-классы, проекты и отзывы с семинаров.

## Как найти материал

Введите слово в строку поиска вверху страницы: поиск понимает разные формы слов, например
«робототехника» найдёт и «по робототехнике».

## Как добавить материал

1. Войдите под своей учётной записью.
2. Нажмите «Создать страницу» и выберите шаблон, например «Конспект занятия».
3. Прикрепите презентацию или документ и сохраните страницу.

Если двое правят одну страницу одновременно, изменения объединяются автоматически, а при
пересечении правок система покажет обе версии — ничего не потеряется.

Начните с клуба [[Растим инженеров]].
""",
    ),
]


DEMO_SEMINARS = [
    {
        "days": 7,
        "title": "Первые шаги с Bee-Bot в средней группе",
        "kind": "seminar",
        "start": "15:00",
        "end": "16:30",
        "speakers": "Ольга Смирнова, Ирина Кузнецова",
        "organization": "Колокольчик",
        "space": "Растим_инженеров",
        "description": "Онлайн-семинар для педагогов сети: как познакомить детей 4–5 лет с "
        "мини-роботом, какие игры придумать и как оценить результат.",
        "board": "Отзывы: первые шаги с Bee-Bot",
        "columns": ["Что понравилось", "Вопросы спикеру", "Идеи для своей группы"],
        "posts": [
            ("Марина (Сказка)", 0, "Игра с ковриком-огородом — отличная идея, возьму себе."),
            ("Гость", 1, "Сколько роботов нужно на подгруппу из восьми детей?"),
            ("Светлана (СОШ №8)", 2, "Попробуем связать маршруты пчёлки со сказкой «Репка»."),
        ],
        "poll": None,
        "save_to_wiki": False,
    },
    {
        "days": -14,
        "title": "Мастер-класс: вентилятор из WeDo 2.0",
        "kind": "master_class",
        "start": "14:00",
        "end": "15:00",
        "speakers": "Ирина Кузнецова",
        "organization": "CYBERKID",
        "space": "Растим_инженеров",
        "description": "Собрали модель вентилятора и написали к ней первую программу.",
        "board": "Обратная связь: вентилятор из WeDo 2.0",
        "columns": ["Впечатления", "Трудности"],
        "posts": [
            ("Наталья (Буратино)", 0, "Понятные шаги, успели всё собрать за полчаса."),
            ("Гость", 1, "Не сразу подключился смартхаб по Bluetooth — проверяйте батарейки."),
        ],
        "poll": ("Будете проводить такое занятие с детьми?", ["Да, в этом месяце", "Позже"]),
        "save_to_wiki": True,
    },
]


def _load_demo_seminars(admin: User, orgs: dict, spaces: dict) -> None:
    """Seminars with boards and feedback; the past one is already saved into the wiki."""
    from kb.board import seminars
    from kb.board import service as boards
    from kb.board.export import save_to_wiki

    today = seminars.to_local(utcnow()).date()
    for item in DEMO_SEMINARS:
        day = (today + timedelta(days=item["days"])).isoformat()
        seminar = seminars.create_seminar(
            admin,
            {
                "title": item["title"],
                "kind": item["kind"],
                "date": day,
                "start": item["start"],
                "end": item["end"],
                "speakers": item["speakers"],
                "description": item["description"],
                "meeting_url": "https://example.org/meeting",
                "organization_id": orgs[item["organization"]].id,
                "space_id": spaces[item["space"]].id,
            },
        )
        board = boards.create_board(
            admin, item["board"], columns=item["columns"], seminar_id=seminar.id
        )
        columns = [column.id for column in board.columns]
        for name, column, text in item["posts"]:
            joined = boards.join_board(board.code, name=name)
            boards.create_post(board, joined.participant, text, columns[column])
        if item["poll"]:
            question, options = item["poll"]
            poll = boards.create_poll(board, admin, question, "single", options)
            boards.set_poll_status(board, admin, poll.id, "open")
        if item["save_to_wiki"]:
            save_to_wiki(board, admin)


@dataclass
class DemoResult:
    created: bool
    admin_email: str
    admin_password: str


def _password_file() -> Path:
    return Path(current_app.config["KB_DATA_DIR"]) / PASSWORD_FILE


def _remembered_password() -> str:
    path = _password_file()
    return path.read_text().strip() if path.exists() else "(задан ранее; см. kb user)"


def load_demo() -> DemoResult:
    if accounts.find_user(ADMIN_EMAIL) is not None:
        return DemoResult(False, ADMIN_EMAIL, _remembered_password())

    password = secrets.token_urlsafe(9)
    orgs = {}
    for name, short_name, kind in ORGANIZATIONS:
        orgs[short_name] = db.session.scalar(
            sa.select(Organization).where(Organization.short_name == short_name)
        ) or Organization(name=name, short_name=short_name, kind=kind, city="Когалым")
        db.session.add(orgs[short_name])
    db.session.flush()

    people = {}
    for email, name, role, org in PEOPLE:
        people[email] = accounts.find_user(email) or User(
            email=email, name=name, role=role, organization=orgs.get(org)
        )
        db.session.add(people[email])
    spaces = {}
    for slug, title, description, is_default in SPACES:
        spaces[slug] = pages.get_space(slug) or Space(
            slug=slug, title=title, description=description, is_default=is_default
        )
        db.session.add(spaces[slug])
    for position, (name, description, body) in enumerate(TEMPLATES):
        if db.session.scalar(sa.select(PageTemplate).where(PageTemplate.name == name)) is None:
            db.session.add(
                PageTemplate(name=name, description=description, body=body, position=position)
            )
    admin = User(
        email=ADMIN_EMAIL,
        name="Организатор сети",
        role="admin",
        organization=orgs["ДДТ"],
        password_hash=generate_password_hash(password),
    )
    db.session.add(admin)
    people[ADMIN_EMAIL] = admin
    db.session.flush()

    for title, space_slug, tags, author_email, body in PAGES:
        if pages.find_page(pages.slug_for_title(title)) is None:
            pages.save_page(
                title,
                body,
                people[author_email],
                space=spaces[space_slug],
                tags=tags,
                comment="Демонстрационная страница",
                commit=False,
            )
    path = _password_file()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password)
    db.session.commit()
    _load_demo_seminars(admin, orgs, spaces)
    return DemoResult(True, ADMIN_EMAIL, password)
