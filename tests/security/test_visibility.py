"""Hidden and pending posts reach only moderators; no object is reachable by guessing ids."""

from kb.accounts import service as accounts
from kb.board import service as boards
from kb.consult import service as consult
from kb.database import db
from kb.pages import service as pages
from tests.security.test_authz import Worlds


def _texts(state: dict) -> set[str]:
    return {post["text"] for post in state["posts"]}


def test_pending_and_hidden_posts_reach_only_moderators(module_app, role_clients):
    world = Worlds(module_app).get()
    with module_app.test_request_context("/"):
        owner = accounts.get_user("owner@example.org")
        board = boards.create_board(owner, "Модерируемая", moderated=True)
        author = boards.join_board(board.code, name="Автор")
        other = boards.join_board(board.code, name="Сосед")
        boards.create_post(board, author.participant, "Ждёт проверки")
        shown = boards.create_post(board, other.participant, "Проверено")
        boards.moderate_post(board, owner, shown.id, "approve")
        hidden = boards.create_post(board, other.participant, "Будет скрыт")
        boards.moderate_post(board, owner, hidden.id, "approve")
        boards.moderate_post(board, owner, hidden.id, "hide")
        code, since = board.code, 0
        db.session.remove()
    url = f"/api/v1/boards/{code}"
    neighbour = role_clients["guest"]
    neighbour.board_token = other.token
    state = neighbour.open("GET", url).get_json()
    assert _texts(state) == {"Проверено"}
    neighbour.board_token = author.token  # the author sees their own pending post
    assert _texts(neighbour.open("GET", url).get_json()) == {"Проверено", "Ждёт проверки"}
    neighbour.board_token = None
    for role in ("reader", "editor", "deactivated"):
        assert _texts(role_clients[role].open("GET", url).get_json()) == {"Проверено"}, role
    for role in ("owner", "admin"):
        seen = _texts(role_clients[role].open("GET", url).get_json())
        assert seen == {"Проверено", "Ждёт проверки", "Будет скрыт"}, role
    # the replay after `since` carries the same audiences
    with module_app.test_request_context("/"):
        board = boards.get_board(code)
        neighbour_row = boards.find_participant(board, other.token)
        public = boards.events_since(board, since, neighbour_row, False)
        state: dict = {}
        for event in public:
            if event["name"] == "post:deleted":
                state.pop(event["data"]["post_id"], None)
            elif "post" in event["data"]:
                assert event["data"]["post"]["text"] != "Ждёт проверки"
                state[event["data"]["post"]["id"]] = event["data"]["post"]["text"]
        assert set(state.values()) == {"Проверено"}
        db.session.remove()
    assert world


def test_ids_of_another_board_are_not_reachable(module_app, role_clients):
    """A moderator of board A cannot touch a post of board B through A's URL."""
    world = Worlds(module_app).get()
    with module_app.test_request_context("/"):
        editor = accounts.get_user("editor@example.org")
        mine = boards.create_board(editor, "Доска редактора")
        code = mine.code
        db.session.remove()
    client = role_clients["editor"]
    post = world["post_id"]
    assert (
        client.open("PATCH", f"/api/v1/boards/{code}/posts/{post}", json={"text": "x"}).status_code
        == 404
    )
    assert client.open("DELETE", f"/api/v1/boards/{code}/posts/{post}").status_code == 404
    moderate = client.open(
        "POST", f"/api/v1/boards/{code}/posts/{post}/moderate", json={"action": "hide"}
    )
    assert moderate.status_code == 404
    assert (
        client.open("DELETE", f"/api/v1/boards/{code}/polls/{world['poll_id']}").status_code == 404
    )
    # the participant token of one board is no key to another
    guest = role_clients["guest"]
    guest.board_token = world["participant_token"]
    try:
        answer = guest.open("POST", f"/api/v1/boards/{code}/posts", json={"text": "чужой"})
    finally:
        guest.board_token = None
    assert answer.status_code == 401


def test_feed_tokens_and_api_tokens_are_not_guessable(module_app, role_clients):
    world = Worlds(module_app).get()
    guest = role_clients["guest"].client
    owner_id, token = world["owner_id"], world["feed_token"]
    assert guest.get(f"/consult/feed/{owner_id}/{token}.atom").status_code == 200
    assert guest.get(f"/consult/feed/{owner_id}/{'0' * len(token)}.atom").status_code == 404
    with module_app.app_context():
        reader = accounts.get_user("reader@example.org")
        reader_id = reader.id
        db.session.remove()
    # someone's token with another person's id opens nothing
    assert guest.get(f"/consult/feed/{reader_id}/{token}.atom").status_code == 404
    # revoking another person's API token: not found, and the token keeps working
    editor = role_clients["editor"]
    assert editor.open("POST", f"/account/tokens/{world['token_id']}/revoke").status_code == 404
    with module_app.app_context():
        owner = accounts.get_user("owner@example.org")
        assert all(t.revoked_at is None for t in accounts.list_tokens(owner))
        db.session.remove()


def test_private_question_and_deleted_files_stay_hidden(module_app, role_clients):
    world = Worlds(module_app).get()
    question = world["consult_question_id"]
    for role in ("reader", "editor"):
        client = role_clients[role]
        assert client.open("GET", f"/api/v1/consult/questions/{question}").status_code == 404
        listing = client.open("GET", "/api/v1/consult/questions").get_json()
        assert question not in {q["id"] for q in listing}, role
        notes = client.open("GET", "/api/v1/consult/notifications").get_json()
        assert all(n["question_id"] != question for n in notes["items"])
    with module_app.test_request_context("/"):
        admin = accounts.get_user("admin@example.org")
        page = pages.get_page(world["page_slug"])
        pages.delete_page(page, admin)
        assert consult.can_see(admin, consult.get_question(question, admin))
        db.session.remove()
    url = f"/files/{world['page_id']}/{world['filename']}"
    for role in ("guest", "reader", "editor", "owner"):
        answer = role_clients[role].open("GET", url)
        assert answer.status_code == 404, role
        answer.close()
    answer = role_clients["admin"].open("GET", url)
    assert answer.status_code == 200
    answer.close()
