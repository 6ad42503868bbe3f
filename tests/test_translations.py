"""The Simplified Chinese catalogue (the default UI language) is complete, compiled and consistent.

The .po file is read with a small parser of our own (no extra dependency). Refresh it with `make messages`
after adding strings, translate the new entries, and commit the .po together with the compiled .mo."""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

PO_FILE = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")

# %(name)s / %(n)d, {name}, bare %s / %d, and HTML tags must survive translation unchanged.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}|</?[a-zA-Z][^>]*>")
HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def translations(self) -> list[str]:
        return [self.msgstr_plural[k] for k in sorted(self.msgstr_plural)] if self.msgid_plural else [self.msgstr]


def parse_po(path: Path) -> tuple[Entry, list[Entry]]:
    """A minimal gettext .po reader: header and entries; obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None

    def finish():
        nonlocal current
        if current is not None and (current.msgid or current.msgstr or current.msgid_plural is not None):
            entries.append(current)
        current = None

    keyword = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")\s*$")
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if current is not None and (current.msgid or current.msgstr):
                finish()
            current = current or Entry(line=number)
            current.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            if current is not None and (current.msgid or current.msgstr):
                finish()
            continue
        match = keyword.match(line)
        if match:
            name, index, text = match.group(1), match.group(2), ast.literal_eval(match.group(3))
            if name in ("msgctxt", "msgid") and current is not None and (current.msgid or current.msgstr):
                finish()
            if current is None:
                current = Entry(line=number)
            if name == "msgctxt":
                current.msgctxt = text
            elif name == "msgid":
                current.msgid = text
            elif name == "msgid_plural":
                current.msgid_plural = text
            elif index is not None:
                current.msgstr_plural[int(index)] = text
            else:
                current.msgstr = text
            target = (name, int(index) if index is not None else None)
            continue
        if line.startswith('"') and current is not None and target is not None:
            text = ast.literal_eval(line)
            name, index = target
            if name == "msgctxt":
                current.msgctxt += text
            elif name == "msgid":
                current.msgid += text
            elif name == "msgid_plural":
                current.msgid_plural += text
            elif index is not None:
                current.msgstr_plural[index] += text
            else:
                current.msgstr += text
            continue
        raise AssertionError(f"{path.name}:{number}: cannot parse {raw!r}")
    finish()
    header = next((e for e in entries if e.msgid == "" and e.msgctxt is None), None)
    assert header is not None, "the .po file has no header"
    return header, [e for e in entries if e is not header]


@pytest.fixture(scope="module")
def catalogue():
    assert PO_FILE.exists(), f"{PO_FILE} is missing: run `make messages`"
    return parse_po(PO_FILE)


def _where(entry: Entry) -> str:
    return f"{PO_FILE.name}:{entry.line} {entry.msgid!r}"


def test_header_declares_chinese_with_one_plural_form(catalogue):
    header, _entries = catalogue
    assert "fuzzy" not in header.flags, "the header is still marked fuzzy"
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstr
    assert "charset=UTF-8" in header.msgstr


def test_catalogue_is_not_empty(catalogue):
    _header, entries = catalogue
    assert len(entries) > 500


def test_every_entry_is_translated_and_checked(catalogue):
    _header, entries = catalogue
    fuzzy = [_where(e) for e in entries if "fuzzy" in e.flags]
    empty = [_where(e) for e in entries if not all(t.strip() for t in e.translations)]
    assert not fuzzy, "fuzzy entries (check the translation, then remove the flag):\n" + "\n".join(fuzzy)
    assert not empty, "untranslated entries (run `make messages` and translate):\n" + "\n".join(empty)


def test_plural_entries_have_exactly_one_form(catalogue):
    _header, entries = catalogue
    wrong = [_where(e) for e in entries if e.msgid_plural is not None and sorted(e.msgstr_plural) != [0]]
    assert not wrong, "Chinese has one plural form, msgstr[0] only:\n" + "\n".join(wrong)


def test_placeholders_and_markup_are_kept(catalogue):
    _header, entries = catalogue
    wrong = []
    for entry in entries:
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        expected = {tuple(sorted(PLACEHOLDER.findall(source))) for source in sources}
        for text in entry.translations:
            if text and tuple(sorted(PLACEHOLDER.findall(text))) not in expected:
                wrong.append(f"{_where(entry)} -> {text!r}")
    assert not wrong, "placeholders or tags differ:\n" + "\n".join(wrong)


def test_translations_are_chinese(catalogue):
    """Every translation has Chinese characters, except the few that are the same in both languages."""
    same_in_both = {"7×24", "Message-ID"}
    _header, entries = catalogue
    latin = [_where(e) for e in entries
             if e.msgid not in same_in_both and not all(HAN.search(t) for t in e.translations)]
    assert not latin, "translations without any Chinese:\n" + "\n".join(latin)


def test_compiled_catalogue_matches_the_po(catalogue):
    """The .mo is in step with the .po: every entry resolves through Django's gettext to its msgstr."""
    assert MO_FILE.exists(), f"{MO_FILE} is missing: run `make messages`"
    _header, entries = catalogue
    stale = []
    with translation.override("zh-hans"):
        for entry in entries:
            if entry.msgid_plural is not None:
                if entry.msgctxt is not None:
                    got = translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 2)
                else:
                    got = translation.ngettext(entry.msgid, entry.msgid_plural, 2)
                want = entry.msgstr_plural.get(0, "")
            elif entry.msgctxt is not None:
                got, want = translation.pgettext(entry.msgctxt, entry.msgid), entry.msgstr
            else:
                got, want = translation.gettext(entry.msgid), entry.msgstr
            if got != want:
                stale.append(f"{_where(entry)}: .mo gives {got!r}, .po says {want!r}")
    assert not stale, "the compiled .mo is out of date (run compilemessages):\n" + "\n".join(stale[:30])


@pytest.mark.parametrize(("msgid", "chinese"), [
    ("Devices", "设备"),
    ("Customers", "客户"),
    ("Projects", "项目"),
    ("Position", "岗位"),
    ("Full name", "姓名"),
    ("Specialty", "专业"),
    ("Engineer", "工程师"),
    ("Logistics", "后勤保障"),
    ("Dispatcher", "客服调度"),
    ("Department manager", "部门经理"),
    ("General manager", "总经理"),
    ("Technical advisor", "技术顾问"),
    ("Electromechanical", "机电"),
    ("Computing", "计算机"),
    ("System integration", "系统集成"),
    ("Electrical automation", "电气自动化"),
    ("General", "一般"),
    ("Serious", "严重"),
    ("Emergency", "紧急"),
    ("Work order", "任务工单"),
    ("Incident report", "事故报告"),
    ("Contract number", "项目合同号"),
    ("Equipment arrival", "到货"),
    ("Acceptance", "验收"),
    ("deadline extension", "工期顺延"),
    ("Manufacturer warranty", "原厂保修"),
    ("Integrator extended warranty", "集成商延保"),
    ("Out of warranty", "已过保"),
    ("On-call roster", "值班表"),
    ("Branch", "分公司"),
    ("Serial number", "序列号"),
    ("Manufacturer", "生产厂家"),
    ("Service plan", "服务方案"),
    ("Dispatch", "派工"),
    ("Make-up working day (调休)", "调休上班日"),
])
def test_key_ui_words_are_chinese(msgid, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == chinese


def test_english_stays_available():
    with translation.override("en"):
        assert translation.gettext("Devices") == "Devices"


def test_the_ui_is_chinese_by_default_even_for_an_english_browser_and_english_on_request(client, dispatcher):
    client.force_login(dispatcher)
    page = client.get("/devices/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in page and "设备" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/devices/"})
    page = client.get("/devices/").content.decode()
    assert 'lang="en"' in page and "Devices" in page and "设备" not in page
