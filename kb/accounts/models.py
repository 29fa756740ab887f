"""Accounts: organizations of the network, users with roles, API tokens, invitations."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy import orm as so

from kb.database import db, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"  # организатор сети
    EDITOR = "editor"  # педагог
    READER = "reader"  # родитель, партнёр

    @property
    def rank(self) -> int:
        return {"reader": 1, "editor": 2, "admin": 3}[self.value]


class OrganizationKind(enum.StrEnum):
    KINDERGARTEN = "kindergarten"
    SCHOOL = "school"
    ADDITIONAL = "additional"  # дом детского творчества, станция юных техников
    CENTER = "center"  # технические центры, кванториумы
    UNIVERSITY = "university"
    OTHER = "other"


class Organization(db.Model):
    __tablename__ = "organizations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(300))
    short_name: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20), default=OrganizationKind.OTHER.value)
    city: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    users: so.WriteOnlyMapped["User"] = so.relationship(back_populates="organization")

    def __repr__(self) -> str:
        return f"<Organization {self.short_name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(256))
    role: so.Mapped[str] = so.mapped_column(sa.String(10), default=Role.READER.value)
    organization_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_login_at: so.Mapped[datetime | None]
    # Part of every session and remember-me cookie; raising it ends them all (password
    # change, deactivation, «Выйти на всех устройствах»).
    session_version: so.Mapped[int] = so.mapped_column(default=0, server_default="0")

    organization: so.Mapped[Organization | None] = so.relationship(
        back_populates="users", lazy="joined"
    )

    def get_id(self) -> str:  # Flask-Login: what the session and the remember cookie hold
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot log in
        return self.active

    def has_role(self, role: Role | str) -> bool:
        return Role(self.role).rank >= Role(role).rank

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @property
    def display_name(self) -> str:
        if self.organization:
            return f"{self.name} ({self.organization.short_name})"
        return self.name

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class LoginThrottle(db.Model):
    """Failed sign-ins for one e-mail address (known or not), shared by every process."""

    __tablename__ = "login_throttles"

    email: so.Mapped[str] = so.mapped_column(sa.String(254), primary_key=True)
    failures: so.Mapped[int] = so.mapped_column(default=0)
    last_failed_at: so.Mapped[datetime] = so.mapped_column(index=True)
    retry_at: so.Mapped[datetime | None]


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_used_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]

    user: so.Mapped[User] = so.relationship(lazy="joined")


class Invitation(db.Model):
    """A link that lets a new person set their own password."""

    __tablename__ = "invitations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    role: so.Mapped[str] = so.mapped_column(sa.String(10))
    organization_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    used_at: so.Mapped[datetime | None]

    organization: so.Mapped[Organization | None] = so.relationship()
