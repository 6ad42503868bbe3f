"""Issue 21 §11: photo attachments show a small thumbnail on the request page: the original image through the scoped
download view, scaled by CSS, with fixed dimensions and loaded lazily; only PNG, JPEG, GIF and WebP."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aftersales.service import attachments, verbs
from aftersales.service.models import Priority

FILES = {
    "site.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 32,
    "cabinet.jpg": b"\xff\xd8\xff\xe0" + b"\0" * 32,
    "blink.gif": b"GIF89a" + b"\0" * 32,
    "panel.webp": b"RIFF\x20\0\0\0WEBPVP8 " + b"\0" * 32,
    "manual.pdf": b"%PDF-1.7\n" + b"\0" * 32,
    "nvr.log": "录像中断\n".encode(),
}


@pytest.fixture
def request_with_files(frozen_clock, customer_user_a, project_a):
    request = verbs.open_request(by=customer_user_a, project=project_a, priority=Priority.GENERAL, channel="portal",
                                 title="回放失败", description="-")
    stored = {name: attachments.store(request, SimpleUploadedFile(name, content), by=customer_user_a)
              for name, content in FILES.items()}
    return request, stored


def thumbnails(html: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)" class="attachment-thumb"[^>]*>', html)


def test_images_have_a_lazy_fixed_size_thumbnail_through_the_scoped_view(client, customer_user_a, request_with_files):
    request, stored = request_with_files
    client.force_login(customer_user_a)
    html = client.get(request.get_absolute_url()).content.decode()
    expected = {reverse("service:attachment", args=[stored[name].pk]) for name in
                ("site.png", "cabinet.jpg", "blink.gif", "panel.webp")}
    assert set(thumbnails(html)) == expected
    for tag in re.findall(r'<img src="[^"]+" class="attachment-thumb"[^>]*>', html):
        assert 'loading="lazy"' in tag and 'width="96"' in tag and 'height="72"' in tag and 'alt="' in tag
    for name in ("manual.pdf", "nvr.log"):  # listed, but no picture
        assert name in html
        assert reverse("service:attachment", args=[stored[name].pk]) not in thumbnails(html)


def test_the_thumbnail_is_served_with_the_download_views_headers(client, customer_user_a, request_with_files):
    _request, stored = request_with_files
    client.force_login(customer_user_a)
    response = client.get(reverse("service:attachment", args=[stored["site.png"].pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert not response.get("Content-Disposition", "").startswith("attachment")  # shown inline, so <img> works
    assert b"".join(response.streaming_content) == FILES["site.png"]


def test_another_customers_user_gets_no_thumbnail(client, customer_user_b, request_with_files):
    _request, stored = request_with_files
    client.force_login(customer_user_b)
    assert client.get(reverse("service:attachment", args=[stored["site.png"].pk])).status_code == 404


def test_the_work_orders_screenshots_have_thumbnails_too(client, frozen_clock, dispatcher, engineer, project_a):
    from ..factories import current_version

    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel="phone",
                                 title="t", description="d")
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    verbs.depart(request=request, by=engineer)
    verbs.arrive(request=request, by=engineer, confirmed_by_customer=True)
    verbs.submit_work_order(request=request, by=engineer, version=current_version(request), actions="重启录像机",
                            minutes_spent=20, result="solved", parts_used="",
                            uploads=[SimpleUploadedFile("after.png", FILES["site.png"])])
    client.force_login(dispatcher)
    html = client.get(request.get_absolute_url()).content.decode()
    assert len(thumbnails(html)) == 1


def test_the_thumbnail_types_are_the_sniffed_image_types():
    assert attachments.THUMBNAIL_TYPES == {attachments.sniff(FILES[name]) for name in
                                           ("site.png", "cabinet.jpg", "blink.gif", "panel.webp")}
