"""What can be done with wiki pages, spaces, tags, templates and history — with its rules.

Every function that writes takes the acting ``User``, checks the rules, raises typed
``kb.errors`` and records search changes inside the same transaction. Functions commit
unless told ``commit=False`` (so a caller can bundle several changes in one transaction).
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import orm as so

from kb.accounts.models import Organization, User
from kb.database import MAX_ID, db, utcnow
from kb.errors import BadRequest, Conflict, Forbidden, InvalidInput, NotFound
from kb.pages.merge import inline_diff, merge_edit, unified_diff, unresolved_markers
from kb.pages.models import (
    Attachment,
    AttachmentVersion,
    Page,
    PageLink,
    PageRedirect,
    PageTemplate,
    Revision,
    Space,
    Tag,
    page_tags,
)
from kb.pages.render import linked_slugs, mark_missing_links, render
from kb.pages.slugs import slug_for_title, slug_problem, title_for_slug
from kb.search.changes import record_change

__all__ = ["slug_for_title", "title_for_slug"]

RECENT_LIMIT = 10
MAX_BODY_BYTES = 1024 * 1024
MAX_TITLE = 200
MAX_COMMENT = 500
MAX_TAGS = 20
MAX_TAG = 60
MAX_SPACE_DESCRIPTION = 2000
CAS_RETRIES = 5
# Numbers from outside (revision numbers, ids) are 32-bit in the database: a larger one names
# nothing and must not reach the driver, which would overflow (as kb.security.IdConverter).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE_SLUG = re.compile(r"^[\w-]{1,120}$", re.UNICODE)
_NUMBER = re.compile(r"[+-]?[0-9]+")


@dataclass
class SaveResult:
    slug: str
    revision: int
    merged: bool
    created: bool
    changed: bool = True


# ---------------------------------------------------------------- checks


def check_editor(user: User | None) -> User:
    if user is None or not user.is_authenticated:
        raise Forbidden(_("Нужно войти в систему."))
    if not user.has_role("editor"):
        raise Forbidden(_("Править материалы могут педагоги и организаторы сети."))
    return user


def sees_deleted(user: User | None) -> bool:
    """Only admins see deleted pages; for everyone else they are missing pages (404)."""
    return bool(user is not None and user.is_authenticated and user.is_admin)


def check_number(value, name: str) -> int:
    """A revision number (or other count from 1) typed by someone: an int, at least 1.

    Past ``MAX_ID`` it is returned as is: it names nothing, and the functions that look
    numbers up answer that without asking the database.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(_("Параметр %(name)s должен быть целым числом.", name=name))
    if value < 1:
        raise InvalidInput(_("Параметр %(name)s должен быть не меньше 1.", name=name))
    return value


def number_from_text(raw: str, name: str) -> int:
    """``check_number`` for a number typed as text (a query string or a form field)."""
    text = raw.strip()
    if not _NUMBER.fullmatch(text):
        raise BadRequest(_("Параметр %(name)s должен быть числом.", name=name))
    if len(text.lstrip("+-").lstrip("0")) > 12:  # past MAX_ID (int() refuses 5,000 digits)
        return check_number(-1 if text.startswith("-") else MAX_ID + 1, name)
    return check_number(int(text), name)


def check_admin(user: User | None) -> User:
    if user is None or not user.is_authenticated or not user.is_admin:
        raise Forbidden(_("Это действие доступно только организатору сети."))
    return user


def check_title(title: str | None) -> str:
    if not isinstance(title, str):
        raise InvalidInput(_("Название страницы должно быть строкой."))
    title = unicodedata.normalize("NFC", " ".join(title.split()))
    if not title:
        raise InvalidInput(_("Укажите название страницы."))
    if len(title) > MAX_TITLE:
        raise InvalidInput(_("Название длиннее %(n)s символов.", n=MAX_TITLE))
    if _CONTROL.search(title):
        raise InvalidInput(_("В названии есть управляющие символы."))
    problem = slug_problem(slug_for_title(title))
    if problem:
        raise InvalidInput(_("Такое название не подходит: %(why)s", why=problem))
    return title


def check_slug(slug: str) -> str:
    if not isinstance(slug, str):
        raise InvalidInput(_("Имя страницы должно быть строкой."))
    problem = slug_problem(slug) if ".." in slug or _CONTROL.search(slug) else None
    slug = slug_for_title(slug)
    problem = problem or slug_problem(slug)
    if problem:
        raise InvalidInput(problem)
    return slug


def check_body(body: str) -> str:
    if not isinstance(body, str):
        raise InvalidInput(_("Текст страницы должен быть строкой."))
    if len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        raise InvalidInput(_("Текст страницы больше 1 МБ. Разделите его на несколько страниц."))
    if "\x00" in body:
        raise InvalidInput(_("В тексте есть недопустимый символ (NUL)."))
    return body.replace("\r\n", "\n").replace("\r", "\n")


def check_comment(comment: str | None) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise InvalidInput(_("Описание правки должно быть строкой."))
    comment = " ".join(comment.split())
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(_("Описание правки длиннее %(n)s символов.", n=MAX_COMMENT))
    return comment


def check_tags(tags: Sequence[str] | str | None) -> list[str] | None:
    """Tags as typed (comma-separated string or list), cleaned and without repeats."""
    if tags is None:
        return None
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise InvalidInput(_("Метки должны быть списком строк."))
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in tags:
        name = unicodedata.normalize("NFC", " ".join(raw.split())).strip("#")
        if not name:
            continue
        if len(name) > MAX_TAG or _CONTROL.search(name) or "/" in name:
            raise InvalidInput(_("Метка «%(tag)s» не подходит.", tag=name[:MAX_TAG]))
        if name.casefold() not in seen:
            seen.add(name.casefold())
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(_("Не больше %(n)s меток на странице.", n=MAX_TAGS))
    return cleaned


# ---------------------------------------------------------------- spaces


def list_spaces() -> list[Space]:
    return list(db.session.scalars(sa.select(Space).order_by(Space.is_default.desc(), Space.title)))


def get_space(slug: str) -> Space | None:
    return db.session.scalar(sa.select(Space).where(Space.slug == slug))


def require_space(slug: str) -> Space:
    space = get_space(slug) if isinstance(slug, str) else None
    if space is None:
        raise NotFound(_("Пространство «%(slug)s» не найдено.", slug=str(slug)[:120]))
    return space


def default_space() -> Space:
    space = db.session.scalar(sa.select(Space).where(Space.is_default.is_(True)))
    if space is None:
        space = db.session.scalar(sa.select(Space).order_by(Space.id))
    if space is None:
        # A fresh installation: the general space appears with the first page.
        space = Space(
            slug="Общее",
            title="Общие материалы",
            description="Материалы для всей сети.",
            is_default=True,
        )
        db.session.add(space)
        db.session.flush()
    return space


def _check_space_fields(title: str, description: str) -> tuple[str, str]:
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput(_("Укажите название пространства."))
    if len(title) > MAX_TITLE:
        raise InvalidInput(_("Название длиннее %(n)s символов.", n=MAX_TITLE))
    description = (description or "").strip()
    if len(description) > MAX_SPACE_DESCRIPTION:
        raise InvalidInput(_("Описание длиннее %(n)s символов.", n=MAX_SPACE_DESCRIPTION))
    return title, description


def create_space(
    slug: str,
    title: str,
    description: str = "",
    is_default: bool = False,
    *,
    actor: User | None = None,
    commit: bool = True,
) -> Space:
    """Create a space (club, working group); ``actor`` must be an admin when given."""
    if actor is not None:
        check_admin(actor)
    slug = slug_for_title(slug or title or "")
    if not _SPACE_SLUG.match(slug):
        raise InvalidInput(_("Адрес пространства: буквы, цифры, «_» и «-», до 120 символов."))
    title, description = _check_space_fields(title, description)
    if get_space(slug) is not None:
        raise Conflict(_("Пространство «%(slug)s» уже есть.", slug=slug))
    if is_default:
        db.session.execute(sa.update(Space).values(is_default=False))
    space = Space(slug=slug, title=title, description=description, is_default=is_default)
    db.session.add(space)
    if commit:
        db.session.commit()
    return space


def update_space(space: Space, *, title: str, description: str, actor: User) -> Space:
    check_admin(actor)
    space.title, space.description = _check_space_fields(title, description)
    db.session.commit()
    return space


def set_space_member(space: Space, user: User, member: bool, *, actor: User) -> None:
    check_admin(actor)
    if member and user not in space.members:
        space.members.append(user)
    elif not member and user in space.members:
        space.members.remove(user)
    db.session.commit()


def space_pages(space: Space) -> list[Page]:
    return list(
        db.session.scalars(
            sa.select(Page)
            .where(Page.space_id == space.id, Page.deleted.is_(False))
            .order_by(Page.title)
        )
    )


# ---------------------------------------------------------------- reading pages


def find_page(slug: str) -> Page | None:
    # Tags and the last author are shown with every page: load them with it, not one by one.
    return db.session.scalar(
        sa.select(Page)
        .where(Page.slug == slug)
        .options(so.selectinload(Page.tags), so.joinedload(Page.updated_by))
    )


def resolve_page(slug: str) -> tuple[Page | None, bool]:
    """The page for ``slug``, following a rename redirect: (page, was_redirected)."""
    page = find_page(slug)
    if page is not None:
        return page, False
    redirect = db.session.get(PageRedirect, slug)
    if redirect is not None:
        return db.session.get(Page, redirect.page_id), True
    return None, False


def get_page(slug: str, *, include_deleted: bool = False) -> Page:
    page, _redirected = resolve_page(slug)
    if page is None or (page.deleted and not include_deleted):
        raise NotFound(_("Страница «%(title)s» не найдена.", title=title_for_slug(slug)[:200]))
    return page


def get_revision(page: Page, number: int) -> Revision:
    revision = None
    if 1 <= number <= MAX_ID:
        revision = db.session.scalar(
            sa.select(Revision).where(Revision.page_id == page.id, Revision.number == number)
        )
    if revision is None:
        raise NotFound(_("У страницы нет версии %(n)s.", n=number))
    return revision


def existing_slugs(slugs: set[str]) -> set[str]:
    """Which of ``slugs`` name a live page (directly or through a rename redirect)."""
    if not slugs:
        return set()
    # `deleted` is checked here, not in WHERE: with it there, SQLite (which has no statistics)
    # walks every live page through ix_pages_deleted instead of looking the slugs up —
    # 13 ms a page view with 10,000 pages.
    live = sa.select(Page.slug, Page.deleted).where(Page.slug.in_(slugs))
    renamed = (
        sa.select(PageRedirect.slug, Page.deleted)
        .join(Page, Page.id == PageRedirect.page_id)
        .where(PageRedirect.slug.in_(slugs))
    )
    rows = db.session.execute(sa.union_all(live, renamed))
    return {slug for slug, deleted in rows if not deleted}


def display_html(html: str) -> str:
    """Stored HTML with wikilinks coloured for today's pages (no Markdown run)."""
    return mark_missing_links(html, existing_slugs(linked_slugs(html)))


def list_pages(space: Space | None = None, tag: str | None = None, limit: int = 1000) -> list[Page]:
    query = sa.select(Page).where(Page.deleted.is_(False))
    if space is not None:
        query = query.where(Page.space_id == space.id)
    if tag:
        query = query.join(page_tags).join(Tag).where(Tag.name == tag)
    return list(db.session.scalars(query.order_by(Page.title).limit(limit)).unique())


def backlinks(page: Page) -> list[Page]:
    """Live pages whose wikilinks point here (by the current slug or an old one)."""
    old_slugs = sa.select(PageRedirect.slug).where(PageRedirect.page_id == page.id)
    # Start from the links (index on target_slug), not from the pages: a join lets SQLite
    # walk every live page through ix_pages_deleted — 150 ms a view with 10,000 pages.
    linking = sa.select(PageLink.source_id).where(
        sa.or_(PageLink.target_slug == page.slug, PageLink.target_slug.in_(old_slugs))
    )
    return list(
        db.session.scalars(
            sa.select(Page)
            .where(Page.id.in_(linking), Page.deleted.is_(False), Page.id != page.id)
            # Only names are shown: leave the bodies of the linking pages in the database.
            .options(so.load_only(Page.slug, Page.title, Page.space_id))
            .order_by(Page.title)
        )
    )


def first_revision(page: Page) -> Revision | None:
    return db.session.scalar(
        sa.select(Revision)
        .where(Revision.page_id == page.id)
        .options(so.joinedload(Revision.author))
        .order_by(Revision.number)
        .limit(1)
    )


def history(page: Page) -> list[dict]:
    """Revisions newest first, each with its size change against its parent: ``delta`` in
    bytes (as the API's ``size``), ``chars`` in characters (what a teacher is shown).
    Bodies stay in the database: only their lengths are read."""
    rows = db.session.execute(
        sa.select(Revision, sa.func.length(Revision.body))
        .where(Revision.page_id == page.id)
        .options(so.joinedload(Revision.author), so.defer(Revision.body), so.defer(Revision.html))
        .order_by(Revision.number.desc())
    ).all()
    sizes = {r.number: r.size for r, _length in rows}
    lengths = {r.number: length or 0 for r, length in rows}
    return [
        {
            "revision": r,
            "delta": r.size - sizes.get(r.parent_number, 0) if r.parent_number else r.size,
            "chars": lengths[r.number] - lengths.get(r.parent_number, 0)
            if r.parent_number
            else lengths[r.number],
        }
        for r, _length in rows
    ]


def diff(page: Page, old_number: int, new_number: int) -> dict:
    old, new = get_revision(page, old_number), get_revision(page, new_number)
    return {
        "from": old,
        "to": new,
        "unified": unified_diff(old.body, new.body, f"версия {old.number}", f"версия {new.number}"),
        "html": inline_diff(old.body, new.body),
        "title_changed": old.title != new.title,
    }


# ---------------------------------------------------------------- writing pages


def _store_tags(page: Page, names: list[str]) -> bool:
    current = [t.name for t in page.tags]
    if current == sorted(names) or sorted(current) == sorted(names):
        return False
    tags = []
    for name in names:
        tag = db.session.scalar(sa.select(Tag).where(Tag.name == name))
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
        tags.append(tag)
    page.tags = tags
    return True


def _store_links(page: Page, targets: set[str]) -> None:
    db.session.execute(sa.delete(PageLink).where(PageLink.source_id == page.id))
    for slug in sorted(targets - {page.slug}):
        db.session.add(PageLink(source_id=page.id, target_slug=slug))


def _add_revision(
    page: Page,
    *,
    number: int,
    parent: int | None,
    kind: str,
    title: str,
    body: str,
    html: str,
    comment: str,
    author: User,
) -> Revision:
    revision = Revision(
        page_id=page.id,
        number=number,
        parent_number=parent,
        kind=kind,
        title=title,
        body=body,
        html=html,
        comment=comment,
        size=len(body.encode("utf-8", "surrogatepass")),
        author_id=author.id,
        created_at=utcnow(),
    )
    db.session.add(revision)
    return revision


def _advance(page: Page, expected: int, **values) -> bool:
    """Compare-and-set: move the page from revision ``expected`` to ``expected + 1``.

    Returns False when another save got there first (the row no longer has ``expected``).
    """
    db.session.flush()  # pending tag changes must not be lost to the expire below
    now = utcnow()
    result = db.session.execute(
        sa.update(Page)
        .where(Page.id == page.id, Page.revision_number == expected)
        .values(revision_number=expected + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.expire(page)
    return True


def _create_page(
    slug: str, title: str, body: str, author: User, space: Space, tags: list[str], comment: str
) -> Page:
    page = Page(
        slug=slug,
        title=title,
        space=space,
        body=body,
        html="",
        revision_number=1,
        updated_by_id=author.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(page)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(
            _("Страницу «%(title)s» только что создал кто-то другой.", title=title),
            current_revision=(find_page(slug) or page).revision_number,
            body_with_conflicts=body,
        ) from None
    rendered = render(body, page.id)
    page.html = rendered.html
    _store_tags(page, tags)
    _store_links(page, rendered.links)
    _add_revision(
        page,
        number=1,
        parent=None,
        kind="create",
        title=title,
        body=body,
        html=rendered.html,
        comment=comment,
        author=author,
    )
    return page


def put_page(
    slug: str,
    *,
    title: str | None,
    body: str,
    author: User,
    space: Space | None = None,
    tags: Sequence[str] | None = None,
    base_revision: int | None,
    comment: str = "",
    commit: bool = True,
) -> SaveResult:
    """Create or edit the page at ``slug``; the edit was based on ``base_revision``.

    If the page moved on since ``base_revision``, the edit is merged three-way with what was
    stored meanwhile; overlapping edits raise ``Conflict`` carrying ``current_revision`` and
    ``body_with_conflicts`` (nothing is stored). ``base_revision=None`` means "create": for an
    existing page that is a conflict too. Saving an unchanged page creates no revision.
    """
    check_editor(author)
    slug = check_slug(slug)
    body = check_body(body)
    comment = check_comment(comment)
    tag_names = check_tags(tags)
    if title is not None:
        title = check_title(title)
    if base_revision is not None and (
        isinstance(base_revision, bool)
        or not isinstance(base_revision, int)
        or not 1 <= base_revision <= MAX_ID
    ):
        raise InvalidInput(_("base_revision должен быть положительным числом или null."))

    if title is not None and slug_for_title(title) != slug:
        raise InvalidInput(
            _(
                "Название «%(title)s» не соответствует адресу страницы. Чтобы сменить название, "
                "переименуйте страницу.",
                title=title,
            )  # fmt: skip
        )
    page, _redirected = resolve_page(slug)
    if unresolved_markers(body) and not (page is not None and unresolved_markers(page.body)):
        raise InvalidInput(
            _(
                "В тексте остались отметки конфликта правок («<<<<<<< ваша версия», «=======», "
                "«>>>>>>> сохранённая версия»). Выберите вариант для каждого такого места и "
                "уберите эти строки — тогда страницу можно сохранить."
            )  # fmt: skip
        )
    if page is None:
        if base_revision is not None:
            raise InvalidInput(
                _(
                    "Страницы «%(slug)s» ещё нет: для создания передайте base_revision = null.",
                    slug=slug,
                )  # fmt: skip
            )
        title = title or check_title(title_for_slug(slug))
        created = _create_page(
            slug, title, body, author, space or default_space(), tag_names or [], comment
        )
        record_change("page", created.id)
        if commit:
            db.session.commit()
        return SaveResult(slug=created.slug, revision=1, merged=False, created=True)
    if page.deleted:
        if base_revision is not None:
            raise NotFound(_("Страница удалена. Восстановить её может организатор сети."))
        # Re-creating a deleted page: its history stays, the new text continues it.
        return _save_edit(
            page, page.revision_number, title, body, author, space, tag_names, comment,
            kind="create", undelete=True, commit=commit,
        )  # fmt: skip
    if base_revision is None:
        raise Conflict(
            _(
                "Страница «%(title)s» уже существует. Откройте её и правьте текущую версию.",
                title=page.title,
            ),  # fmt: skip
            current_revision=page.revision_number,
            **_conflict_details(merge_edit("", page.body, body)),
        )
    if base_revision > page.revision_number:
        raise InvalidInput(
            _(
                "У страницы нет версии %(n)s (последняя — %(last)s).",
                n=base_revision,
                last=page.revision_number,
            )  # fmt: skip
        )
    return _save_edit(
        page, base_revision, title, body, author, space, tag_names, comment, commit=commit
    )


def _conflict_details(result) -> dict:
    """What a Conflict carries: the merge with markers and the same as passages to choose."""
    return {"body_with_conflicts": result.body, "passages": list(result.passages)}


def _save_edit(
    page: Page,
    base_revision: int,
    title: str | None,
    body: str,
    author: User,
    space: Space | None,
    tag_names: list[str] | None,
    comment: str,
    *,
    kind: str = "edit",
    undelete: bool = False,
    commit: bool = True,
) -> SaveResult:
    base_body = get_revision(page, base_revision).body
    for _attempt in range(CAS_RETRIES):
        current = page.revision_number
        merged = False
        new_body = body
        if base_revision != current and not undelete:
            result = merge_edit(base_body, page.body, body)
            if result.conflicts:
                raise Conflict(
                    _(
                        "Пока вы правили, страницу сохранил другой человек, и ваши правки "
                        "пересеклись. Сравните версии и сохраните снова."
                    ),  # fmt: skip
                    current_revision=current,
                    **_conflict_details(result),
                )
            new_body, merged = result.body, result.body != body
        new_title = title or page.title
        new_space = space or page.space
        tags_changed = tag_names is not None and _store_tags(page, tag_names)
        changed = (
            undelete
            or new_body != page.body
            or new_title != page.title
            or new_space.id != page.space_id
        )
        if not changed:
            if tags_changed:
                record_change("page", page.id)
            if commit:
                db.session.commit()
            return SaveResult(page.slug, current, False, False, changed=False)
        rendered = render(new_body, page.id)
        only_moved = new_space.id != page.space_id and new_body == page.body
        if not _advance(
            page,
            current,
            title=new_title,
            body=new_body,
            html=rendered.html,
            space_id=new_space.id,
            deleted=False,
            updated_by_id=author.id,
        ):
            db.session.expire(page)  # someone saved meanwhile: merge against their version
            continue
        kind_now = "move" if kind == "edit" and only_moved else kind
        _store_links(page, rendered.links)
        _add_revision(
            page,
            number=current + 1,
            parent=current,
            kind=kind_now,
            title=new_title,
            body=new_body,
            html=rendered.html,
            comment=comment,
            author=author,
        )
        record_change("page", page.id)
        if commit:
            db.session.commit()
        return SaveResult(page.slug, current + 1, merged, undelete and kind == "create")
    raise Conflict(
        _("Страницу сейчас сохраняют слишком часто. Попробуйте ещё раз."),
        current_revision=page.revision_number,
        body_with_conflicts=body,
    )


def save_page(
    title: str,
    body: str,
    author: User,
    *,
    space: Space | None = None,
    tags: Sequence[str] = (),
    comment: str = "",
    commit: bool = True,
) -> Page:
    """Create a page with its first revision (the demo loader uses this)."""
    result = put_page(
        slug_for_title(title),
        title=title,
        body=body,
        author=author,
        space=space,
        tags=list(tags),
        base_revision=None,
        comment=comment,
        commit=commit,
    )
    return find_page(result.slug)


def _simple_revision(
    page: Page, author: User, kind: str, comment: str, *, base_revision: int | None = None,
    **values,
) -> int:  # fmt: skip
    """A revision that keeps the body (rename, move, delete, restore), guarded by CAS."""
    expected = page.revision_number if base_revision is None else base_revision
    if not _advance(page, expected, updated_by_id=author.id, **values):
        raise Conflict(
            _("Страницу только что изменил кто-то другой. Обновите страницу и повторите."),
            current_revision=page.revision_number,
        )
    _add_revision(
        page,
        number=expected + 1,
        parent=expected,
        kind=kind,
        title=page.title,
        body=page.body,
        html=page.html,
        comment=comment,
        author=author,
    )
    record_change("page", page.id)
    db.session.commit()
    return expected + 1


def rename_page(
    page: Page, new_title: str, author: User, *, space: Space | None = None, comment: str = ""
) -> Page:
    """Rename (and/or move to another space); the old name becomes a redirect."""
    check_editor(author)
    if page.deleted:
        raise NotFound(_("Страница удалена."))
    new_title = check_title(new_title)
    comment = check_comment(comment)
    new_slug = slug_for_title(new_title)
    new_space = space or page.space
    if new_title == page.title and new_space.id == page.space_id:
        return page
    old_slug, old_title = page.slug, page.title
    values: dict = {"title": new_title, "space_id": new_space.id}
    if new_slug != old_slug:
        other = find_page(new_slug)
        if other is not None:
            raise Conflict(_("Страница «%(title)s» уже есть.", title=other.title))
        db.session.execute(sa.delete(PageRedirect).where(PageRedirect.slug == new_slug))
        db.session.add(PageRedirect(slug=old_slug, page_id=page.id))
        values["slug"] = new_slug
    auto = []
    if new_title != old_title:
        auto.append(_("переименовано: «%(old)s» → «%(new)s»", old=old_title, new=new_title))
    if new_space.id != page.space_id:
        auto.append(_("перенесено в «%(space)s»", space=new_space.title))
    summary = comment or "; ".join(auto).capitalize()
    kind = "rename" if new_title != old_title else "move"
    _simple_revision(page, author, kind, summary[:MAX_COMMENT], **values)
    return page


def delete_page(page: Page, author: User, comment: str = "") -> int:
    """Soft delete: the page disappears from lists and links turn red; admins can restore."""
    check_admin(author)
    if page.deleted:
        raise Conflict(_("Страница уже удалена."), current_revision=page.revision_number)
    comment = check_comment(comment) or _("Страница удалена")
    return _simple_revision(page, author, "delete", comment, deleted=True)


def restore_page(page: Page, author: User, comment: str = "") -> int:
    check_admin(author)
    if not page.deleted:
        raise Conflict(_("Страница не удалена."), current_revision=page.revision_number)
    if find_page(page.slug) is not page:
        raise Conflict(_("Имя страницы уже занято другой страницей."))
    comment = check_comment(comment) or _("Страница восстановлена")
    return _simple_revision(page, author, "restore", comment, deleted=False)


def revert_page(page: Page, number: int, author: User, comment: str = "") -> SaveResult:
    """Make the text of revision ``number`` current again (as a new revision)."""
    check_editor(author)
    if page.deleted:
        raise NotFound(_("Страница удалена."))
    number = check_number(number, "revision")
    target = get_revision(page, number)
    comment = check_comment(comment) or _("Возврат к версии %(n)s", n=number)
    return _save_edit(
        page, page.revision_number, None, target.body, author, None, None, comment,
        kind="revert",
    )  # fmt: skip


# ---------------------------------------------------------------- recent changes


@dataclass
class Change:
    revision: Revision
    page: Page
    author: User | None
    delta: int


def recent_changes(
    *,
    space: Space | None = None,
    author_id: int | None = None,
    organization_id: int | None = None,
    limit: int = 50,
    since: datetime | None = None,
    include_deleted: bool = False,
) -> list[Change]:
    """Newest revisions first; those of deleted pages only with ``include_deleted`` (admins)."""
    for number in (author_id, organization_id):
        if number is not None and not 1 <= number <= MAX_ID:
            return []  # no such person or organization
    parent = so.aliased(Revision)
    query = (
        sa.select(Revision, Page, parent.size)
        .join(Page, Page.id == Revision.page_id)
        .outerjoin(
            parent,
            sa.and_(parent.page_id == Revision.page_id, parent.number == Revision.parent_number),
        )  # fmt: skip
        .options(so.joinedload(Revision.author))
        .order_by(Revision.created_at.desc(), Revision.id.desc())
        .limit(limit)
    )
    if space is not None:
        query = query.where(Page.space_id == space.id)
    if author_id is not None:
        query = query.where(Revision.author_id == author_id)
    if organization_id is not None:
        query = query.join(User, User.id == Revision.author_id).where(
            User.organization_id == organization_id
        )
    if since is not None:
        query = query.where(Revision.created_at >= since)
    if not include_deleted:
        # NOT IN the (few) deleted pages, not a condition on the joined page: that one lets
        # SQLite walk pages through ix_pages_deleted and sort every revision of every page.
        deleted = sa.select(Page.id).where(Page.deleted.is_(True))
        query = query.where(Revision.page_id.not_in(deleted))
    return [
        Change(revision, page, revision.author, revision.size - (parent_size or 0))
        for revision, page, parent_size in db.session.execute(query).unique()
    ]


def change_authors() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.id.in_(sa.select(Revision.author_id))).order_by(User.name)
        )
    )


def change_organizations() -> list[Organization]:
    return list(
        db.session.scalars(
            sa.select(Organization)
            .where(
                Organization.id.in_(
                    sa.select(User.organization_id).where(
                        User.id.in_(sa.select(Revision.author_id))
                    )
                )
            )
            .order_by(Organization.short_name)
        )
    )


def newest_pages(limit: int = RECENT_LIMIT) -> list[tuple[Page, Revision]]:
    """Pages by creation time (the «Новые материалы» list), with their first revision."""
    first = so.aliased(Revision)
    return list(
        db.session.execute(
            sa.select(Page, first)
            .join(first, sa.and_(first.page_id == Page.id, first.number == 1))
            .where(Page.deleted.is_(False))
            .options(so.joinedload(first.author))
            .order_by(Page.created_at.desc(), Page.id.desc())
            .limit(limit)
        ).unique()
    )


def recent_pages(limit: int = RECENT_LIMIT) -> list[Page]:
    return list(
        db.session.scalars(
            sa.select(Page)
            .where(Page.deleted.is_(False))
            .order_by(Page.updated_at.desc())
            .limit(limit)
        )
    )


def space_page_counts() -> dict[int, int]:
    return dict(
        db.session.execute(
            sa.select(Page.space_id, sa.func.count(Page.id))
            .where(Page.deleted.is_(False))
            .group_by(Page.space_id)
        ).all()
    )


def home_context(*, include_deleted: bool = False) -> dict:
    return {
        "spaces": list_spaces(),
        "space_counts": space_page_counts(),
        "recent_pages": recent_pages(),
        "recent_changes": recent_changes(limit=RECENT_LIMIT, include_deleted=include_deleted),
        "newest_pages": newest_pages(),
    }


# ---------------------------------------------------------------- tags


def tag_cloud() -> list[tuple[str, int]]:
    return [
        (name, count)
        for name, count in db.session.execute(
            sa.select(Tag.name, sa.func.count(Page.id))
            .join(page_tags, page_tags.c.tag_id == Tag.id)
            .join(Page, Page.id == page_tags.c.page_id)
            .where(Page.deleted.is_(False))
            .group_by(Tag.name)
            .order_by(Tag.name)
        )
    ]


# ---------------------------------------------------------------- templates


def list_templates() -> list[PageTemplate]:
    return list(
        db.session.scalars(
            sa.select(PageTemplate).order_by(PageTemplate.position, PageTemplate.name)
        )
    )


def get_template(template_id: int) -> PageTemplate:
    template = db.session.get(PageTemplate, template_id)
    if template is None:
        raise NotFound(_("Шаблон не найден."))
    return template


def save_template(
    template: PageTemplate | None, *, name: str, description: str, body: str, actor: User
) -> PageTemplate:
    check_admin(actor)
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise InvalidInput(_("Название шаблона: от 1 до 120 символов."))
    description = " ".join((description or "").split())
    if len(description) > 300:
        raise InvalidInput(_("Описание шаблона длиннее 300 символов."))
    body = check_body(body or "")
    other = db.session.scalar(sa.select(PageTemplate).where(PageTemplate.name == name))
    if other is not None and other is not template:
        raise Conflict(_("Шаблон «%(name)s» уже есть.", name=name))
    if template is None:
        position = db.session.scalar(sa.select(sa.func.max(PageTemplate.position))) or 0
        template = PageTemplate(position=position + 1)
        db.session.add(template)
    template.name, template.description, template.body = name, description, body
    db.session.commit()
    return template


def delete_template(template: PageTemplate, *, actor: User) -> None:
    check_admin(actor)
    db.session.delete(template)
    db.session.commit()


def page_attachments(page: Page, *, include_deleted: bool = False) -> list[Attachment]:
    query = (
        sa.select(Attachment)
        .where(Attachment.page_id == page.id)
        .options(so.selectinload(Attachment.versions).joinedload(AttachmentVersion.uploader))
    )
    if not include_deleted:
        query = query.where(Attachment.deleted.is_(False))
    return list(db.session.scalars(query.order_by(Attachment.filename)))
