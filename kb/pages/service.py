"""What can be done with wiki pages and spaces, with their rules."""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from flask_babel import gettext as _

from kb.accounts.models import User
from kb.database import db
from kb.errors import Conflict, NotFound
from kb.pages.models import Page, Revision, Space, Tag
from kb.pages.render import render_markdown
from kb.search.changes import record_change

RECENT_LIMIT = 10


def list_spaces() -> list[Space]:
    return list(db.session.scalars(sa.select(Space).order_by(Space.is_default.desc(), Space.title)))


def recent_pages(limit: int = RECENT_LIMIT) -> list[Page]:
    return list(
        db.session.scalars(
            sa.select(Page)
            .where(Page.deleted.is_(False))
            .order_by(Page.updated_at.desc())
            .limit(limit)
        )
    )


def home_context() -> dict:
    return {"spaces": list_spaces(), "recent_pages": recent_pages()}


def slug_for_title(title: str) -> str:
    return unicodedata.normalize("NFC", title.strip()).replace(" ", "_")


def find_page(slug: str) -> Page | None:
    return db.session.scalar(sa.select(Page).where(Page.slug == slug))


def get_space(slug: str) -> Space | None:
    return db.session.scalar(sa.select(Space).where(Space.slug == slug))


def default_space() -> Space:
    space = db.session.scalar(sa.select(Space).where(Space.is_default.is_(True)))
    if space is None:
        raise NotFound(_("Пространство по умолчанию не создано."))
    return space


def create_space(slug: str, title: str, description: str = "", is_default: bool = False) -> Space:
    if get_space(slug) is not None:
        raise Conflict(_("Пространство «%(slug)s» уже есть.", slug=slug))
    space = Space(slug=slug, title=title, description=description, is_default=is_default)
    db.session.add(space)
    db.session.commit()
    return space


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
    """Create a page with its first revision."""
    slug = slug_for_title(title)
    if db.session.scalar(sa.select(Page).where(Page.slug == slug)) is not None:
        raise Conflict(_("Страница «%(title)s» уже есть.", title=title))
    html = render_markdown(body)
    page = Page(
        slug=slug,
        title=title,
        space=space or default_space(),
        body=body,
        html=html,
        revision_number=1,
        updated_by=author,
    )
    for name in tags:
        tag = db.session.scalar(sa.select(Tag).where(Tag.name == name)) or Tag(name=name)
        page.tags.append(tag)
    db.session.add(page)
    db.session.flush()
    db.session.add(
        Revision(
            page=page,
            number=1,
            parent_number=None,
            kind="create",
            title=title,
            body=body,
            html=html,
            comment=comment,
            size=len(body.encode()),
            author=author,
        )
    )
    record_change("page", page.id)
    if commit:
        db.session.commit()
    return page
