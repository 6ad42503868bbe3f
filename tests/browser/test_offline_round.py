"""Issue 23 §4 (lesson 19): the engineer's phone round survives a lost connection.

On a 390 px phone the engineer opens a round in progress, the connection drops (Playwright's offline mode), and they
answer every item (a failed one with its photo, a reading out of range) and complete the round: each answer is kept
on the phone first (IndexedDB) with its own client id and the phone's time, and shown as waiting. A reload without a
connection still shows the round (the service worker's copy — the server never hears of it) and the answers waiting.
Back online, the queue is sent: every answer is stored exactly once with the phone's time, the server's receipt time
beside it and later; the round's completion time is the phone's, its receipt time the server's. The same answer sent
twice is stored once; an answer the server refuses stays on the phone, marked, until corrected or removed.

Screenshots at 390 px go to /tmp/offline-shots/ for a human to look at.
"""

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.signals import request_started
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from aftersales.core import clock
from aftersales.inspections import services
from aftersales.inspections.models import Answer, InspectionRound, ItemKind, RoundState
from tests.conftest import PASSWORD
from tests.factories import DeviceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTH = 390
PHONE = {"viewport": {"width": PHONE_WIDTH, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}
SHOTS = Path("/tmp/offline-shots")
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
CAMERA_ITEMS = [
    {"kind": ItemKind.PASS_FAIL, "label": "图像清晰"},
    {"kind": ItemKind.PASS_FAIL, "label": "镜头已清洁", "evidence_required": True},
    {"kind": ItemKind.READING, "label": "录像保存天数", "unit": "天", "min_value": 30, "max_value": None},
]
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.reportCspViolation({directive: event.effectiveDirective, blocked: event.blockedURI, page: document.URL});
});
"""
PHONE_QUEUE = """() => window.AftersalesQueue.list().then(entries => entries.map(e => (
  {kind: e.kind, client_id: e.client_id, device: e.device, item: e.item, at: e.answered_at || e.completed_at})))"""


@pytest.fixture
def round_in_progress(engineer, manager, project_a, device_a):
    """This month's round of a monthly plan over two cameras of project_a, started by its engineer (today, the real
    clock: the browser's time is the phone's)."""
    DeviceFactory(project=project_a, category=device_a.category, name="东门摄像机")
    checklist = services.create_checklist(by=manager, category=device_a.category, name="摄像机巡检", items=CAMERA_ITEMS)
    today = clock.today()
    plan = services.create_plan(by=manager, project=project_a, name="月度巡检", cadence="monthly", starts_on=today,
                                checklists=[checklist], engineers=[engineer])
    round_ = plan.rounds.get(period_start=today.replace(day=1))
    return services.start_round(round=round_, by=engineer, version=round_.version)


@pytest.fixture
def phone(browser: Browser, live_server, engineer):
    """The engineer logged in on a 390 px phone; a violation of the Content-Security-Policy fails the test."""
    violations = []
    context = browser.new_context(**PHONE)
    context.expose_function("reportCspViolation", lambda violation: violations.append(violation))
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "engineer")
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    yield page
    context.close()
    assert violations == []


@pytest.fixture
def server_hears():
    """The paths the live server is asked for, while the test listens."""
    heard = []

    def listen(sender, environ, **kwargs):
        heard.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))

    request_started.connect(listen)
    yield heard
    request_started.disconnect(listen)


def answers_url(round_) -> str:
    return reverse("inspectionround-answers", args=[round_.pk])


def open_round(page: Page, live_server, round_) -> None:
    page.goto(f"{live_server.url}{round_.get_absolute_url()}")
    # the service worker keeps this page (the first visit was loaded before it existed)
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "true", timeout=15_000)


def item_of(page: Page, device, label: str):
    return page.locator(f'.device-check[data-device="{device.pk}"] .checklist-item[data-label="{label}"]')


def answer(page: Page, device, label: str, *, passed=None, reading=None, photo=False, note=""):
    item = item_of(page, device, label)
    if passed is not None:
        item.locator(f"label[for$=passed_{0 if passed else 1}]").click()
    if reading is not None:
        item.locator("input[name$=-reading]").fill(reading)
    if photo:
        item.locator("input[name$=-photo]").set_input_files(
            {"name": "lens.png", "mimeType": "image/png", "buffer": PNG})
    if note:
        item.locator("input[name$=-note]").fill(note)
    item.locator("button[type=submit]").click()
    return item


def keep_on_the_phone(page: Page, round_, device, item_id, **values) -> None:
    """An answer put in the phone's queue as the page would (or an older page did), then the sender nudged."""
    entry = {"kind": "answer", "round": round_.pk, "user": round_.engineer_id, "url": answers_url(round_),
             "client_id": str(uuid.uuid4()), "status": "pending", "error": "", "conflict": False, "device": device.pk,
             "item": item_id, "answered_at": clock.now().isoformat(), "passed": None, "reading": None, "text": "",
             "note": "", "photo": None, "photo_name": "", **values}
    page.evaluate("""(entry) => window.AftersalesQueue.add(entry)
        .then(() => window.dispatchEvent(new Event("online")))""", entry)


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways on a phone: {width} px wide"


def shoot(page: Page, name: str, locator=None) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if locator is not None:
        locator.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_answers_kept_offline_survive_a_reload_and_are_stored_once_with_the_phones_times(
        phone, live_server, round_in_progress, device_a, server_hears):
    round_ = round_in_progress
    first, second = [check.device for check in round_.checks.select_related("device").order_by("position")]
    open_round(phone, live_server, round_)
    shoot(phone, "01-round-online")

    phone.context.set_offline(True)
    status = phone.locator("#offline-round")
    expect(status).to_have_attribute("data-state", "offline")
    heard_before = len(server_hears)

    # A failed item needs its photo: said on the phone at once, nothing kept.
    refused = answer(phone, first, "图像清晰", passed=False)
    expect(refused.locator(".offline-form-error")).to_contain_text("图像清晰")
    expect(refused.locator(".pending-answer")).to_have_count(0)

    answer(phone, first, "图像清晰", passed=False, photo=True, note="镜头有污渍")
    answer(phone, first, "镜头已清洁", passed=True, photo=True)
    low = answer(phone, first, "录像保存天数", reading="12")  # below 30 days: a finding once stored
    answer(phone, second, "图像清晰", passed=True)
    answer(phone, second, "镜头已清洁", passed=True, photo=True)
    answer(phone, second, "录像保存天数", reading="45")
    expect(phone.locator(".pending-answer[data-state=pending]")).to_have_count(6)
    expect(low.locator(".pending-answer")).to_contain_text("12 天")
    shoot(phone, "02-offline-answered", low)
    assert_no_sideways_scroll(phone)

    complete = phone.locator('details.action-panel[data-action="complete"]')
    expect(complete).to_have_attribute("open", "")  # every item answered (on the phone): completing is offered
    complete.locator("textarea[name=summary]").fill("东门摄像机镜头脏污,已清洁;录像保存天数不足,建议扩容")
    complete.locator("button[type=submit]").click()
    expect(phone.locator("[data-offline-completion] .pending-answer[data-state=pending]")).to_have_count(1)
    kept = phone.evaluate(PHONE_QUEUE)
    assert [e["kind"] for e in kept] == ["answer"] * 6 + ["complete"]

    phone.reload()  # still offline: the service worker's copy, and the queue read back from IndexedDB
    expect(phone.locator(".pending-answer[data-state=pending]")).to_have_count(7)
    expect(status).to_have_attribute("data-state", "offline")
    expect(status).to_have_attribute("data-pending", "7")
    expect(item_of(phone, first, "图像清晰").locator(".pending-answer")).to_contain_text("镜头有污渍")
    shoot(phone, "03-offline-reloaded")
    shoot(phone, "04-offline-reloaded-completion", phone.locator("[data-offline-completion]"))
    assert_no_sideways_scroll(phone)
    assert phone.evaluate(PHONE_QUEUE) == kept
    pages_heard = [(method, path) for method, path in server_hears[heard_before:]
                   if not path.endswith("/sw.js")]  # the browser checks its worker for updates itself
    assert pages_heard == [], "the server was reached while the phone was offline"
    assert not Answer.objects.filter(round=round_).exists()

    phone.context.set_offline(False)
    expect(status).to_have_attribute("data-state", "sent", timeout=30_000)
    expect(status).to_have_attribute("data-pending", "0")
    expect(phone.locator(".pending-answer[data-state=sent]")).to_have_count(7)
    shoot(phone, "05-back-online-sent")

    answers = {str(a.client_id): a for a in Answer.objects.filter(round=round_)}
    phone_answers = {e["client_id"]: e for e in kept if e["kind"] == "answer"}
    assert set(answers) == set(phone_answers) and len(answers) == 6  # each exactly once
    for client_id, stored in answers.items():
        assert stored.answered_at == datetime.fromisoformat(phone_answers[client_id]["at"])  # the phone's time, as it said it
        assert stored.received_at > stored.answered_at  # heard later, kept beside it
        assert (stored.device_check.device_id, stored.item_id) == (phone_answers[client_id]["device"],
                                                                    phone_answers[client_id]["item"])
    findings = {(a.device_check.device_id, a.item.label) for a in answers.values() if a.finding}
    assert findings == {(first.pk, "图像清晰"), (first.pk, "录像保存天数")}
    assert all(a.photo for a in answers.values() if a.item.label == "镜头已清洁")

    round_ = InspectionRound.objects.get(pk=round_.pk)
    completed = next(e for e in kept if e["kind"] == "complete")
    assert round_.state == RoundState.DONE
    assert round_.completed_at == datetime.fromisoformat(completed["at"])
    assert round_.completed_received_at > round_.completed_at
    assert round_.summary.startswith("东门摄像机镜头脏污")

    phone.reload()  # the page as the server has it now
    expect(phone.locator(".badge[data-state=done]")).to_be_visible()
    expect(phone.locator(".checklist-item .answer")).to_have_count(6)


def test_the_same_answer_sent_twice_is_stored_once(phone, live_server, round_in_progress):
    round_ = round_in_progress
    device = round_.checks.order_by("position").first().device
    open_round(phone, live_server, round_)
    item = answer(phone, device, "图像清晰", passed=True)
    expect(item.locator(".pending-answer[data-state=sent]")).to_have_count(1)
    stored = Answer.objects.get(round=round_)

    # The phone sends it again (its answer lost on the way back): the server keeps the one it has.
    keep_on_the_phone(phone, round_, device, stored.item_id, client_id=str(stored.client_id), passed=False,
                      answered_at="2020-01-01T00:00:00.000Z")
    expect(phone.locator("#offline-round")).to_have_attribute("data-pending", "0", timeout=15_000)
    assert list(Answer.objects.filter(round=round_)) == [stored]

    # The same request replayed as it went: 200 and the stored answer, unchanged.
    csrf = next(c["value"] for c in phone.context.cookies() if c["name"] == "csrftoken")
    body = {"client_id": str(stored.client_id), "device": device.pk, "item": stored.item_id, "passed": True,
            "answered_at": (stored.answered_at + timedelta(minutes=3)).isoformat()}
    url = f"{live_server.url}{answers_url(round_)}"
    replayed = phone.request.post(url, data=json.dumps(body), headers={
        "Content-Type": "application/json", "X-CSRFToken": csrf, "Referer": live_server.url + "/"})
    assert replayed.status == 200, replayed.text()
    assert replayed.json()["id"] == stored.pk and datetime.fromisoformat(replayed.json()["answered_at"]) == stored.answered_at
    assert Answer.objects.filter(round=round_).count() == 1


def test_an_answer_or_completion_the_server_refuses_stays_on_the_phone_marked(phone, live_server, round_in_progress):
    round_ = round_in_progress
    device = round_.checks.order_by("position").first().device
    item = round_.checks.order_by("position").first().checklist.items.get(position=1)
    open_round(phone, live_server, round_)

    # Kept on the phone by an older page: a failed item without its photo. The server refuses it (400).
    keep_on_the_phone(phone, round_, device, item.pk, passed=False)
    card = item_of(phone, device, "图像清晰").locator(".pending-answer")
    expect(card).to_have_attribute("data-state", "error", timeout=15_000)
    expect(card.locator(".error-message")).to_contain_text("图像清晰")
    expect(phone.locator("#offline-round")).to_have_attribute("data-state", "refused")
    expect(phone.locator("#offline-round")).to_have_attribute("data-pending", "1")
    assert not Answer.objects.filter(round=round_).exists()
    shoot(phone, "06-refused-answer", card)

    # Corrected: answered again with its photo; the refused one is replaced and the new one stored.
    answer(phone, device, "图像清晰", passed=False, photo=True)
    expect(card).to_have_count(1)
    expect(card).to_have_attribute("data-state", "sent", timeout=15_000)
    assert Answer.objects.filter(round=round_).count() == 1

    # Completing a round whose other items are not answered is refused too, and stays, with the server's words.
    phone.locator('details.action-panel[data-action="complete"] summary').click()
    phone.locator('form.action-form[data-action="complete"] button[type=submit]').click()
    completion = phone.locator("[data-offline-completion] .pending-answer")
    expect(completion).to_have_attribute("data-state", "error", timeout=15_000)
    expect(completion.locator(".error-message")).not_to_be_empty()
    shoot(phone, "07-refused-completion", completion)

    # A conflict (409: someone changed the round meanwhile) says so.
    InspectionRound.objects.filter(pk=round_.pk).update(version=round_.version + 5)
    phone.once("dialog", lambda dialog: dialog.accept())
    completion.locator("button[data-remove]").click()
    expect(completion).to_have_count(0)
    phone.locator('details.action-panel[data-action="complete"] summary').click()
    phone.locator('form.action-form[data-action="complete"] button[type=submit]').click()
    expect(completion).to_have_attribute("data-state", "error", timeout=15_000)
    expect(completion).to_have_attribute("data-conflict", "true")
    assert InspectionRound.objects.get(pk=round_.pk).state == RoundState.IN_PROGRESS
