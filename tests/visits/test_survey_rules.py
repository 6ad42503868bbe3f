"""VIS-2: exactly the seed's fields, one survey per project and month (refused by the database), a low satisfaction
or an abnormality opens exactly one follow-up, and the results are aggregated per project and month."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from aftersales.core.errors import IllegalTransition
from aftersales.notify.models import OutboxMessage
from aftersales.visits import selectors, services
from aftersales.visits.api import SurveyAnswerIn, SurveyOut
from aftersales.visits.forms import SurveyForm
from aftersales.visits.models import ANSWER_FIELDS, SURVEY_FIELDS, FollowUp, Survey

from ..conftest import api_as
from ..factories import current_version
from .conftest import ANSWERS, answer

# 《售后系统运行调查表》 as the seed prints it
SEED_LABELS = ["项目名称", "项目合同号", "调查时间", "设备使用情况", "系统运行情况", "系统稳定性情况", "是否有异常",
               "异常描述", "服务响应满意度", "备注"]


def test_the_form_has_exactly_the_seeds_fields_with_its_chinese_labels(survey_a):
    with translation.override("zh-hans"):
        form = SurveyForm(survey=survey_a, staff=True)
        assert list(form.fields) == list(SURVEY_FIELDS)
        assert [str(field.label) for field in form.fields.values()] == SEED_LABELS
        assert [str(label) for _value, label in form.fields["abnormal"].choices] == ["是", "否"]


def test_the_api_answers_exactly_the_seeds_fields(survey_a):
    assert set(SurveyAnswerIn().fields) == {"version", *ANSWER_FIELDS}
    assert set(SURVEY_FIELDS) <= set(SurveyOut().fields)
    assert set(SURVEY_FIELDS) - set(ANSWER_FIELDS) == {"project_name", "contract_number"}  # from the project


def test_the_fill_page_shows_exactly_the_seeds_fields(client, survey_a, engineer):
    client.force_login(engineer)
    page = client.get(f"/visits/surveys/{survey_a.pk}/fill/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    html = page.content.decode()
    assert [name for name in SURVEY_FIELDS if f'data-field="{name}"' in html] == list(SURVEY_FIELDS)
    assert html.count('class="mb-3 survey-field"') == len(SURVEY_FIELDS)


def test_a_second_survey_of_a_project_and_month_is_refused_by_the_database(survey_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Survey.objects.create(project=survey_a.project, customer_id=survey_a.customer_id, branch_id=survey_a.branch_id,
                              period=survey_a.period, project_name="x", contract_number="y")
    assert Survey.objects.count() == 1


def test_a_second_survey_of_the_month_over_the_api_is_a_409_and_writes_nothing(survey_a, dispatcher):
    before = OutboxMessage.objects.count()
    response = api_as(dispatcher).post("/api/surveys/", {"project": survey_a.project_id, "period": "2026-11-30"},
                                       format="json")
    assert (response.status_code, response.json()["code"]) == (409, "conflict")
    assert (Survey.objects.count(), OutboxMessage.objects.count()) == (1, before)
    nxt = api_as(dispatcher).post("/api/surveys/", {"project": survey_a.project_id, "period": "2026-12-05"},
                                  format="json")
    assert nxt.status_code == 201 and nxt.json()["period"] == "2026-12-01"


@pytest.mark.parametrize(("changes", "reasons"), [
    ({"satisfaction": 2}, ["satisfaction"]),
    ({"satisfaction": 1}, ["satisfaction"]),
    ({"abnormal": True, "abnormal_description": "3 号摄像机夜间无图像"}, ["abnormal"]),
    ({"satisfaction": 1, "abnormal": True, "abnormal_description": "录像丢失"}, ["satisfaction", "abnormal"]),
])
def test_a_low_satisfaction_or_an_abnormality_opens_exactly_one_follow_up(changes, reasons, survey_a, engineer,
                                                                          contact_a, schedule_a):
    with translation.override("en"):
        answer(survey_a, contact_a, via="portal", **changes)
    follow_up = FollowUp.objects.get()
    assert (follow_up.survey_id, follow_up.owner, follow_up.due_on) == (survey_a.pk, engineer, date(2026, 11, 29))
    assert ("satisfaction" in follow_up.description) == ("satisfaction" in reasons)
    assert ("Abnormality" in follow_up.description) == ("abnormal" in reasons)
    assert OutboxMessage.objects.filter(event="follow_up_assigned", recipient_user=engineer, channel="inapp").count() == 1
    with pytest.raises(IllegalTransition):
        answer(survey_a, contact_a, via="portal", **changes)
    assert FollowUp.objects.count() == 1


def test_a_second_follow_up_of_a_survey_is_refused_by_the_database(survey_a, contact_a, dispatcher):
    answer(survey_a, contact_a, via="portal", satisfaction=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.create(project=survey_a.project, customer_id=survey_a.customer_id,
                                branch_id=survey_a.branch_id, survey=survey_a, description="x", owner=dispatcher,
                                due_on=date(2026, 12, 1))


def test_a_satisfied_answer_without_abnormality_opens_none(survey_a, contact_a):
    answer(survey_a, contact_a, via="portal", satisfaction=3)
    assert not FollowUp.objects.exists()


def test_abnormal_yes_needs_a_description_and_a_refused_answer_writes_nothing(survey_a, contact_a):
    response = api_as(contact_a).post(f"/api/surveys/{survey_a.pk}/answer/", {
        **ANSWERS, "version": survey_a.version, "abnormal": True, "abnormal_description": " "}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"abnormal_description": [response.json()["detail"]]}
    survey_a.refresh_from_db()
    assert survey_a.state == "pending" and not FollowUp.objects.exists()


def test_a_customer_answers_their_own_survey_over_the_api_and_not_another(survey_a, survey_b, contact_a):
    client = api_as(contact_a)
    assert client.post(f"/api/surveys/{survey_b.pk}/answer/", {**ANSWERS, "version": 1},
                       format="json").status_code == 404
    stale = client.post(f"/api/surveys/{survey_a.pk}/answer/", {**ANSWERS, "version": 99}, format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    done = client.post(f"/api/surveys/{survey_a.pk}/answer/", {**ANSWERS, "version": survey_a.version,
                                                                "surveyed_at": "2026-01-01T10:00:00+08:00"},
                       format="json")
    assert done.status_code == 200, done.json()
    assert (done.json()["answered_via"], done.json()["surveyed_at"][:10]) == ("portal", "2026-11-26")  # now, not given


def test_staff_fill_it_in_during_a_visit_with_the_visits_time(frozen_clock, visit_a, engineer, dispatcher):
    survey = services.create_survey(by=dispatcher, project=visit_a.project, visit=visit_a, send=False)
    assert (survey.period, survey.sent_at, survey.link_nonce) == (date(2026, 11, 1), None, "")
    response = api_as(engineer).post(f"/api/surveys/{survey.pk}/answer/", {
        **ANSWERS, "version": survey.version, "surveyed_at": "2026-11-20T15:30:00+08:00"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["answered_via"], response.json()["surveyed_at"]) == ("staff", "2026-11-20T15:30:00+08:00")
    assert (response.json()["project_name"], response.json()["contract_number"]) == (
        visit_a.project.name, visit_a.project.contract_number)


def test_results_are_aggregated_per_project_and_month_by_the_database(frozen_clock, project_a, project_b, dispatcher,
                                                                      general_manager, contact_a,
                                                                      django_assert_num_queries):
    for period, satisfaction in ((date(2026, 9, 1), 5), (date(2026, 10, 1), 2), (date(2026, 11, 1), None)):
        survey = services.create_survey(by=dispatcher, project=project_a, period=period, send=False)
        if satisfaction:
            answer(survey, dispatcher, satisfaction=satisfaction, abnormal=satisfaction < 3,
                   abnormal_description="录像丢失" if satisfaction < 3 else "")
    survey_b = services.create_survey(by=general_manager, project=project_b, period=date(2026, 10, 1), send=False)
    answer(survey_b, general_manager, satisfaction=4)
    with django_assert_num_queries(1):
        rows = list(selectors.survey_results(Survey.objects.all()))
    assert [(r["project_id"], r["period"], r["sent"], r["answered"], r["low"], r["abnormal"]) for r in rows] == [
        (project_a.pk, date(2026, 11, 1), 1, 0, 0, 0),
        (project_b.pk, date(2026, 10, 1), 1, 1, 0, 0),  # 地铁视频监控 before 银川天网工程: by project name
        (project_a.pk, date(2026, 10, 1), 1, 1, 1, 1),
        (project_a.pk, date(2026, 9, 1), 1, 1, 0, 0)]
    october = next(row for row in selectors.monthly_totals(Survey.objects.all()) if row["period"] == date(2026, 10, 1))
    assert (october["projects"], october["answered"], float(october["average"])) == (2, 2, 3.0)
    # scoped: customer A's contact sees only its own project's rows, over the API too
    api_rows = api_as(contact_a).get("/api/surveys/results/").json()["results"]
    assert {row["project_id"] for row in api_rows} == {project_a.pk}
    assert next(r for r in api_rows if r["period"] == "2026-10-01")["average"] == 2.0


def test_the_results_page_shows_both_tables(client, dispatcher, survey_a, contact_a):
    answer(survey_a, contact_a, via="portal", satisfaction=2)
    client.force_login(dispatcher)
    page = client.get("/visits/surveys/results/")
    assert page.status_code == 200
    assert len(page.context["object_list"]) == 1 and len(page.context["totals"]) == 1
