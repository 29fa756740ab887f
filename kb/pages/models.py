"""Wiki storage: spaces, pages, immutable revisions, tags, links, attachments, templates."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from kb.accounts.models import User
from kb.database import db, utcnow

page_tags = sa.Table(
    "page_tags",
    db.metadata,
    sa.Column("page_id", sa.ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Space(db.Model):
    """A club or working group (e.g. «Растим инженеров»); one default space for general pages."""

    __tablename__ = "spaces"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    is_default: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    members: so.Mapped[list[User]] = so.relationship(secondary="space_members")


space_members = sa.Table(
    "space_members",
    db.metadata,
    sa.Column("space_id", sa.ForeignKey("spaces.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)


class Page(db.Model):
    """The current state of a page; its history lives in ``Revision`` rows.

    ``revision_number`` is the compare-and-set guard: a save updates it with
    ``WHERE revision_number = <the number it was based on>``.
    """

    __tablename__ = "pages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(255), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    space_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("spaces.id"), index=True)
    revision_number: so.Mapped[int] = so.mapped_column(default=0)
    body: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    deleted: so.Mapped[bool] = so.mapped_column(default=False, index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    space: so.Mapped[Space] = so.relationship(lazy="joined")
    tags: so.Mapped[list[Tag]] = so.relationship(secondary=page_tags, order_by=Tag.name)
    updated_by: so.Mapped[User | None] = so.relationship()


class Revision(db.Model):
    """An immutable snapshot: edits, renames, deletes, restores and reverts are all revisions."""

    __tablename__ = "revisions"
    __table_args__ = (sa.UniqueConstraint("page_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    page_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("pages.id", ondelete="CASCADE"), index=True
    )
    number: so.Mapped[int]
    parent_number: so.Mapped[int | None]
    kind: so.Mapped[str] = so.mapped_column(sa.String(12), default="edit")
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    html: so.Mapped[str] = so.mapped_column(sa.Text)
    comment: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    size: so.Mapped[int] = so.mapped_column(default=0)
    author_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)

    page: so.Mapped[Page] = so.relationship()
    author: so.Mapped[User | None] = so.relationship()


class PageRedirect(db.Model):
    """An old slug left behind by a rename."""

    __tablename__ = "page_redirects"

    slug: so.Mapped[str] = so.mapped_column(sa.String(255), primary_key=True)
    page_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("pages.id", ondelete="CASCADE"))


class PageLink(db.Model):
    """A wikilink from a page to a slug (which may not exist yet: a red link)."""

    __tablename__ = "page_links"

    source_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True
    )
    target_slug: so.Mapped[str] = so.mapped_column(sa.String(255), primary_key=True, index=True)


class Attachment(db.Model):
    """A named file on a page; uploading the same name again adds a version."""

    __tablename__ = "attachments"
    __table_args__ = (sa.UniqueConstraint("page_id", "filename"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    page_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("pages.id", ondelete="CASCADE"), index=True
    )
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    deleted: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    page: so.Mapped[Page] = so.relationship()
    versions: so.Mapped[list["AttachmentVersion"]] = so.relationship(
        back_populates="attachment",
        order_by="AttachmentVersion.number",
        cascade="all, delete-orphan",
    )

    @property
    def current(self) -> "AttachmentVersion":
        return self.versions[-1]


class AttachmentVersion(db.Model):
    """File content is stored under the data dir by its SHA-256, never by the user's name.

    ``text`` holds the extracted plain text for search (``text_status``: pending, ok, failed).
    """

    __tablename__ = "attachment_versions"
    __table_args__ = (sa.UniqueConstraint("attachment_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    attachment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("attachments.id", ondelete="CASCADE"), index=True
    )
    number: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    size: so.Mapped[int]
    content_type: so.Mapped[str] = so.mapped_column(sa.String(120))
    uploader_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    text: so.Mapped[str | None] = so.mapped_column(sa.Text)
    text_status: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")

    attachment: so.Mapped[Attachment] = so.relationship(back_populates="versions")
    uploader: so.Mapped[User | None] = so.relationship()


class PageTemplate(db.Model):
    """A starting body offered when creating a page (Конспект занятия, Мастер-класс, …)."""

    __tablename__ = "page_templates"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    description: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    body: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    position: so.Mapped[int] = so.mapped_column(default=0)
