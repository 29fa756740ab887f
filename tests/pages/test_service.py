"""Service rules: saving, merging, conflicts, renames, deletes, reverts, validation."""

import pytest

from kb.errors import Conflict, Forbidden, InvalidInput, NotFound
from kb.pages import service as pages
from kb.pages.merge import MINE_MARKER, THEIRS_MARKER, merge_edit
from kb.pages.models import PageLink, PageRedirect, Revision
from tests.pages.conftest import changes_for

BASE = "Цель занятия.\n\nОборудование: Bee-Bot.\n\nХод занятия.\n\nИтоги.\n"


def create(ctx, title="Пчёлки Bee-Bot", body=BASE, **kw):
    return pages.put_page(
        pages.slug_for_title(title), title=title, body=body, author=ctx["editor"],
        base_revision=None, **kw,
    )  # fmt: skip


def edit(ctx, slug, body, base, who="editor", **kw):
    return pages.put_page(slug, title=None, body=body, author=ctx[who], base_revision=base, **kw)


# ---------------------------------------------------------------- merge function


def test_merge_clean_keeps_both_edits():
    theirs = BASE.replace("Цель занятия.", "Цель занятия: знакомство с роботом.")
    mine = BASE.replace("Итоги.", "Итоги: дети запомнили стрелки.")
    result = merge_edit(BASE, theirs, mine)
    assert not result.conflicts
    assert "знакомство с роботом" in result.body and "запомнили стрелки" in result.body


def test_merge_same_line_conflicts_with_both_versions():
    result = merge_edit(BASE, BASE.replace("Bee-Bot", "LEGO"), BASE.replace("Bee-Bot", "WeDo"))
    assert result.conflicts
    assert MINE_MARKER in result.body and THEIRS_MARKER in result.body
    assert result.body.index("WeDo") < result.body.index("LEGO")  # mine first


def test_merge_identical_edits_are_not_a_conflict():
    changed = BASE.replace("Итоги.", "Итоги занятия.")
    assert merge_edit(BASE, changed, changed) == type(merge_edit(BASE, BASE, BASE))(changed, False)


def test_merge_deleted_lines_and_edit_elsewhere():
    theirs = BASE.replace("Оборудование: Bee-Bot.\n\n", "")
    mine = BASE.replace("Итоги.", "Итоги и рефлексия.")
    result = merge_edit(BASE, theirs, mine)
    assert not result.conflicts
    assert "Оборудование" not in result.body and "рефлексия" in result.body


def test_merge_deleting_a_line_someone_edited_conflicts():
    theirs = BASE.replace("Оборудование: Bee-Bot.\n", "")
    mine = BASE.replace("Оборудование: Bee-Bot.", "Оборудование: два Bee-Bot и коврик.")
    assert merge_edit(BASE, theirs, mine).conflicts


# ---------------------------------------------------------------- saving


def test_create_page_first_revision_and_search_change(ctx):
    result = create(ctx, tags=["Bee-Bot", "средняя группа", "bee-bot"])
    assert result.created and result.revision == 1 and not result.merged
    page = pages.find_page("Пчёлки_Bee-Bot")
    assert page.title == "Пчёлки Bee-Bot" and page.space.is_default
    assert [t.name for t in page.tags] == ["Bee-Bot", "средняя группа"]
    assert page.html.startswith("<p>Цель занятия.")
    assert changes_for("page", page.id) == 1
    revision = pages.get_revision(page, 1)
    assert revision.kind == "create" and revision.author == ctx["editor"]


def test_unchanged_save_creates_no_revision(ctx):
    slug = create(ctx).slug
    result = edit(ctx, slug, BASE, 1)
    assert result.revision == 1 and not result.changed
    assert pages.find_page(slug).revision_number == 1
    assert pages.history(pages.find_page(slug))[0]["revision"].number == 1


def test_edit_on_current_base(ctx):
    slug = create(ctx).slug
    result = edit(ctx, slug, BASE + "\nДобавлено.\n", 1, comment="дополнила")
    assert (result.revision, result.merged, result.created) == (2, False, False)
    page = pages.find_page(slug)
    assert page.revision_number == 2 and "Добавлено" in page.html
    revision = pages.get_revision(page, 2)
    assert revision.parent_number == 1 and revision.comment == "дополнила"
    assert changes_for("page", page.id) == 2


def test_concurrent_edits_merge(ctx):
    slug = create(ctx).slug
    edit(ctx, slug, BASE.replace("Цель занятия.", "Цель: знакомство."), 1, who="admin")
    result = edit(ctx, slug, BASE.replace("Итоги.", "Итоги: всё получилось."), 1)
    assert result.merged and result.revision == 3
    body = pages.find_page(slug).body
    assert "Цель: знакомство." in body and "всё получилось" in body


def test_overlapping_edit_conflicts_and_stores_nothing(ctx):
    slug = create(ctx).slug
    edit(ctx, slug, BASE.replace("Bee-Bot", "LEGO"), 1, who="admin")
    with pytest.raises(Conflict) as caught:
        edit(ctx, slug, BASE.replace("Bee-Bot", "WeDo"), 1)
    assert caught.value.status == 409
    assert caught.value.extra["current_revision"] == 2
    assert "WeDo" in caught.value.extra["body_with_conflicts"]
    assert "LEGO" in caught.value.extra["body_with_conflicts"]
    assert pages.find_page(slug).revision_number == 2


def test_conflict_comes_with_passages_to_choose_from(ctx):
    slug = create(ctx).slug
    edit(ctx, slug, BASE.replace("Bee-Bot", "LEGO").replace("Итоги.", "Итоги: ура."), 1,
         who="admin")  # fmt: skip
    with pytest.raises(Conflict) as caught:
        edit(ctx, slug, BASE.replace("Bee-Bot", "WeDo"), 1)
    passages = caught.value.extra["passages"]
    assert passages[0] == {"text": "Цель занятия.\n\n"}
    assert passages[1] == {"mine": "Оборудование: WeDo.\n", "theirs": "Оборудование: LEGO.\n"}
    # the colleague's other edit is already merged into the agreed text after the place
    assert passages[2] == {"text": "\nХод занятия.\n\nИтоги: ура.\n"}
    # choosing a variant for every place gives a body that saves on top of theirs
    resolved = passages[0]["text"] + passages[1]["mine"] + passages[2]["text"]
    assert edit(ctx, slug, resolved, 2).revision == 3
    assert pages.find_page(slug).body == BASE.replace("Bee-Bot", "WeDo").replace(
        "Итоги.", "Итоги: ура."
    )


def test_unresolved_conflict_markers_are_never_saved(ctx):
    """«Перенести объединение в редактор» then «Сохранить» once stored the markers."""
    slug = create(ctx).slug
    edit(ctx, slug, BASE.replace("Bee-Bot", "LEGO"), 1, who="admin")
    with pytest.raises(Conflict) as caught:
        edit(ctx, slug, BASE.replace("Bee-Bot", "WeDo"), 1)
    with_markers = caught.value.extra["body_with_conflicts"]
    assert MINE_MARKER in with_markers
    for body in (with_markers, with_markers.replace(THEIRS_MARKER + "\n", "")):
        with pytest.raises(InvalidInput, match="отметки конфликта"):
            edit(ctx, slug, body, 2)
    with pytest.raises(InvalidInput, match="отметки конфликта"):
        create(ctx, title="Новая", body=with_markers)
    assert pages.find_page(slug).revision_number == 2
    assert pages.find_page("Новая") is None
    # the words alone, or a «=======» line (a Markdown heading underline), are fine
    text = "Заголовок\n=======\n\nСтрелки <<<<<<< ваша версия в тексте\n"
    assert edit(ctx, slug, text, 2).revision == 3


def test_base_revision_null_on_existing_page_conflicts(ctx):
    slug = create(ctx).slug
    with pytest.raises(Conflict) as caught:
        pages.put_page(slug, title=None, body="Другое", author=ctx["admin"], base_revision=None)
    assert caught.value.extra["current_revision"] == 1


def test_wrong_base_revisions(ctx):
    slug = create(ctx).slug
    for base in (5, 0, -1, "2", True, 1.0):
        with pytest.raises(InvalidInput):
            edit(ctx, slug, "текст", base)
    assert pages.find_page(slug).revision_number == 1


def test_base_revision_for_a_missing_page(ctx):
    with pytest.raises(InvalidInput):
        pages.put_page("Нет_такой", title=None, body="x", author=ctx["editor"], base_revision=1)


BAD_INPUT = [
    ("А", "", "текст"),
    ("А" * 201, "А" * 201, "текст"),
    ("..", None, "текст"),
    ("a..b", None, "текст"),
    ("abc\x07", None, "текст"),
    ("Имя", None, "x" * (1024 * 1024 + 1)),
    ("Имя", "Другое имя", "текст"),
    ("Имя", None, 42),
    ("Имя", None, "нулевой\x00символ"),
]


def test_bad_input_is_rejected_and_nothing_stored(ctx):
    for slug, title, body in BAD_INPUT:
        with pytest.raises(InvalidInput):
            pages.put_page(slug, title=title, body=body, author=ctx["editor"], base_revision=None)
    with pytest.raises(InvalidInput):
        pages.put_page("Имя", title=None, body="x", author=ctx["editor"], base_revision=None,
                       comment="к" * 501)  # fmt: skip
    with pytest.raises(InvalidInput):
        pages.put_page("Имя", title=None, body="x", author=ctx["editor"], base_revision=None,
                       tags=[f"метка{n}" for n in range(21)])  # fmt: skip
    assert pages.list_pages() == []
    assert pages.db.session.query(Revision).count() == 0


def test_readers_cannot_edit(ctx):
    with pytest.raises(Forbidden):
        pages.put_page("Имя", title=None, body="x", author=ctx["reader"], base_revision=None)


def test_tags_only_change_makes_no_revision_but_is_recorded(ctx):
    slug = create(ctx).slug
    page = pages.find_page(slug)
    result = edit(ctx, slug, BASE, 1, tags=["новая метка"])
    assert not result.changed and [t.name for t in page.tags] == ["новая метка"]
    assert changes_for("page", page.id) == 2


def test_move_to_another_space(ctx):
    slug = create(ctx).slug
    club = pages.get_space("Растим_инженеров")
    result = edit(ctx, slug, BASE, 1, space=club)
    page = pages.find_page(slug)
    assert result.revision == 2 and page.space == club
    assert pages.get_revision(page, 2).kind == "move"


# ---------------------------------------------------------------- rename, delete, revert


def test_rename_keeps_history_and_leaves_redirect(ctx):
    slug = create(ctx).slug
    pages.put_page("Ссылающаяся", title=None, body="См. [[Пчёлки Bee-Bot]]",
                   author=ctx["editor"], base_revision=None)  # fmt: skip
    page = pages.find_page(slug)
    pages.rename_page(page, "Пчёлки Bee-Bot: первое занятие", ctx["editor"])
    assert page.slug == "Пчёлки_Bee-Bot:_первое_занятие" and page.revision_number == 2
    assert pages.get_revision(page, 2).kind == "rename"
    assert "переименовано" in pages.get_revision(page, 2).comment.lower()
    resolved, redirected = pages.resolve_page(slug)
    assert resolved is page and redirected
    assert [p.slug for p in pages.backlinks(page)] == ["Ссылающаяся"]
    assert pages.existing_slugs({slug}) == {slug}  # the old link stays blue
    assert changes_for("page", page.id) == 2


def test_rename_onto_existing_page_conflicts(ctx):
    create(ctx, title="Первая")
    create(ctx, title="Вторая")
    with pytest.raises(Conflict):
        pages.rename_page(pages.find_page("Первая"), "Вторая", ctx["editor"])


def test_rename_back_reuses_redirect(ctx):
    create(ctx, title="Первая")
    page = pages.find_page("Первая")
    pages.rename_page(page, "Вторая", ctx["editor"])
    pages.rename_page(page, "Первая", ctx["editor"])
    assert page.slug == "Первая"
    assert {r.slug for r in pages.db.session.query(PageRedirect)} == {"Вторая"}


def test_delete_and_restore_are_revisions_for_admins_only(ctx):
    slug = create(ctx).slug
    page = pages.find_page(slug)
    with pytest.raises(Forbidden):
        pages.delete_page(page, ctx["editor"])
    assert pages.delete_page(page, ctx["admin"]) == 2
    assert page.deleted and pages.get_revision(page, 2).kind == "delete"
    with pytest.raises(NotFound):
        pages.get_page(slug)
    assert pages.list_pages() == []
    assert pages.restore_page(page, ctx["admin"]) == 3
    assert not page.deleted and pages.get_revision(page, 3).kind == "restore"
    assert changes_for("page", page.id) == 3


def test_recreating_a_deleted_page_continues_its_history(ctx):
    slug = create(ctx).slug
    page = pages.find_page(slug)
    pages.delete_page(page, ctx["admin"])
    result = pages.put_page(slug, title=None, body="Заново", author=ctx["editor"],
                            base_revision=None)  # fmt: skip
    assert result.revision == 3 and not page.deleted and page.body == "Заново"


def test_revert_to_old_revision(ctx):
    slug = create(ctx).slug
    edit(ctx, slug, "Совсем другой текст\n", 1)
    page = pages.find_page(slug)
    result = pages.revert_page(page, 1, ctx["editor"])
    assert result.revision == 3 and page.body == BASE
    revision = pages.get_revision(page, 3)
    assert revision.kind == "revert" and "1" in revision.comment
    assert not pages.revert_page(page, 3, ctx["editor"]).changed
    with pytest.raises(NotFound):
        pages.revert_page(page, 99, ctx["editor"])


def test_history_and_diff(ctx):
    slug = create(ctx).slug
    edit(ctx, slug, BASE.replace("Итоги.", "Итоги: дети быстро запомнили стрелки."), 1)
    page = pages.find_page(slug)
    rows = pages.history(page)
    assert [r["revision"].number for r in rows] == [2, 1]
    assert rows[0]["delta"] > 0 and rows[1]["delta"] == rows[1]["revision"].size
    result = pages.diff(page, 1, 2)
    assert "<ins>" in result["html"] and "запомнили" in result["html"]
    assert result["unified"].startswith("--- версия 1\n+++ версия 2")


def test_links_table_follows_saves(ctx):
    pages.put_page("Источник", title=None, body="[[Цель]] и [[Другая|подпись]]",
                   author=ctx["editor"], base_revision=None)  # fmt: skip
    source = pages.find_page("Источник")
    targets = {link.target_slug for link in pages.db.session.query(PageLink)}
    assert targets == {"Цель", "Другая"}
    pages.put_page("Источник", title=None, body="[[Цель]]", author=ctx["editor"], base_revision=1)
    assert {ln.target_slug for ln in pages.db.session.query(PageLink)} == {"Цель"}
    create(ctx, title="Цель")
    assert [p.slug for p in pages.backlinks(pages.find_page("Цель"))] == [source.slug]


def test_recent_changes_filters(ctx):
    create(ctx, title="Первая")
    club = pages.get_space("Растим_инженеров")
    pages.put_page("Клубная", title=None, body="x", author=ctx["admin"], space=club,
                   base_revision=None)  # fmt: skip
    assert len(pages.recent_changes()) == 2
    assert [c.page.slug for c in pages.recent_changes(space=club)] == ["Клубная"]
    assert [c.page.slug for c in pages.recent_changes(author_id=ctx["editor"].id)] == ["Первая"]
    org = ctx["editor"].organization
    assert len(pages.recent_changes(organization_id=org.id)) == 2
    assert pages.db.session.query(Revision).count() == 2


def test_spaces_and_templates_need_admins(ctx):
    with pytest.raises(Forbidden):
        pages.create_space("Новый", "Новый клуб", actor=ctx["editor"])
    space = pages.create_space("", "Цифровая лаборатория", actor=ctx["admin"])
    assert space.slug == "Цифровая_лаборатория"
    with pytest.raises(Conflict):
        pages.create_space("", "Цифровая лаборатория", actor=ctx["admin"])
    with pytest.raises(InvalidInput):
        pages.create_space("плохой/адрес?", "Т", actor=ctx["admin"])
    with pytest.raises(Forbidden):
        pages.save_template(None, name="Т", description="", body="", actor=ctx["editor"])
    template = pages.save_template(None, name="Отчёт о мероприятии", description="",
                                   body="## Итоги", actor=ctx["admin"])  # fmt: skip
    assert template in pages.list_templates()
