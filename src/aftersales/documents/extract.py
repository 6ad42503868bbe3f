"""LOG-2: the text of an uploaded document, for the side-by-side diff, and the check that keeps passwords out.

Pure functions over bytes: no ORM, no clock. Text files are read as UTF-8, then as GB18030 (files saved by Chinese
Windows); .docx through its word/document.xml paragraphs (standard library); .xlsx through openpyxl in read-only
mode, one line per row under a header line per sheet. Anything else (PDF, DWG drawings, images) has no text: None."""

import io
import re
import zipfile
from xml.etree import ElementTree

from django.conf import settings

MAX_BYTES = settings.AFTERSALES_DOCUMENT_MAX_BYTES  # the largest upload accepted (README: configuration)
MAX_TEXT_CHARS = 2_000_000  # text kept for the diff; a longer text is cut there
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # a .docx/.xlsx part larger than this is not read (zip bombs)

TEXT_EXTENSIONS = frozenset({
    "txt", "md", "markdown", "csv", "tsv", "conf", "cfg", "ini", "json", "xml", "log", "yaml", "yml", "toml",
    "sql", "sh", "bat", "ps1", "html", "htm", "rst", "properties", "env",
})
DOCX = "docx"
XLSX = "xlsx"
CONTENT_TYPES = {
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "dwg": "image/vnd.dwg",
    "dxf": "image/vnd.dxf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "vsdx": "application/vnd.ms-visio.drawing",
    "zip": "application/zip",
}
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def extension(name: str) -> str:
    base = (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def content_type(name: str, data: bytes) -> str:
    ext = extension(name)
    if ext in CONTENT_TYPES:
        return CONTENT_TYPES[ext]
    if ext in TEXT_EXTENSIONS:
        return "text/plain"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return "application/octet-stream"


def decode_text(data: bytes) -> str | None:
    """UTF-8 (with or without a BOM), else GB18030; None for bytes that are neither (a binary file)."""
    if b"\x00" in data[:8192]:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def docx_text(data: bytes) -> str | None:
    """The paragraphs of word/document.xml, one a line (tables: one cell a line); None if it is no .docx."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_UNZIPPED_BYTES:
                return None
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, ValueError):
        return None
    lines = []
    for paragraph in root.iter(f"{W}p"):
        parts = []
        for node in paragraph.iter():
            if node.tag == f"{W}t" and node.text:
                parts.append(node.text)
            elif node.tag == f"{W}tab":
                parts.append("\t")
            elif node.tag in (f"{W}br", f"{W}cr"):
                parts.append("\n")
        lines.append("".join(parts))
    return "\n".join(lines)


def xlsx_text(data: bytes) -> str | None:
    """One header line per sheet ("## Sheet: name"), then one line per non-empty row, cells separated by tabs."""
    from openpyxl import load_workbook  # only when a workbook is uploaded

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
                return None
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged or foreign file: it simply has no text
        return None
    lines = []
    try:
        for sheet in workbook.worksheets:
            lines.append(f"## {sheet.title}")
            for row in sheet.iter_rows(values_only=True):
                cells = ["" if value is None else str(value) for value in row]
                while cells and cells[-1] == "":
                    cells.pop()
                if cells:
                    lines.append("\t".join(cells))
    finally:
        workbook.close()
    return "\n".join(lines)


def extract_text(name: str, data: bytes) -> str | None:
    """The document's text for the diff, or None when it has none (PDF, DWG, images, unknown binaries)."""
    ext = extension(name)
    if ext == DOCX:
        text = docx_text(data)
    elif ext == XLSX:
        text = xlsx_text(data)
    elif ext in TEXT_EXTENSIONS or ext == "":
        text = decode_text(data)
    elif ext in CONTENT_TYPES:
        text = None  # a known binary format
    else:
        text = decode_text(data)
    if text is None:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text[:MAX_TEXT_CHARS]


# "Passwords excluded": a line naming a password (密码, 口令, password, passwd, pwd, pass, 秘钥/密钥, secret) followed by
# ":", "：" or "=" and a value that looks like one (letters, digits, symbols; at least 3). A value in words ("见密码
# 管理系统", "请联系管理员") or masked ("******", "xxxx") is no credential.
CREDENTIAL = re.compile(
    r"(?<![A-Za-z])(?:密\s*码|口\s*令|密\s*钥|秘\s*钥|pass(?:word|wd)?|pwd|secret|api[_-]?key|token)"
    r"\s*(?:[(（\[【][^)）\]】]{0,12}[)）\]】])?"  # a short remark: 密码(默认)：
    r"\s*[:：=]\s*['\"]?(?P<value>[A-Za-z0-9!@#$%^&*()_+\-=.,/\\|~?<>\[\]{}]{3,})",
    re.IGNORECASE,
)
MASKED = re.compile(r"^[*xX•.\-_?]+$|^<[^>]*>$|^\{[^}]*\}$|^\$\{?\w+\}?$")


def credential_lines(text: str | None) -> list[int]:
    """The numbers (1-based) of the lines that look like they carry a password; empty for none."""
    if not text:
        return []
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        for match in CREDENTIAL.finditer(line):
            value = match.group("value").strip("'\"")
            if len(value) >= 3 and not MASKED.match(value):
                found.append(number)
                break
    return found
