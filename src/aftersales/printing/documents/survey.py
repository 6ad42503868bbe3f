"""VIS-2: 《售后系统运行调查表》 — the seed's survey, its fields in its order (visits.models.SURVEY_FIELDS): 项目名称,
项目合同号, 调查时间 (20 年 月 日 时 分), 设备使用情况, 系统运行情况, 系统稳定性情况, 是否有异常 □是 □否, 异常描述,
服务响应满意度, 备注; how it was answered, and a box for the customer's signature and date on paper."""

from django.utils import timezone

from aftersales.core.clock import SHANGHAI
from aftersales.core.scoping import get_visible_or_404
from aftersales.visits.models import (
    SURVEY_FIELDS,
    AnsweredVia,
    Satisfaction,
    Survey,
    SurveyState,
)

from .common import issuer, label, name_of, when

TEMPLATE = "printing/survey.html"
PERMISSION = "visits.view_survey"


def load(user, pk) -> Survey:
    """One query: the survey with its project, branch and who answered."""
    return get_visible_or_404(Survey.objects.select_related("project__customer", "branch", "answered_by", "visit"),
                              user, pk=pk)


def filename(survey) -> str:
    return f"售后系统运行调查表-{survey.project.contract_number}-{survey.period:%Y-%m}.pdf"


def paper_time(moment) -> str:
    """调查时间 as the paper writes it: 2026年12月07日 14时30分."""
    if moment is None:
        return ""
    local = timezone.localtime(moment, SHANGHAI)
    return f"{local:%Y}年{local:%m}月{local:%d}日 {local:%H}时{local:%M}分"


def facts(survey, user) -> dict:
    return {
        "form": "survey",
        "issuer": issuer(survey.branch),
        "number": f"{survey.project.contract_number}-{survey.period:%Y-%m}",
        "customer": survey.project.customer.name,
        "period": f"{survey.period:%Y-%m}",
        "project_name": survey.project_name,
        "contract_number": survey.contract_number,
        "surveyed_at": paper_time(survey.surveyed_at),
        "equipment_usage": survey.equipment_usage,
        "system_operation": survey.system_operation,
        "system_stability": survey.system_stability,
        "abnormal": survey.abnormal,
        "abnormal_description": survey.abnormal_description,
        "satisfaction": survey.satisfaction,
        "satisfaction_label": label(Satisfaction, survey.satisfaction),
        "remarks": survey.remarks,
        "state": label(SurveyState, survey.state),
        "answered": survey.state == SurveyState.ANSWERED,
        "answered_at": when(survey.answered_at),
        "answered_by": name_of(survey.answered_by),
        "answered_via": label(AnsweredVia, survey.answered_via),
        "visit": survey.visit.number if survey.visit_id else "",
        # 调查人: our staff member who filled it in with the customer during a visit
        "surveyor": name_of(survey.answered_by) if survey.answered_via == AnsweredVia.STAFF else "",
    }


def context(survey, user) -> dict:
    """The seed's labels are the model's own field names (their Chinese is the seed's words)."""
    fields = {name: Survey._meta.get_field(name).verbose_name for name in SURVEY_FIELDS}
    return {"labels": fields, "satisfaction_choices": [(value, str(text)) for value, text in Satisfaction.choices]}
