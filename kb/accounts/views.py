"""HTTP views for login/logout, invitations, personal tokens and administration."""

from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_user, logout_user

from kb.accounts import bp, service
from kb.accounts.models import Organization, OrganizationKind, Role
from kb.errors import DomainError, RateLimited
from kb.extensions import limiter
from kb.security import require_login, require_role
from kb.urls import external_url

ROLE_LABELS = {
    "admin": lazy_gettext("Организатор сети"),
    "editor": lazy_gettext("Педагог"),
    "reader": lazy_gettext("Читатель"),
}
ORG_KIND_LABELS = {
    "kindergarten": lazy_gettext("Детский сад"),
    "school": lazy_gettext("Школа"),
    "additional": lazy_gettext("Дополнительное образование"),
    "center": lazy_gettext("Технический центр"),
    "university": lazy_gettext("Вуз"),
    "other": lazy_gettext("Другое"),
}


@bp.app_context_processor
def account_labels():
    return {"role_labels": ROLE_LABELS, "org_kind_labels": ORG_KIND_LABELS}


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("core.home")


def _login_limit() -> str:
    return current_app.config["KB_LOGIN_LIMIT"]


def _failed_sign_in(response) -> bool:
    return response.status_code == 401


def _refused_for_now(error: RateLimited, template: str, **context):
    flash(error.message, "error")
    response = make_response(render_template(template, **context), error.status)
    response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


# KB_LOGIN_LIMIT counts failed sign-ins per client address (the limiter's key: the address,
# which ProxyFix takes from X-Forwarded-For behind KB_PROXIES proxies); successes are free,
# so a seminar hall behind one NAT address can sign in at once. Each account (each e-mail)
# is slowed down on its own by service.sign_in, in the database.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed_sign_in)
def login():
    """Sign in with e-mail and password."""
    if request.method == "POST":
        email = request.form.get("email", "")
        try:
            user = service.sign_in(email, request.form.get("password", ""))
        except RateLimited as error:
            return _refused_for_now(error, "accounts/login.html", email=email)
        if user is None:
            flash(_("Неверный адрес или пароль (или учётная запись отключена)."), "error")
            return render_template("accounts/login.html", email=email), 401
        login_user(user, remember=bool(request.form.get("remember")))
        flash(_("Добро пожаловать, %(name)s!", name=user.name), "success")
        return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", email="")


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out."""
    logout_user()
    flash(_("Вы вышли из системы."), "success")
    return redirect(url_for("core.home"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Set a password from an invitation link."""
    invitation = service.find_invitation(token)
    if request.method == "POST":
        if request.form.get("password") != request.form.get("password2"):
            flash(_("Пароли не совпадают."), "error")
        else:
            try:
                user = service.accept_invitation(token, request.form.get("password", ""))
            except DomainError as error:
                flash(error.message, "error")
            else:
                login_user(user)
                flash(_("Пароль сохранён. Добро пожаловать!"), "success")
                return redirect(url_for("core.home"))
    return render_template("accounts/invitation.html", invitation=invitation)


@bp.route("/account", methods=["GET"])
@require_login
def account():
    """The signed-in person's profile and API tokens."""
    return render_template(
        "accounts/account.html", tokens=service.list_tokens(current_user), new_token=None
    )


@bp.route("/account/tokens", methods=["POST"])
@require_login
def create_token():
    """Create a personal API token (shown once)."""
    token = service.create_token(current_user, request.form.get("label", ""))
    flash(_("Токен создан. Скопируйте его сейчас: больше он показан не будет."), "success")
    return render_template(
        "accounts/account.html", tokens=service.list_tokens(current_user), new_token=token
    )


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@require_login
def revoke_token(token_id: int):
    """Revoke one of the person's API tokens."""
    service.revoke_token(current_user, token_id)
    flash(_("Токен отозван."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/account/password", methods=["POST"])
@require_login
def change_password():
    """Change one's own password; other browsers signed in as this person are signed out."""
    user = current_user._get_current_object()
    try:
        allowed = service.sign_in(user.email, request.form.get("current", "")) is not None
    except RateLimited as error:
        flash(error.message, "error")
        return redirect(url_for("accounts.account"))
    if not allowed:
        flash(_("Текущий пароль указан неверно."), "error")
    elif request.form.get("password") != request.form.get("password2"):
        flash(_("Пароли не совпадают."), "error")
    else:
        try:
            service.set_password(user, request.form.get("password", ""))
        except DomainError as error:
            flash(error.message, "error")
        else:
            # The new session version ended this session too: sign this browser in again,
            # renewing its remember-me cookie if it had one.
            cookie_name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(user, remember=cookie_name in request.cookies)
            flash(_("Пароль изменён. На других устройствах нужно войти заново."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/account/logout-everywhere", methods=["POST"])
@require_login
def logout_everywhere():
    """Sign out in every browser and device, this one included."""
    service.end_all_sessions(current_user._get_current_object())
    logout_user()
    flash(_("Вы вышли на всех устройствах."), "success")
    return redirect(url_for("core.home"))


# --- administration -------------------------------------------------------------------------


def _organization_from_form() -> Organization | None:
    org_id = request.form.get("organization_id", "")
    return service.get_organization(int(org_id)) if org_id.isdigit() else None


@bp.route("/admin/users", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def admin_users():
    """List accounts; add a user or an invitation."""
    invite_link = None
    if request.method == "POST":
        form = request.form
        try:
            organization = _organization_from_form()
            if form.get("mode") == "invite":
                token = service.create_invitation(
                    form.get("email", ""),
                    form.get("name", ""),
                    form.get("role", ""),
                    organization,
                    current_user,
                )
                invite_link = external_url("accounts.accept_invitation", token=token)
                flash(_("Приглашение создано. Отправьте ссылку человеку."), "success")
            else:
                service.create_user(
                    form.get("email", ""),
                    form.get("name", ""),
                    form.get("role", ""),
                    form.get("password", ""),
                    organization,
                )
                flash(_("Пользователь добавлен."), "success")
                return redirect(url_for("accounts.admin_users"))
        except DomainError as error:
            flash(error.message, "error")
            return render_template(
                "admin/users.html",
                users=service.list_users(),
                organizations=service.list_organizations(),
                roles=list(Role),
                invite_link=None,
                form=form,
            ), error.status
    return render_template(
        "admin/users.html",
        users=service.list_users(),
        organizations=service.list_organizations(),
        roles=list(Role),
        invite_link=invite_link,
        form={},
    )


@bp.route("/admin/users/<int:user_id>", methods=["POST"])
@require_role(Role.ADMIN)
def admin_update_user(user_id: int):
    """Change a user's role, organization or active state."""
    user = service.get_user_by_id(user_id)
    action = request.form.get("action")
    try:
        if action == "role":
            if user.id == current_user.id and request.form.get("role") != Role.ADMIN:
                raise DomainError(_("Нельзя снять с себя роль организатора."))
            service.change_role(user, request.form.get("role", ""))
        elif action == "organization":
            service.set_organization(user, _organization_from_form())
        elif action in ("deactivate", "activate"):
            if user.id == current_user.id:
                raise DomainError(_("Нельзя отключить собственную учётную запись."))
            service.set_active(user, action == "activate")
        else:
            raise DomainError(_("Неизвестное действие."))
        flash(_("Изменения сохранены: %(name)s.", name=user.name), "success")
    except DomainError as error:
        flash(error.message, "error")
    return redirect(url_for("accounts.admin_users"))


@bp.route("/admin/organizations", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def admin_organizations():
    """List and add the network's organizations."""
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            service.save_organization(
                form.get("name", ""),
                form.get("short_name", ""),
                form.get("kind", ""),
                form.get("city", ""),
            )
            flash(_("Организация добавлена."), "success")
            return redirect(url_for("accounts.admin_organizations"))
        except DomainError as error:
            flash(error.message, "error")
    return render_template(
        "admin/organizations.html",
        organizations=service.list_organizations(),
        kinds=list(OrganizationKind),
        form=form,
    )


@bp.route("/admin/organizations/<int:org_id>", methods=["GET", "POST"])
@require_role(Role.ADMIN)
def admin_edit_organization(org_id: int):
    """Edit one organization."""
    organization = service.get_organization(org_id)
    if request.method == "POST":
        form = request.form
        try:
            service.save_organization(
                form.get("name", ""),
                form.get("short_name", ""),
                form.get("kind", ""),
                form.get("city", ""),
                organization,
            )
            flash(_("Организация сохранена."), "success")
            return redirect(url_for("accounts.admin_organizations"))
        except DomainError as error:
            flash(error.message, "error")
    return render_template(
        "admin/organization_edit.html", organization=organization, kinds=list(OrganizationKind)
    )
