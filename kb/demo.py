"""Demo network: organizations, people, clubs, page templates and a few pages.

Facts (names of clubs, partners and programmes) follow the network's own description;
every sentence here is written by the project. Loading is idempotent: the admin account
is the marker, and a second run changes nothing.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from kb.accounts import service as accounts
from kb.accounts.models import Organization, User
from kb.database import db
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
    return DemoResult(True, ADMIN_EMAIL, password)
