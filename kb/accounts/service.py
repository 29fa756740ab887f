"""What can be done with accounts, organizations, invitations and API tokens."""

import hashlib
import math
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_time, format_timedelta
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.security import check_password_hash, generate_password_hash

from kb.accounts.models import (
    ApiToken,
    Invitation,
    LoginThrottle,
    Organization,
    OrganizationKind,
    Role,
    User,
)
from kb.database import db, utcnow
from kb.errors import Conflict, InvalidInput, NotFound, RateLimited

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
INVITATION_DAYS = 14
# Checked against when the e-mail is unknown, so a login takes the same time either way.
_DUMMY_HASH = generate_password_hash("never-a-real-password")
# Past KB_LOGIN_DELAY_AFTER failed sign-ins of one e-mail, the n-th failure makes the next
# attempt wait 2^n seconds, at most this long: the owner is slowed down, never locked out.
LOGIN_DELAY_MAX_SECONDS = 15 * 60
# Failures older than this are forgotten (and their rows deleted on the next failure).
LOGIN_FAILURES_KEPT = timedelta(days=1)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput(_("Некорректный адрес электронной почты: %(email)s", email=email))
    return email


def check_role(role: str) -> str:
    if role not in {r.value for r in Role}:
        raise InvalidInput(
            _("Неизвестная роль «%(role)s»: допустимы admin, editor, reader.", role=role)
        )
    return role


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_("Пароль должен быть не короче %(n)d символов.", n=MIN_PASSWORD_LENGTH))
    return password


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput(_("Имя должно быть от 1 до 120 символов."))
    return name


def get_active_user(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def get_user(email: str) -> User:
    user = find_user(email)
    if user is None:
        raise NotFound(_("Пользователь %(email)s не найден.", email=email))
    return user


def get_user_by_id(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("Пользователь не найден."))
    return user


def get_organization(org_id: int) -> Organization:
    organization = db.session.get(Organization, org_id)
    if organization is None:
        raise NotFound(_("Организация не найдена."))
    return organization


def find_organization(short_name: str) -> Organization:
    org = db.session.scalar(
        sa.select(Organization).where(Organization.short_name == short_name.strip())
    )
    if org is None:
        raise NotFound(_("Организация «%(name)s» не найдена.", name=short_name))
    return org


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.name)))


def list_organizations() -> list[Organization]:
    return list(db.session.scalars(sa.select(Organization).order_by(Organization.name)))


def create_user(
    email: str, name: str, role: str, password: str | None, organization: Organization | None = None
) -> User:
    email = normalize_email(email)
    name = check_name(name)
    check_role(role)
    if password is not None:
        check_password(password)
    if find_user(email) is not None:
        raise Conflict(_("Пользователь с адресом %(email)s уже есть.", email=email))
    user = User(
        email=email,
        name=name,
        role=role,
        organization=organization,
        password_hash=generate_password_hash(password) if password else None,
    )
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None (also for deactivated users)."""
    user = find_user(email or "")
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


# --- failed sign-ins: a growing delay per e-mail, kept in the database ---------------------
# Keyed by the e-mail as typed (normalized), known or not, so the delay does not tell which
# accounts exist. The database makes it hold across every process and node. The per-address
# limit (KB_LOGIN_LIMIT) is Flask-Limiter's, in kb.accounts.views.


def _throttle_key(email: str) -> str:
    return (email or "").strip().lower()[:254]


def login_delay(failures: int) -> int:
    """Seconds the next sign-in waits after ``failures`` failed ones in a row (0: no wait)."""
    if failures < int(current_app.config["KB_LOGIN_DELAY_AFTER"]):
        return 0
    return min(2 ** min(failures, 30), LOGIN_DELAY_MAX_SECONDS)


def check_login_allowed(email: str) -> None:
    """Raise RateLimited (with ``retry_after`` seconds) while the e-mail's delay runs."""
    throttle = db.session.get(LoginThrottle, _throttle_key(email))
    now = utcnow()
    if throttle is None or throttle.retry_at is None or throttle.retry_at <= now:
        return
    seconds = math.ceil((throttle.retry_at - now).total_seconds())
    # Under a minute in seconds, else in whole minutes rounded up: never earlier than true.
    minutes = math.ceil(seconds / 60)
    wait = timedelta(seconds=seconds) if seconds <= 60 else timedelta(minutes=minutes)
    raise RateLimited(
        _(
            "Слишком много попыток входа в эту учётную запись. Попробуйте снова в %(time)s "
            "(осталось ждать: %(wait)s).",
            time=format_time(throttle.retry_at, "HH:mm:ss"),
            wait=format_timedelta(wait, threshold=1),
        ),
        retry_after=seconds,
    )


def _upsert_failure(key: str, now) -> None:
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(LoginThrottle).values(email=key, failures=1, last_failed_at=now)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[LoginThrottle.email],
            set_={"failures": LoginThrottle.failures + 1, "last_failed_at": now},
        )
    )


def record_failed_login(email: str) -> None:
    """Count one failed sign-in of this e-mail (atomically, for concurrent processes)."""
    key, now = _throttle_key(email), utcnow()
    db.session.execute(
        sa.delete(LoginThrottle).where(LoginThrottle.last_failed_at < now - LOGIN_FAILURES_KEPT)
    )
    _upsert_failure(key, now)
    throttle = db.session.get(LoginThrottle, key, populate_existing=True)
    delay = login_delay(throttle.failures)
    throttle.retry_at = now + timedelta(seconds=delay) if delay else None
    db.session.commit()


def sign_in(email: str, password: str) -> User | None:
    """``authenticate`` behind the per-e-mail delay: RateLimited while it runs, a failure
    counted, a success forgetting the failures."""
    check_login_allowed(email)
    user = authenticate(email, password)
    if user is None:
        record_failed_login(email)
        return None
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.email == _throttle_key(email)))
    db.session.commit()
    return user


# --- sessions --------------------------------------------------------------------------------


def user_for_session(identity: str) -> User | None:
    """The active user of a session or remember cookie holding ``"<id>:<session version>"``
    (User.get_id); None when the version was raised since (or for a bare id of old)."""
    user_id, _sep, version = (identity or "").partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = get_active_user(int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


def end_sessions(user: User) -> None:
    """End every session and remember-me cookie of the user (call before the commit)."""
    user.session_version = User.session_version + 1


def end_all_sessions(user: User) -> None:
    """«Выйти на всех устройствах»."""
    end_sessions(user)
    db.session.commit()


def set_password(user: User, password: str) -> None:
    """Set a new password; every session signed in with the old one ends."""
    user.password_hash = generate_password_hash(check_password(password))
    end_sessions(user)
    db.session.commit()


def change_role(user: User, role: str) -> None:
    user.role = check_role(role)
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    """Switch an account on or off; switching off ends its sessions for good."""
    user.active = active
    if not active:
        end_sessions(user)
    db.session.commit()


def set_organization(user: User, organization: Organization | None) -> None:
    user.organization = organization
    db.session.commit()


def save_organization(
    name: str, short_name: str, kind: str, city: str, organization: Organization | None = None
) -> Organization:
    name, short_name, city = (name or "").strip(), (short_name or "").strip(), (city or "").strip()
    if not name or len(name) > 300:
        raise InvalidInput(_("Название организации должно быть от 1 до 300 символов."))
    if not short_name or len(short_name) > 80:
        raise InvalidInput(_("Краткое название должно быть от 1 до 80 символов."))
    if kind not in {k.value for k in OrganizationKind}:
        raise InvalidInput(_("Неизвестный тип организации."))
    clash = db.session.scalar(sa.select(Organization).where(Organization.short_name == short_name))
    if clash is not None and clash is not organization:
        raise Conflict(_("Организация с кратким названием «%(name)s» уже есть.", name=short_name))
    if organization is None:
        organization = Organization()
        db.session.add(organization)
    organization.name, organization.short_name = name, short_name
    organization.kind, organization.city = kind, city[:120]
    db.session.commit()
    return organization


def create_token(user: User, label: str = "") -> str:
    """Create an API token and return it; only its hash is kept."""
    token = "kb_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_hash=_sha256(token), label=label[:120]))
    db.session.commit()
    return token


def user_for_token(token: str) -> User | None:
    api_token = db.session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == _sha256(token), ApiToken.revoked_at.is_(None)
        )
    )
    if api_token is None or not api_token.user.active:
        return None
    return api_token.user


def list_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
        )
    )


def revoke_token(user: User, token_id: int) -> None:
    api_token = db.session.get(ApiToken, token_id)
    if api_token is None or (api_token.user_id != user.id and not user.is_admin):
        raise NotFound(_("Токен не найден."))
    api_token.revoked_at = api_token.revoked_at or utcnow()
    db.session.commit()


def create_invitation(
    email: str, name: str, role: str, organization: Organization | None, created_by: User | None
) -> str:
    """Create an invitation and return its secret token (put into a link)."""
    email = normalize_email(email)
    name = check_name(name)
    check_role(role)
    if find_user(email) is not None:
        raise Conflict(_("Пользователь с адресом %(email)s уже есть.", email=email))
    token = secrets.token_urlsafe(24)
    db.session.add(
        Invitation(
            token_hash=_sha256(token),
            email=email,
            name=name,
            role=role,
            organization=organization,
            created_by_id=created_by.id if created_by else None,
            expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
        )
    )
    db.session.commit()
    return token


def find_invitation(token: str) -> Invitation:
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == _sha256(token or ""))
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at < utcnow():
        raise NotFound(_("Приглашение не найдено, уже использовано или истекло."))
    return invitation


def accept_invitation(token: str, password: str) -> User:
    invitation = find_invitation(token)
    check_password(password)
    if find_user(invitation.email) is not None:
        raise Conflict(_("Пользователь с адресом %(email)s уже есть.", email=invitation.email))
    user = User(
        email=invitation.email,
        name=invitation.name,
        role=invitation.role,
        organization=invitation.organization,
        password_hash=generate_password_hash(password),
    )
    invitation.used_at = utcnow()
    db.session.add(user)
    db.session.commit()
    return user
