"""LOG-3 pages: the customer announces a change in the portal and reads our answer; the desk's list (scoped by branch,
the nearest deadline first, a countdown, an overdue filter) costs the same whatever its length; another customer's or
another branch's notice is a 404; a customer's user cannot record tests or answer (403)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.changes.models import (
    ChangeNotice,
    CompatibilityTest,
    NoticeChannel,
    NoticeState,
)
from aftersales.core import clock

from ..factories import current_version
from .conftest import answer, submit, test


def local_input(value):
    return value.astimezone(clock.SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def test_the_customer_announces_a_change_in_the_portal(frozen_clock, client, project_a, device_a, customer_user_a,
                                                       dispatcher):
    client.force_login(customer_user_a)
    form = client.get(reverse("changes:notice_create")).content.decode()
    assert project_a.name in form and device_a.name in form
    starts = clock.now() + timedelta(days=2)
    response = client.post(reverse("changes:notice_create"), {
        "project": project_a.pk, "kind": "network", "title": "核心交换机升级", "description": "固件 V5.30",
        "window_starts_at": local_input(starts), "window_ends_at": local_input(starts + timedelta(hours=3)),
        "devices": [device_a.pk]})
    notice = ChangeNotice.objects.get()
    assert response.status_code == 302 and response["Location"] == notice.get_absolute_url()
    assert (notice.channel, notice.submitted_by, list(notice.devices.all())) == (NoticeChannel.PORTAL,
                                                                                  customer_user_a, [device_a])
    page = client.get(notice.get_absolute_url()).content.decode()
    assert "核心交换机升级" in page and 'data-action="withdraw"' in page and 'data-action="answer"' not in page


def test_a_window_in_the_past_is_a_form_error(frozen_clock, client, project_a, customer_user_a):
    client.force_login(customer_user_a)
    starts = clock.now() - timedelta(hours=1)
    response = client.post(reverse("changes:notice_create"), {
        "project": project_a.pk, "kind": "patch", "title": "补丁", "description": "补丁",
        "window_starts_at": local_input(starts), "window_ends_at": local_input(starts + timedelta(hours=3))})
    assert response.status_code == 200 and 'invalid-feedback' in response.content.decode()
    assert not ChangeNotice.objects.exists()


def test_another_customers_or_branchs_notice_is_a_404(client, notice_a, notice_b, customer_user_a, dispatcher,
                                                      general_manager):
    client.force_login(customer_user_a)
    assert client.get(notice_b.get_absolute_url()).status_code == 404
    assert client.get(reverse("changes:withdraw", args=[notice_b.pk])).status_code == 404
    client.force_login(dispatcher)
    assert client.get(notice_a.get_absolute_url()).status_code == 200
    assert client.get(notice_b.get_absolute_url()).status_code == 404
    page = client.get(reverse("changes:notice_list")).content.decode()
    assert f'data-notice="{notice_a.pk}"' in page and f'data-notice="{notice_b.pk}"' not in page
    client.force_login(general_manager)  # sees every branch
    assert client.get(notice_a.get_absolute_url()).status_code == 200


def test_a_customer_cannot_record_tests_or_answer(client, notice_a, customer_user_a):
    client.force_login(customer_user_a)
    for name in ("record_test", "answer"):
        url = reverse(f"changes:{name}", args=[notice_a.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"version": 1, "subject": "x", "result": "passed", "evidence": "x",
                                 "verdict": "compatible", "answer": "x"}).status_code == 403
    assert not CompatibilityTest.objects.exists()
    notice_a.refresh_from_db()
    assert notice_a.state == NoticeState.SUBMITTED


def test_staff_record_a_test_with_evidence_and_answer_on_the_pages(client, notice_a, engineer, customer_user_a):
    client.force_login(engineer)
    response = client.post(reverse("changes:record_test", args=[notice_a.pk]), {
        "version": current_version(notice_a), "subject": "实验室装补丁", "environment": "测试机", "result": "passed",
        "evidence": "", "evidence_file": SimpleUploadedFile("shot.png", b"\x89PNG\r\n\x1a\n" + b"0" * 40)})
    assert response.status_code == 302
    recorded = CompatibilityTest.objects.get()
    assert recorded.evidence_type == "image/png"
    download = client.get(reverse("changes:evidence", args=[recorded.pk]))
    assert download.status_code == 200 and download["Content-Security-Policy"] == "sandbox"
    stale = client.post(reverse("changes:answer", args=[notice_a.pk]), {
        "version": 1, "verdict": "compatible", "answer": "兼容"})
    assert stale.status_code == 200 and 'class="alert alert-danger' in stale.content.decode()  # "reload"
    assert ChangeNotice.objects.get().state == NoticeState.UNDER_TEST
    assert client.post(reverse("changes:answer", args=[notice_a.pk]), {
        "version": current_version(notice_a), "verdict": "compatible", "answer": "兼容,可按计划实施"}).status_code == 302
    client.force_login(customer_user_a)
    page = client.get(notice_a.get_absolute_url()).content.decode()
    assert "兼容,可按计划实施" in page and "shot.png" in page
    assert client.get(reverse("changes:evidence", args=[recorded.pk])).status_code == 200


def test_the_list_shows_awaiting_first_by_deadline_and_filters_the_overdue(frozen_clock, client, project_a,
                                                                           customer_user_a, dispatcher, engineer):
    later = submit(project_a, customer_user_a, starts_in=timedelta(days=6), title="晚的")
    sooner = submit(project_a, customer_user_a, starts_in=timedelta(days=2), title="早的")
    done = submit(project_a, customer_user_a, starts_in=timedelta(days=1), title="已答复")
    test(done, engineer)
    answer(done, engineer)
    client.force_login(dispatcher)
    page = client.get(reverse("changes:notice_list")).content.decode()
    assert page.index(f'data-notice="{sooner.pk}"') < page.index(f'data-notice="{later.pk}"') < page.index(
        f'data-notice="{done.pk}"')
    assert "countdown" in page
    frozen_clock.move_to(sooner.answer_due_at + timedelta(minutes=1))
    page = client.get(reverse("changes:notice_list"), {"overdue": "true"}).content.decode()
    assert f'data-notice="{sooner.pk}"' in page and f'data-notice="{later.pk}"' not in page
    assert "text-bg-danger countdown" in page  # red: overdue


@pytest.mark.parametrize("role", ["dispatcher", "customer_user_a"])
def test_the_list_costs_the_same_queries_for_3_and_30_notices(role, frozen_clock, client, project_a, device_a,
                                                              customer_user_a, dispatcher, engineer, request,
                                                              django_assert_max_num_queries):
    client.force_login(request.getfixturevalue(role))

    def queries_for(n):
        while ChangeNotice.objects.count() < n:
            notice = submit(project_a, customer_user_a, devices=[device_a])
            if notice.pk % 3 == 0:
                test(notice, engineer)
        client.get(reverse("changes:notice_list"))  # warm the worker's caches (permissions)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("changes:notice_list"), {"size": 100}).status_code == 200
        return len(captured)

    assert queries_for(3) == queries_for(30)
    with django_assert_max_num_queries(8):  # session, user, perms, filter choices, COUNT, the page, the bell
        client.get(reverse("changes:notice_list"), {"size": 100})


def test_the_notice_page_costs_the_same_for_1_or_10_tests(frozen_clock, client, notice_a, engineer, dispatcher):
    client.force_login(dispatcher)
    test(notice_a, engineer)
    client.get(notice_a.get_absolute_url())
    with CaptureQueriesContext(connection) as one:
        client.get(notice_a.get_absolute_url())
    for _ in range(9):
        test(notice_a, engineer)
    with CaptureQueriesContext(connection) as ten:
        assert client.get(notice_a.get_absolute_url()).status_code == 200
    assert len(one) == len(ten)
