"""Demo of findings (INS-4) and inspection reports (INS-5, issue 23 §5, §6), through the verbs, after the year of rounds
(demo.py): the findings of the done rounds are handled — one a new service request, one added to the device's open
request, one a repair case, one dismissed with its reason — and the rest stay open for the desk; the camera checklist
gets a version whose lens item opens a request automatically; the latest done round of the 天网 plan has its report
signed on the engineer's screen by the customer's person, the 交通卡口 plan's waits for the customer's confirmation
(the portal of the `customer` login lists it, and the mail carries the link)."""

from django.core.files.base import ContentFile

from aftersales.core.errors import DomainError
from aftersales.service import verbs
from aftersales.service.models import Channel, Priority

from . import findings, reports
from .models import ChecklistTemplate, Finding, FindingState, InspectionRound, ItemKind, ReportSignedVia, RoundState

EVALUATION = "本次巡检按计划完成,设备总体运行正常;发现的问题已转报修或维修处理,详见“发现的问题”。"
SUGGESTIONS = "建议:1. 雨季前检查室外设备防水;2. 老化电源适配器分批更换;3. 录像保存天数低于要求的点位扩容硬盘。"


def _handle(manager) -> dict:
    found = list(Finding.objects.filter(state=FindingState.OPEN, round__state=RoundState.DONE)
                 .select_related("round__engineer", "device__project").order_by("round__due_on", "pk"))
    done = {}
    steps = ["request", "join", "repair", "dismiss"]
    for finding in found:
        if not steps:
            break
        step = steps[0]
        by = finding.round.engineer or manager
        if step == "join":
            verbs.open_request(by=manager, project=finding.device.project, priority=Priority.GENERAL,
                               channel=Channel.PHONE, title=f"{finding.device.name} 画面异常",
                               description="客户来电:画面时有时无", devices=[finding.device])
            findings.raise_request(finding=finding, by=by, version=finding.version)
        elif step == "request":
            if findings.open_request_of(finding.device, by) is not None:
                continue  # this one would join the device's open request: a new request is shown by another
            findings.raise_request(finding=finding, by=by, version=finding.version)
        elif step == "repair":
            try:
                findings.open_repair(finding=finding, by=by, version=finding.version)
            except DomainError:  # the device has an open repair case already: try the next finding
                continue
        else:
            findings.dismiss(finding=finding, by=manager, version=finding.version, reason="现场已清洁处理,复查正常")
        done[step] = finding.pk
        steps.pop(0)
    return done


def _auto_item(manager) -> None:
    """A new version of the camera checklist whose first pass/fail item opens a request automatically."""
    from . import services

    checklist = ChecklistTemplate.objects.filter(category__code="camera").select_related("current").first()
    if checklist is None or checklist.current is None:
        return
    items, marked = [], False
    for item in checklist.current.items.order_by("position"):
        row = {"kind": item.kind, "label": item.label, "unit": item.unit, "min_value": item.min_value,
               "max_value": item.max_value, "evidence_required": item.evidence_required,
               "opens_request": item.opens_request}
        if not marked and item.kind == ItemKind.PASS_FAIL:
            row["opens_request"], marked = True, True
        items.append(row)
    services.revise_checklist(checklist=checklist, by=manager, version=checklist.version, items=items,
                              note="镜头项不合格时自动报修")


def _latest_done(plan_name: str):
    return (InspectionRound.objects.filter(plan__name=plan_name, state=RoundState.DONE)
            .select_related("engineer", "plan").order_by("-due_on").first())


def load(*, manager) -> dict:
    from aftersales.training.demo import signature_png

    handled = _handle(manager)
    _auto_item(manager)
    result = {"findings_handled": len(handled)}
    signed = _latest_done("天网三期月度巡检")
    if signed is not None:
        report = reports.issue_report(round=signed, by=signed.engineer or manager, evaluation=EVALUATION,
                                      suggestions=SUGGESTIONS)
        reports.confirm_report(report=report, version=report.version, via=ReportSignedVia.SCREEN,
                               signer_name="马红梅", comment="同意巡检结论,请尽快更换告警硬盘。",
                               signature=ContentFile(signature_png(), name="signature.png"),
                               on_screen_of=signed.engineer or manager)
        result["report_confirmed"] = signed.pk
    waiting = _latest_done("交通卡口月末巡检")
    if waiting is not None:
        reports.issue_report(round=waiting, by=waiting.engineer or manager, evaluation=EVALUATION,
                             suggestions=SUGGESTIONS)
        result["report_awaiting"] = waiting.pk
    return result
