"""Issue 23 §4: the round page works offline for its engineer. The page says where the phone sends its queue (the
answers and completion API) and loads the queue's scripts with the page's nonce; only the engineer recording the
round gets them. The service worker at /inspections/sw.js (scope /inspections/, the round pages) is a script for
engineers, never cached by the browser as is, and keeps the round pages and their assets.
(The browser side: tests/browser/test_offline_round.py.)"""

import re

from django.urls import reverse

from ..conftest import api_as


def test_the_recording_engineer_gets_the_offline_queue_with_the_pages_nonce(frozen_clock, client, started_a, engineer):
    client.force_login(engineer)
    page = client.get(started_a.get_absolute_url())
    html = page.content.decode()
    nonce = re.search(r"script-src [^;]*'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
    assert f'data-answers-url="{reverse("inspectionround-answers", args=[started_a.pk])}"' in html
    assert f'data-complete-url="{reverse("inspectionround-complete", args=[started_a.pk])}"' in html
    assert 'data-worker-url="/inspections/sw.js"' in html and 'data-worker-scope="/inspections/"' in html
    for script in ("inspections/queue.js", "inspections/offline-round.js"):
        assert re.search(rf'<script src="[^"]*{script}" nonce="{re.escape(nonce)}"></script>', html), script
    assert html.count('class="pending-answers"') == 3  # one place per item for the answers kept on the phone
    assert 'data-kind="reading"' in html and 'data-label="录像保存天数"' in html
    # the item's name goes into the messages said on the phone before anything is kept
    assert "{item}" in html and "%(item)s" not in html


def test_nobody_but_the_recording_engineer_gets_the_offline_queue(frozen_clock, client, started_a, round_a, manager,
                                                                  engineer, customer_user_a):
    for user, round_ in ((manager, started_a), (customer_user_a, started_a), (engineer, None)):
        client.force_login(user)
        if round_ is None:  # the engineer's round not started yet: nothing to record
            round_ = round_a.plan.rounds.exclude(pk=started_a.pk).order_by("due_on").first()
        html = client.get(round_.get_absolute_url()).content.decode()
        assert 'id="offline-round"' not in html and "offline-round.js" not in html, user


def test_the_service_worker_is_a_fresh_script_for_engineers_scoped_to_the_round_pages(client, engineer):
    client.force_login(engineer)
    response = client.get(reverse("inspections:service_worker"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache" and response["Service-Worker-Allowed"] == "/inspections/"
    body = response.content.decode()
    assert '"rounds": "/inspections/rounds/"' in body
    assert "/static/inspections/offline-round.js" in body and "/static/vendor/bootstrap/bootstrap.min.css" in body


def test_the_service_worker_is_not_for_customers_or_strangers(client, customer_user_a):
    url = reverse("inspections:service_worker")
    assert client.get(url)["Location"].startswith(reverse("login"))
    client.force_login(customer_user_a)
    assert client.get(url).status_code == 403


def test_an_answer_replayed_with_a_photo_is_stored_once(frozen_clock, started_a, engineer, photo):
    """What the phone's queue sends with a photo (multipart), sent twice: 201, then 200 with the stored answer."""
    check = started_a.checks.get()
    item = check.checklist.items.get(position=1)
    body = {"client_id": "0b6f3a52-6d7e-4e0f-9a55-3c1d2f7b8e90", "device": check.device_id, "item": item.pk,
            "answered_at": "2026-11-26T01:41:00.000Z", "passed": "false", "note": "镜头有污渍", "latitude": "38.487212",
            "longitude": "106.230909", "accuracy_m": "15"}
    api = api_as(engineer)
    url = reverse("inspectionround-answers", args=[started_a.pk])
    first = api.post(url, {**body, "photo": photo()}, format="multipart")
    assert first.status_code == 201, first.json()
    again = api.post(url, {**body, "photo": photo()}, format="multipart")
    assert again.status_code == 200 and again.json() == first.json()
    assert started_a.answers.count() == 1 and first.json()["finding"] is True
