"""Production settings from the environment (issue 20, point 2): with the documented production environment
(README, "Production") `aftersales check --deploy` prints no warning; HTTPS settings follow AFTERSALES_HTTPS."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

AFTERSALES = Path(sys.executable).parent / "aftersales"

PRINT_SETTINGS = """
import json
from django.conf import settings
names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
         "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS", "SESSION_COOKIE_HTTPONLY",
         "SESSION_COOKIE_SAMESITE", "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY"]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def environment(tmp_path, **variables) -> dict:
    """This process's environment without any AFTERSALES_* variable and what the test run sets for itself (the
    browser tests allow Django's async-unsafe calls), plus `variables`."""
    own = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_") and k not in own}
    return env | {"AFTERSALES_DATA_DIR": str(tmp_path / "data"), "AFTERSALES_DB": "sqlite"} | variables


def production(tmp_path, **variables) -> dict:
    """The production environment the README documents."""
    return environment(tmp_path, **{
        "AFTERSALES_SECRET_KEY": secrets.token_urlsafe(60),
        "AFTERSALES_ALLOWED_HOSTS": "service.example.com",
        "AFTERSALES_SITE_URL": "https://service.example.com",
        "AFTERSALES_HTTPS": "true",
        "AFTERSALES_BEHIND_PROXY": "true",
    } | variables)


def run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(AFTERSALES), *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def settings_in(env) -> dict:
    done = subprocess.run([sys.executable, "-c", "import django; django.setup();" + PRINT_SETTINGS],
                          env=env | {"DJANGO_SETTINGS_MODULE": "aftersales.settings"},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_check_deploy_prints_no_warning_with_the_documented_production_environment(tmp_path):
    done = run(production(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output and "ERROR" not in output, output
    assert "System check identified no issues" in output


def test_check_deploy_warns_without_https(tmp_path):
    """The check has teeth: without AFTERSALES_HTTPS the secure-cookie, HSTS and redirect warnings come back."""
    env = production(tmp_path)
    del env["AFTERSALES_HTTPS"]
    done = run(env, "check", "--deploy", "--fail-level", "WARNING")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in output


def test_https_settings_follow_the_environment(tmp_path):
    on = settings_in(production(tmp_path))
    assert on["SESSION_COOKIE_SECURE"] and on["CSRF_COOKIE_SECURE"] and on["SECURE_SSL_REDIRECT"]
    assert on["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert on["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False  # only when asked
    assert on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert on["CSRF_TRUSTED_ORIGINS"] == ["https://service.example.com"]
    assert on["SESSION_COOKIE_HTTPONLY"] and on["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert on["X_FRAME_OPTIONS"] == "DENY" and on["SECURE_CONTENT_TYPE_NOSNIFF"]
    assert on["SECURE_REFERRER_POLICY"] == "same-origin"

    asked = settings_in(production(tmp_path, AFTERSALES_HSTS_SECONDS="600", AFTERSALES_HSTS_INCLUDE_SUBDOMAINS="true",
                                   AFTERSALES_CSRF_TRUSTED_ORIGINS="https://a.example.com,https://b.example.com"))
    assert asked["SECURE_HSTS_SECONDS"] == 600 and asked["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert asked["CSRF_TRUSTED_ORIGINS"] == ["https://a.example.com", "https://b.example.com"]

    off = settings_in(environment(tmp_path))  # the default: plain HTTP (the demo, a test box)
    assert not off["SESSION_COOKIE_SECURE"] and not off["CSRF_COOKIE_SECURE"] and not off["SECURE_SSL_REDIRECT"]
    assert off["SECURE_HSTS_SECONDS"] == 0 and off["SECURE_PROXY_SSL_HEADER"] is None
    assert off["SESSION_COOKIE_HTTPONLY"] and off["X_FRAME_OPTIONS"] == "DENY"


@pytest.mark.parametrize("variables, message", [
    ({"AFTERSALES_HTTPS": "yes"}, "AFTERSALES_HTTPS must be 'true' or 'false'"),
    ({"AFTERSALES_BEHIND_PROXY": "1"}, "AFTERSALES_BEHIND_PROXY must be 'true' or 'false'"),
    ({"AFTERSALES_HSTS_SECONDS": "a year"}, "AFTERSALES_HSTS_SECONDS must be a whole number"),
])
def test_a_bad_value_stops_the_start(tmp_path, variables, message):
    done = run(production(tmp_path, **variables), "check")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr
