"""Consulting centre: questions to methodists, answers, upvotes, notifications.

Methodists are admins plus users flagged in ``consult_members`` (managed by admins);
the same row keeps a person's notification settings and the salt of their feed token.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from kb.accounts.models import Organization, User
from kb.database import db, utcnow


class QuestionStatus(enum.StrEnum):
    NEW = "new"
    ANSWERED = "answered"
    CLOSED = "closed"


class NotificationKind(enum.StrEnum):
    NEW_QUESTION = "question"  # to methodists
    NEW_ANSWER = "answer"  # to the asker and those who upvoted
    STATUS = "status"  # the question was closed or reopened
    FAQ = "faq"  # the answer became a knowledge-base page


class Member(db.Model):
    """A person's settings in the centre (created on first need)."""

    __tablename__ = "consult_members"

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    is_methodist: so.Mapped[bool] = so.mapped_column(default=False, index=True)
    email_notifications: so.Mapped[bool] = so.mapped_column(default=True)
    # Part of the HMAC behind the personal feed URL; changing it revokes the old URL.
    feed_salt: so.Mapped[str] = so.mapped_column(sa.String(32), default="")
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    user: so.Mapped[User] = so.relationship(lazy="joined")


class ConsultQuestion(db.Model):
    __tablename__ = "consult_questions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    author_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    organization_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )
    private: so.Mapped[bool] = so.mapped_column(default=False)
    status: so.Mapped[str] = so.mapped_column(
        sa.String(10), default=QuestionStatus.NEW.value, index=True
    )
    upvotes: so.Mapped[int] = so.mapped_column(default=0)
    faq_slug: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    faq_answer_id: so.Mapped[int | None]  # the answer published (no FK: avoids a cycle)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    author: so.Mapped[User | None] = so.relationship(lazy="joined")
    organization: so.Mapped[Organization | None] = so.relationship()
    answers: so.Mapped[list["ConsultAnswer"]] = so.relationship(
        back_populates="question",
        order_by="ConsultAnswer.created_at",
        cascade="all, delete-orphan",
    )


class ConsultAnswer(db.Model):
    __tablename__ = "consult_answers"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("consult_questions.id", ondelete="CASCADE"), index=True
    )
    author_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    question: so.Mapped[ConsultQuestion] = so.relationship(back_populates="answers")
    author: so.Mapped[User | None] = so.relationship(lazy="joined")


class Upvote(db.Model):
    """«У меня тот же вопрос»: one per person and question."""

    __tablename__ = "consult_upvotes"

    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("consult_questions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class Notification(db.Model):
    __tablename__ = "consult_notifications"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("consult_questions.id", ondelete="CASCADE"), index=True
    )
    answer_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("consult_answers.id", ondelete="CASCADE")
    )
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    read_at: so.Mapped[datetime | None]

    question: so.Mapped[ConsultQuestion] = so.relationship(lazy="joined")
    answer: so.Mapped[ConsultAnswer | None] = so.relationship()
    actor: so.Mapped[User | None] = so.relationship(foreign_keys=[actor_id])
