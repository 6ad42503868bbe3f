"""Issue 20 point 1: an optional TOTP second factor for staff (django-otp) — enrolment with a QR code and the key,
a code after the password before the session can be used, wrong codes counted toward the login lockout, removal with
the password or a code, and AFTERSALES_REQUIRE_ADMIN_OTP for administrators."""

import time
from base64 import b32encode

import pytest
import time_machine
from django.db import connection
from django.shortcuts import resolve_url
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from aftersales.accounts import otp, roles

from ..conftest import PASSWORD
from ..factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
LIMIT = 5  # AXES_FAILURE_LIMIT


@pytest.fixture(autouse=True)
def _no_backoff(settings):
    """django-otp refuses codes for 1, 2, 4 … s after wrong ones; tests that need it turn it back on."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def code_of(device) -> str:
    """The code the app shows now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"


def wrong_code(device) -> str:
    window = {totp(device.bin_key, device.step, device.t0 + shift * device.step, device.digits)
              for shift in (-2, -1, 0, 1, 2)}
    return next(f"{n:06d}" for n in range(100000, 1000000, 7919) if n not in window)


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)


def usable(client) -> bool:
    """Whether the session can be used: a staff page answers (the home page now sends each role elsewhere)."""
    return client.get(reverse("accounts:staff_list")).status_code == 200


def login(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD})


def verify(client, code, next_url="/"):
    return client.post(reverse("accounts:two_factor_verify"), {"code": code, "next": next_url})


def test_a_staff_member_enrols_with_the_qr_code_or_the_key(client, engineer):
    client.force_login(engineer)
    page = client.get(reverse("accounts:two_factor"))
    assert page.status_code == 200 and page.context["device"] is None and page.context["pending"] is None
    assert reverse("accounts:two_factor").encode() in client.get(reverse("password_change")).content  # the menu

    assert client.post(reverse("accounts:two_factor"), {"action": "start"}).status_code == 302
    page = client.get(reverse("accounts:two_factor"))
    pending = TOTPDevice.objects.get(user=engineer, confirmed=False)
    assert page.context["pending"] == pending
    assert page.context["qr_uri"].startswith("data:image/svg+xml")
    assert page.context["secret"].replace(" ", "") == b32encode(pending.bin_key).decode()
    assert not otp.has_device(engineer)

    wrong = client.post(reverse("accounts:two_factor"), {"action": "confirm", "code": wrong_code(pending)})
    assert wrong.status_code == 200 and wrong.context["confirm_form"].errors["code"]
    garbage = client.post(reverse("accounts:two_factor"), {"action": "confirm", "code": "12ab"})
    assert garbage.status_code == 200 and garbage.context["confirm_form"].errors["code"]
    right = client.post(reverse("accounts:two_factor"), {"action": "confirm", "code": code_of(pending)})
    assert right.status_code == 302
    assert otp.has_device(engineer)
    assert usable(client)  # this session is verified by the enrolment
    assert client.get(reverse("accounts:two_factor")).context["device"] == pending


def test_a_customer_user_has_no_second_factor_page(client, customer_user_a):
    client.force_login(customer_user_a)
    assert client.get(reverse("accounts:two_factor")).status_code == 403
    assert client.post(reverse("accounts:two_factor"), {"action": "start"}).status_code == 403
    assert not TOTPDevice.objects.exists()
    assert reverse("accounts:two_factor").encode() not in client.get(reverse("password_change")).content


def test_after_the_password_a_code_is_needed_before_anything_else(client, engineer):
    device = device_for(engineer)
    assert login(client, engineer).status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home["Location"] == reverse("accounts:two_factor_verify") + "?next=%2F"
    assert client.get(reverse("accounts:staff_list"))["Location"].startswith(reverse("accounts:two_factor_verify"))
    api = client.get("/api/requests/")
    assert api.status_code == 403 and api.json()["code"] == "second_factor_required"
    htmx = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"].startswith(reverse("accounts:two_factor_verify"))
    assert client.get(reverse("accounts:two_factor_verify")).status_code == 200

    wrong = verify(client, wrong_code(device))
    assert wrong.status_code == 200 and wrong.context["form"].errors["code"]
    assert verify(client, "not a code").context["form"].errors["code"]
    assert not usable(client)
    right = verify(client, code_of(device), next_url=reverse("accounts:staff_list"))
    assert right.status_code == 302 and right["Location"] == reverse("accounts:staff_list")
    assert usable(client)
    assert client.get("/api/requests/").status_code == 200


def test_next_never_leads_off_the_site(client, settings, engineer):
    device = device_for(engineer)
    login(client, engineer)
    response = verify(client, code_of(device), next_url="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)


def test_logging_out_is_possible_while_a_code_is_owed(client, engineer):
    device_for(engineer)
    login(client, engineer)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("accounts:staff_list"))["Location"].startswith(reverse("login"))


def test_a_code_is_accepted_once(client, engineer):
    device = device_for(engineer)
    with time_machine.travel(time.time(), tick=False) as traveller:
        code = code_of(device)
        login(client, engineer)
        assert verify(client, code).status_code == 302
        other = client.__class__()
        login(other, engineer)
        replay = verify(other, code)
        assert replay.status_code == 200 and replay.context["form"].errors["code"]
        traveller.shift(device.step)
        assert verify(other, code_of(device)).status_code == 302


def test_wrong_codes_count_toward_the_login_lockout(client, engineer):
    device = device_for(engineer)
    login(client, engineer)
    answers = [verify(client, wrong_code(device)).status_code for _ in range(LIMIT)]
    assert answers == [200] * (LIMIT - 1) + [429]
    assert client.get(reverse("accounts:staff_list"))["Location"].startswith(reverse("login"))  # the session was logged out
    assert login(client, engineer).status_code == 429  # and the account is locked, the right password too


def test_quick_retries_after_a_wrong_code_are_refused_without_counting(client, settings, engineer):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = device_for(engineer)
    login(client, engineer)
    verify(client, wrong_code(device))
    refused = verify(client, code_of(device))
    assert refused.status_code == 200 and refused.context["form"].errors["code"]
    assert not usable(client)
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    assert verify(client, code_of(device)).status_code == 302


def test_removal_needs_the_password_or_a_code(client, engineer):
    device = device_for(engineer)
    login(client, engineer)
    verify(client, code_of(device))
    remove = {"action": "remove", "password": "wrong password"}
    refused = client.post(reverse("accounts:two_factor"), remove)
    assert refused.status_code == 200 and refused.context["remove_form"].errors["password"]
    assert client.post(reverse("accounts:two_factor"), {"action": "remove", "password": ""}).status_code == 200
    assert otp.has_device(engineer)
    assert client.post(reverse("accounts:two_factor"), {"action": "remove", "password": PASSWORD}).status_code == 302
    assert not otp.has_device(engineer)

    assert usable(client)
    device = device_for(engineer)  # (a session from before a device owes no code until its next login)
    assert client.post(reverse("accounts:two_factor"), {"action": "remove", "password": code_of(device)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=engineer).exists()
    login(client, engineer)
    assert usable(client)  # no device: the password is enough again


def test_a_device_removed_by_an_administrator_frees_a_waiting_session(client, engineer):
    device = device_for(engineer)
    login(client, engineer)
    device.delete()
    response = client.get(reverse("accounts:two_factor_verify") + "?next=/org/staff/")
    assert response.status_code == 302 and response["Location"] == "/org/staff/"
    assert usable(client)


def test_without_the_setting_administrators_need_no_device(client, admin_user):
    login(client, admin_user)
    assert usable(client)
    assert client.get("/admin/").status_code == 200


def test_the_setting_makes_administrators_enrol_first(client, settings, admin_user, dispatcher):
    settings.AFTERSALES_REQUIRE_ADMIN_OTP = True
    login(client, admin_user)
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home["Location"] == reverse("accounts:two_factor") + "?next=%2F"
    assert client.get("/admin/")["Location"].startswith(reverse("accounts:two_factor"))
    assert client.get("/api/requests/").status_code == 403
    page = client.get(reverse("accounts:two_factor") + "?next=/admin/")
    assert page.status_code == 200 and page.context["required"]
    assert client.post(reverse("accounts:two_factor"), {"action": "start", "next": "/admin/"}).status_code == 302
    pending = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    done = client.post(reverse("accounts:two_factor"), {"action": "confirm", "code": code_of(pending), "next": "/admin/"})
    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200

    other = client.__class__()
    login(other, dispatcher)  # not an administrator: nothing owed
    assert usable(other)


def test_the_administrator_role_counts_and_a_session_is_rechecked_when_the_setting_changes(client, settings):
    role_admin = StaffFactory(username="role_admin", role=roles.ADMINISTRATOR)
    login(client, role_admin)
    assert usable(client)
    settings.AFTERSALES_REQUIRE_ADMIN_OTP = True
    assert client.get(reverse("home"))["Location"].startswith(reverse("accounts:two_factor"))


def test_when_required_the_admin_site_needs_a_verified_session_from_everyone(client, settings):
    settings.AFTERSALES_REQUIRE_ADMIN_OTP = True
    staff = StaffFactory(username="admin_site_user", is_staff=True, role=roles.DISPATCHER)
    login(client, staff)
    assert usable(client)
    assert client.get("/admin/")["Location"].startswith(reverse("accounts:two_factor"))


def test_the_functions_for_the_token_endpoint(engineer):
    assert not otp.has_device(engineer) and not otp.verify(engineer, "123456")
    device = device_for(engineer)
    assert otp.has_device(engineer)
    with time_machine.travel(time.time(), tick=False):
        code = code_of(device)
        assert not otp.verify(engineer, wrong_code(device))
        assert not otp.verify(engineer, "")
        assert not otp.verify(engineer, "12345x")
        assert otp.verify(engineer, code[:3] + " " + code[3:])
        assert not otp.verify(engineer, code)  # once only
    pending = TOTPDevice.objects.create(user=UserFactory(), name="TOTP", confirmed=False)
    assert not otp.has_device(pending.user) and not otp.verify(pending.user, code_of(pending))


def test_a_user_without_a_device_pays_no_query_for_it(client, engineer):
    client.force_login(engineer)
    with CaptureQueriesContext(connection) as queries:
        assert usable(client)
    assert not [q for q in queries.captured_queries if TOTPDevice._meta.db_table in q["sql"]]
