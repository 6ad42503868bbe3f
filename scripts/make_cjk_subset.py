"""Cut the PDF forms' font from Noto Sans CJK SC: GB2312 plus every character of the product's own strings.

    .venv/bin/python scripts/make_cjk_subset.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc Regular
    .venv/bin/python scripts/make_cjk_subset.py /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc Bold

The source is Debian's fonts-noto-cjk (face 2 of the collection is Simplified Chinese). The result goes to
src/aftersales/printing/fonts/AftersalesSansSC-<weight>.otf, under the SIL Open Font License (OFL.txt beside
it; Noto has no reserved font name, so the family may be renamed). Run it again after adding Chinese strings
that GB2312 lacks: the catalogue and the templates are read for their characters.
"""

import sys
from pathlib import Path

from fontTools import subset

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "src/aftersales/locale/zh_Hans/LC_MESSAGES/django.po",
           *sorted((ROOT / "src/aftersales").rglob("*.html")), *sorted((ROOT / "src/aftersales").rglob("*.py"))]


def wanted_characters() -> set[int]:
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180))  # ASCII, Latin-1, Latin Extended-A
    chars |= set(range(0x2000, 0x2070)) | set(range(0x2100, 0x2200))  # punctuation, letterlike (№ ℃)
    chars |= set(range(0x2190, 0x2200)) | set(range(0x2460, 0x24FF))  # arrows, circled numbers
    chars |= set(range(0x2500, 0x2600)) | {0x2713, 0x2714, 0x2717}  # box drawing, shapes (□ ■ ○), ✓ ✗
    chars |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))  # CJK punctuation, full-width forms
    for high in range(0xA1, 0xF8):  # all of GB2312: 6,763 hanzi and its symbols
        for low in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    for path in SOURCES:  # the product's own strings, whatever GB2312 lacks
        chars |= {ord(c) for c in path.read_text(encoding="utf-8") if ord(c) >= 0x2E80}
    return chars


def main(source: str, weight: str) -> None:
    options = subset.Options()
    options.layout_features = ["ccmp", "kern", "liga", "palt", "halt"]  # no "locl": keeps JP/KR/TC glyphs out
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.font_number = 2  # the SC face of Noto Sans CJK's collection
    font = subset.load_font(source, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted_characters())
    subsetter.subset(font)
    for record in font["name"].names:  # a renamed family, as the OFL asks of a modified font
        text = record.toUnicode()
        if "Noto Sans CJK SC" in text or "NotoSansCJKsc" in text:
            record.string = text.replace("Noto Sans CJK SC", "Aftersales Sans SC").replace("NotoSansCJKsc", "AftersalesSansSC")
    target = ROOT / f"src/aftersales/printing/fonts/AftersalesSansSC-{weight}.otf"
    subset.save_font(font, str(target), options)
    print(f"{target.name}: {len(font.getGlyphOrder())} glyphs, {target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
