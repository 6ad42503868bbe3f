"""RPT-2: the PDF engine renders Chinese with the font it ships, states a stable hash, and carries evidence."""

import json
import time
from pathlib import Path

import pytest

from aftersales.printing import pdf

from .pdftools import attachments_of, fonts_of, page_count, png_pages, text_of, xmp_of

FACTS = {"customer": "市第一人民医院", "fault": "监控中心 3 号摄像机无图像，已更换电源适配器。"}


@pytest.fixture(autouse=True)
def sample_template(settings):
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [Path(__file__).parent / "templates"]},
                          *settings.TEMPLATES[1:]]


def test_chinese_text_comes_back_in_the_shipped_font():
    rendered = pdf.render("sample_form.html", {}, facts=FACTS, filename="sample.pdf")
    text = text_of(rendered.content)
    assert "售后服务报告单" in text and "市第一人民医院" in text and "更换电源适配器" in text
    assert fonts_of(rendered.content) == ["Aftersales-Sans-SC", "Aftersales-Sans-SC-Bold"]
    assert page_count(rendered.content) == 1
    assert len(rendered.content) < 300_000


def test_the_hash_is_of_the_facts_and_is_printed():
    first = pdf.render("sample_form.html", {}, facts=FACTS, filename="a.pdf")
    again = pdf.render("sample_form.html", {}, facts=dict(reversed(FACTS.items())), filename="b.pdf")
    changed = pdf.render("sample_form.html", {}, facts={**FACTS, "fault": "已修复"}, filename="c.pdf")
    assert first.digest == again.digest != changed.digest
    assert first.digest in text_of(first.content).replace("\n", "")


def test_evidence_travels_inside_the_pdf():
    rendered = pdf.render("sample_form.html", {}, facts=FACTS, filename="e.pdf", attach_evidence=True)
    attached = attachments_of(rendered.content)
    assert json.loads(attached[pdf.EVIDENCE_NAME]) == FACTS
    xmp = xmp_of(rendered.content)  # declared PDF/A-3b
    assert "pdfaid:part" in xmp and "3" in xmp.split("pdfaid:part")[1][:6]


def test_a_form_renders_fast_and_draws(tmp_path):
    pdf.render("sample_form.html", {}, facts=FACTS, filename="warm.pdf")  # first use loads the fonts
    started = time.perf_counter()
    rendered = pdf.render("sample_form.html", {}, facts=FACTS, filename="sample.pdf")
    assert time.perf_counter() - started < 2
    pages = png_pages(rendered.content, tmp_path)
    assert len(pages) == 1 and pages[0].stat().st_size > 5_000


def test_a_character_the_shipped_font_lacks_is_named_loudly(caplog):
    assert pdf.missing_glyphs("市第一人民医院 ■□×—·（）") == ""  # GB2312 and the forms' own marks
    assert pdf.missing_glyphs("张䶮 𠀀") == "䶮𠀀"  # a rare name: outside GB2312
    with caplog.at_level("WARNING", logger="aftersales.printing.pdf"):
        pdf.render("sample_form.html", {}, facts={**FACTS, "customer": "王䶮"}, filename="rare.pdf")
    assert "䶮" in caplog.text
