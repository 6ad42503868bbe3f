"""The one table of headers a device list may use, and how a header in a file is recognised."""

import re
from dataclasses import dataclass

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # exports quote these with ' (CSV injection); imports unquote


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # what an export writes and what the template shows
    synonyms: tuple[str, ...] = ()
    required: bool = False


# The one table of accepted headers. Matching ignores spaces, case, a leading * and a trailing (…) remark.
COLUMNS: tuple[Column, ...] = (
    Column("contract_number", "项目合同号", ("合同号", "合同编号", "项目合同编号"), required=True),
    Column("name", "设备名称", ("名称",), required=True),
    Column("category", "设备类别", ("类别", "设备类型"), required=True),
    Column("manufacturer", "生产厂家", ("厂家", "品牌", "制造商", "厂商"), required=True),
    Column("model", "型号", ("设备型号", "规格型号"), required=True),
    Column("serial_number", "序列号", ("SN", "S/N", "设备序列号", "序列号SN"), required=True),
    Column("location", "安装位置", ("位置", "安装地点")),
    Column("installed_on", "安装日期", ("安装时间",)),
    Column("supplier", "供应商", ("供货商",)),
    Column("notes", "备注", ("说明",)),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
DEVICE_TEXT_FIELDS = ("name", "model", "serial_number", "location", "supplier")  # length-checked against the model
UPDATABLE_FIELDS = ("name", "category", "model", "location", "installed_on", "supplier", "notes")


def normalise_header(text) -> str:
    text = "" if text is None else str(text)
    text = re.sub(r"[\s\ufeff*＊:：]", "", text)
    text = re.sub(r"[(（][^)）]*[)）]$", "", text)
    return text.casefold()


HEADER_FIELDS: dict[str, str] = {
    normalise_header(name): column.field for column in COLUMNS for name in (column.header, *column.synonyms)
}
