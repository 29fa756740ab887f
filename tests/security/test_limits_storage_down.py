"""The rate-limit storage (Redis) being down never locks people out: sign-in, a board and an
anonymous survey keep working (their limits are skipped and logged)."""

from kb.accounts import service as accounts
from kb.board import service as boards
from kb.extensions import db
from tests.conftest import PASSWORD, csrf_token
from tests.services import free_port


def test_sign_in_and_board_work_while_the_limit_storage_is_down(app_config, users):
    from kb import create_app
    from kb.database import upgrade_database

    config = {**app_config, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0"}
    app = create_app(config)
    try:
        with app.app_context():
            upgrade_database()
            board = boards.create_board(accounts.get_user(users["editor"]), "Семинар")
            code = board.code
            db.session.remove()
        client = app.test_client()
        answer = client.post(
            "/login",
            data={"email": users["editor"], "password": PASSWORD, "csrf_token": csrf_token(client)},
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
        guest = app.test_client()
        joined = guest.post(f"/api/v1/boards/{code}/join", json={"name": "Гость"})
        assert joined.status_code == 200, joined.get_data(as_text=True)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
