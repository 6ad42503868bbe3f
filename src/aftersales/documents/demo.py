"""Demo project documents (issue 25 §3), loaded through the verbs and dated back from today:

- each project's maintenance procedure (Markdown, Chinese) in three versions — the one of 银川天网三期 shared with the
  customer — so the diff shows real changes;
- a network plan as an IP address table (.xlsx built in memory, two versions);
- an as-built description (.docx built in memory, two versions);
- an as-built drawing as a PDF (two versions: no text diff, both downloads offered)."""

import io
import zipfile
from datetime import timedelta
from xml.sax.saxutils import escape

from django.core.files.base import ContentFile

from aftersales.accounts.models import User
from aftersales.core import clock
from aftersales.customers.models import Project

from . import services
from .models import Document, DocumentKind, DocumentVersion, Visibility

CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>')


def docx_bytes(paragraphs: list[str]) -> bytes:
    """A minimal Word document (one w:p per paragraph), as Word and LibreOffice open it."""
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>' for text in paragraphs)
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                f"<w:body>{body}</w:body></w:document>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES_XML)
        archive.writestr("_rels/.rels", RELS_XML)
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def pdf_bytes(label: str) -> bytes:
    """A stand-in drawing: a PDF has no text to compare."""
    return (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>"
            b"endobj\n% " + label.encode("ascii") + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def procedure(project, step: int) -> str:
    lines = [
        f"# {project.name} 系统维护规程",
        "",
        "## 一、日常巡检",
        "1. 每日检查监控中心大屏及各路视频图像是否正常。",
        "2. 每周检查硬盘录像机（NVR）录像完整性，抽查三路录像回放。",
        "3. 每月清洁前端摄像机镜头及防护罩。" if step < 2 else "3. 每月清洁前端摄像机镜头及防护罩，雨季后增加一次。",
        "",
        "## 二、故障处理",
        "1. 接到报修后 30 分钟内响应，远程判断故障类型。",
        "2. 无法远程解决的，一般故障 24 小时内到场，严重故障 4 小时内到场。" if step < 3
        else "2. 无法远程解决的，一般故障 24 小时内到场，严重故障 4 小时内到场，紧急故障 2 小时内到场。",
        "3. 更换设备须记录新旧序列号并登记备件出库。",
        "",
        "## 三、变更管理",
        "1. 用户在网络、设备、服务器变更前须提前通知我方，我方测试兼容性。",
    ]
    if step >= 2:
        lines += ["2. 安装补丁或新软件前须在测试环境验证，并保留回退方案。",
                  "3. 变更完成后更新网络规划及竣工资料。"]
    lines += ["", "## 四、账号与口令", "系统账号及口令不在本文档中记录，见公司密码管理系统。"]
    return "\n".join(lines) + "\n"


def as_built(project, step: int) -> list[str]:
    paragraphs = [f"{project.name} 竣工说明", "一、系统组成：前端摄像机、传输网络、存储、解码上墙、管理平台。",
                  "二、监控中心位于一楼值班室，机柜 A01-A03。"]
    paragraphs.append("三、核心交换机两台，堆叠运行。" if step < 2 else "三、核心交换机两台，堆叠运行；2025 年增加汇聚交换机一台（机柜 A03）。")
    paragraphs.append("四、UPS 后备时间 2 小时。")
    return paragraphs


def network_plan(project, step: int) -> dict:
    rows = [["设备", "IP 地址", "VLAN", "位置"],
            ["核心交换机-1", "10.10.0.1", 10, "机柜 A01"],
            ["核心交换机-2", "10.10.0.2", 10, "机柜 A01"],
            ["NVR-01", "10.10.20.11", 20, "机柜 A02"],
            ["NVR-02", "10.10.20.12", 20, "机柜 A02"]]
    if step >= 2:
        rows[4] = ["NVR-02", "10.10.20.22", 20, "机柜 A03"]
        rows.append(["管理平台服务器", "10.10.30.5", 30, "机柜 A03"])
    return {"IP 地址表": rows, "VLAN": [["VLAN", "用途"], [10, "管理"], [20, "视频"], [30, "平台"]]}


def load() -> dict:
    """Create the demo documents once (inside demo.data.load's transaction); a second call changes nothing."""
    if Document.objects.exists():
        return {"documents": 0}
    people = {u.username: u for u in User.objects.filter(username__in=["engineer", "engineer3", "sh_engineer"])}
    projects = list(Project.objects.order_by("pk"))
    if not people or not projects:
        return {"documents": 0}
    created = 0
    for index, project in enumerate(projects):
        author = people.get("sh_engineer") if project.contract_number.startswith("SH") else people.get("engineer")
        second = people.get("engineer3") or author
        shared = Visibility.SHARED if index == 0 else Visibility.INTERNAL
        uploads = [
            ("维护规程", DocumentKind.PROCEDURE, shared, "维护规程.md",
             [(procedure(project, 1), "初版", author), (procedure(project, 2), "补充变更管理：补丁测试及回退", second),
              (procedure(project, 3), "紧急故障到场时间改为 2 小时（合同补充协议）", author)]),
            ("IP 地址规划表", DocumentKind.NETWORK, Visibility.INTERNAL, "IP地址规划.xlsx",
             [(xlsx_bytes(network_plan(project, 1)), "竣工时的地址表", author),
              (xlsx_bytes(network_plan(project, 2)), "NVR-02 迁至 A03 机柜，新增平台服务器", second)]),
            ("竣工说明", DocumentKind.AS_BUILT, Visibility.SHARED if index == 1 else Visibility.INTERNAL, "竣工说明.docx",
             [(docx_bytes(as_built(project, 1)), "竣工验收版", author),
              (docx_bytes(as_built(project, 2)), "增加汇聚交换机", second)]),
            ("监控中心平面图", DocumentKind.AS_BUILT, Visibility.INTERNAL, "监控中心平面图.pdf",
             [(pdf_bytes(f"p{project.pk} v1"), "竣工图", author), (pdf_bytes(f"p{project.pk} v2"), "机柜位置调整", second)]),
        ]
        for title, kind, visibility, name, versions in uploads:
            content, note, by = versions[0]
            document = services.create_document(by=by, project=project, title=title, kind=kind, visibility=visibility,
                                                upload=ContentFile(content.encode() if isinstance(content, str)
                                                                   else content, name=name), note=note)
            for content, note, by in versions[1:]:
                document.refresh_from_db()
                services.add_version(document=document, by=by, version=document.version, note=note,
                                     upload=ContentFile(content.encode() if isinstance(content, str) else content,
                                                        name=name))
            created += 1
    # Dated back: version n of every document uploaded (count - n) × 45 days ago, so the history reads like one.
    now = clock.now()
    for version in DocumentVersion.objects.select_related("document").only("pk", "number", "document__current_number"):
        age = (version.document.current_number - version.number) * 45 + 3
        DocumentVersion.objects.filter(pk=version.pk).update(created_at=now - timedelta(days=age, hours=version.pk % 7))
    return {"documents": created}
