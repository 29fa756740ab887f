"""JSON API of the wiki under /api/v1 (described in kb/pages/openapi.py)."""

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from kb.api import iso, json_body, person
from kb.errors import BadRequest, InvalidInput
from kb.pages import attachments as files
from kb.pages import service
from kb.pages.models import Page, Revision
from kb.pages.render import render
from kb.security import require_read, require_role

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_CHANGES = 200


def page_summary(page: Page) -> dict:
    return {
        "slug": page.slug,
        "title": page.title,
        "space": page.space.slug,
        "tags": [tag.name for tag in page.tags],
        "revision": page.revision_number,
        "updated_at": iso(page.updated_at),
    }


def int_arg(name: str, *, default: int | None = None) -> int | None:
    """A number in the query string: ``default`` when absent, else an integer from 1."""
    raw = request.args.get(name, "").strip()
    return service.number_from_text(raw, name) if raw else default


def readable_page(slug: str) -> Page:
    """The page for ``slug``; a deleted page only for admins (404 for everyone else)."""
    return service.get_page(slug, include_deleted=service.sees_deleted(current_user))


@bp.get("/spaces")
@require_read
def list_spaces():
    """Spaces (clubs and working groups)."""
    counts = service.space_page_counts()
    return jsonify(
        spaces=[
            {
                "slug": space.slug,
                "title": space.title,
                "description": space.description,
                "is_default": space.is_default,
                "pages": counts.get(space.id, 0),
            }
            for space in service.list_spaces()
        ]
    )


@bp.get("/pages")
@require_read
def list_pages():
    """Live pages, optionally of one space and/or with one tag."""
    space_slug = request.args.get("space")
    space = service.require_space(space_slug) if space_slug else None
    pages = service.list_pages(space=space, tag=request.args.get("tag") or None)
    return jsonify(pages=[page_summary(page) for page in pages])


@bp.get("/pages/<slug>")
@require_read
def get_page(slug: str):
    """One page with its Markdown body and rendered HTML (old names follow the redirect)."""
    page = readable_page(slug)
    data = page_summary(page)
    data.update(
        deleted=page.deleted,
        body=page.body,
        html=service.display_html(page.html),
        author=person(page.updated_by),
    )
    return jsonify(data)


@bp.put("/pages/<slug>")
@require_role("editor")
def put_page(slug: str):
    """Create (base_revision null) or edit a page; concurrent edits merge or conflict."""
    data = json_body()
    if "body" not in data:
        raise InvalidInput(_("Поле body обязательно."))
    if "base_revision" not in data:
        raise InvalidInput(_("Поле base_revision обязательно (null для новой страницы)."))
    space_slug = data.get("space")
    space = None
    if space_slug is not None:
        space = service.get_space(space_slug) if isinstance(space_slug, str) else None
        if space is None:
            raise InvalidInput(_("Пространство «%(slug)s» не найдено.", slug=str(space_slug)))
    result = service.put_page(
        slug,
        title=data.get("title"),
        body=data["body"],
        author=current_user,
        space=space,
        tags=data.get("tags"),
        base_revision=data["base_revision"],
        comment=data.get("comment") or "",
    )
    response = jsonify(slug=result.slug, revision=result.revision, merged=result.merged)
    response.status_code = 201 if result.created else 200
    return response


@bp.delete("/pages/<slug>")
@require_role("admin")
def delete_page(slug: str):
    """Soft-delete a page (admins)."""
    page = service.get_page(slug)
    revision = service.delete_page(page, current_user, request.args.get("comment", ""))
    return jsonify(slug=page.slug, revision=revision, deleted=True)


@bp.post("/pages/<slug>/restore")
@require_role("admin")
def restore_page(slug: str):
    """Restore a deleted page (admins)."""
    page = service.get_page(slug, include_deleted=True)
    revision = service.restore_page(page, current_user)
    return jsonify(slug=page.slug, revision=revision, deleted=False)


def revision_item(revision: Revision) -> dict:
    return {
        "revision": revision.number,
        "kind": revision.kind,
        "title": revision.title,
        "author": person(revision.author),
        "comment": revision.comment,
        "created_at": iso(revision.created_at),
        "size": revision.size,
    }


@bp.get("/pages/<slug>/revisions")
@require_read
def revisions(slug: str):
    """The page's history, newest first."""
    page = readable_page(slug)
    return jsonify(revisions=[revision_item(row["revision"]) for row in service.history(page)])


@bp.get("/pages/<slug>/diff")
@require_read
def diff(slug: str):
    """Differences between two revisions: unified text and inline word-level HTML."""
    page = readable_page(slug)
    new = int_arg("to", default=page.revision_number)
    old = int_arg("from", default=max(new - 1, 1))
    result = service.diff(page, old, new)
    return jsonify({"from": old, "to": new, "unified": result["unified"], "html": result["html"]})


@bp.post("/pages/<slug>/revert")
@require_role("editor")
def revert(slug: str):
    """Make an old revision's text current again (as a new revision)."""
    page = service.get_page(slug)
    data = json_body()
    number = data.get("revision")
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidInput(_("Укажите номер версии (revision) числом."))
    result = service.revert_page(page, number, current_user, data.get("comment") or "")
    return jsonify(revision=result.revision)


@bp.get("/pages/<slug>/backlinks")
@require_read
def backlinks(slug: str):
    """Pages that link here."""
    page = readable_page(slug)
    return jsonify(pages=[p.slug for p in service.backlinks(page)])


@bp.get("/pages/<slug>/attachments")
@require_read
def list_attachments(slug: str):
    """The page's files (current versions)."""
    page = readable_page(slug)
    return jsonify(attachments=[files.describe(a) for a in service.page_attachments(page)])


@bp.post("/pages/<slug>/attachments")
@require_role("editor")
def upload(slug: str):
    """Attach a file (multipart field `file`); the same name again adds a version."""
    page = service.get_page(slug)
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(_("Выберите файл (поле file)."))
    version = files.add_attachment(page, upload.filename, upload.stream, current_user)
    data = files.describe(version.attachment)
    return jsonify(data), 201


@bp.get("/changes")
@require_read
def changes():
    """Recent changes across the wiki or in one space."""
    space_slug = request.args.get("space")
    space = service.require_space(space_slug) if space_slug else None
    limit = int_arg("limit", default=50)
    if not 1 <= limit <= MAX_CHANGES:
        raise InvalidInput(_("limit должен быть от 1 до %(n)s.", n=MAX_CHANGES))
    return jsonify(
        changes=[
            {
                "slug": change.page.slug,
                "title": change.revision.title,
                "space": change.page.space.slug,
                "revision": change.revision.number,
                "kind": change.revision.kind,
                "author": person(change.author),
                "comment": change.revision.comment,
                "created_at": iso(change.revision.created_at),
                "size": change.revision.size,
                "delta": change.delta,
            }
            for change in service.recent_changes(
                space=space, limit=limit, include_deleted=service.sees_deleted(current_user)
            )
        ]
    )


@bp.post("/preview")
@require_role("editor")
def preview():
    """Render Markdown through the same pipeline as saving (for the editor's preview tab)."""
    data = json_body()
    body = service.check_body(data.get("body", ""))
    page = service.find_page(data["slug"]) if isinstance(data.get("slug"), str) else None
    html = render(body, page.id if page else None).html
    return jsonify(html=service.display_html(html))
