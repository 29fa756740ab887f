"""JSON API of boards under ``/api/v1/boards`` (same rules as the Socket.IO protocol).

Participants without an account identify themselves with the token from ``join`` in the
``X-Board-Token`` header; signed-in users (session or Bearer token) act under their account.
A post may be signed with another ``name`` only by moderators and Bearer-token integrations.
"""

from flask import Blueprint, Response, g, jsonify, request, session
from flask_babel import gettext as _
from flask_login import current_user

from kb.api import json_body
from kb.board import export
from kb.board import service as boards
from kb.errors import NotAuthenticated
from kb.security import acting_user, require_role
from kb.urls import external_url

bp = Blueprint("api", __name__, url_prefix="/api/v1/boards")

TOKEN_HEADER = "X-Board-Token"


def _participant(board):
    """The acting participant: by X-Board-Token, else the signed-in user's (created on need)."""
    token = request.headers.get(TOKEN_HEADER)
    if token:
        participant = boards.find_participant(board, token)
        if participant is None or participant.user_id is not None:
            raise NotAuthenticated(_("Токен участника недействителен: присоединитесь заново."))
        return participant
    if acting_user() is None:
        raise NotAuthenticated(_("Войдите или присоединитесь к доске (заголовок X-Board-Token)."))
    return boards.join_board(board.code, user=acting_user()).participant


def _state(board, participant=None):
    return boards.board_state(board, participant, boards.is_moderator(board, acting_user()))


@bp.post("")
@require_role("editor")
def create_board():
    """Create a board."""
    data = json_body()
    board = boards.create_board(
        current_user,
        data.get("title"),
        description=data.get("description", ""),
        columns=data.get("columns"),
        moderated=data.get("moderated", False),
        anonymous=data.get("anonymous", True),
        likes=data.get("likes", True),
        comments=data.get("comments", True),
        seminar_id=data.get("seminar_id"),
    )
    body = {
        "id": board.id,
        "code": board.code,
        "url": external_url("board.join", code=board.code),
        "wall_url": external_url("board.wall", code=board.code),
    }
    return jsonify(body), 201, {"Location": body["url"]}


@bp.get("/<code>")
def get_board(code: str):
    """The board as the caller may see it, with its seq."""
    board = boards.get_board(code)
    token = request.headers.get(TOKEN_HEADER)
    participant = boards.find_participant(board, token) if token else None
    return jsonify(_state(board, participant))


@bp.patch("/<code>")
def update_board(code: str):
    """Change the board's title, description, columns or switches (moderators)."""
    board = boards.get_board(code)
    data = json_body()
    allowed = ("title", "description", "columns", "moderated", "anonymous", "likes", "comments")
    board = boards.update_board(board, acting_user(), **{k: data[k] for k in allowed if k in data})
    return jsonify(boards.board_payload(board))


@bp.post("/<code>/join")
def join(code: str):
    """Become a participant (or come back with a token)."""
    data = json_body()
    joined = boards.join_board(
        code,
        user=acting_user(),
        name=data.get("name"),
        token=data.get("token"),
        browser=session.get(boards.BROWSER_SESSION_KEY),  # a browser that opened the page
    )
    return jsonify(
        {
            "token": joined.token,
            "participant": boards.participant_payload(joined.participant),
            "moderator": joined.moderator,
        }
    )


@bp.post("/<code>/posts")
def create_post(code: str):
    """Add a post."""
    board = boards.get_board(code)
    data = json_body()
    participant = _participant(board)
    post = boards.create_post(
        board,
        participant,
        data.get("text"),
        data.get("column"),
        user=acting_user(),
        name=data.get("name"),
        integration=bool(g.get("token_authenticated")),
    )
    return jsonify({"post": boards.post_payload(post), "seq": post.seq}), 201


@bp.patch("/<code>/posts/<int:post_id>")
def edit_post(code: str, post_id: int):
    """Edit one's own post's text (moderators: any post)."""
    board = boards.get_board(code)
    participant = _participant(board)
    post = boards.edit_post(
        board, participant, post_id, json_body().get("text"), user=acting_user()
    )
    return jsonify({"post": boards.post_payload(post), "seq": post.seq})


@bp.delete("/<code>/posts/<int:post_id>")
def delete_post(code: str, post_id: int):
    """Delete one's own post (moderators: any post)."""
    board = boards.get_board(code)
    participant = _participant(board)
    boards.delete_post(board, participant, post_id, user=acting_user())
    return jsonify({"post_id": post_id, "seq": board.seq})


@bp.post("/<code>/posts/<int:post_id>/like")
def like_post(code: str, post_id: int):
    """Like (``{"like": true}``), unlike (false) or toggle (no body)."""
    board = boards.get_board(code)
    data = request.get_json(silent=True) or {}
    participant = _participant(board)
    post, liked = boards.like_post(board, participant, post_id, data.get("like"))
    return jsonify({"post": boards.post_payload(post), "liked": liked, "seq": post.seq})


@bp.post("/<code>/posts/<int:post_id>/comments")
def comment_post(code: str, post_id: int):
    """Comment on a post."""
    board = boards.get_board(code)
    participant = _participant(board)
    post = boards.comment_post(board, participant, post_id, json_body().get("text"))
    return jsonify({"post": boards.post_payload(post), "seq": post.seq}), 201


@bp.post("/<code>/posts/<int:post_id>/moderate")
def moderate_post(code: str, post_id: int):
    """approve / hide / show / pin / unpin / move (moderators)."""
    board = boards.get_board(code)
    data = json_body()
    post = boards.moderate_post(
        board, acting_user(), post_id, data.get("action"), data.get("column")
    )
    return jsonify({"post": boards.post_payload(post), "seq": post.seq})


@bp.post("/<code>/lock")
def lock(code: str):
    """Make the board read-only (moderators)."""
    board = boards.set_locked(boards.get_board(code), acting_user(), True)
    return jsonify(boards.board_payload(board))


@bp.post("/<code>/unlock")
def unlock(code: str):
    """Open the board again (moderators)."""
    board = boards.set_locked(boards.get_board(code), acting_user(), False)
    return jsonify(boards.board_payload(board))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(text: str | bytes, mimetype: str, filename: str) -> Response:
    response = Response(text, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/<code>/export.csv")
def export_csv(code: str):
    """Published posts as CSV (moderators)."""
    board = boards.get_board(code)
    boards.check_moderator(board, acting_user())
    return _download(export.export_csv(board), "text/csv; charset=utf-8", f"board-{board.code}.csv")


@bp.get("/<code>/export.xlsx")
def export_xlsx(code: str):
    """Published posts as an Excel workbook (moderators)."""
    board = boards.get_board(code)
    boards.check_moderator(board, acting_user())
    return _download(export.export_xlsx(board), XLSX, f"board-{board.code}.xlsx")


@bp.get("/<code>/export.md")
def export_markdown(code: str):
    """Posts by column, comments and poll results as Markdown (moderators)."""
    board = boards.get_board(code)
    boards.check_moderator(board, acting_user())
    return _download(
        export.export_markdown(board), "text/markdown; charset=utf-8", f"board-{board.code}.md"
    )


@bp.post("/<code>/save-to-wiki")
def save_to_wiki(code: str):
    """Create or update the board's wiki page (moderators)."""
    board = boards.get_board(code)
    result = export.save_to_wiki(board, acting_user())
    return jsonify(
        {
            "slug": result.slug,
            "revision": result.revision,
            "created": result.created,
            "merged": result.merged,
        }
    )


@bp.get("/<code>/polls")
def list_polls(code: str):
    """Polls (drafts only for moderators) with their results."""
    board = boards.get_board(code)
    moderator = boards.is_moderator(board, acting_user())
    polls = boards.visible_polls(board, moderator)
    return jsonify({"polls": [boards.poll_payload(p, moderator) for p in polls], "seq": board.seq})


@bp.post("/<code>/polls")
def create_poll(code: str):
    """Create a poll (moderators); ``"open": true`` opens it at once, ``"results"`` says when
    participants see the results (after_vote, revealed, always)."""
    board = boards.get_board(code)
    data = json_body()
    poll = boards.create_poll(
        board,
        acting_user(),
        data.get("question"),
        data.get("kind", "single"),
        data.get("options"),
        data.get("results"),
        open_now=data.get("open") is True,
    )
    return jsonify({"poll": boards.poll_payload(poll, moderator=True), "seq": poll.seq}), 201


@bp.post("/<code>/polls/<int:poll_id>/<any(open, close, reveal, conceal):action>")
def poll_status(code: str, poll_id: int, action: str):
    """Open or close a poll; show its hidden results to everybody or hide them (moderators)."""
    board = boards.get_board(code)
    if action in ("reveal", "conceal"):
        poll = boards.reveal_poll(board, acting_user(), poll_id, action == "reveal")
    else:
        status = "open" if action == "open" else "closed"
        poll = boards.set_poll_status(board, acting_user(), poll_id, status)
    return jsonify({"poll": boards.poll_payload(poll, moderator=True), "seq": poll.seq})


@bp.delete("/<code>/polls/<int:poll_id>")
def delete_poll(code: str, poll_id: int):
    """Delete a poll with its answers (moderators)."""
    board = boards.get_board(code)
    boards.delete_poll(board, acting_user(), poll_id)
    return jsonify({"seq": board.seq})


@bp.post("/<code>/polls/<int:poll_id>/vote")
def vote(code: str, poll_id: int):
    """Answer a poll once: ``{"choices": [option ids]}`` or ``{"words": [...]}``."""
    board = boards.get_board(code)
    data = json_body()
    participant = _participant(board)
    poll = boards.vote(board, participant, poll_id, data.get("choices"), data.get("words"))
    moderator = boards.is_moderator(board, acting_user())
    return jsonify({"poll": boards.poll_payload(poll, moderator), "seq": poll.seq})
