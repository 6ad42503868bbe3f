"""Content-Security-Policy on every page (issue 20, point 2): django-csp's header with a fresh nonce, every
<script> carries that nonce, and no page has inline handlers (on*=), style attributes or <style> blocks."""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse

from aftersales.service import verbs
from aftersales.service.models import Channel, Priority

from ..factories import DeviceFactory


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


def assert_strict_page(response):
    assert response.status_code == 200
    directives = policy(response)
    nonces = [v for v in directives["script-src"] if v.startswith("'nonce-")]
    assert len(nonces) == 1, directives["script-src"]
    nonce = re.fullmatch(r"'nonce-(.+)'", nonces[0]).group(1)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert directives["style-src"] == ["'self'"] and directives["frame-ancestors"] == ["'none'"]
    assert directives["img-src"] == ["'self'", "data:"]

    parser = Tags()
    parser.feed(response.content.decode())
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert scripts, "the page loads no script at all"
    assert all(attrs.get("nonce") == nonce for attrs in scripts), scripts
    handlers = [(tag, name) for tag, attrs in parser.tags for name in attrs if name.startswith("on")]
    assert handlers == []
    assert [tag for tag, attrs in parser.tags if "style" in attrs] == []
    assert "style" not in [tag for tag, _ in parser.tags]
    assert "hx-on" not in response.content.decode()
    return nonce


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.django_db
def test_the_login_page_has_a_strict_policy_with_a_fresh_nonce(client):
    first = assert_strict_page(client.get(reverse("login")))
    second = assert_strict_page(client.get(reverse("login")))
    assert first != second


def test_staff_pages_have_a_strict_policy(client, dispatcher, engineer, admin_user, project_a, frozen_clock):
    DeviceFactory(project=project_a)
    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.SERIOUS, channel=Channel.PHONE,
                                 title="NVR 录像丢失", description="3 号 NVR 昨晚录像缺失")
    client.force_login(dispatcher)
    for url in (reverse("service:desk"), reverse("service:request_detail", args=[request.pk]),
                reverse("service:intake"), reverse("service:request_list")):
        assert_strict_page(client.get(url))
    client.force_login(engineer)
    assert_strict_page(client.get(reverse("service:my_work")))
    client.force_login(admin_user)
    assert_strict_page(client.get(reverse("intake:label_sheet", args=[project_a.pk])))


def test_an_htmx_fragment_has_no_inline_script(client, dispatcher, project_a):
    """Fragments swapped in by htmx must not need a script: htmx would not run it (no inlineScriptNonce)."""
    client.force_login(dispatcher)
    response = client.get(reverse("service:desk"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<script" not in response.content.decode()


def test_a_view_with_its_own_policy_keeps_it(client, settings):
    """django-csp leaves a header a view has set (attachment downloads send `default-src 'none'; sandbox`)."""
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    def view(request):
        response = HttpResponse("x")
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    from django.test import RequestFactory
    request = RequestFactory().get("/x")
    assert CSPMiddleware(view)(request)["Content-Security-Policy"] == "default-src 'none'; sandbox"
