"""The search index deleted or corrupted under a running server: a clear temporary state,
a rebuild from the database, and the database untouched."""

import shutil
import time

import pytest
import requests

pytestmark = [pytest.mark.server, pytest.mark.serial]


def _save(server, headers, n: int) -> None:
    answer = requests.put(
        f"{server.url}/api/v1/pages/Заметка_{n}",
        json={
            "title": f"Заметка {n}",
            "body": f"робототехника заметка номер {n}",
            "base_revision": None,
        },  # fmt: skip
        headers=headers,
        timeout=10,
    )
    assert answer.status_code in (200, 201), answer.text


def _found(server, headers) -> int:
    answer = requests.get(
        server.url + "/api/v1/search", params={"q": "робототехника"}, headers=headers, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["total"]


def _wait_for(predicate, timeout: float = 40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("condition not reached in time")


def _pages(server, headers) -> list:
    answer = requests.get(server.url + "/api/v1/pages", headers=headers, timeout=10).json()
    return sorted((p["slug"], p["revision"]) for p in answer["pages"])


@pytest.mark.parametrize("damage", ["delete", "corrupt"])
def test_index_damage_is_repaired_from_the_database(served, damage):
    server, headers = served
    for n in range(8):
        _save(server, headers, n)
    assert _wait_for(lambda: _found(server, headers) == 8)
    before = _pages(server, headers)
    index = server.data_dir / "index"
    if damage == "delete":
        shutil.rmtree(index)
    else:
        for path in index.rglob("*"):
            if path.is_file() and "lock" not in path.name:
                path.write_bytes(b"\x00garbage\x00" * 10)
    # while broken: answers stay 200 with a clear state, never a 500
    health = requests.get(server.url + "/healthz", timeout=10).json()
    assert health["index"] == "rebuilding", health
    page = requests.get(server.url + "/search", params={"q": "робототехника"}, timeout=10)
    assert page.status_code == 200
    # the next change wakes the indexer, which rebuilds everything from the database
    _save(server, headers, 99)
    assert _wait_for(lambda: _found(server, headers) == 9)
    assert _wait_for(
        lambda: requests.get(server.url + "/healthz", timeout=10).json()["index"] == "ok"
    )
    after = _pages(server, headers)
    assert after == sorted([*before, ("Заметка_99", 1)])  # the database is untouched
    # no request failed on the way (kb/errors.py logs every unhandled error with this line)
    assert "unhandled error" not in (server.data_dir / "serve.log").read_text()
