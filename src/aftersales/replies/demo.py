"""Demo canned replies (issue 25 §7): the desk's everyday answers, some for every branch, some of one branch."""

from aftersales.accounts.models import Branch, User

from .models import CannedReply

EVERY_BRANCH = [
    ("已受理", "您好,您的报修 {单号}({项目})已受理,我们将在 {回复时限} 前给出处理方案,如有疑问请拨打 7×24 服务热线。"),
    ("已派工程师", "您好,{单号} 已安排工程师 {工程师}(电话 {工程师电话})处理,预计 {到场时限} 前到达 {地址}。"),
    ("远程处理中", "您好,{报修人},工程师正在远程排查 {单号} 的问题,处理结果将第一时间告知您。"),
    ("请提供信息", "您好,为尽快处理 {单号},请补充:故障设备位置、发生时间、是否有告警截图。"),
    ("已恢复请确认", "您好,{单号} 的故障已处理恢复,请在客户门户确认工单并评价,谢谢。"),
]
BRANCH = {
    "nx": [("备件调拨中", "您好,{单号} 所需备件正从银川仓库调拨,预计明日送达,到货后工程师 {工程师} 将立即上门更换。")],
    "sh": [("地铁夜间窗口", "您好,{单号} 需在地铁运营结束后的夜间窗口(01:00-04:00)处理,我们已向 {客户} 提交进场申请。")],
}


def load() -> dict:
    if CannedReply.objects.exists():
        return {"replies": 0}
    admin = User.objects.filter(username="admin").first()
    rows = [CannedReply(branch=None, title=title, body=body, created_by=admin) for title, body in EVERY_BRANCH]
    for branch in Branch.objects.filter(code__in=BRANCH):
        rows += [CannedReply(branch=branch, title=title, body=body, created_by=admin) for title, body in BRANCH[branch.code]]
    rows.append(CannedReply(branch=None, title="节假日值班(旧)", body="节假日期间请拨打值班电话。", active=False,
                            created_by=admin))
    CannedReply.objects.bulk_create(rows)
    return {"replies": len(rows)}
