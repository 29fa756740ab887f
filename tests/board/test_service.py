"""Board rules, tested through the service layer (no sockets)."""

import threading

import pytest
import sqlalchemy as sa

from kb.board import service as boards
from kb.board.models import BoardEvent
from kb.database import db
from kb.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from tests.board.conftest import guest


def test_code_is_six_unambiguous_characters(ctx):
    codes = {boards.create_board(ctx["editor"], f"Доска {i}").code for i in range(20)}
    assert len(codes) == 20
    for code in codes:
        assert len(code) == 6
        assert not set(code) & set("0O1IL")


def test_only_editors_and_admins_create_boards(ctx):
    with pytest.raises(Forbidden):
        boards.create_board(ctx["reader"], "Нельзя")
    assert boards.create_board(ctx["admin"], "Можно").columns[0].title


def test_board_input_is_checked(ctx):
    with pytest.raises(InvalidInput):
        boards.create_board(ctx["editor"], "  ")
    with pytest.raises(InvalidInput):
        boards.create_board(ctx["editor"], "Доска", columns=[])
    with pytest.raises(InvalidInput):
        boards.create_board(ctx["editor"], "Доска", moderated="yes")


def test_code_lookup_forgives_case_and_spaces(board):
    assert boards.get_board(f" {board.code[:3].lower()} {board.code[3:]} ").id == board.id
    with pytest.raises(NotFound):
        boards.get_board("ZZZZZZ")


def test_code_typed_with_cyrillic_look_alikes_finds_the_board(board):
    """People read the code off a projector and type it on a Russian keyboard."""
    latin_to_cyrillic = str.maketrans("ABEKMHOPCTYX3", "АВЕКМНОРСТУХЗ")
    board.code = "EYKM3X"
    db.session.commit()
    typed = board.code.translate(latin_to_cyrillic)
    assert typed == "ЕУКМЗХ" and typed != board.code
    assert boards.get_board(typed).id == board.id
    assert boards.get_board(typed.lower()).id == board.id


# ------------------------------------------------------------------ joining


def test_guest_keeps_identity_with_token(board):
    first = boards.join_board(board.code, name="Анна")
    again = boards.join_board(board.code, token=first.token)
    assert again.participant.id == first.participant.id
    assert again.participant.name == "Анна"
    other = boards.join_board(board.code, token="made-up", name="Ольга")
    assert other.participant.id != first.participant.id


def test_names_over_60_characters_are_refused(board):
    with pytest.raises(InvalidInput, match="60"):
        boards.join_board(board.code, name="Я" * 61)
    assert boards.join_board(board.code, name="Я" * 60).participant.name == "Я" * 60


def test_board_without_anonymous_posts_needs_a_name(ctx):
    board = boards.create_board(ctx["editor"], "С именами", anonymous=False)
    with pytest.raises(InvalidInput, match="имя"):
        boards.join_board(board.code, name="   ")
    assert boards.join_board(board.code, name="Анна").participant


def test_users_post_under_their_account(ctx, board):
    joined = boards.join_board(board.code, user=ctx["reader"])
    assert joined.participant.user_id == ctx["reader"].id
    assert joined.participant.name.startswith("Тест reader")
    again = boards.join_board(board.code, user=ctx["reader"])
    assert again.participant.id == joined.participant.id
    # the account's token does not work without the account (shared computer after logout)
    stolen = boards.join_board(board.code, token=again.token, name="Кто-то")
    assert stolen.participant.id != joined.participant.id


def test_owner_and_admins_moderate(ctx, board):
    assert boards.join_board(board.code, user=ctx["editor"]).moderator
    assert boards.join_board(board.code, user=ctx["admin"]).moderator
    assert not boards.join_board(board.code, user=ctx["reader"]).moderator


def test_participant_limit(app, board):
    app.config["KB_BOARD_MAX_PARTICIPANTS"] = 2
    guest(board, "1")
    first = boards.join_board(board.code, name="2")
    with pytest.raises(Conflict, match="максимальное"):
        guest(board, "3")
    assert boards.join_board(board.code, token=first.token).participant  # returning is fine


def test_unknown_code(ctx):
    with pytest.raises(NotFound, match="не найдена"):
        boards.join_board("ABCDEF", name="Анна")


# ------------------------------------------------------------------ posts


def test_post_text_is_plain_and_bounded(board):
    anna = guest(board)
    post = boards.create_post(board, anna, "  <script>alert(1)</script>\r\nВторая строка \u202e ")
    assert post.text == "<script>alert(1)</script>\nВторая строка"
    with pytest.raises(InvalidInput, match="не заполнено"):
        boards.create_post(board, anna, " \n ")
    with pytest.raises(InvalidInput, match="1000"):
        boards.create_post(board, anna, "я" * 1001)
    assert boards.create_post(board, anna, "я" * 1000).text
    with pytest.raises(InvalidInput, match="колонки"):
        boards.create_post(board, anna, "текст", column=999999)


def test_post_goes_to_the_chosen_column(board):
    second = board.columns[1]
    post = boards.create_post(board, guest(board), "Вопрос", column=second.id)
    assert post.column_id == second.id


def test_rate_limit_per_participant(app, board):
    app.config["KB_BOARD_POSTS_PER_MINUTE"] = 3
    anna, olga = guest(board, "Анна"), guest(board, "Ольга")
    for i in range(3):
        boards.create_post(board, anna, f"запись {i}")
    boards.delete_post(board, anna, 1)  # deleting does not give the place back
    with pytest.raises(Conflict, match="3 сообщений в минуту"):
        boards.create_post(board, anna, "ещё")
    assert boards.create_post(board, olga, "другой участник не задет")


def test_locked_board_is_read_only(ctx, board):
    anna = guest(board)
    post = boards.create_post(board, anna, "до закрытия")
    boards.set_locked(board, ctx["editor"], True)
    for attempt in (
        lambda: boards.create_post(board, anna, "после"),
        lambda: boards.like_post(board, anna, post.id),
        lambda: boards.comment_post(board, anna, post.id, "комментарий"),
        lambda: boards.edit_post(board, anna, post.id, "правка"),
        lambda: boards.delete_post(board, anna, post.id),
    ):
        with pytest.raises(Conflict, match="закрыта"):
            attempt()
    boards.moderate_post(board, ctx["editor"], post.id, "pin")  # moderators still moderate
    boards.set_locked(board, ctx["editor"], False)
    assert boards.create_post(board, anna, "снова открыта")


def test_lock_needs_a_moderator(ctx, board):
    with pytest.raises(Forbidden):
        boards.set_locked(board, ctx["reader"], True)
    with pytest.raises(NotAuthenticated):
        boards.set_locked(board, None, True)


def test_authors_edit_and_delete_only_their_posts(ctx, board):
    anna, olga = guest(board, "Анна"), guest(board, "Ольга")
    post = boards.create_post(board, anna, "моё")
    with pytest.raises(Forbidden):
        boards.edit_post(board, olga, post.id, "чужое")
    with pytest.raises(Forbidden):
        boards.delete_post(board, olga, post.id)
    edited = boards.edit_post(board, anna, post.id, "моё, исправленное")
    assert edited.edited and edited.text == "моё, исправленное"
    boards.delete_post(board, anna, post.id)
    with pytest.raises(NotFound):
        boards.like_post(board, olga, post.id)
    assert boards.visible_posts(board, moderator=True) == []


def test_like_once_per_participant(board):
    anna, olga = guest(board, "Анна"), guest(board, "Ольга")
    post = boards.create_post(board, anna, "нравится?")
    assert boards.like_post(board, olga, post.id, True)[0].like_count == 1
    with pytest.raises(Conflict, match="уже отметили"):
        boards.like_post(board, olga, post.id, True)
    assert boards.like_post(board, anna, post.id)[1] is True  # toggle
    post, liked = boards.like_post(board, olga, post.id)  # toggle back
    assert (post.like_count, liked) == (1, False)
    with pytest.raises(Conflict, match="ещё не отмечали"):
        boards.like_post(board, olga, post.id, False)
    assert boards.own_marks(anna)["my_likes"] == [post.id]


def test_likes_and_comments_can_be_switched_off(ctx):
    board = boards.create_board(ctx["editor"], "Строгая", likes=False, comments=False)
    anna = guest(board)
    post = boards.create_post(board, anna, "текст")
    with pytest.raises(Conflict, match="Лайки"):
        boards.like_post(board, anna, post.id)
    with pytest.raises(Conflict, match="Комментарии"):
        boards.comment_post(board, anna, post.id, "ответ")


def test_comments(ctx, board):
    anna, olga = guest(board, "Анна"), guest(board, "Ольга")
    post = boards.create_post(board, anna, "вопрос")
    post = boards.comment_post(board, olga, post.id, "ответ <b>жирный</b>")
    assert [(c.author_name, c.text) for c in post.comments] == [("Ольга", "ответ <b>жирный</b>")]
    comment_id = post.comments[0].id
    with pytest.raises(Forbidden):
        boards.delete_comment(board, anna, comment_id)
    with pytest.raises(InvalidInput):
        boards.comment_post(board, olga, post.id, "x" * 501)
    assert boards.delete_comment(board, None, comment_id, user=ctx["editor"]).comments == []


# ------------------------------------------------------------------ moderation


def test_pre_moderation_hides_posts_from_other_participants(ctx, emitted):
    board = boards.create_board(ctx["editor"], "Премодерация", moderated=True)
    anna, olga = guest(board, "Анна"), guest(board, "Ольга")
    post = boards.create_post(board, anna, "на проверку")
    assert post.status == "pending"
    assert [p.id for p in boards.visible_posts(board, anna)] == [post.id]  # the author sees it
    assert boards.visible_posts(board, olga) == []
    assert [p.id for p in boards.visible_posts(board, moderator=True)] == [post.id]
    public, moderators = f"board:{board.id}", f"board:{board.id}:mod"
    for _event, _data, rooms in emitted:
        assert public not in rooms
    assert boards.events_since(board, 0, olga) == []
    assert [e["name"] for e in boards.events_since(board, 0, anna)] == ["post:created"]

    emitted.clear()
    boards.moderate_post(board, ctx["editor"], post.id, "approve")
    assert emitted[0][0] == "post:created" and public in emitted[0][2]
    assert [p.id for p in boards.visible_posts(board, olga)] == [post.id]

    emitted.clear()
    boards.moderate_post(board, ctx["editor"], post.id, "hide")
    sent = {event: rooms for event, _data, rooms in emitted}
    assert sent == {"post:deleted": [public], "post:updated": [moderators]}
    assert boards.visible_posts(board, olga) == []
    assert boards.visible_posts(board, anna) == []
    with pytest.raises(NotFound):
        boards.like_post(board, olga, post.id)
    replay = boards.events_since(board, 0, olga)
    assert [e["name"] for e in replay] == ["post:created", "post:deleted"]
    assert [e["name"] for e in boards.events_since(board, 0, moderator=True)] == [
        "post:created",
        "post:updated",
        "post:updated",
    ]


def test_moderation_actions(ctx, board):
    anna = guest(board)
    post = boards.create_post(board, anna, "запись")
    editor = ctx["editor"]
    with pytest.raises(Forbidden):
        boards.moderate_post(board, ctx["reader"], post.id, "pin")
    with pytest.raises(InvalidInput):
        boards.moderate_post(board, editor, post.id, "explode")
    with pytest.raises(Conflict):
        boards.moderate_post(board, editor, post.id, "approve")
    assert boards.moderate_post(board, editor, post.id, "pin").pinned
    moved = boards.moderate_post(board, editor, post.id, "move", board.columns[1].id)
    assert moved.column_id == board.columns[1].id
    assert boards.moderate_post(board, editor, post.id, "hide").status == "hidden"
    assert boards.moderate_post(board, editor, post.id, "show").status == "visible"


def test_remove_a_participants_posts(ctx, board):
    spammer, anna = guest(board, "Спам"), guest(board, "Анна")
    for i in range(3):
        boards.create_post(board, spammer, f"реклама {i}")
    keep = boards.create_post(board, anna, "по делу")
    assert boards.remove_participant_posts(board, ctx["editor"], spammer.key) == 3
    assert [p.id for p in boards.visible_posts(board)] == [keep.id]
    with pytest.raises(NotFound):
        boards.remove_participant_posts(board, ctx["editor"], "nobody")


def test_columns_can_be_renamed_added_and_removed_when_empty(ctx, board):
    first, second = board.columns
    boards.create_post(board, guest(board), "в первой", column=first.id)
    boards.update_board(
        board, ctx["editor"], columns=[{"id": first.id, "title": "Итоги"}, {"title": "Новая"}]
    )
    assert [c.title for c in board.columns] == ["Итоги", "Новая"]
    with pytest.raises(Conflict, match="есть записи"):
        boards.update_board(board, ctx["editor"], columns=[{"title": "Только новая"}])
    assert second.id not in [c.id for c in board.columns]


# ------------------------------------------------------------------ polls


def test_single_choice_poll(ctx, board):
    anna, olga = guest(board, "Анна"), guest(board, "Ольга")
    poll = boards.create_poll(board, ctx["editor"], "Понравилось?", "single", ["Да", "Нет"])
    yes, no = (o.id for o in poll.options)
    with pytest.raises(NotFound):  # a draft is not there for participants
        boards.vote(board, anna, poll.id, [yes])
    assert boards.visible_polls(board) == []
    boards.set_poll_status(board, ctx["editor"], poll.id, "open")
    with pytest.raises(InvalidInput, match="только один"):
        boards.vote(board, anna, poll.id, [yes, no])
    with pytest.raises(InvalidInput, match="нет"):
        boards.vote(board, anna, poll.id, [123456])
    boards.vote(board, anna, poll.id, [yes])
    with pytest.raises(Conflict, match="уже ответили"):
        boards.vote(board, anna, poll.id, [no])
    boards.set_poll_status(board, ctx["editor"], poll.id, "closed")
    with pytest.raises(Conflict, match="закрыт"):
        boards.vote(board, olga, poll.id, [no])
    result = boards.poll_payload(poll)
    assert result["voters"] == 1
    assert [(o["text"], o["votes"]) for o in result["options"]] == [("Да", 1), ("Нет", 0)]
    assert boards.own_marks(anna)["my_votes"] == {str(poll.id): [yes]}


def test_results_the_host_reveals_are_not_sent_before(ctx, board):
    """«когда я покажу их»: participants and the wall get no counts (and a word cloud no
    words) until the host reveals them — live, in the join state and in the replay."""
    editor = ctx["editor"]
    anna = guest(board, "Анна")
    poll = boards.create_poll(board, editor, "Как вам?", "single", ["Да", "Нет"], "revealed")
    cloud = boards.create_poll(board, editor, "Одним словом", "words", results="revealed")
    for item in (poll, cloud):
        boards.set_poll_status(board, editor, item.id, "open")
    seq = board.seq
    boards.vote(board, anna, poll.id, [poll.options[0].id])
    boards.vote(board, guest(board, "Ольга"), cloud.id, words=["интересно"])
    hidden = boards.poll_payload(poll)
    assert hidden["voters"] == 1 and [o["votes"] for o in hidden["options"]] == [None, None]
    assert boards.poll_payload(cloud)["options"] == []
    assert [o["votes"] for o in boards.poll_payload(poll, moderator=True)["options"]] == [1, 0]
    state = boards.board_state(board, anna)
    assert all(o["votes"] is None for p in state["polls"] for o in p["options"])
    replay = boards.events_since(board, seq, anna)
    assert replay and all(
        o["votes"] is None
        for e in replay
        if "poll" in e["data"]
        for o in e["data"]["poll"]["options"]
    )
    moderators = boards.events_since(board, seq, moderator=True)
    assert moderators[0]["data"]["poll"]["options"][0]["votes"] == 1

    with pytest.raises(NotAuthenticated):
        boards.reveal_poll(board, None, poll.id)
    with pytest.raises(Forbidden):
        boards.reveal_poll(board, ctx["reader"], poll.id)
    boards.reveal_poll(board, editor, poll.id)
    shown = boards.poll_payload(poll)
    assert shown["revealed"] is True and [o["votes"] for o in shown["options"]] == [1, 0]
    assert (
        boards.events_since(board, board.seq - 1, anna)[0]["data"]["poll"]["options"][0]["votes"]
        == 1
    )
    with pytest.raises(Conflict):
        boards.reveal_poll(board, editor, poll.id)
    boards.reveal_poll(board, editor, poll.id, False)
    assert boards.poll_payload(poll)["options"][0]["votes"] is None
    with pytest.raises(InvalidInput):
        boards.reveal_poll(board, editor, poll.id, "yes")
    other = boards.create_poll(board, editor, "Всегда?", "single", ["А", "Б"], "always")
    with pytest.raises(Conflict, match="и так видны"):
        boards.reveal_poll(board, editor, other.id)
    with pytest.raises(InvalidInput, match="after_vote"):
        boards.create_poll(board, editor, "?", "single", ["А", "Б"], "never")
    assert boards.create_poll(board, editor, "По умолчанию", "single", ["А", "Б"]).results == (
        "after_vote"
    )


def test_multiple_choice_and_word_cloud(ctx, board):
    editor = ctx["editor"]
    multi = boards.create_poll(board, editor, "Что взять?", "multiple", ["Лего", "Датчики", "QR"])
    words = boards.create_poll(board, editor, "Одним словом", "words")
    for poll in (multi, words):
        boards.set_poll_status(board, editor, poll.id, "open")
    ids = [o.id for o in multi.options]
    people = [guest(board, name) for name in ("А", "Б", "В")]
    boards.vote(board, people[0], multi.id, [ids[0], ids[1]])
    boards.vote(board, people[1], multi.id, [ids[1]])
    with pytest.raises(InvalidInput, match="дважды"):
        boards.vote(board, people[2], multi.id, [ids[2], ids[2]])
    assert [o.votes for o in multi.options] == [1, 2, 0]
    boards.vote(board, people[0], words.id, words=["Интересно", "Полезно"])
    boards.vote(board, people[1], words.id, words="интересно, ёлка")
    with pytest.raises(InvalidInput, match="3"):
        boards.vote(board, people[2], words.id, words=["а", "б", "в", "г"])
    payload = boards.poll_payload(words)
    assert payload["options"][0] == {
        "id": payload["options"][0]["id"],
        "text": "интересно",
        "votes": 2,
    }
    assert {o["text"] for o in payload["options"]} == {"интересно", "полезно", "елка"}


def test_poll_rules(ctx, board):
    editor = ctx["editor"]
    with pytest.raises(Forbidden):
        boards.create_poll(board, ctx["reader"], "?", "single", ["a", "b"])
    with pytest.raises(InvalidInput):
        boards.create_poll(board, editor, "?", "single", ["только один"])
    with pytest.raises(InvalidInput):
        boards.create_poll(board, editor, "?", "ranking", ["a", "b"])
    poll = boards.create_poll(board, editor, "?", "single", ["a", "b"])
    boards.delete_poll(board, editor, poll.id)
    assert boards.visible_polls(board, moderator=True) == []


# ------------------------------------------------------------------ seq and the event log


def _apply(state: dict, event: dict) -> None:
    data = event["data"]
    if event["name"] in ("post:created", "post:updated"):
        state["posts"][data["post"]["id"]] = data["post"]
    elif event["name"] == "post:deleted":
        state["posts"].pop(data["post_id"], None)
    elif event["name"] == "poll:updated":
        if data["poll"]["status"] == "deleted":
            state["polls"].pop(data["poll"]["id"], None)
        else:
            state["polls"][data["poll"]["id"]] = data["poll"]
    elif event["name"] == "board:updated":
        state["board"] = data["board"]


def _busy_session(ctx, board):
    editor = ctx["editor"]
    anna, olga = guest(board, "Анна"), guest(board, "Ольга")
    first = boards.create_post(board, anna, "раз")
    second = boards.create_post(board, olga, "два", column=board.columns[1].id)
    boards.like_post(board, olga, first.id)
    boards.comment_post(board, anna, second.id, "согласна")
    boards.update_board(board, editor, moderated=True)
    pending = boards.create_post(board, olga, "на проверку")
    boards.create_post(board, anna, "тоже на проверку")
    boards.moderate_post(board, editor, pending.id, "approve")
    boards.moderate_post(board, editor, first.id, "hide")
    poll = boards.create_poll(board, editor, "Вопрос", "single", ["а", "б"])
    boards.set_poll_status(board, editor, poll.id, "open")
    boards.vote(board, anna, poll.id, [poll.options[0].id])
    boards.edit_post(board, olga, second.id, "два, исправлено")
    boards.delete_post(board, olga, pending.id)
    return anna, olga


@pytest.mark.parametrize("viewer", ["anna", "olga", "moderator", "wall"])
def test_replaying_events_gives_the_fresh_state(ctx, board, viewer):
    """State after applying the logged events == the state read fresh, for every audience."""
    anna, olga = _busy_session(ctx, board)
    participant = {"anna": anna, "olga": olga}.get(viewer)
    moderator = viewer == "moderator"
    fresh = boards.board_state(board, participant, moderator)
    replayed = {"posts": {}, "polls": {}, "board": None}
    events = boards.events_since(board, 0, participant, moderator)
    for event in events:
        _apply(replayed, event)
    assert sorted(replayed["posts"].values(), key=lambda p: p["id"]) == fresh["posts"]
    assert sorted(replayed["polls"].values(), key=lambda p: p["id"]) == fresh["polls"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))  # ordered, none twice
    # from the middle: exactly the tail
    middle = seqs[len(seqs) // 2]
    assert [e["seq"] for e in boards.events_since(board, middle, participant, moderator)] == [
        s for s in seqs if s > middle
    ]


def test_seq_is_gap_free_and_stored_with_each_change(ctx, board):
    _busy_session(ctx, board)
    logged = sorted(
        set(db.session.scalars(sa.select(BoardEvent.seq).where(BoardEvent.board_id == board.id)))
    )
    assert logged == list(range(1, board.seq + 1))
    assert boards.events_since(board, board.seq) == []
    assert boards.events_since(board, board.seq + 5) is None  # ahead of the server: full state
    with pytest.raises(InvalidInput):
        boards.events_since(board, -1)


def test_events_too_old_to_replay_are_pruned(ctx, board, monkeypatch):
    monkeypatch.setattr(boards, "REPLAY_MAX", 10)
    monkeypatch.setattr(boards, "PRUNE_EVERY", 5)
    monkeypatch.setattr(boards, "LIKE_TOGGLES_PER_POST", 100)  # toggling here is the point
    anna = guest(board)
    post = boards.create_post(board, anna, "Спасибо за семинар!")
    for _ in range(23):
        boards.like_post(board, anna, post.id)
    assert board.seq == 24
    logged = set(
        db.session.scalars(sa.select(BoardEvent.seq).where(BoardEvent.board_id == board.id))
    )
    assert logged == set(range(11, 25))  # pruned at seq 20: everything up to 10
    assert [e["seq"] for e in boards.events_since(board, 14, anna)] == list(range(15, 25))
    assert boards.events_since(board, 5, anna) is None  # too far behind: the full state


def test_a_failed_change_leaves_nothing_behind(ctx, board, emitted):
    anna = guest(board)
    before = board.seq
    with pytest.raises(InvalidInput):
        boards.create_post(board, anna, "я" * 1001)
    assert board.seq == before
    assert emitted == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BoardEvent)) == 0


def test_concurrent_changes_get_distinct_consecutive_seqs(app, ctx, board):
    code = board.code
    tokens = [boards.join_board(code, name=f"Участник {i}").token for i in range(4)]
    errors: list[BaseException] = []

    def worker(token: str) -> None:
        try:
            with app.app_context():
                target = boards.get_board(code)
                me = boards.find_participant(target, token)
                for i in range(5):
                    boards.create_post(target, me, f"запись {i}")
                db.session.remove()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    board = boards.get_board(code)
    assert board.seq == 20
    seqs = [e["seq"] for e in boards.events_since(board, 0)]
    assert seqs == list(range(1, 21))
    post_seqs = sorted(p.seq for p in boards.visible_posts(board))
    assert post_seqs == list(range(1, 21))
