"""RPT-2: forms rendered to PDF by WeasyPrint, in Chinese, on a machine with no Chinese font installed.

A form is a template and its *facts*: a JSON-able dict of everything the form states about its record.
The facts' SHA-256 is printed on every page, so re-rendering the same record gives the same hash and a
changed record a different one; the time of printing is not a fact. When asked, the facts travel inside
the PDF as an attached JSON file (PDF/A-3b), the evidence behind every figure on the page.

The font is a pre-cut subset of Noto Sans CJK SC (fonts/, scripts/make_cjk_subset.py): GB2312 and the
product's own strings, about 8,000 glyphs, so WeasyPrint's own subsetting stays fast (Kozea/WeasyPrint
#2120). A name with a rarer character falls back to the system's Noto Sans CJK SC when that is installed; each
such character is logged as a warning (`missing_glyphs`), so a form that would print empty boxes on a machine without
that font is never silent about it (lessons.md #12).
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation

FONT_DIR = Path(__file__).resolve().parent / "fonts"
EVIDENCE_NAME = "evidence.json"
log = logging.getLogger(__name__)


class RendererUnavailable(RuntimeError):
    """WeasyPrint could not load its system libraries (Pango); the form can't be printed on this machine."""


@dataclass(frozen=True)
class Pdf:
    content: bytes
    digest: str  # SHA-256 of the facts, hex
    filename: str


def digest_of(facts: dict) -> str:
    canonical = json.dumps(facts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def evidence_json(facts: dict) -> str:
    return json.dumps(facts, sort_keys=True, ensure_ascii=False, indent=1, default=str)


@cache
def _engine():
    try:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration
    except OSError as error:  # Pango missing: say so instead of failing at import time of the whole product
        raise RendererUnavailable(str(error)) from error
    fonts = FontConfiguration()
    faces = "".join(
        f"@font-face {{ font-family: 'Aftersales Sans SC'; font-weight: {weight};"
        f" src: url('{(FONT_DIR / f'AftersalesSansSC-{name}.otf').as_uri()}'); }}"
        for weight, name in ((400, "Regular"), (700, "Bold")))
    stylesheet = weasyprint.CSS(string=faces, font_config=fonts)
    return weasyprint, fonts, stylesheet


@cache
def shipped_characters() -> frozenset[int]:
    """The code points the shipped font draws (its cmap; fontTools comes with WeasyPrint)."""
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(FONT_DIR / "AftersalesSansSC-Regular.otf", lazy=True).getBestCmap())


def missing_glyphs(text: str) -> str:
    """The characters of `text` the shipped font cannot draw (besides white space), in order of appearance."""
    drawn = shipped_characters()
    return "".join(dict.fromkeys(char for char in text if not char.isspace() and ord(char) not in drawn))


def renderer_available() -> bool:
    try:
        _engine()
    except RendererUnavailable:
        return False
    return True


def render(template_name: str, context: dict, *, facts: dict, filename: str, attach_evidence: bool = False) -> Pdf:
    """The PDF of one form, in Chinese whatever language the request came in (the paper it replaces is)."""
    weasyprint, fonts, stylesheet = _engine()
    digest = digest_of(facts)
    missing = missing_glyphs(json.dumps(facts, ensure_ascii=False, default=str))
    if missing:
        log.warning("Form %s: the shipped font has no glyph for %r; the system's Noto Sans CJK SC draws them if "
                    "installed, else they print as empty boxes", filename, missing)
    with translation.override("zh-hans"):
        html = render_to_string(template_name, {**context, "facts": facts, "digest": digest})
    options = {}
    if attach_evidence:
        options["attachments"] = [weasyprint.Attachment(string=evidence_json(facts), name=EVIDENCE_NAME,
                                                        description="evidence", relationship="Data")]
        options["pdf_variant"] = "pdf/a-3b"
    content = weasyprint.HTML(string=html, base_url=str(FONT_DIR)).write_pdf(
        stylesheets=[stylesheet], font_config=fonts, **options)
    return Pdf(content=content, digest=digest, filename=filename)
