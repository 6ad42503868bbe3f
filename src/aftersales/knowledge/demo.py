"""Demo knowledge base (issue 25 §6): 34 articles on the faults of the demo world's devices (海康/大华/宇视 cameras,
NVRs, switches, access control, storage, UPS …), written by the engineers through the verbs and published by the
technical advisor 周教授 or the general manager; some customer-visible (the portal's "先试试这些"), a few drafts in
review, one sent back, one retired, and one proposed from a solved demo request."""

from aftersales.accounts.models import User
from aftersales.assets.models import DeviceCategory, Manufacturer

from . import services
from .models import Article

HIK, DAHUA, UNV, HUAWEI, H3C = "海康威视", "大华", "宇视", "华为", "H3C"

# title, symptom, cause, fix (lines), manufacturer, models, category code, customer-visible, state, author
ARTICLES = [
    ("摄像机夜间画面全黑", "白天图像正常,天黑后画面全黑或只有路灯处有亮点。", "红外补光灯损坏或日夜切换参数被改为“白天”。",
     "登录摄像机 Web 页面,图像→日夜转换改为“自动”\n观察红外灯是否发红光,不亮则更换补光板\n清洁防护罩,避免红外反光",
     HIK, "DS-2CD3T46WDV3-I3", "camera", True, "published", "engineer"),
    ("摄像机离线(单台)", "平台上单台摄像机显示离线,其他设备正常。", "网线水晶头氧化或 PoE 供电不足。",
     "在交换机上查看端口是否 up\n用测线仪检查网线,重做水晶头\n确认交换机 PoE 总功率未超限\n重启摄像机后在平台刷新",
     None, "", "camera", True, "published", "engineer"),
    ("多台摄像机同时离线", "同一区域十几台摄像机同时离线。", "汇聚交换机掉电或上联光模块故障。",
     "检查汇聚交换机电源和 UPS\n查看上联口光功率,必要时更换光模块\n核对交换机日志中的环路告警",
     H3C, "S5130S-28P-EI", "switch", False, "published", "engineer2"),
    ("画面花屏、马赛克", "实时预览出现花屏、马赛克,回放也有。", "码流过大、网络丢包或网线超长。",
     "把主码流码率降到 4096 Kbps 以下\n检查链路丢包(ping -l 1400)\n网线超过 100 米时加装网络延长器",
     DAHUA, "DH-IPC-HFW4433M", "camera", True, "published", "engineer3"),
    ("画面偏色发红", "白天画面整体偏红、偏紫。", "红外滤光片(IR-CUT)卡在夜间位置。",
     "在 Web 页面手动切换日夜模式数次,听到“咔哒”声为正常\n无声音则更换机芯或返修",
     UNV, "IPC2124LB-SF40KM", "camera", True, "published", "engineer"),
    ("录像丢失(部分时段)", "回放时某些时段没有录像。", "录像计划未覆盖全天或硬盘满后未开启覆盖。",
     "检查录像计划是否为全天定时录像\n存储管理中开启“硬盘满时覆盖”\n核对 NVR 时间与 NTP 是否同步",
     HIK, "DS-9632N-I16", "nvr", True, "published", "engineer2"),
    ("NVR 硬盘报警", "NVR 蜂鸣,前面板报警灯亮,提示“硬盘错误”。", "硬盘坏道或 SATA 线松动。",
     "在存储管理中查看 S.M.A.R.T. 状态\n关机后重新插拔硬盘和 SATA 线\n坏盘按备件流程更换,换盘后初始化",
     HIK, "DS-9632N-I16", "nvr", False, "published", "engineer"),
    ("NVR 无法远程访问", "本地可以预览,手机和平台连不上 NVR。", "端口映射失效或 NVR 网关配置错误。",
     "核对 NVR 网关和 DNS\n检查路由器端口映射(8000/554/80)\n平台侧改用内网地址接入",
     DAHUA, "DHI-NVR5864-4KS2", "nvr", False, "published", "engineer3"),
    ("NVR 回放卡顿", "多路同时回放时卡顿、跳帧。", "回放带宽超过 NVR 解码能力。",
     "减少同时回放路数(4 路以内)\n使用子码流回放\n升级 NVR 固件",
     DAHUA, "DHI-NVR5864-4KS2", "nvr", True, "published", "engineer2"),
    ("NVR 反复重启", "NVR 每隔几分钟自动重启。", "电源适配器老化或机箱过热。",
     "测量输入电压,更换电源\n清理风扇灰尘,确认机柜通风\n查看日志中的异常重启记录",
     HIK, "DS-9632N-I16", "nvr", False, "published", "sh_engineer"),
    ("交换机端口频繁 up/down", "日志中某端口不停上下线,摄像机时断时续。", "网线接触不良或端口速率协商异常。",
     "端口强制为 100M 全双工\n更换网线和水晶头\n检查防雷器是否损坏",
     HUAWEI, "S5735-L24P4S-A", "switch", False, "published", "engineer"),
    ("交换机环路导致全网卡顿", "整个网络突然卡顿,交换机指示灯狂闪。", "现场有人误接网线形成环路。",
     "在交换机上开启 STP/环路检测\n按端口流量逐个排查环路端口\n拔掉环路网线后观察恢复",
     H3C, "S5130S-28P-EI", "switch", False, "published", "engineer3"),
    ("PoE 摄像机不上电", "摄像机接到 PoE 交换机后无反应。", "交换机 PoE 未开启或功率预算不足。",
     "在交换机上确认端口 PoE 已使能\n查看 PoE 总功率和剩余功率\n距离超过 100 米时改用本地供电",
     HUAWEI, "S5735-L24P4S-A", "switch", True, "published", "engineer"),
    ("门禁刷卡无反应", "刷卡时读卡器不响,门打不开。", "读卡器 485 线断开或卡片未下发到控制器。",
     "检查读卡器指示灯和 485 接线\n在平台重新下发卡片权限\n确认控制器时间正确",
     HIK, "DS-K2604T", "access-control", True, "published", "engineer2"),
    ("门禁控制器离线", "平台显示门禁控制器离线。", "控制器 IP 冲突或网线故障。",
     "用 SADP 工具搜索设备确认 IP\n修改为不冲突的地址\n检查交换机端口",
     HIK, "DS-K2604T", "access-control", False, "published", "engineer"),
    ("门禁开门后不上锁", "门打开后长时间不复位上锁。", "磁力锁供电不足或门磁损坏。",
     "测量锁电源电压(12V)\n检查门磁信号\n调整开门延时参数",
     "中控智慧", "inBio460", "access-control", True, "published", "engineer3"),
    ("存储阵列降级", "阵列管理界面提示 RAID 降级,有一块盘红灯。", "阵列中一块硬盘故障。",
     "确认故障盘槽位\n热插拔更换同型号硬盘\n等待重建完成期间避免断电",
     HIK, "DS-A81016S", "storage", False, "published", "sh_engineer"),
    ("解码器上墙无图像", "大屏某一块显示“无信号”。", "解码器输出口分辨率与屏不匹配或通道未绑定。",
     "在解码器上检查输出分辨率(1920×1080@60)\n重新绑定解码通道\n更换 HDMI 线",
     HIK, "DS-6916UD", "decoder", False, "published", "engineer"),
    ("拼接屏一块黑屏", "拼接墙中单块屏幕黑屏,其余正常。", "该屏电源板故障或信号线松动。",
     "检查屏幕背部电源指示灯\n重新插拔信号线\n电源板损坏时报厂家维修",
     "京东方", "BOE 55寸拼接屏", "display", True, "published", "engineer2"),
    ("UPS 告警蜂鸣", "UPS 持续蜂鸣,面板显示电池故障。", "电池老化,容量不足。",
     "执行电池自检\n电池使用超过 3 年时整组更换\n更换后校准电池容量",
     "山特", "C10KS", "ups", True, "published", "engineer"),
    ("报警主机误报", "夜间频繁误报,现场无人。", "探测器灵敏度过高或被小动物触发。",
     "降低红外探测器灵敏度\n调整探测器角度避开通道\n查看防区日志定位误报防区",
     "霍尼韦尔", "VISTA-120", "alarm", True, "published", "engineer3"),
    ("平台时间与设备不一致", "回放时间与实际时间差几分钟。", "设备未开启 NTP 校时。",
     "在 NVR 和摄像机上配置 NTP 服务器\n平台开启定时校时\n核对时区为 GMT+8",
     None, "", None, True, "published", "engineer"),
    ("客户端登录提示用户名或密码错误", "输入正确密码仍提示错误,账号被锁定。", "多次输错密码触发锁定。",
     "等待 30 分钟自动解锁\n联系管理员重置密码\n不要在多台电脑保存旧密码",
     None, "", None, True, "published", "engineer2"),
    ("摄像机图像模糊", "画面不清晰,像蒙了一层雾。", "镜头脏污或聚焦偏移。",
     "清洁防护罩和镜头\n电动变焦机型执行“一键聚焦”\n检查是否有蜘蛛网遮挡",
     DAHUA, "DH-IPC-HFW4433M", "camera", True, "published", "engineer"),
    ("球机云台不转", "控制云台时画面不动。", "RS485 控制线断开或协议地址不对。",
     "检查云台协议和地址\n测量 485 线路\n重启球机",
     UNV, "", "camera", False, "published", "engineer3"),
    ("服务器 RAID 卡告警", "服务器前面板告警灯亮,管理口提示 RAID 卡故障。", "RAID 卡电池失效。",
     "登录 iBMC 查看告警详情\n更换 RAID 卡超级电容\n确认阵列状态正常",
     HUAWEI, "FusionServer 2288H V6", "server", False, "published", "sh_engineer"),
    # in review: waiting for the advisor
    ("卡口相机抓拍率下降", "卡口相机过车抓拍率从 98% 降到 80%。", "补光灯老化,夜间抓拍模糊。",
     "检查闪光灯触发\n调整快门和增益\n更换补光灯",
     HIK, "", "camera", False, "review", "engineer"),
    ("NVR 通道显示“IP 冲突”", "NVR 某通道提示 IP 地址冲突。", "新增设备使用了已有地址。",
     "用 SADP 搜索重复 IP\n修改新设备地址\n在 NVR 上重新添加",
     HIK, "DS-9632N-I16", "nvr", False, "review", "engineer2"),
    ("大华摄像机升级固件失败", "升级到 80% 报错,设备重启后仍是旧版本。", "固件包与硬件版本不匹配。",
     "核对设备硬件版本\n下载对应的固件包\n升级时不要断电断网",
     DAHUA, "DH-IPC-HFW4433M", "camera", False, "review", "engineer3"),
    # drafts
    ("光纤收发器指示灯不亮", "光纤收发器 FX 灯不亮。", "", "检查光纤跳线\n清洁光纤端面\n对调收发器测试",
     None, "", "switch", False, "draft", "engineer"),
    ("监控中心电视墙闪烁", "电视墙偶尔整体闪烁一下。", "", "检查拼接控制器\n检查供电稳定性",
     "京东方", "", "display", False, "draft", "engineer2"),
    # retired: an old procedure
    ("旧版客户端无法播放 H.265", "老客户端打开 H.265 摄像机画面黑屏。", "旧客户端不支持 H.265。",
     "升级客户端到最新版本", None, "", None, False, "retired", "engineer"),
    ("宇视摄像机无法被平台发现", "平台搜索不到宇视摄像机。", "ONVIF 未开启。",
     "在摄像机 Web 页面开启 ONVIF\n设置 ONVIF 用户名密码\n平台用 ONVIF 协议添加",
     UNV, "IPC2124LB-SF40KM", "camera", False, "published", "engineer2"),
]


def load() -> dict:
    """Write the demo articles through the verbs; return counts."""
    people = {u.username: u for u in User.objects.filter(username__in=["engineer", "engineer2", "engineer3",
                                                                       "sh_engineer", "advisor", "gm", "manager"])}
    makers = {m.name: m for m in Manufacturer.objects.all()}
    categories = {c.code: c for c in DeviceCategory.objects.all()}
    advisor, gm = people["advisor"], people["gm"]
    for n, (title, symptom, cause, fix, maker, models, category, shared, state, author) in enumerate(ARTICLES):
        maker_row = makers.get(maker) or (Manufacturer.objects.get_or_create(name=maker)[0] if maker else None)
        article = services.write_article(by=people[author], title=title, symptom=symptom, cause=cause, fix=fix,
                                         device_models=models, manufacturer=maker_row,
                                         category=categories.get(category), customer_visible=shared)
        if state in ("review", "published", "retired"):
            article = services.submit_for_review(article=article, by=people[author], version=article.version)
        if state in ("published", "retired"):
            article = services.publish(article=article, by=advisor if n % 4 else gm, version=article.version,
                                       note="" if n % 3 else "步骤已核对")
        if state == "retired":
            services.retire(article=article, by=advisor, version=article.version)
    proposed = _propose_one(people["engineer"])
    return {"articles": Article.objects.count(), "proposed": proposed}


def _propose_one(engineer) -> bool:
    """One draft proposed from a solved demo request (with devices, in the engineer's branch)."""
    from aftersales.service.models import ServiceRequest

    solved = ServiceRequest.objects.filter(state__in=services.PROPOSABLE_STATES, branch_id=engineer.branch_id)
    request = (solved.filter(devices__category__code__in=["camera", "nvr"]).order_by("pk").first()
               or solved.filter(devices__isnull=False).order_by("pk").first())
    if request is None:
        return False
    article, _created = services.propose_from_request(request=request, by=engineer)
    services.submit_for_review(article=article, by=engineer, version=article.version)
    return True
