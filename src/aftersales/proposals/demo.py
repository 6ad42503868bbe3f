"""Demo hidden-danger reports and proposals (issue 25 §4-§5), loaded through the verbs:

- 银川天网三期: a report confirmed in writing through the mailed link, and its solution plan chosen (option B) with
  every follow-up step done; a second report awaiting the customer's confirmation; a proposal sent, awaiting choice;
- 银川交通卡口: a proposal chosen in the portal, its follow-up in progress;
- 总医院: a report rejected, revised and sent again; a free upgrade proposal sent; an optimisation proposal declined;
- 地铁站: a draft report (staff only).
"""

from datetime import timedelta
from decimal import Decimal

from aftersales.accounts.models import User
from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.customers.models import Project

from . import services
from .models import AnsweredVia, HazardReport, ProposalKind, Risk, StepState


def _v(row) -> int:
    return type(row).objects.values_list("version", flat=True).get(pk=row.pk)


def _proposal(by, project, kind, title, background, options, hazard_report=None):
    proposal = services.create_proposal(by=by, project=project, kind=kind, title=title, background=background,
                                        hazard_report=hazard_report)
    for title_, description, cost, duration, impact in options:
        services.add_option(proposal=proposal, by=by, version=_v(proposal), title=title_, description=description,
                            cost=Decimal(cost), duration=duration, impact=impact)
    services.send_proposal(proposal=proposal, by=by, version=_v(proposal))
    return proposal


def load() -> dict:
    """Create the demo rows once (inside demo.data.load's transaction); a second call changes nothing."""
    if HazardReport.objects.exists():
        return {"reports": 0}
    people = {u.username: u for u in User.objects.filter(
        username__in=["engineer", "engineer3", "manager", "sh_engineer", "customer", "hospital"])}
    projects = {p.contract_number: p for p in Project.objects.filter(
        contract_number__in=["NXZD-2021-031", "NXZD-2023-007", "NXZD-2022-018", "SHZD-2024-102"])}
    if len(people) < 6 or len(projects) < 4:
        return {"reports": 0}
    engineer, engineer3, manager = people["engineer"], people["engineer3"], people["manager"]
    skynet, traffic = projects["NXZD-2021-031"], projects["NXZD-2023-007"]
    hospital, metro = projects["NXZD-2022-018"], projects["SHZD-2024-102"]
    today = clock.today()

    # 天网三期: a confirmed report, its solution plan chosen and carried out
    ups = list(Device.objects.filter(project=skynet).order_by("pk")[:2])
    power = services.create_hazard_report(
        by=engineer, project=skynet, title="监控中心UPS电池老化,断电后续航不足10分钟", risk=Risk.HIGH,
        found_where="监控中心机房", devices=ups,
        description="UPS电池已使用5年,放电测试显示满载续航约8分钟,低于设计要求的30分钟。",
        consequence="市电中断时存储服务器和核心交换机可能在录像写入途中断电,导致录像丢失和阵列损坏。",
        recommendation="更换整组电池,并增加一组电池柜;在更换前每月做一次放电测试。")
    services.send_hazard_report(report=power, by=engineer, version=_v(power))
    services.confirm_hazard_report(report=power, version=_v(power), via=AnsweredVia.LINK, name="马红梅")
    plan = _proposal(manager, skynet, ProposalKind.SOLUTION, "UPS电池更换方案",
                     "针对隐患报告中UPS续航不足的问题,提出以下两个方案供选择。", [
                         ("原厂电池整组更换", "更换32节原厂12V100Ah电池。", "18600", "1天", "切换旁路供电约30分钟,录像不中断。"),
                         ("更换电池并扩容电池柜", "更换电池并增加一组电池柜,续航提升至45分钟。", "32800", "2天",
                          "切换旁路供电约1小时,录像不中断。"),
                     ], hazard_report=power)
    b = plan.options.get(label="B")
    services.choose_option(proposal=plan, version=_v(plan), option=b, via=AnsweredVia.PORTAL, name="马红梅",
                           by=people["customer"])
    for title in ("采购电池和电池柜", "现场更换并做放电测试"):
        services.add_step(proposal=plan, by=manager, version=_v(plan), title=title, planned_on=today)
    for step in plan.steps.order_by("position"):
        services.update_step(step=step, by=engineer, version=_v(plan), state=StepState.DONE, note="已完成。")

    # 天网三期: a report awaiting confirmation, a proposal awaiting choice
    lightning = services.create_hazard_report(
        by=engineer3, project=skynet, title="3处立杆摄像机未做防雷接地", risk=Risk.MEDIUM,
        found_where="巡检时发现:北京路与正源街路口等3处",
        description="3处立杆的摄像机和光端机未接地,防雷器接地线悬空。",
        consequence="雷雨季节设备易遭雷击损坏,可能造成路口长时间无图像。",
        recommendation="补做接地极,接地电阻小于4欧姆。")
    services.send_hazard_report(report=lightning, by=engineer3, version=_v(lightning))
    _proposal(manager, skynet, ProposalKind.SOLUTION, "立杆防雷接地整改方案", "对应3处立杆未接地的隐患。", [
        ("逐点补做接地极", "每处打两根1.5米角钢接地极。", "4500", "3天", "每处停机约1小时。"),
        ("接入就近路灯接地系统", "与市政协调后接入路灯接地。", "1200", "1周(含协调)", "每处停机约30分钟。"),
        ("暂不整改,雷雨季前复查", "", "0", "", "无"),
    ], hazard_report=lightning)

    # 交通卡口: chosen in the portal, follow-up in progress
    storage = _proposal(engineer, traffic, ProposalKind.OPTIMISATION, "卡口存储扩容与录像保存期优化",
                        "卡口图片保存期目前为60天,交管部门要求90天。", [
                            ("增加一台存储扩展柜", "", "56000", "3天", "扩容期间无停机。"),
                            ("调整图片压缩参数", "降低非违法过车图片质量。", "0", "半天", "无停机。"),
                        ])
    services.choose_option(proposal=storage, version=_v(storage), option=storage.options.get(label="A"),
                           via=AnsweredVia.PORTAL, name="李强", by=people["customer"])
    services.add_step(proposal=storage, by=engineer, version=_v(storage), title="设备到货验收", planned_on=today)
    services.add_step(proposal=storage, by=engineer, version=_v(storage), title="上架安装并扩容存储池",
                      planned_on=today + timedelta(days=7))
    first = storage.steps.order_by("position").first()
    services.update_step(step=first, by=engineer, version=_v(storage), state=StepState.IN_PROGRESS,
                         note="厂家已发货,预计下周二到货。")

    # 总医院: rejected, revised and resent; a free upgrade sent; an optimisation declined
    firmware = services.create_hazard_report(
        by=engineer, project=hospital, title="门禁控制器固件存在已知漏洞", risk=Risk.HIGH,
        description="门禁控制器固件版本低于厂商安全公告要求的版本。",
        consequence="可能被远程开门。", recommendation="升级到厂商最新固件。")
    services.send_hazard_report(report=firmware, by=engineer, version=_v(firmware))
    services.reject_hazard_report(report=firmware, version=_v(firmware), via=AnsweredVia.PORTAL, name="丁医生",
                                  reason="门禁系统不在贵公司维保范围内的设备也被列入,请核实设备清单。",
                                  by=people["hospital"])
    services.edit_hazard_report(report=firmware, by=engineer, version=_v(firmware),
                                title="门禁控制器固件存在已知漏洞(维保范围内12台)", risk=Risk.HIGH,
                                description="维保范围内的12台门禁控制器固件版本低于厂商安全公告要求的版本。",
                                consequence="可能被远程开门。", recommendation="升级到厂商最新固件。")
    services.send_hazard_report(report=firmware, by=engineer, version=_v(firmware))
    _proposal(engineer, hospital, ProposalKind.UPGRADE, "视频管理平台免费升级到V5.2",
              "厂商发布V5.2版本,支持人脸检索和移动端查看,维保期内免费升级。", [
                  ("夜间升级", "22:00后升级,次日早上验证。", "0", "1晚", "平台停机约2小时,录像不中断。"),
                  ("分两次升级", "先升级备用服务器,验证一周后再升级主服务器。", "0", "2周", "每次停机约1小时。"),
              ])
    lobby = _proposal(engineer, hospital, ProposalKind.OPTIMISATION, "门诊大厅摄像机位置优化",
                      "门诊大厅挂号窗口区域存在逆光。", [
                          ("更换宽动态摄像机", "", "6800", "1天", "单点停机约1小时。"),
                      ])
    services.decline_proposal(proposal=lobby, version=_v(lobby), via=AnsweredVia.PORTAL, name="丁医生",
                              reason="大厅明年整体装修,届时一并考虑。", by=people["hospital"])

    # 地铁站: a draft only our staff see
    services.create_hazard_report(
        by=people["sh_engineer"], project=metro, title="站厅层交换机散热不良", risk=Risk.LOW,
        description="弱电间空调故障,交换机温度偏高。", recommendation="维修空调或加装排风扇。")
    return {"reports": HazardReport.objects.count()}
