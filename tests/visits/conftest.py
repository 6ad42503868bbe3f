"""Return visits and surveys (issue 23 §7-§8): a contact with an e-mail address per customer, schedules, visits and
surveys of both customers' worlds, made through the verbs."""

from datetime import date

import pytest

from aftersales.visits import links, services
from aftersales.visits.models import Cadence

from ..factories import current_version

ANSWERS = {"equipment_usage": "摄像机 120 台在线", "system_operation": "运行正常", "system_stability": "稳定",
           "abnormal": False, "abnormal_description": "", "satisfaction": 5, "remarks": ""}


@pytest.fixture
def contact_a(customer_user_a):
    customer_user_a.email = "ma@customer-a.example"
    customer_user_a.save(update_fields=["email"])
    return customer_user_a


@pytest.fixture
def contact_b(customer_user_b):
    customer_user_b.email = "shen@customer-b.example"
    customer_user_b.save(update_fields=["email"])
    return customer_user_b


@pytest.fixture
def schedule_a(frozen_clock, project_a, dispatcher, engineer):
    return services.create_schedule(by=dispatcher, project=project_a, cadence=Cadence.MONTHLY, day_of_month=31,
                                    owner=engineer, starts_on=date(2026, 11, 1))


@pytest.fixture
def visit_a(frozen_clock, project_a, dispatcher, engineer):
    return services.plan_visit(by=dispatcher, project=project_a, due_on=date(2026, 11, 20), owner=engineer,
                               purpose="月度回访")


@pytest.fixture
def visit_b(frozen_clock, project_b, general_manager):
    return services.plan_visit(by=general_manager, project=project_b, due_on=date(2026, 11, 30), owner=general_manager)


@pytest.fixture
def survey_a(frozen_clock, project_a, dispatcher, contact_a):
    """This month's survey of project A, its link mailed to customer A's contact."""
    return services.create_survey(by=dispatcher, project=project_a, send=True)


@pytest.fixture
def survey_b(frozen_clock, project_b, general_manager, contact_b):
    return services.create_survey(by=general_manager, project=project_b, send=True)


def link_of(survey) -> str:
    survey.refresh_from_db()
    return f"/visits/survey/{links.survey_token(survey)}/"


def answer(survey, by, **changes):
    return services.answer_survey(survey=survey, by=by, version=current_version(survey), **{**ANSWERS, **changes})


def form_data(**changes) -> dict:
    """The survey form as a browser posts it."""
    values = {**ANSWERS, **changes}
    return {name: ("True" if value is True else "False" if value is False else value) for name, value in values.items()}
