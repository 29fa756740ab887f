"""schemathesis against a real `kb serve`: no 500s, answers match /api/v1/openapi.json.

One server for the module (a bearer token of an admin from `kb token create`), fifty
examples per operation (over 3,000 requests), so that a 500 anywhere fails CI.
"""

import uuid

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from kb.api import openapi_document
from tests.conftest import PASSWORD, LiveServer

pytestmark = pytest.mark.server
MAX_EXAMPLES = 50  # x 63 operations: over 3,000 generated requests


@pytest.fixture(scope="module")
def api_server(tmp_path_factory, postgres):
    url = None
    if postgres is not None:
        name = f"kb_{uuid.uuid4().hex[:16]}"
        postgres.execute(f"CREATE DATABASE {name} TEMPLATE kb_template")
        url = postgres.url(name)
    server = LiveServer(
        tmp_path_factory.mktemp("schemathesis") / "live",
        url,
        {"KB_LOGIN_LIMIT": "10000 per minute", "KB_BOARD_POSTS_PER_MINUTE": "100000"},
    ).start()
    added = server.run_cli(
        "user", "add", "api@example.org", "--name", "API", "--role", "admin",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    token = server.run_cli("token", "create", "api@example.org").stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    # a little of everything, so that some generated ids and codes exist
    requests.put(
        server.url + "/api/v1/pages/Главная",
        json={"title": "Главная", "body": "Текст", "base_revision": None},
        headers=auth,
        timeout=10,
    )
    requests.post(server.url + "/api/v1/boards", json={"title": "Доска"}, headers=auth, timeout=10)
    requests.post(
        server.url + "/api/v1/consult/questions",
        json={"title": "Вопрос?"},
        headers=auth,
        timeout=10,
    )
    server.token = token
    yield server
    server.stop()


# The document the server serves (`/api/v1/openapi.json`), built from the same modules;
# test_served_document_is_the_one_tested checks that they are equal.
schema = schemathesis.openapi.from_dict(openapi_document())


def test_served_document_is_the_one_tested(api_server):
    served = requests.get(api_server.url + "/api/v1/openapi.json", timeout=10).json()
    assert served == openapi_document()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, api_server):
    case.call_and_validate(
        base_url=api_server.url,
        headers={"Authorization": f"Bearer {api_server.token}"},
        excluded_checks=[
            # valid-looking ids usually name nothing: 404 is a correct answer
            openapi_checks.positive_data_acceptance,
            # the API authenticates by cookie or token; guests read public data
            openapi_checks.ignored_auth,
            # lenient parsing (clamped per_page, "1" for true) is documented behaviour
            openapi_checks.negative_data_rejection,
        ],
    )
