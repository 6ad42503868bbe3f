"""Issue 21 §6: an SLA policy's own promises edited on the configuration pages and /api/config/policies/ — create,
copy, edit, the targets table, the default switch, delete, validation, stale versions and who may do it; and what a
change reaches: requests opened from now on get it, open requests keep the targets they were given."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import translation

from aftersales.service import policy_config, verbs
from aftersales.service.models import (
    ProjectPolicy, SlaPolicy, SlaTargetRule, Target, TargetKind, WorkCalendar,
)

from ..conftest import api_as
from ..factories import ProjectFactory, current_version
from .conftest import shanghai

pytestmark = pytest.mark.usefixtures("frozen_clock")  # 2026-11-26 10:00 Shanghai, a Thursday


@pytest.fixture
def default_policy(db):
    return SlaPolicy.objects.get(is_default=True)  # the seed's: 7×24, serious reply 15 min …


@pytest.fixture
def office():
    return WorkCalendar.objects.get(name="工作日 9:00–18:00")


@pytest.fixture
def office_policy(office, default_policy):
    """The seed's targets on the office-hours calendar, through the verb (a copy)."""
    return policy_config.create_policy(name="工作时间", calendar=office, copy_from=default_policy, by=None)


def rules_of(policy) -> dict:
    return {(rule.priority, rule.kind): (rule.minutes, rule.starts, rule.onsite_only)
            for rule in SlaTargetRule.objects.filter(policy=policy)}


def table(policy, **changes) -> dict:
    """The targets table as the page posts it, with `changes` {"serious-reply-minutes": "20", …} applied."""
    data = {"action": "targets", "version": current_version(policy)}
    for rule in SlaTargetRule.objects.filter(policy=policy):
        prefix = f"{rule.priority}-{rule.kind}"
        data |= {f"{prefix}-minutes": str(rule.minutes), f"{prefix}-starts": rule.starts}
        if rule.onsite_only and rule.kind == TargetKind.RESOLUTION:
            data[f"{prefix}-onsite_only"] = "on"
    data |= changes
    return {key: value for key, value in data.items() if value is not None}


def settings_form(policy, **changes) -> dict:
    policy.refresh_from_db()
    data = {"action": "save", "version": policy.version, "name": policy.name, "calendar": policy.calendar_id,
            "warn_at_percent": policy.warn_at_percent, "is_default": "on" if policy.is_default else None} | changes
    return {key: value for key, value in data.items() if value is not None}


def open_serious(project, reporter):
    return verbs.open_request(by=reporter, project=project, priority="serious", channel="portal", title="录像丢失",
                              description="三号 NVR")


# ------------------------------------------------------------------------------------------------ pages

def test_an_administrator_creates_a_policy_and_finds_it_audited(client, admin_user, office):
    client.force_login(admin_user)
    assert client.get(reverse("service:config_policy_create")).status_code == 200
    response = client.post(reverse("service:config_policy_create"),
                           {"name": "金牌服务", "calendar": office.pk, "warn_at_percent": 70})
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="金牌服务")
    assert (policy.calendar, policy.warn_at_percent, policy.is_default, rules_of(policy)) == (office, 70, False, {})
    assert response["Location"] == reverse("service:config_policy", args=[policy.pk])
    assert LogEntry.objects.get_for_object(policy).get().actor == admin_user
    page = client.get(response["Location"]).content.decode()
    assert "data-applies-from-now" in page and "data-targets" in page  # the plain statement and the table


def test_a_copy_takes_every_target_of_its_source(client, admin_user, default_policy, office):
    client.force_login(admin_user)
    form = client.get(reverse("service:config_policy_create") + f"?copy={default_policy.pk}").context["form"]
    assert (form.initial["copy_from"], form.initial["calendar"]) == (default_policy.pk, default_policy.calendar_id)
    response = client.post(reverse("service:config_policy_create"),
                           {"name": "标准服务 工作时间", "calendar": office.pk, "warn_at_percent": 80,
                            "copy_from": default_policy.pk})
    assert response.status_code == 302
    copy = SlaPolicy.objects.get(name="标准服务 工作时间")
    assert rules_of(copy) == rules_of(default_policy) and len(rules_of(copy)) == 11
    assert copy.calendar == office and SlaPolicy.objects.get(is_default=True) == default_policy


def test_the_settings_are_edited_and_the_version_moves_on(client, admin_user, office_policy, default_policy):
    client.force_login(admin_user)
    url = reverse("service:config_policy", args=[office_policy.pk])
    page = client.get(url)
    assert page.context["policy_form"].initial["version"] == 1
    assert page.context["preview"]  # the preview next to the form
    response = client.post(url, settings_form(office_policy, name="工作时间（新）", warn_at_percent=60,
                                              calendar=default_policy.calendar_id))
    assert response.status_code == 302
    office_policy.refresh_from_db()
    assert (office_policy.name, office_policy.warn_at_percent, office_policy.calendar_id, office_policy.version) == (
        "工作时间（新）", 60, default_policy.calendar_id, 2)


def test_targets_are_changed_added_and_removed_in_the_table(client, admin_user, office_policy):
    client.force_login(admin_user)
    url = reverse("service:config_policy", args=[office_policy.pk])
    form = client.get(url).context["targets_form"]
    with translation.override("en"):
        rows = {(line["row"].priority, line["row"].kind): line for line in form.table()}
    assert len(rows) == 12 and rows[("serious", "resolution")]["duration"] == "4 h"  # 240 minutes, readable
    assert rows[("general", "departure")]["duration"] == ""  # no target yet
    response = client.post(url, table(office_policy, **{
        "serious-reply-minutes": "20",  # changed
        "general-departure-minutes": "90", "general-departure-starts": "dispatched",  # added
        "emergency-arrival-minutes": "",  # removed
    }))
    assert response.status_code == 302, response.context["targets_form"].errors
    rules = rules_of(office_policy)
    assert rules[("serious", "reply")][0] == 20
    assert rules[("general", "departure")] == (90, "dispatched", True)  # departures are always on site
    assert ("emergency", "arrival") not in rules and len(rules) == 11
    office_policy.refresh_from_db()
    assert office_policy.version == 2
    assert client.get(url).context["targets_form"].table()[0]["row"].rule is not None


@pytest.mark.parametrize(("changes", "field"), [
    ({"serious-reply-minutes": "0"}, "serious-reply-minutes"),
    ({"serious-reply-minutes": str(90 * 24 * 60 + 1)}, "serious-reply-minutes"),  # more than 90 days
    ({"serious-reply-minutes": "abc"}, "serious-reply-minutes"),
    ({"serious-reply-minutes": "300"}, "serious-resolution-minutes"),  # the resolution (240) sooner than the reply
    ({"serious-departure-minutes": "180"}, "serious-arrival-minutes"),  # arriving (120) before departing
    ({"serious-arrival-starts": "arrived"}, "serious-arrival-starts"),
])
def test_a_target_that_cannot_be_promised_is_a_form_error_on_its_row(client, admin_user, office_policy, changes,
                                                                     field):
    client.force_login(admin_user)
    before = rules_of(office_policy)
    response = client.post(reverse("service:config_policy", args=[office_policy.pk]), table(office_policy, **changes))
    assert response.status_code == 200
    errors = response.context["targets_form"].errors
    assert field in errors, errors
    assert rules_of(office_policy) == before and current_version(office_policy) == 1


def test_the_order_rule_explains_itself(admin_user, office_policy):
    client = api_as(admin_user)
    rules = [{"priority": "general", "kind": "reply", "minutes": 120},
             {"priority": "general", "kind": "resolution", "minutes": 60}]
    response = client.patch(f"/api/config/policies/{office_policy.pk}/", {"version": 1, "rules": rules}, format="json")
    assert response.status_code == 400
    assert "rules" in response.json()["fields"] and "120" in response.json()["detail"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"warn_at_percent": "0"}, "warn_at_percent"), ({"warn_at_percent": "100"}, "warn_at_percent"),
    ({"name": "标准服务 7×24"}, "name"),  # the default's name: names are unique
    ({"name": "  "}, "name"), ({"calendar": "999999"}, "calendar"),
])
def test_bad_settings_are_form_errors_and_write_nothing(client, admin_user, office_policy, changes, field):
    client.force_login(admin_user)
    response = client.post(reverse("service:config_policy", args=[office_policy.pk]),
                           settings_form(office_policy, **changes))
    assert response.status_code == 200
    assert field in response.context["policy_form"].errors
    office_policy.refresh_from_db()
    assert (office_policy.name, office_policy.warn_at_percent, office_policy.version) == ("工作时间", 80, 1)


def test_a_duplicate_name_on_create_is_a_form_error(client, admin_user, office):
    client.force_login(admin_user)
    response = client.post(reverse("service:config_policy_create"),
                           {"name": "标准服务 7×24", "calendar": office.pk, "warn_at_percent": 80})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert SlaPolicy.objects.count() == 1


def test_making_a_policy_the_default_ends_the_old_default_in_the_same_action(client, admin_user, office_policy,
                                                                            default_policy):
    client.force_login(admin_user)
    response = client.post(reverse("service:config_policy", args=[office_policy.pk]),
                           settings_form(office_policy, is_default="on"))
    assert response.status_code == 302
    assert list(SlaPolicy.objects.filter(is_default=True)) == [office_policy]
    default_policy.refresh_from_db()
    assert default_policy.version == 2  # a form open on the old default is stale now
    assert LogEntry.objects.get_for_object(default_policy).filter(changes__icontains="is_default").exists()
    # the default stays the default: its form does not offer to switch it off, the API refuses
    assert client.get(reverse("service:config_policy", args=[office_policy.pk])
                      ).context["policy_form"].fields["is_default"].disabled
    response = api_as(admin_user).patch(f"/api/config/policies/{office_policy.pk}/",
                                        {"version": current_version(office_policy), "is_default": False},
                                        format="json")
    assert response.status_code == 400 and "is_default" in response.json()["fields"]
    assert SlaPolicy.objects.get(is_default=True) == office_policy


def test_delete_is_refused_while_the_policy_is_used_and_says_by_how_many(client, admin_user, office_policy,
                                                                        default_policy, project_a, customer_a):
    client.force_login(admin_user)
    url = reverse("service:config_policy", args=[office_policy.pk])
    ProjectPolicy.objects.create(project=project_a, policy=office_policy)
    ProjectPolicy.objects.create(project=ProjectFactory(customer=customer_a, name="二期"), policy=office_policy)
    response = client.post(url, {"action": "delete", "version": 1})
    assert response.status_code == 200
    assert "2" in str(response.context["delete_form"].non_field_errors())
    default = client.post(reverse("service:config_policy", args=[default_policy.pk]), {"action": "delete", "version": 1})
    assert default.context["delete_form"].non_field_errors()
    api = api_as(admin_user).delete(f"/api/config/policies/{office_policy.pk}/")
    assert (api.status_code, api.json()["code"]) == (409, "in_use") and "2" in api.json()["detail"]
    assert SlaPolicy.objects.count() == 2
    ProjectPolicy.objects.all().delete()
    assert client.post(url, {"action": "delete", "version": 1}).status_code == 302
    assert not SlaPolicy.objects.filter(pk=office_policy.pk).exists()
    assert not SlaTargetRule.objects.filter(policy_id=office_policy.pk).exists()


def test_a_policy_requests_were_opened_under_is_kept(admin_user, office_policy, project_a, customer_user_a):
    ProjectPolicy.objects.create(project=project_a, policy=office_policy)
    open_serious(project_a, customer_user_a)
    ProjectPolicy.objects.all().delete()
    response = api_as(admin_user).delete(f"/api/config/policies/{office_policy.pk}/")
    assert (response.status_code, response.json()["code"]) == (409, "in_use")
    assert SlaPolicy.objects.filter(pk=office_policy.pk).exists()


def test_a_stale_form_is_refused_and_writes_nothing(client, admin_user, office_policy):
    client.force_login(admin_user)
    url = reverse("service:config_policy", args=[office_policy.pk])
    stale = table(office_policy, **{"serious-reply-minutes": "25"})
    assert client.post(url, settings_form(office_policy, warn_at_percent=70)).status_code == 302  # someone else
    response = client.post(url, stale)
    assert response.status_code == 200 and response.context["stale"]
    assert "Reload" in response.content.decode() or "重新" in response.content.decode()
    assert rules_of(office_policy)[("serious", "reply")][0] == 15
    htmx = client.post(url, stale, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 409
    office_policy.refresh_from_db()
    assert (office_policy.version, office_policy.warn_at_percent) == (2, 70)
    # a form without its version is stale too, not a 500
    assert client.post(url, {**stale, "version": "x"}).context["targets_form"].errors


def test_only_administrators_change_policies(client, manager, dispatcher, admin_user, office_policy, office):
    url = reverse("service:config_policy", args=[office_policy.pk])
    for user in (manager, dispatcher):
        client.force_login(user)
        assert client.get(reverse("service:config_policy_create")).status_code == 403
        assert client.post(reverse("service:config_policy_create"),
                           {"name": "x", "calendar": office.pk, "warn_at_percent": 80}).status_code == 403
        assert client.post(url, table(office_policy, **{"serious-reply-minutes": "25"})).status_code == 403
        assert client.post(url, {"action": "delete", "version": 1}).status_code == 403
        api = api_as(user)
        assert api.post("/api/config/policies/", {"name": "x", "calendar": office.pk}, format="json").status_code == 403
        assert api.patch(f"/api/config/policies/{office_policy.pk}/", {"version": 1, "warn_at_percent": 50},
                         format="json").status_code == 403
        assert api.delete(f"/api/config/policies/{office_policy.pk}/").status_code == 403
    client.force_login(manager)  # reads the policy, without the forms
    page = client.get(url)
    assert page.status_code == 200 and "policy_form" not in page.context and page.context["preview"]
    assert rules_of(office_policy)[("serious", "reply")][0] == 15 and SlaPolicy.objects.count() == 2
    client.force_login(admin_user)
    assert "data-new-policy" in client.get(reverse("service:config_policies")).content.decode()


def test_a_new_request_gets_the_new_minutes_and_an_open_one_keeps_its_deadline(client, admin_user, default_policy,
                                                                              project_a, customer_user_a):
    before = open_serious(project_a, customer_user_a)
    assert before.reply_due_at == shanghai(2026, 11, 26, 10, 15)
    client.force_login(admin_user)
    response = client.post(reverse("service:config_policy", args=[default_policy.pk]),
                           table(default_policy, **{"serious-reply-minutes": "30"}))
    assert response.status_code == 302
    after = open_serious(project_a, customer_user_a)
    assert after.reply_due_at == shanghai(2026, 11, 26, 10, 30)
    assert Target.objects.get(request=after, kind="reply").minutes == 30
    before.refresh_from_db()
    assert before.reply_due_at == shanghai(2026, 11, 26, 10, 15)
    assert Target.objects.get(request=before, kind="reply").minutes == 15


def test_a_new_calendar_recomputes_the_open_requests_of_the_policy(admin_user, default_policy, office, project_a,
                                                                  customer_user_a):
    """The calendar is not stored on the request: its due times are counted on its policy's calendar, so they are
    recomputed in the same action rather than at some unrelated later event."""
    request = verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                                 title="录像丢失", description="三号 NVR")
    assert request.resolve_due_at == shanghai(2026, 11, 26, 18, 0)  # 480 minutes on 7×24
    response = api_as(admin_user).patch(f"/api/config/policies/{default_policy.pk}/",
                                        {"version": 1, "calendar": office.pk}, format="json")
    assert (response.status_code, response.json()["recomputed"]) == (200, 1)
    request.refresh_from_db()
    assert request.resolve_due_at == shanghai(2026, 11, 27, 10, 30)  # 8 working hours: Friday morning
    assert Target.objects.get(request=request, kind="resolution").minutes == 480


# ------------------------------------------------------------------------------------------------ API

def test_the_api_creates_changes_and_deletes_a_policy(admin_user, office):
    client = api_as(admin_user)
    rules = [{"priority": "serious", "kind": "reply", "minutes": 30},
             {"priority": "serious", "kind": "arrival", "minutes": 240, "starts": "dispatched", "onsite_only": True},
             {"priority": "serious", "kind": "resolution", "minutes": 480}]
    response = client.post("/api/config/policies/", {"name": "银牌服务", "calendar": office.pk, "warn_at_percent": 75,
                                                     "rules": rules}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["version"], body["is_default"], len(body["rules"])) == (1, False, 3)
    pk = body["id"]
    changed = client.patch(f"/api/config/policies/{pk}/", {"version": 1, "rules": rules[:1], "name": "银牌"},
                           format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["name"], changed.json()["version"], changed.json()["recomputed"]) == ("银牌", 2, 0)
    assert [rule["kind"] for rule in changed.json()["rules"]] == ["reply"]
    stale = client.patch(f"/api/config/policies/{pk}/", {"version": 1, "rules": []}, format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    assert SlaTargetRule.objects.filter(policy_id=pk).count() == 1  # nothing written
    assert client.delete(f"/api/config/policies/{pk}/?version=1").status_code == 409  # stale too
    assert client.delete(f"/api/config/policies/{pk}/?version=2").status_code == 204
    assert not SlaPolicy.objects.filter(pk=pk).exists()


def test_the_api_copies_and_switches_the_default(admin_user, default_policy, office):
    response = api_as(admin_user).post("/api/config/policies/", {
        "name": "新默认", "calendar": office.pk, "copy_from": default_policy.pk, "is_default": True}, format="json")
    assert response.status_code == 201, response.json()
    assert len(response.json()["rules"]) == 11 and response.json()["is_default"]
    default_policy.refresh_from_db()
    assert not default_policy.is_default and SlaPolicy.objects.filter(is_default=True).count() == 1


@pytest.mark.parametrize("body", [
    {"version": 1, "rules": [{"priority": "serious", "kind": "reply", "minutes": 0}]},
    {"version": 1, "rules": [{"priority": "urgent", "kind": "reply", "minutes": 5}]},
    {"version": 1, "rules": [{"priority": "serious", "kind": "reply", "minutes": 5}] * 2},
    {"version": 1, "rules": [{"priority": "serious", "kind": "arrival", "minutes": 5}]},  # not on site only
    {"version": 1, "rules": [{"priority": "serious", "kind": "reply", "minutes": 5, "onsite_only": True}]},
    {"version": 1, "warn_at_percent": 100}, {"version": 1, "calendar": 2**63}, {"version": "x"}, {},
    {"version": 1, "name": "标准服务 7×24"}, {"version": 1, "rules": "all"},
])
def test_bad_changes_are_400s_with_fields_and_write_nothing(admin_user, office_policy, body):
    before = rules_of(office_policy)
    response = api_as(admin_user).patch(f"/api/config/policies/{office_policy.pk}/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid" and response.json()["fields"]
    assert rules_of(office_policy) == before and current_version(office_policy) == 1


def test_copying_and_giving_rules_at_once_is_refused(admin_user, default_policy, office):
    response = api_as(admin_user).post("/api/config/policies/", {
        "name": "x", "calendar": office.pk, "copy_from": default_policy.pk,
        "rules": [{"priority": "serious", "kind": "reply", "minutes": 5}]}, format="json")
    assert response.status_code == 400 and "copy_from" in response.json()["fields"]
    assert not SlaPolicy.objects.filter(name="x").exists()


@translation.override("en")
def test_the_readable_duration():
    assert [policy_config.duration_words(m) for m in (10, 60, 90, 480, 4320)] == [
        "10 min", "1 h", "1 h 30 min", "8 h", "72 h"]


def test_an_edit_in_the_admin_makes_a_form_open_on_the_policy_stale(rf, admin_user, office_policy):
    from django.contrib import admin

    http_request = rf.post("/admin/")
    http_request.user = admin_user
    office_policy.warn_at_percent = 70
    admin.site.get_model_admin(SlaPolicy).save_model(http_request, office_policy, None, True)
    assert current_version(office_policy) == 2
    response = api_as(admin_user).patch(f"/api/config/policies/{office_policy.pk}/", {"version": 1, "rules": []},
                                        format="json")
    assert (response.status_code, response.json()["code"]) == (409, "stale")
    assert rules_of(office_policy)
