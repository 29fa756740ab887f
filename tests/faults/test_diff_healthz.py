"""A guest asking for the diff of the two largest revisions the wiki accepts does not hold
up the other requests of the worker: `/healthz` keeps answering quickly meanwhile."""

import random
import threading
import time

import pytest
import requests

from kb.pages.service import MAX_BODY_BYTES

pytestmark = [pytest.mark.server, pytest.mark.serial]

SLUG = "Большая_страница"
WORDS = "робот пчёлка стрелка поле карточка маршрут задание группа занятие дети".split()


def _bodies() -> tuple[str, str]:
    """Two revisions just under the size limit, differing in hundreds of scattered places
    (word changes, replaced, inserted and deleted lines) and in one long rewritten section:
    the old word-level diff was quadratic in the size of such a section."""
    rnd = random.Random(14)
    lines: list[str] = []
    size = 0
    while size < MAX_BODY_BYTES - 60_000:
        line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 12)))
        lines.append(line)
        size += len(line.encode()) + 1
    edited = list(lines)
    for _ in range(400):
        at = rnd.randrange(len(edited))
        kind = rnd.choice(["word", "replace", "insert", "delete"])
        if kind == "word":
            edited[at] = edited[at].replace(" ", " новое ", 1)
        elif kind == "replace":
            edited[at] = " ".join(rnd.choice(WORDS) for _ in range(8))
        elif kind == "insert":
            edited.insert(at, "вставка " + " ".join(rnd.choice(WORDS) for _ in range(5)))
        else:
            del edited[at]
    # and one section of ~100 KB rewritten from scratch (one changed block of 1,500 lines)
    at = len(edited) // 2
    rewritten = [" ".join(rnd.choice(WORDS) for _ in range(10)) for _ in range(1500)]
    edited[at : at + 1500] = rewritten
    return "\n".join(lines), "\n".join(edited)


def test_large_diff_does_not_block_healthz(served):
    server, headers = served
    first, second = _bodies()
    assert len(second.encode()) <= MAX_BODY_BYTES
    made = requests.put(
        f"{server.url}/api/v1/pages/{SLUG}",
        json={"title": "Большая страница", "body": first, "base_revision": None},
        headers=headers,
        timeout=120,
    )
    assert made.status_code == 201, made.text
    edited = requests.put(
        f"{server.url}/api/v1/pages/{SLUG}",
        json={"body": second, "base_revision": 1},
        headers=headers,
        timeout=120,
    )
    assert edited.status_code == 200, edited.text

    # Saving indexes both revisions for search in the background: wait for it, so what is
    # measured below is the diff alone.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = requests.get(
            server.url + "/api/v1/search", params={"q": "вставка"}, headers=headers, timeout=30
        )
        if found.status_code == 200 and found.json()["total"] >= 1:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the search index did not catch up")
    # Warm the worker up (templates compiled, catalogs loaded) with the diff of a small page.
    for path in ("/wiki/Главная/diff", "/api/v1/pages/Главная/diff"):
        warm = requests.get(server.url + path, params={"from": 1, "to": 1}, timeout=30)
        assert warm.status_code == 200, warm.text
    baseline = []
    for _ in range(5):
        started = time.monotonic()
        requests.get(server.url + "/healthz", timeout=10)
        baseline.append(time.monotonic() - started)
        time.sleep(0.05)

    answers: list[requests.Response] = []
    failures: list[BaseException] = []

    def guest_diffs():
        try:
            for path in (f"/wiki/{SLUG}/diff", f"/api/v1/pages/{SLUG}/diff") * 2:
                answers.append(
                    requests.get(server.url + path, params={"from": 1, "to": 2}, timeout=120)
                )
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    guest = threading.Thread(target=guest_diffs)
    guest.start()
    waits = []
    try:
        time.sleep(0.05)  # let the first diff request reach the worker
        while guest.is_alive():
            started = time.monotonic()
            health = requests.get(server.url + "/healthz", timeout=10)
            waits.append(time.monotonic() - started)
            assert health.status_code == 200
            time.sleep(0.02)
    finally:
        guest.join(timeout=180)
    assert not failures, failures
    assert [answer.status_code for answer in answers] == [200] * 4
    page, api = answers[0].text, answers[1].json()
    assert "<ins>новое </ins>" in page or "<ins> новое</ins>" in page
    assert "без изменений" in page
    assert "+вставка" in api["unified"] and "<ins>" in api["html"]
    print(
        f"healthz alone: slowest {max(baseline):.3f} s; during the diffs: {len(waits)} answers,"
        f" slowest {max(waits):.3f} s"
    )
    assert len(waits) >= 3
    assert max(waits) < 0.2, [round(w, 3) for w in waits]
