"""Issue 20, point 3: one error body for every 4xx and 5xx under /api/ — `{"code", "detail", "fields"?}` — in JSON,
from DRF's own errors, the business rules', the login lockout's and Django's (core.api_settings.error_body), and the
schema documents it for every operation."""

import json

import jsonschema
import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework import exceptions

from aftersales.core.api_settings import error_body, exception_handler
from aftersales.core.errors import DomainError
from aftersales.service import verbs

from ..conftest import PASSWORD, api_as
from ..factories import CustomerFactory, ProjectFactory


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="module")
def error_out(schema):
    return schema["components"]["schemas"]["ErrorOut"]


def assert_error(response, status: int | set[int], code: str | None, error_out) -> dict:
    assert response.status_code in ({status} if isinstance(status, int) else status), response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    jsonschema.validate(body, error_out)
    assert body["code"] and body["detail"], body
    assert code is None or body["code"] == code, body
    assert set(body) <= {"code", "detail", "fields"}
    return body


def test_field_errors_are_under_fields_with_a_sentence_for_people(dispatcher, project_a, error_out):
    response = api_as(dispatcher).post("/api/devices/", {"project": project_a.pk, "name": "", "serial_number": " "},
                                       format="json")
    body = assert_error(response, 400, "invalid", error_out)
    assert {"name", "serial_number", "category", "manufacturer", "model"} <= set(body["fields"])
    assert all(isinstance(messages, list) and messages for messages in body["fields"].values())
    assert body["detail"] not in body["fields"]["name"]  # several fields: "check the fields marked"


def test_one_field_error_is_also_the_detail(dispatcher, error_out):
    body = assert_error(api_as(dispatcher).get("/api/shifts/on-duty/", {"branch": "9" * 20}), 400, "invalid", error_out)
    assert body["fields"] == {"branch": [body["detail"]]}


def test_a_business_rule_on_one_field_names_it(admin_user, customer_a, error_out):
    foreign = ProjectFactory(customer=CustomerFactory(branch=customer_a.branch))
    response = api_as(admin_user).post("/api/integration-keys/", {"customer": customer_a.pk, "project": foreign.pk,
                                                                  "name": "zabbix"}, format="json")
    body = assert_error(response, 400, "invalid", error_out)
    assert body["fields"] == {"project": [body["detail"]]}


def test_non_field_errors_lead_and_nested_errors_keep_their_shape():
    body = error_body(exceptions.ValidationError({
        "non_field_errors": ["The shift cannot end before it starts."],
        "address": {"city": ["This field is required."]},
        "items": [{}, {"qty": ["Ensure this value is greater than or equal to 1."]}],
    }))
    assert body["code"] == "invalid" and body["detail"] == "The shift cannot end before it starts."
    assert body["fields"]["address"] == {"city": ["This field is required."]}
    assert body["fields"]["items"] == [{}, {"qty": ["Ensure this value is greater than or equal to 1."]}]
    assert error_body(exceptions.ValidationError("Send at least one event.")) == {
        "code": "invalid", "detail": "Send at least one event.",
        "fields": {"non_field_errors": ["Send at least one event."]}}


def test_a_domain_error_and_a_throttle(rf):
    response = exception_handler(DomainError("Pick a project of this customer.", field="project"), {})
    assert (response.status_code, response.data) == (400, {
        "code": "invalid", "detail": "Pick a project of this customer.",
        "fields": {"project": ["Pick a project of this customer."]}})
    response = exception_handler(exceptions.Throttled(wait=7), {})
    assert response.status_code == 429 and response["Retry-After"] == "7"
    assert response.data["code"] == "throttled" and set(response.data) == {"code", "detail"}


def test_an_unparsable_body_and_an_unsupported_media_type(dispatcher, error_out):
    api = api_as(dispatcher)
    assert_error(api.post("/api/customers/", "{", content_type="application/json"), 400, "parse_error", error_out)
    assert_error(api.post("/api/customers/", "name=x", content_type="text/plain"), 415, "unsupported_media_type",
                 error_out)


def test_no_credentials_bad_credentials_and_no_permission(client, customer_user_a, error_out):
    # 401 when the first authentication class names a scheme (WWW-Authenticate), else 403: DRF's rule
    assert_error(client.get("/api/customers/"), {401, 403}, "not_authenticated", error_out)
    assert_error(client.get("/api/customers/", HTTP_AUTHORIZATION="Token nope"), {401, 403}, None,  # the token's code
                 error_out)
    assert_error(api_as(customer_user_a).post("/api/customers/", {"name": "x"}, format="json"), 403,
                 "permission_denied", error_out)


def test_not_found_not_allowed_and_not_acceptable(dispatcher, error_out):
    api = api_as(dispatcher)
    assert_error(api.get("/api/customers/999999/"), 404, "not_found", error_out)
    assert_error(api.get("/api/requests/", {"page": 99}), 404, "not_found", error_out)
    response = api.delete("/api/requests/")
    assert_error(response, 405, "method_not_allowed", error_out)
    assert "GET" in response["Allow"]
    assert_error(api.get("/api/customers/", HTTP_ACCEPT="application/xml"), 406, "not_acceptable", error_out)


def test_the_login_lockout_answers_the_same_body(client, customer_user_a, settings, error_out):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/auth/token/", {"username": customer_user_a.username, "password": "wrong"})
    response = client.post("/api/auth/token/", {"username": customer_user_a.username, "password": PASSWORD})
    assert_error(response, 429, "locked_out", error_out)
    assert response["Retry-After"]


def test_a_crash_is_a_json_500_in_the_same_body(monkeypatch, dispatcher, project_a, error_out):
    def crash(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(verbs, "open_request", crash)
    client = Client(raise_request_exception=False)
    client.force_login(dispatcher)
    response = client.post("/api/requests/", json.dumps({"project": project_a.pk, "priority": "general", "title": "t",
                                                         "description": "d"}), content_type="application/json")
    assert_error(response, 500, "server_error", error_out)


def test_every_operation_documents_its_errors_in_the_one_body(schema):
    validate_schema(schema)  # still valid OpenAPI 3 with the shared responses
    responses = schema["components"]["responses"]
    for name, response in responses.items():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}, name
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = operation["responses"]
            expected = {"400", "401", "403", "404", "429", "500", "503"} | (
                {"409", "415"} if method in ("post", "put", "patch", "delete") else set())
            assert expected <= set(documented), (method, path, expected - set(documented))


def test_the_documented_success_bodies_are_the_answered_ones(schema):
    def body(path, method="get", status="200"):
        return schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]

    assert body("/api/reports/sla-compliance/") == {"$ref": "#/components/schemas/ComplianceOut"}  # an object
    assert body("/api/requests/{id}/suggestions/")["type"] == "array"  # a ranked list, not a page
    assert body("/api/requests/{id}/attachments/")["type"] == "array"
