"""LOG-2: the text of each kind of upload (pure functions), and the password rule."""


import pytest

from aftersales.documents import diffing, extract
from aftersales.documents.demo import docx_bytes, pdf_bytes, xlsx_bytes


def test_utf8_text_is_read_as_is():
    assert extract.extract_text("维护规程.md", "一、日常巡检\r\n二、故障处理".encode()) == "一、日常巡检\n二、故障处理"


def test_utf8_with_a_bom_loses_the_bom():
    assert extract.extract_text("ip.csv", "\ufeff设备,IP\nNVR,10.0.0.1".encode("utf-8")) == "设备,IP\nNVR,10.0.0.1"


def test_a_chinese_windows_file_is_read_as_gb18030():
    data = "交换机配置说明\n端口 1-24 接摄像机".encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert extract.extract_text("switch.conf", data) == "交换机配置说明\n端口 1-24 接摄像机"


@pytest.mark.parametrize("name", ["a.txt", "a.cfg", "a.ini", "a.json", "a.xml", "a.log", "a.conf"])
def test_text_extensions_are_read(name):
    assert extract.extract_text(name, "值=1".encode()) == "值=1"


def test_docx_paragraphs_become_lines():
    data = docx_bytes(["竣工说明", "一、系统组成 <前端>", "二、监控中心"])
    assert extract.extract_text("竣工说明.docx", data) == "竣工说明\n一、系统组成 <前端>\n二、监控中心"


def test_xlsx_rows_become_lines_under_a_header_per_sheet():
    data = xlsx_bytes({"IP 地址表": [["设备", "IP"], ["NVR-01", "10.10.20.11"], [None, None]],
                       "VLAN": [[10, "管理"]]})
    assert extract.extract_text("ip.xlsx", data) == "## IP 地址表\n设备\tIP\nNVR-01\t10.10.20.11\n## VLAN\n10\t管理"


@pytest.mark.parametrize(("name", "data"), [
    ("平面图.pdf", pdf_bytes("x")),
    ("平面图.dwg", b"AC1032\x00\x00\x01\x02\xff\xfe"),
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ("blob.bin", b"\x00\x01\x02\x03\xff"),
    ("broken.docx", b"not a zip"),
    ("broken.xlsx", b"PK\x03\x04 broken"),
])
def test_files_without_text_have_none(name, data):
    assert extract.extract_text(name, data) is None


@pytest.mark.parametrize("line", [
    "管理员密码：Hik12345", "密码: admin123", "password=Secret!9", "PWD : abc123", "NVR 口令：888888",
    "admin 密码(默认)：12345678", "db_password = 's3cr3t'",
])
def test_obvious_credentials_are_found(line):
    assert extract.credential_lines(f"第一行\n{line}\n第三行") == [2]


@pytest.mark.parametrize("line", [
    "系统账号及口令不在本文档中记录，见公司密码管理系统。", "密码：见密码管理系统", "password: ******",
    "修改密码后请通知值班室", "bypass=yes", "passed: 3", "密码：<在密码本中>",
])
def test_words_about_passwords_are_no_credentials(line):
    assert extract.credential_lines(line) == []


def test_the_diff_shows_a_changed_line_on_both_sides_and_collapses_the_rest():
    old = "\n".join(f"第{n}行" for n in range(1, 31))
    new = old.replace("第15行", "第15行（已修改）")
    result = diffing.side_by_side(old, new)
    changed = [row for row in result.rows if row.kind == "replace"]
    assert [(row.left_number, row.left, row.right_number, row.right) for row in changed] == [
        (15, "第15行", 15, "第15行（已修改）")]
    skips = [row.skipped for row in result.rows if row.kind == "skip"]
    assert skips == [11, 12]  # 14 unchanged above (3 shown), 15 below (3 shown)
    assert (result.added, result.removed) == (1, 1)


def test_added_and_removed_lines_stand_alone():
    result = diffing.side_by_side("a\nb\nc", "a\nc\nd")
    assert [(row.kind, row.left, row.right) for row in result.rows] == [
        ("equal", "a", "a"), ("delete", "b", ""), ("equal", "c", "c"), ("insert", "", "d")]
