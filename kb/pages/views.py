"""HTML views of the wiki: pages, editor, history, diffs, spaces, tags, templates, feeds."""

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from kb.accounts import service as accounts
from kb.database import db
from kb.errors import Conflict, DomainError, NotFound
from kb.pages import attachments as files
from kb.pages import bp, cache, feeds, service
from kb.pages.slugs import slug_for_title, title_for_slug
from kb.security import require_read, require_role
from kb.urls import external_url

KIND_LABELS = {
    "create": "создание",
    "edit": "правка",
    "rename": "переименование",
    "move": "перенос",
    "delete": "удаление",
    "restore": "восстановление",
    "revert": "возврат",
}


@bp.app_template_filter("kind_label")
def kind_label(kind: str) -> str:
    return _(KIND_LABELS.get(kind, kind))


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    if size < 1024:
        return _("%(n)s Б", n=size)
    if size < 1024 * 1024:
        return _("%(n)s КБ", n=round(size / 1024))
    return _("%(n)s МБ", n=f"{size / 1024 / 1024:.1f}".replace(".", ","))


def _form_number(name: str) -> int | None:
    """A number field of a form: None when empty, else an integer from 1 (or 400/422)."""
    raw = (request.form.get(name) or "").strip()
    return service.number_from_text(raw, name) if raw else None


def _query_number(name: str, default: int | None = None) -> int | None:
    """A number in the query string: ``default`` when absent, else an integer from 1."""
    raw = request.args.get(name, "").strip()
    return service.number_from_text(raw, name) if raw else default


def _sees_deleted() -> bool:
    return service.sees_deleted(current_user)


def _canonical(slug: str, endpoint: str, **kwargs):
    """Redirect old names (renamed pages) and non-canonical spellings to the page's name.

    A deleted page is there only for admins: for everyone else its old names lead nowhere
    (a redirect would tell where it went).
    """
    page, redirected = service.resolve_page(slug)
    if page is not None and page.deleted and redirected and not _sees_deleted():
        page, redirected = None, False
    canonical = slug_for_title(slug)
    if page is not None and (redirected or page.slug != slug):
        return page, redirect(url_for(endpoint, slug=page.slug, **kwargs, **request.args))
    if page is None and canonical != slug:
        return None, redirect(url_for(endpoint, slug=canonical, **kwargs, **request.args))
    return page, None


# ---------------------------------------------------------------- pages


@bp.route("/wiki/<slug>")
@require_read
def view_page(slug: str):
    """A page (or one of its old revisions with ?revision=N); guests' views come from a cache."""
    guest_view = cache.GuestView(slug)
    if (response := guest_view.cached()) is not None:
        return response
    page, moved = _canonical(slug, "pages.view_page")
    if moved:
        if page is not None:
            flash(_("Вы перешли по старому названию «%(old)s».", old=title_for_slug(slug)), "info")
        return moved
    if page is None:
        return render_template(
            "pages/missing.html", slug=slug, title=title_for_slug(slug), deleted=False
        ), 404
    if page.deleted and not _sees_deleted():
        return render_template(
            "pages/missing.html", slug=slug, title=page.title, deleted=True, page=page
        ), 404
    revision = None
    number = _query_number("revision")
    if number is not None and number != page.revision_number:
        revision = service.get_revision(page, number)
    html = service.display_html(revision.html if revision else page.html)
    return guest_view.keep(render_template(
        "pages/view.html",
        page=page,
        revision=revision,
        html=html,
        attachments=service.page_attachments(page, include_deleted=_sees_deleted()),
        backlinks=service.backlinks(page),
        first=service.first_revision(page),
        **guest_view.context,
    ))  # fmt: skip


def _editor(page, slug: str, *, status: int = 200, **context):
    templates = service.list_templates()
    template_id = _query_number("template")
    chosen = next((t for t in templates if t.id == template_id), None)
    space_slug = request.values.get("space")
    context.setdefault("body", page.body if page else (chosen.body if chosen else ""))
    context.setdefault("base_revision", page.revision_number if page else "")
    context.setdefault("tags", ", ".join(t.name for t in page.tags) if page else "")
    context.setdefault("comment", "")
    context.setdefault(
        "space_slug", page.space.slug if page else (space_slug or service.default_space().slug)
    )
    return render_template(
        "pages/edit.html",
        page=page,
        slug=page.slug if page else slug,
        title=page.title if page else title_for_slug(slug),
        templates=templates,
        chosen_template=chosen,
        template_chosen="template" in request.args,
        spaces=service.list_spaces(),
        max_upload_mb=current_app.config["KB_MAX_UPLOAD_MB"],
        **context,
    ), status


@bp.route("/wiki/<slug>/edit", methods=["GET", "POST"])
@require_role("editor")
def edit_page(slug: str):
    """The editor: create a page or edit it; concurrent edits merge or show a conflict."""
    page, moved = _canonical(slug, "pages.edit_page")
    if moved:
        return moved
    if request.method == "GET":
        if page is not None and page.deleted and not current_user.is_admin:
            raise NotFound(_("Страница удалена. Восстановить её может организатор сети."))
        return _editor(page if page and not page.deleted else None, slug)

    body = request.form.get("body", "")
    comment = request.form.get("comment", "")
    tags = request.form.get("tags", "")
    base_revision = _form_number("base_revision")
    space_slug = request.form.get("space") or None
    form = {"body": body, "comment": comment, "tags": tags, "base_revision": base_revision or ""}
    live = page if page and not page.deleted else None
    try:
        space = service.require_space(space_slug) if space_slug else None
        result = service.put_page(
            slug,
            title=None if live else request.form.get("title") or title_for_slug(slug),
            body=body,
            author=current_user,
            space=space,
            tags=tags,
            base_revision=base_revision,
            comment=comment,
        )
    except Conflict as conflict:
        db.session.rollback()
        current = service.find_page(slug_for_title(slug))
        return _editor(
            current,
            slug,
            status=409,
            conflict=conflict,
            theirs=current.body if current else "",
            passages=conflict.extra.get("passages") or [],
            **{**form, "base_revision": conflict.extra.get("current_revision") or ""},
            space_slug=space_slug or (current.space.slug if current else ""),
        )
    except DomainError as error:
        db.session.rollback()
        return _editor(live, slug, status=error.status, error=error.message, **form,
                       space_slug=space_slug or "")  # fmt: skip
    if result.created:
        flash(_("Страница создана."), "success")
    elif not result.changed:
        flash(_("Изменений нет — новая версия не создана."), "info")
    elif result.merged:
        flash(
            _("Пока вы правили, страницу изменил коллега. Правки не пересеклись и объединены."),
            "success",
        )
    else:
        flash(_("Изменения сохранены (версия %(n)s).", n=result.revision), "success")
    return redirect(url_for("pages.view_page", slug=result.slug))


@bp.route("/new", methods=["GET", "POST"])
@require_role("editor")
def new_page():
    """Start a new page: title, space and template."""
    templates = service.list_templates()
    spaces = service.list_spaces()
    error = None
    title = request.values.get("title", "")
    space_slug = request.values.get("space", "")
    if request.method == "POST":
        try:
            title = service.check_title(title)
            slug = slug_for_title(title)
            existing, _redirected = service.resolve_page(slug)
            if existing is not None and not existing.deleted:
                flash(_("Такая страница уже есть — откройте её и дополните."), "info")
                return redirect(url_for("pages.view_page", slug=existing.slug))
            args = {"slug": slug}
            if space_slug:
                args["space"] = service.require_space(space_slug).slug
            # the choice made here (a template or none) is not offered again in the editor
            args["template"] = _form_number("template") or ""
            return redirect(url_for("pages.edit_page", **args))
        except DomainError as exc:
            error = exc.message
    return render_template(
        "pages/new.html",
        templates=templates,
        spaces=spaces,
        title=title,
        space_slug=space_slug,
        error=error,
    ), (422 if error else 200)


def _readable(page):
    """The page if this visitor may read it: a deleted page is missing for all but admins."""
    if page is None or (page.deleted and not _sees_deleted()):
        raise NotFound(_("Страница не найдена."))
    return page


@bp.route("/wiki/<slug>/history")
@require_read
def history(slug: str):
    """All revisions of a page."""
    page, moved = _canonical(slug, "pages.history")
    if moved:
        return moved
    page = _readable(page)
    return render_template("pages/history.html", page=page, rows=service.history(page))


@bp.route("/wiki/<slug>/diff")
@require_read
def diff(slug: str):
    """Differences between two revisions."""
    page, moved = _canonical(slug, "pages.diff")
    if moved:
        return moved
    page = _readable(page)
    new = _query_number("to", page.revision_number)
    old = _query_number("from", max(new - 1, 1))
    if old > new:
        old, new = new, old
    result = service.diff(page, old, new)
    return render_template("pages/diff.html", page=page, diff=result)


@bp.post("/wiki/<slug>/revert")
@require_role("editor")
def revert(slug: str):
    """Return the page to an old revision's text."""
    page = service.get_page(slug)
    number = _form_number("revision")
    if number is None:
        raise NotFound(_("Версия не указана."))
    result = service.revert_page(page, number, current_user)
    if result.changed:
        flash(_("Текст версии %(n)s снова актуален.", n=number), "success")
    else:
        flash(_("Текст и так совпадает с версией %(n)s.", n=number), "info")
    return redirect(url_for("pages.view_page", slug=page.slug))


@bp.route("/wiki/<slug>/rename", methods=["GET", "POST"])
@require_role("editor")
def rename(slug: str):
    """Rename or move a page to another space; the old name keeps working."""
    page = service.get_page(slug)
    error = None
    if request.method == "POST":
        try:
            space_slug = request.form.get("space")
            space = service.require_space(space_slug) if space_slug else None
            service.rename_page(
                page,
                request.form.get("title", ""),
                current_user,
                space=space,
                comment=request.form.get("comment", ""),
            )
            flash(_("Страница переименована. Старое название ведёт на неё."), "success")
            return redirect(url_for("pages.view_page", slug=page.slug))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    return render_template(
        "pages/rename.html", page=page, spaces=service.list_spaces(), error=error
    ), (422 if error else 200)


@bp.post("/wiki/<slug>/delete")
@require_role("admin")
def delete(slug: str):
    """Soft-delete a page (admins)."""
    page = service.get_page(slug)
    service.delete_page(page, current_user, request.form.get("comment", ""))
    flash(_("Страница удалена. Её можно восстановить."), "success")
    return redirect(url_for("pages.view_page", slug=page.slug))


@bp.post("/wiki/<slug>/restore")
@require_role("admin")
def restore(slug: str):
    """Restore a deleted page (admins)."""
    page = service.get_page(slug, include_deleted=True)
    service.restore_page(page, current_user)
    flash(_("Страница восстановлена."), "success")
    return redirect(url_for("pages.view_page", slug=page.slug))


# ---------------------------------------------------------------- attachments


@bp.post("/wiki/<slug>/attachments")
@require_role("editor")
def upload(slug: str):
    """Attach a file from the page (the form works without JavaScript too)."""
    page = service.get_page(slug)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Выберите файл."), "error")
    else:
        try:
            version = files.add_attachment(page, upload.filename, upload.stream, current_user)
            flash(_("Файл «%(name)s» прикреплён.", name=version.attachment.filename), "success")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("pages.view_page", slug=page.slug) + "#files")


@bp.route("/files/<int:page_id>/<path:filename>")
@require_read
def download(page_id: int, filename: str):
    """Download a file: images inline, everything else as an attachment."""
    version = files.version_for_download(
        page_id, filename, _query_number("v"), admin=_sees_deleted()
    )
    path = files.blob_path(version.sha256)
    if not path.is_file():
        raise NotFound(_("Файл потерян на диске. Сообщите организатору сети."))
    response = send_file(
        path,
        mimetype=version.content_type,
        as_attachment=not files.is_inline(version),
        download_name=version.attachment.filename,
        conditional=True,
        etag=version.sha256,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/attachments/<int:attachment_id>/delete")
@require_role("admin")
def delete_attachment(attachment_id: int):
    """Hide a file (admins)."""
    attachment = files.get_attachment(attachment_id)
    files.set_attachment_deleted(attachment, True, current_user)
    flash(_("Файл «%(name)s» удалён.", name=attachment.filename), "success")
    return redirect(url_for("pages.view_page", slug=attachment.page.slug) + "#files")


@bp.post("/attachments/<int:attachment_id>/restore")
@require_role("admin")
def restore_attachment(attachment_id: int):
    """Bring a deleted file back (admins)."""
    attachment = files.get_attachment(attachment_id)
    files.set_attachment_deleted(attachment, False, current_user)
    flash(_("Файл «%(name)s» восстановлен.", name=attachment.filename), "success")
    return redirect(url_for("pages.view_page", slug=attachment.page.slug) + "#files")


# ---------------------------------------------------------------- spaces, tags, changes


@bp.route("/spaces", methods=["GET", "POST"])
@require_read
def spaces():
    """Clubs and working groups."""
    error = None
    if request.method == "POST":
        if not (current_user.is_authenticated and current_user.is_admin):
            abort(403)
        try:
            space = service.create_space(
                request.form.get("slug") or request.form.get("title", ""),
                request.form.get("title", ""),
                request.form.get("description", ""),
                actor=current_user,
            )
            flash(_("Пространство «%(title)s» создано.", title=space.title), "success")
            return redirect(url_for("pages.space", slug=space.slug))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    return render_template(
        "pages/spaces.html",
        spaces=service.list_spaces(),
        counts=service.space_page_counts(),
        error=error,
    ), (422 if error else 200)


@bp.route("/spaces/<slug>")
@require_read
def space(slug: str):
    """A space: its pages, members and recent changes."""
    space = service.require_space(slug)
    return render_template(
        "pages/space.html",
        space=space,
        pages=service.space_pages(space),
        changes=service.recent_changes(space=space, limit=15, include_deleted=_sees_deleted()),
    )


@bp.route("/spaces/<slug>/edit", methods=["GET", "POST"])
@require_role("admin")
def edit_space(slug: str):
    """Edit a space's title, description and members (admins)."""
    space = service.require_space(slug)
    error = None
    if request.method == "POST":
        try:
            action = request.form.get("action", "save")
            if action == "save":
                service.update_space(
                    space,
                    title=request.form.get("title", ""),
                    description=request.form.get("description", ""),
                    actor=current_user,
                )
                flash(_("Пространство сохранено."), "success")
            elif action in ("add_member", "remove_member"):
                user = accounts.get_user(request.form.get("email", "").strip())
                service.set_space_member(space, user, action == "add_member", actor=current_user)
                flash(_("Состав участников обновлён."), "success")
            return redirect(url_for("pages.edit_space", slug=space.slug))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    return render_template(
        "pages/space_edit.html", space=space, users=accounts.list_users(), error=error
    ), (422 if error else 200)


@bp.route("/tags")
@require_read
def tags():
    """All tags with their page counts."""
    return render_template("pages/tags.html", tags=service.tag_cloud())


@bp.route("/tags/<name>")
@require_read
def tag(name: str):
    """Pages with one tag."""
    pages = service.list_pages(tag=name)
    return render_template("pages/tag.html", name=name, pages=pages), (200 if pages else 404)


@bp.route("/recent")
@require_read
def recent_changes():
    """Recent changes with filters by space, author and organization."""
    space_slug = request.args.get("space") or None
    space = service.require_space(space_slug) if space_slug else None
    author_id = _query_number("author")
    org_id = _query_number("org")
    limit = min(max(request.args.get("limit", 50, type=int), 1), 500)
    return render_template(
        "pages/recent.html",
        changes=service.recent_changes(
            space=space,
            author_id=author_id,
            organization_id=org_id,
            limit=limit,
            include_deleted=_sees_deleted(),
        ),
        spaces=service.list_spaces(),
        authors=service.change_authors(),
        organizations=service.change_organizations(),
        space_slug=space_slug or "",
        author_id=author_id,
        org_id=org_id,
    )


def _feed(title: str, changes, feed_endpoint: str, site_url: str, **kwargs) -> Response:
    body = feeds.atom_feed(
        title=title,
        feed_url=external_url(feed_endpoint, **kwargs),
        site_url=site_url,
        changes=changes,
    )
    return Response(body, mimetype="application/atom+xml")


@bp.route("/recent.atom")
@require_read
def recent_feed():
    """Atom feed of the wiki's recent changes."""
    name = current_app.config["KB_NETWORK_NAME"]
    return _feed(
        _("%(name)s: последние изменения", name=name),
        service.recent_changes(limit=50, include_deleted=_sees_deleted()),
        "pages.recent_feed",
        external_url("pages.recent_changes"),
    )


@bp.route("/spaces/<slug>/recent.atom")
@require_read
def space_feed(slug: str):
    """Atom feed of one space's recent changes."""
    space = service.require_space(slug)
    return _feed(
        _("%(space)s: последние изменения", space=space.title),
        service.recent_changes(space=space, limit=50, include_deleted=_sees_deleted()),
        "pages.space_feed",
        external_url("pages.space", slug=space.slug),
        slug=space.slug,
    )


# ---------------------------------------------------------------- templates


@bp.route("/templates", methods=["GET", "POST"])
@require_role("admin")
def templates():
    """Page templates offered when creating a page (admins)."""
    error = None
    if request.method == "POST":
        try:
            template = service.save_template(
                None,
                name=request.form.get("name", ""),
                description=request.form.get("description", ""),
                body=request.form.get("body", ""),
                actor=current_user,
            )
            flash(_("Шаблон «%(name)s» добавлен.", name=template.name), "success")
            return redirect(url_for("pages.templates"))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    return render_template(
        "pages/templates.html", templates=service.list_templates(), error=error
    ), (422 if error else 200)


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@require_role("admin")
def edit_template(template_id: int):
    """Edit or delete a page template (admins)."""
    template = service.get_template(template_id)
    error = None
    if request.method == "POST":
        try:
            if request.form.get("action") == "delete":
                service.delete_template(template, actor=current_user)
                flash(_("Шаблон удалён."), "success")
            else:
                service.save_template(
                    template,
                    name=request.form.get("name", ""),
                    description=request.form.get("description", ""),
                    body=request.form.get("body", ""),
                    actor=current_user,
                )
                flash(_("Шаблон сохранён."), "success")
            return redirect(url_for("pages.templates"))
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
    return render_template("pages/template_edit.html", template=template, error=error), (
        422 if error else 200
    )
