"""Issue 20, point 3: the API answers what its schema says, whatever it is sent.

Schemathesis reads /api/schema/ from the WSGI application (in process, no server) and sends every operation
generated requests — valid ones and broken ones — as an administrator and as a customer's user (API tokens), on a
small world: two customers with a project, a device and an open request each, an engineer on duty, an integration
key. Every answer must:

- not be a server error (500);
- have a status code the operation documents (errors: core.api_base.document_errors);
- have a content type the operation documents, and a body that conforms to the documented schema (for every error,
  the one error body `{code, detail, fields?}`).

Bounded and reproducible: EXAMPLES generated requests per operation and phase, derandomized with a fixed seed, no
example database. A failure prints the request as a curl command to replay by hand.
"""

import os
from datetime import time

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from rest_framework.test import APIClient

from aftersales.accounts import roles
from aftersales.intake.alarms.keys import create_key
from aftersales.service import verbs
from aftersales.service.models import Channel, Priority
from ..conftest import PASSWORD
from ..factories import (
    BranchFactory,
    CustomerFactory,
    DeviceFactory,
    OnCallShiftFactory,
    ProjectFactory,
    StaffFactory,
    UserFactory,
)

EXAMPLES = 20  # generated requests per operation and generation mode (valid, invalid), for each user
SEED = 20  # issue 20

# Operations left out, each with the reason. Mail goes to Django's in-memory backend in tests, tasks run inline and
# uploads land in the test's own MEDIA_ROOT, so nothing else needs to be.
EXCLUDED = {
    "POST /api/auth/tokens/revoke/": "revokes the fuzzing user's own token (its id is a small number, which Hypothesis "
                                     "tries early), after which every later operation could only answer 401",
}

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {
        "mode": "all",  # valid requests and invalid ones
        "max-examples": EXAMPLES,
        "deterministic": True,
        "database": "none",  # nothing written into the work tree; every run the same
        "with-security-parameters": False,  # the caller's own token, sent by the test, not a generated one
    },
    "checks": {  # these, and no others
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
    },
})

# SQLite only in `make test`: on PostgreSQL the same run took 2.5 times as long (every request commits; the tables are
# flushed after the test). AFTERSALES_API_FUZZ_ALL_DBS=1 runs it on PostgreSQL too.
pytestmark = pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
    and os.environ.get("AFTERSALES_API_FUZZ_ALL_DBS") != "1",
    reason="the API fuzz runs on SQLite (time); AFTERSALES_API_FUZZ_ALL_DBS=1 runs it here too")

fuzzing = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                   phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure shows the request it sent
                   suppress_health_check=list(HealthCheck))


@pytest.fixture
def api_schema(transactional_db):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)
    for label in EXCLUDED:
        schema = schema.exclude(name=label)
    return schema


def fuzz(schema, headers: dict[str, str], answered: dict[str, set[int]]) -> list[str]:
    """Every operation, with valid and with invalid requests; the failures, one paragraph each. `answered` collects
    each operation's status codes."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        statuses = answered.setdefault(operation.label, set())
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @fuzzing
            @given(case=operation.as_strategy(generation_mode=mode))
            def send(case):
                statuses.add(case.call_and_validate(headers=headers).status_code)

            try:
                send()
            except Unsatisfiable:
                if mode is GenerationMode.NEGATIVE:  # nothing invalid to send: no parameters, no body
                    continue
                failures.append(f"{operation.label}: no valid request can be generated from its schema")
            except (Exception, BaseExceptionGroup) as error:  # each operation's failures are reported, the next runs
                failures.append(f"{operation.label} ({mode.value} data): {error}")
    return failures


@pytest.fixture
def world(transactional_db):
    """Each step commits, as it would between separate HTTP requests (a request that fails on a constraint must not
    poison a test-wide transaction on PostgreSQL)."""
    branch_a, branch_b = BranchFactory(code="nx"), BranchFactory(code="sh")
    customer_a, customer_b = CustomerFactory(branch=branch_a), CustomerFactory(branch=branch_b)
    project_a, project_b = ProjectFactory(customer=customer_a), ProjectFactory(customer=customer_b)
    DeviceFactory(project=project_a), DeviceFactory(project=project_b)
    engineer = StaffFactory(branch=branch_a, role=roles.ENGINEER)
    OnCallShiftFactory(branch=branch_a, user=engineer, start_time=time(0), end_time=time(0))  # 7×24
    admin = UserFactory(username="fuzz_admin", is_staff=True, is_superuser=True, role=roles.ADMINISTRATOR)
    customer_user = UserFactory(username="fuzz_customer", customer=customer_a, role=roles.CUSTOMER_USER)
    for project in (project_a, project_b):
        verbs.open_request(by=admin, project=project, priority=Priority.GENERAL, channel=Channel.PHONE,
                           title="NVR 录像丢失", description="3 号 NVR 昨晚录像缺失")
    _key, plain_key = create_key(by=admin, customer=customer_a, name="zabbix")
    return {"admin": admin, "customer": customer_user, "integration_key": plain_key}


def headers_for(world, who: str) -> dict[str, str]:
    """The user's API token, from the token endpoint, as a client gets it; and the integration key, which only the
    alarm events endpoint reads."""
    response = APIClient().post("/api/auth/token/", {"username": world[who].username, "password": PASSWORD},
                                format="json")
    assert response.status_code == 200, response.content
    return {"Authorization": f"Token {response.json()['token']}", "X-Aftersales-Key": world["integration_key"]}


@pytest.fixture
def as_administrator(world):
    return headers_for(world, "admin")


@pytest.fixture
def as_customer_user(world):
    return headers_for(world, "customer")


def check(api_schema, headers, must_succeed: set[str]):
    answered = {}
    failures = fuzz(api_schema, headers, answered)
    assert not failures, f"{len(failures)} operations answered against the schema:\n\n" + "\n\n".join(failures)
    # The fuzz reached past authentication: these reads answered 2xx at least once (not only 401, 403 or 404).
    missed = {label: sorted(answered[label]) for label in must_succeed if not any(200 <= s < 300 for s in answered[label])}
    assert not missed, missed


def test_the_api_answers_as_documented_to_an_administrator(api_schema, as_administrator):
    check(api_schema, as_administrator, {"GET /api/requests/", "GET /api/customers/", "GET /api/devices/",
                                         "GET /api/shifts/", "GET /api/reports/sla-compliance/"})


def test_the_api_answers_as_documented_to_a_customer_user(api_schema, as_customer_user):
    check(api_schema, as_customer_user, {"GET /api/requests/", "GET /api/devices/", "GET /api/notifications/"})
