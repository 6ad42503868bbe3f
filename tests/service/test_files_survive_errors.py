"""Issue 21 §11: files chosen in a form that comes back with an error are kept (stored under kept/, carried as a
signed token in a ticked checkbox), for that user only and for a day; the next try uses them without choosing again."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from aftersales.service import attachments, verbs
from aftersales.service.forms import AttachmentsForm, keep_chosen_files, keep_files_for
from aftersales.service.models import Attachment, Priority, ServiceRequest

from ..factories import current_version

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def png(name="机柜照片.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def kept_tokens(html: str, name="attachments") -> list[str]:
    return re.findall(rf'<input class="form-check-input" type="checkbox" name="{name}-kept" value="([^"]+)"[^>]*checked>',
                      html)


def kept_on_disk(settings) -> list[Path]:
    return [p for p in (Path(settings.MEDIA_ROOT) / attachments.KEPT_DIR).rglob("*") if p.is_file()]


def portal_body(project, **more):
    return {"project": project.pk, "priority": "general", "title": "客户端无法回放", "description": "二楼客户端回放报错",
            **more}


# -- the portal's request form (a plain POST)

def test_a_file_chosen_in_a_form_with_an_error_is_kept_and_used_next_time(client, frozen_clock, customer_user_a,
                                                                         project_a, settings):
    client.force_login(customer_user_a)
    url = reverse("service:submit")
    first = client.post(url, portal_body(project_a, title="", attachments=[png()]))
    assert first.status_code in (200, 422) and ServiceRequest.objects.count() == 0
    html = first.content.decode()
    tokens = kept_tokens(html)
    assert len(tokens) == 1 and "机柜照片.png" in html
    assert len(kept_on_disk(settings)) == 1 and Attachment.objects.count() == 0

    second = client.post(url, portal_body(project_a, **{"attachments-kept": tokens}))  # nothing chosen again
    assert second.status_code == 302
    request = ServiceRequest.objects.get()
    stored = Attachment.objects.get(request=request)
    assert stored.original_name == "机柜照片.png" and stored.content_type == "image/png" and stored.size == len(PNG)
    assert stored.file.read() == PNG
    assert kept_on_disk(settings) == []  # used, so deleted


def test_kept_and_newly_chosen_files_go_together_and_an_unticked_one_stays_out(client, frozen_clock, customer_user_a,
                                                                               project_a):
    client.force_login(customer_user_a)
    url = reverse("service:submit")
    html = client.post(url, portal_body(project_a, title="", attachments=[png("a.png"), png("b.png")])).content.decode()
    tokens = kept_tokens(html)
    assert len(tokens) == 2
    # b.png unticked; c.png chosen now
    assert client.post(url, portal_body(project_a, attachments=[png("c.png")],
                                        **{"attachments-kept": tokens[:1]})).status_code == 302
    assert sorted(Attachment.objects.values_list("original_name", flat=True)) == ["a.png", "c.png"]


def test_when_a_file_is_refused_nothing_new_is_written_and_earlier_kept_files_stay(client, frozen_clock,
                                                                                   customer_user_a, project_a,
                                                                                   settings):
    client.force_login(customer_user_a)
    url = reverse("service:submit")
    bad = SimpleUploadedFile("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\xff\xfe\x00")
    html = client.post(url, portal_body(project_a, attachments=[png("ok.png"), bad])).content.decode()
    assert ServiceRequest.objects.count() == 0
    assert "setup.exe" in html and kept_tokens(html) == []  # the error names it; a bad choice writes nothing
    assert kept_on_disk(settings) == []

    tokens = kept_tokens(client.post(url, portal_body(project_a, title="", attachments=[png("ok.png")])).content.decode())
    assert len(tokens) == 1
    bad.seek(0)
    html = client.post(url, portal_body(project_a, attachments=[bad], **{"attachments-kept": tokens})).content.decode()
    assert kept_tokens(html) == tokens and len(kept_on_disk(settings)) == 1


def test_kept_files_count_towards_the_limit(client, frozen_clock, customer_user_a, project_a):
    client.force_login(customer_user_a)
    url = reverse("service:submit")
    tokens = kept_tokens(client.post(url, portal_body(project_a, title="", attachments=[png(f"{n}.png") for n in range(6)])
                         ).content.decode())
    assert len(tokens) == 6
    again = client.post(url, portal_body(project_a, attachments=[png(f"new{n}.png") for n in range(5)],
                                         **{"attachments-kept": tokens}))
    assert again.status_code != 302 and ServiceRequest.objects.count() == 0
    with translation.override("zh-hans"):
        message = gettext("Attach at most %(n)s files.") % {"n": attachments.MAX_FILES}
    assert message in again.content.decode()
    assert kept_tokens(again.content.decode()) == tokens  # the six stay; the five new are not written


# -- the tokens: the user's own, untampered, not expired

def test_another_users_or_a_tampered_or_an_old_token_is_ignored(frozen_clock, customer_user_a, customer_user_b, settings):
    mine = attachments.owner_of(customer_user_a)
    kept = attachments.keep(png(), owner=mine)
    assert attachments.reopen(kept.token, owner=mine).read() == PNG
    assert attachments.reopen(kept.token, owner=attachments.owner_of(customer_user_b)) is None
    assert attachments.reopen(kept.token[:-2] + "xx", owner=mine) is None
    assert attachments.reopen(kept.token, owner="") is None
    frozen_clock.shift(attachments.KEPT_MAX_AGE + timedelta(minutes=1))
    assert attachments.reopen(kept.token, owner=mine) is None


def test_a_foreign_token_in_a_form_adds_nothing(rf, frozen_clock, customer_user_a, customer_user_b):
    token = attachments.keep(png(), owner=attachments.owner_of(customer_user_a)).token
    data = QueryDict(mutable=True)
    data.setlist("attachments-kept", [token])
    form = keep_files_for(AttachmentsForm(data, {}), customer_user_b)
    assert not form.is_valid() and "attachments" in form.errors  # required, and the stolen token is not a file


def test_an_anonymous_visitor_keeps_nothing(frozen_clock):
    from django.contrib.auth.models import AnonymousUser

    form = keep_files_for(AttachmentsForm(QueryDict(), {}), AnonymousUser())
    form.is_valid()
    keep_chosen_files(form)
    assert form.fields["attachments"].widget.kept == []
    with pytest.raises(ValueError):
        attachments.keep(png(), owner="")


def test_old_kept_files_are_swept(frozen_clock, customer_user_a, settings):
    owner = attachments.owner_of(customer_user_a)
    attachments.keep(png("old.png"), owner=owner)
    [path] = kept_on_disk(settings)
    storage = attachments.kept_storage()
    written = storage.get_modified_time(path.relative_to(settings.MEDIA_ROOT).as_posix())
    assert attachments.sweep_kept(now=written + timedelta(hours=1)) == 0  # still usable
    assert attachments.sweep_kept(now=written + attachments.KEPT_MAX_AGE + timedelta(minutes=1)) == 1
    assert kept_on_disk(settings) == []
    assert not any(p.is_dir() for p in (Path(settings.MEDIA_ROOT) / attachments.KEPT_DIR).iterdir())


# -- the request page's forms (htmx and plain)

@pytest.fixture
def on_site(frozen_clock, dispatcher, engineer, project_a):
    request = verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL, channel="phone",
                                 title="t", description="d")
    verbs.dispatch(request=request, by=dispatcher, version=current_version(request), engineer=engineer)
    verbs.depart(request=request, by=engineer)
    verbs.arrive(request=request, by=engineer, confirmed_by_customer=True)
    return request


def test_the_work_order_form_keeps_its_screenshots(client, on_site, engineer, settings):
    client.force_login(engineer)
    url = reverse("service:work_order", args=[on_site.pk])
    body = {"version": current_version(on_site), "actions": "", "minutes_spent": "30", "result": "solved"}
    html = client.post(url, {**body, "attachments": [png("故障现场.png")]}).content.decode()
    tokens = kept_tokens(html)
    assert len(tokens) == 1 and "故障现场.png" in html
    done = client.post(url, {**body, "actions": "更换电源模块", "attachments-kept": tokens})
    assert done.status_code == 302
    work_order = on_site.work_orders.get()
    assert list(work_order.attachments.values_list("original_name", flat=True)) == ["故障现场.png"]
    assert kept_on_disk(settings) == []


def test_the_attachments_form_through_htmx_keeps_what_was_kept_and_writes_no_refused_file(client, on_site, engineer,
                                                                                          settings):
    client.force_login(engineer)
    token = attachments.keep(png("ok.png"), owner=attachments.owner_of(engineer)).token
    url = reverse("service:add_attachments", args=[on_site.pk])
    too_big = SimpleUploadedFile("huge.png", PNG + b"\0" * attachments.MAX_BYTES)
    answer = client.post(url, {"attachments": [too_big], "attachments-kept": [token]}, headers={"HX-Request": "true"})
    assert answer.status_code == 422
    assert kept_tokens(answer.content.decode()) == [token] and len(kept_on_disk(settings)) == 1
    done = client.post(url, {"attachments-kept": [token]}, headers={"HX-Request": "true"})
    assert done.status_code == 204
    assert list(on_site.attachments.values_list("original_name", flat=True)) == ["ok.png"]
    assert kept_on_disk(settings) == []


def test_a_stale_version_keeps_the_files_too(client, on_site, engineer, dispatcher):
    client.force_login(engineer)
    url = reverse("service:work_order", args=[on_site.pk])
    stale = current_version(on_site)
    verbs.comment(request=on_site, by=dispatcher, text="客户催促")  # someone else changed the request
    answer = client.post(url, {"version": stale - 1, "actions": "更换电源模块", "minutes_spent": "30", "result": "solved",
                               "attachments": [png()]})
    assert on_site.work_orders.count() == 0
    assert len(kept_tokens(answer.content.decode())) == 1
