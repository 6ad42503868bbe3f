"""Issue 21 §3: one device, one open report. Scanning the label of a device whose fault is being handled shows that
report (number, state, the follow link) and adds what the person sees to it; the desk sees the addition on the
request's timeline. Another fault can still be reported on its own."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aftersales.notify.models import OutboxMessage
from aftersales.service import verbs
from aftersales.service.models import Attachment, EventKind, ServiceRequest, State

from ..factories import current_version
from .test_labels import PNG, clock, client, labelled, report, scan  # noqa: F401 - fixtures


def first_report(client, device):
    assert report(client, device, address="203.0.113.1").status_code == 302
    return ServiceRequest.objects.get()


def test_a_second_scan_shows_the_open_report_and_adds_to_it(client, labelled, clock, dispatcher):
    existing = first_report(client, labelled)
    page = client.get(scan(labelled.label_code)).content.decode()
    assert 'id="open-report"' in page and existing.number in page and "{#" not in page
    assert reverse("intake:report_follow", args=[existing.public_token]) in page
    assert str(State(existing.state).label) in page

    response = report(client, labelled, name="李保安", phone="139 0000 1111", description="东门画面还是黑的",
                      photo=SimpleUploadedFile("现场.png", PNG, content_type="image/png"), address="203.0.113.2")
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:report_follow", args=[existing.public_token])
    assert ServiceRequest.objects.count() == 1  # no second request
    added = existing.events.get(kind=EventKind.COMMENT)
    assert "东门画面还是黑的" in added.text and "李保安" in added.text and added.actor is None
    assert added.data["via"] == "label" and added.data["device"] == labelled.pk
    assert Attachment.objects.get(request=existing, original_name="现场.png").uploaded_by is None
    assert existing.events.filter(kind=EventKind.ATTACHMENT).count() == 1
    assert OutboxMessage.objects.filter(event="label_report_added", about_id=str(existing.pk)).exists()

    client.force_login(dispatcher)  # the desk sees it on the request's timeline
    assert "东门画面还是黑的" in client.get(existing.get_absolute_url()).content.decode()


def test_another_fault_can_still_be_reported_on_its_own(client, labelled, clock):
    first_report(client, labelled)
    response = client.post(scan(labelled.label_code), {
        "reporter_name": "王师傅", "reporter_phone": "13800138000", "description": "云台不转", "intent": "separate",
    }, REMOTE_ADDR="203.0.113.3")
    assert response.status_code == 302
    assert ServiceRequest.objects.count() == 2


def test_a_closed_report_is_not_offered(client, labelled, clock, dispatcher):
    existing = first_report(client, labelled)
    verbs.cancel(request=existing, by=dispatcher, version=current_version(existing), reason="误报")
    assert 'id="open-report"' not in client.get(scan(labelled.label_code)).content.decode()
    assert report(client, labelled, address="203.0.113.4").status_code == 302
    assert ServiceRequest.objects.count() == 2


def test_additions_count_against_the_same_limits(client, labelled, clock):
    first_report(client, labelled)
    for n in range(2):
        assert report(client, labelled, address=f"198.51.100.{n}").status_code == 302
    before = ServiceRequest.objects.get().events.count()
    assert report(client, labelled, address="198.51.100.9").status_code == 429  # the device's 3 per hour
    assert ServiceRequest.objects.get().events.count() == before


def test_a_user_scanning_sees_the_open_report_with_a_link_to_it(client, labelled, clock, customer_user_a):
    existing = first_report(client, labelled)
    client.force_login(customer_user_a)
    page = client.get(scan(labelled.label_code)).content.decode()
    assert 'id="open-report"' in page and existing.get_absolute_url() in page
