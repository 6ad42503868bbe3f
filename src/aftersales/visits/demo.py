"""Demo return visits and surveys (issue 23 §7-§8), loaded through the verbs and dated from today:

- schedules: 银川天网三期 monthly on the last day of the month; the hospital quarterly, and after closed requests;
- visits: done ones (with follow-ups, one open, one done), this period's planned ones, an overdue one;
- surveys: answered during a visit, one with a low satisfaction and an abnormality (its follow-up open), and one
  mailed to the hospital's contact, its link still unanswered.
"""

from datetime import datetime, time, timedelta

from aftersales.accounts.models import User
from aftersales.core import clock
from aftersales.customers.models import Project

from . import services
from .models import Cadence, ReturnVisit, VisitMethod


def at(day, hour=10):
    return datetime.combine(day, time(hour), tzinfo=clock.SHANGHAI)


def load() -> dict:
    """Create the demo visits once (inside demo.data.load's transaction); a second call changes nothing."""
    if ReturnVisit.objects.exists():
        return {"visits": 0}
    people = {u.username: u for u in User.objects.filter(username__in=["dispatcher", "manager", "engineer", "engineer2"])}
    projects = {p.contract_number: p for p in Project.objects.filter(
        contract_number__in=["NXZD-2021-031", "NXZD-2023-007", "NXZD-2022-018"])}
    if len(people) < 4 or len(projects) < 3:
        return {"visits": 0}
    desk, manager, engineer, field = people["dispatcher"], people["manager"], people["engineer"], people["engineer2"]
    skynet, traffic, hospital = projects["NXZD-2021-031"], projects["NXZD-2023-007"], projects["NXZD-2022-018"]
    today = clock.today()
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    two_months_ago = (last_month - timedelta(days=1)).replace(day=1)

    # Schedules: each makes this period's visit at once.
    services.create_schedule(by=desk, project=skynet, cadence=Cadence.MONTHLY, day_of_month=31, owner=engineer,
                             method=VisitMethod.PHONE)
    services.create_schedule(by=desk, project=hospital, cadence=Cadence.QUARTERLY, month_of_quarter=3, day_of_month=20,
                             owner=field, method=VisitMethod.ON_SITE, after_requests=True, days_after_request=7)

    # Done: two months ago by phone (a follow-up done since), last month on site (a follow-up still open).
    older = services.plan_visit(by=desk, project=skynet, due_on=two_months_ago + timedelta(days=27), owner=engineer,
                                purpose="月度电话回访")
    older = services.record_visit(
        visit=older, by=engineer, version=older.version, visited_at=at(older.due_on, 15), contact_person="马红梅",
        needs="希望增加夜间重点区域的录像保存天数(由 30 天增至 60 天)", questions="询问存储扩容的费用和停机时间",
        answers="已说明扩容方案,报价另行提交;扩容可在夜间进行,不影响录像",
        follow_ups=[services.FollowUpLine("提交存储扩容报价及实施方案", manager, older.due_on + timedelta(days=7))])
    follow_up = older.follow_ups.get()
    services.complete_follow_up(follow_up=follow_up, by=manager, version=follow_up.version,
                                resolution="报价及方案已邮件发送给马红梅,客户确认下季度实施")
    recent = services.plan_visit(by=desk, project=skynet, due_on=last_month + timedelta(days=25), owner=engineer,
                                 method=VisitMethod.ON_SITE, purpose="上门回访,解答平台使用问题")
    recent = services.record_visit(
        visit=recent, by=engineer, version=recent.version, visited_at=at(recent.due_on, 14), contact_person="马红梅",
        needs="新增两名值班员需要平台账号", questions="电子地图上的摄像机图标如何批量调整位置",
        answers="现场演示了批量编辑图标的方法,并留下操作说明",
        follow_ups=[services.FollowUpLine("为新值班员开通平台账号并做一次操作培训", engineer, today + timedelta(days=5))])
    older_survey = services.create_survey(by=engineer, project=skynet, period=two_months_ago, visit=older, send=False)
    services.answer_survey(survey=older_survey, by=engineer, version=older_survey.version, surveyed_at=older.visited_at,
                           equipment_usage="设备使用正常", system_operation="正常", system_stability="稳定",
                           abnormal=False, abnormal_description="", satisfaction=4, remarks="")
    survey = services.create_survey(by=engineer, project=skynet, period=last_month, visit=recent, send=False)
    services.answer_survey(survey=survey, by=engineer, version=survey.version, surveyed_at=recent.visited_at,
                           equipment_usage="前端摄像机 186 台在线,2 台夜间偶有丢包", system_operation="平台运行正常",
                           system_stability="稳定,本月无宕机", abnormal=False, abnormal_description="",
                           satisfaction=5, remarks="客户对响应速度满意")

    # Overdue: the traffic project's visit, due ten days ago and not made.
    services.plan_visit(by=desk, project=traffic, due_on=today - timedelta(days=10), owner=field,
                        purpose="卡口系统季度回访(逾期未回访)")
    # Low satisfaction with an abnormality: the traffic project's survey of last month opens its follow-up.
    low = services.create_survey(by=desk, project=traffic, period=last_month, send=False)
    services.answer_survey(survey=low, by=desk, version=low.version, surveyed_at=at(last_month + timedelta(days=20)),
                           equipment_usage="卡口相机 24 台,其中 3 台抓拍率下降", system_operation="平台可用,但检索变慢",
                           system_stability="每周约一次服务重启", abnormal=True,
                           abnormal_description="3 号卡口相机夜间抓拍模糊,识别率低于 80%", satisfaction=2,
                           remarks="报修后上门较慢,希望改进")

    # Mailed, not answered yet: the hospital's survey of this month (its contact has an e-mail address).
    mailed = services.create_survey(by=desk, project=hospital, period=this_month, send=True)
    return {"visits": ReturnVisit.objects.count(), "mailed_survey": mailed.pk}

