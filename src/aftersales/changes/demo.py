"""Demo change notices (issue 25 §4, LOG-3), made through the verbs and dated from today, so the demo shows the same
whenever it is loaded:

- 银川天网三期: Windows security patches on the video management server, tested twice and answered "compatible";
- 银川交通卡口: a core switch firmware upgrade, tested (with a text log as evidence) and answered "compatible with
  conditions";
- 银川天网三期: a camera firmware upgrade of three cameras, under test;
- 总医院: antivirus software on the client PCs, unanswered and past its deadline: the desk's list shows it red and
  the sweep has put the overdue warning in the outbox;
- 上海地铁: a UPS replacement in the equipment room, withdrawn by the customer.

The verbs stamp the present; a notice's times are then moved back by an UPDATE (demo only) so the pages read as a
history: submitted days ago, tested, answered."""

from datetime import datetime, time, timedelta

from django.core.files.base import ContentFile

from aftersales.accounts.models import User
from aftersales.core import clock
from aftersales.customers.models import Project

from . import services, sweep
from .models import ChangeKind, ChangeNotice, CompatibilityTest, TestResult, Verdict


def at(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clock.SHANGHAI)


def backdate(notice, *, submitted: timedelta, tested: timedelta | None = None, answered: timedelta | None = None):
    """Move the notice's history back (demo only): submitted `submitted` ago, tests `tested` ago, answered `answered`
    ago; the deadline is recomputed from the new submission time by the same rule."""
    from . import deadlines

    now = clock.now()
    submitted_at = now - submitted
    due = deadlines.answer_due_at(submitted_at, notice.window_starts_at)
    changes = {"submitted_at": submitted_at, "answer_due_at": due, "warn_at": deadlines.due_soon_at(submitted_at, due)}
    if answered is not None:
        changes["answered_at"] = now - answered
    ChangeNotice.objects.filter(pk=notice.pk).update(**changes)
    if tested is not None:
        CompatibilityTest.objects.filter(notice=notice).update(tested_at=now - tested)


def load() -> dict:
    """Create the demo notices once (inside demo.data.load's transaction); a second call changes nothing."""
    if ChangeNotice.objects.exists():
        return {"notices": 0}
    people = {u.username: u for u in User.objects.filter(
        username__in=["customer", "hospital", "metro", "engineer", "engineer3", "dispatcher", "manager"])}
    projects = {p.contract_number: p for p in Project.objects.filter(
        contract_number__in=["NXZD-2021-031", "NXZD-2023-007", "NXZD-2022-018", "SHZD-2024-102"])}
    if len(people) < 7 or len(projects) < 4:
        return {"notices": 0}
    skynet, traffic, hospital, metro = (projects[c] for c in ("NXZD-2021-031", "NXZD-2023-007", "NXZD-2022-018",
                                                              "SHZD-2024-102"))
    engineer, engineer3, manager = people["engineer"], people["engineer3"], people["manager"]
    today = clock.today()

    # Answered: compatible, two tests.
    patch = services.submit_notice(
        by=people["customer"], project=skynet, kind=ChangeKind.PATCH, title="视频管理服务器安装 Windows 安全补丁",
        description="信息科计划为视频管理服务器(VMS-01、VMS-02)安装 2026 年 12 月 Windows Server 累积安全更新,"
                    "安装后需重启服务器。请确认补丁与视频管理平台及录像存储的兼容性。",
        window_starts_at=at(today + timedelta(days=5), 22), window_ends_at=at(today + timedelta(days=6), 2))
    for subject, environment, evidence in (
            ("在测试服务器上安装同一累积更新后运行视频管理平台", "公司实验室 VMS 测试机(同版本平台软件)",
             "补丁安装并重启后平台服务正常启动;64 路预览、回放、录像计划均正常;CPU 占用与安装前一致。"),
            ("客户端软件及解码上墙功能回归", "实验室客户端 + 解码器",
             "客户端登录、轮巡、上墙切换正常;未发现证书或驱动告警。")):
        patch = ChangeNotice.objects.get(pk=patch.pk)
        services.record_test(notice=patch, by=engineer, version=patch.version, subject=subject,
                             environment=environment, result=TestResult.PASSED, evidence=evidence)
    patch = ChangeNotice.objects.get(pk=patch.pk)
    services.answer_notice(notice=patch, by=manager, version=patch.version, verdict=Verdict.COMPATIBLE,
                           answer="经实验室测试,本次累积安全更新与视频管理平台及录像存储兼容,可按计划安装。"
                                  "建议两台服务器分批重启,先 VMS-02 后 VMS-01,避免录像中断。")
    backdate(patch, submitted=timedelta(days=3), tested=timedelta(days=2), answered=timedelta(days=1, hours=20))

    # Answered: compatible with conditions, a test with a log file.
    switch = services.submit_notice(
        by=people["customer"], project=traffic, kind=ChangeKind.NETWORK, title="核心交换机固件升级",
        description="网络运维单位计划将卡口专网核心交换机固件由 V5.20 升级至 V5.30,并调整 VLAN 20(前端卡口)的 ACL。",
        window_starts_at=at(today + timedelta(days=3), 23), window_ends_at=at(today + timedelta(days=4), 1))
    switch = ChangeNotice.objects.get(pk=switch.pk)
    log = ContentFile(b"2026-12 lab test\nVLAN20 ACL v5.30: multicast to NVR blocked until rule 30 added\n"
                      b"after rule 30: 48/48 cameras recording\n", name="switch-test-log.txt")
    services.record_test(notice=switch, by=engineer3, version=switch.version, subject="新固件及 ACL 下卡口摄像机到 NVR 的码流",
                         environment="实验室同型号交换机 + 2 台卡口相机 + NVR", result=TestResult.ISSUES,
                         evidence="新 ACL 默认拦截组播,NVR 收不到码流;增加放行规则后 48 路全部恢复录像。",
                         evidence_file=log)
    switch = ChangeNotice.objects.get(pk=switch.pk)
    services.answer_notice(notice=switch, by=manager, version=switch.version, verdict=Verdict.CONDITIONAL,
                           answer="固件本身兼容。条件:调整 ACL 时须在 VLAN 20 增加组播放行规则(见测试记录),"
                                  "否则卡口录像会中断。升级时请通知我司值班工程师在线配合。")
    backdate(switch, submitted=timedelta(days=4), tested=timedelta(days=3), answered=timedelta(days=3))

    # Under test: camera firmware, three cameras named.
    cameras = list(skynet.devices.filter(category__code="camera").order_by("pk")[:3])
    firmware = services.submit_notice(
        by=people["customer"], project=skynet, kind=ChangeKind.DEVICE, title="三台路口摄像机更换为新型号",
        description="因道路改造,三台路口摄像机将由厂家更换为新型号(H.265+),IP 地址不变。", devices=cameras,
        window_starts_at=at(today + timedelta(days=6), 9), window_ends_at=at(today + timedelta(days=6), 17))
    firmware = ChangeNotice.objects.get(pk=firmware.pk)
    services.record_test(notice=firmware, by=engineer, version=firmware.version, subject="新型号相机接入现有 NVR",
                         environment="实验室 NVR(与现场同版本)", result=TestResult.PASSED,
                         evidence="ONVIF 接入正常,H.265+ 码流可预览和回放;智能检索待测。")
    backdate(firmware, submitted=timedelta(days=1), tested=timedelta(hours=6))

    # Overdue: unanswered, the deadline passed.
    antivirus = services.submit_notice(
        by=people["hospital"], project=hospital, kind=ChangeKind.SOFTWARE, title="监控客户端电脑安装杀毒软件",
        description="医院信息中心要求所有终端安装统一杀毒软件,含监控中心 6 台客户端电脑。",
        window_starts_at=clock.now() + timedelta(hours=20), window_ends_at=clock.now() + timedelta(hours=26))
    backdate(antivirus, submitted=timedelta(hours=6))

    # Withdrawn by the customer.
    ups = services.submit_notice(
        by=people["metro"], project=metro, kind=ChangeKind.OTHER, title="设备机房 UPS 更换",
        description="机房 UPS 计划更换,期间由临时电源供电。",
        window_starts_at=at(today + timedelta(days=10), 1), window_ends_at=at(today + timedelta(days=10), 5))
    ups = ChangeNotice.objects.get(pk=ups.pk)
    services.withdraw_notice(notice=ups, by=people["metro"], version=ups.version, reason="物业推迟了 UPS 更换,另行通知。")
    backdate(ups, submitted=timedelta(days=2))

    fired = sweep.sweep()  # the overdue notice's warning goes to the desk's outbox
    return {"notices": ChangeNotice.objects.count(), **fired}
