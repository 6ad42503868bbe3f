"""Reading PDFs back in tests, with poppler's tools (scripts/run-tests.sh installs poppler-utils)."""

import subprocess
import tempfile
from pathlib import Path


def _run(*args: str, content: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(content)
        return subprocess.run([*args, str(path), *(["-"] if args[0] == "pdftotext" else [])],
                              check=True, capture_output=True, cwd=folder).stdout


def text_of(content: bytes) -> str:
    """The text of every page, in reading order (pdftotext -layout)."""
    return _run("pdftotext", "-layout", "-enc", "UTF-8", content=content).decode("utf-8")


def text_of_page(content: bytes, number: int) -> str:
    """The text of page `number` (1-based) alone (pdftotext -f N -l N -layout)."""
    return _run("pdftotext", "-f", str(number), "-l", str(number), "-layout", "-enc", "UTF-8",
                content=content).decode("utf-8")


def page_count(content: bytes) -> int:
    info = _run("pdfinfo", content=content).decode("utf-8")
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def fonts_of(content: bytes) -> list[str]:
    """The embedded fonts' names, subset prefix removed (pdffonts)."""
    lines = _run("pdffonts", content=content).decode("utf-8").splitlines()[2:]
    return sorted({line.split()[0].split("+")[-1] for line in lines if line.strip()})


def attachments_of(content: bytes) -> dict[str, bytes]:
    """The files embedded in the PDF, by name (pdfdetach)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(content)
        out = Path(folder) / "out"
        out.mkdir()
        subprocess.run(["pdfdetach", "-saveall", "-o", str(out), str(path)], check=True, capture_output=True)
        return {item.name: item.read_bytes() for item in out.iterdir()}


def png_pages(content: bytes, folder: Path, stem: str = "page", dpi: int = 60) -> list[Path]:
    """Draw every page to PNG (pdftoppm) in `folder`; the paths, first page first."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.pdf"
    path.write_bytes(content)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(path), str(folder / stem)], check=True, capture_output=True)
    return sorted(folder.glob(f"{stem}*.png"))


def xmp_of(content: bytes) -> str:
    """The document's XMP metadata (pdfinfo -meta), where PDF/A declares its part and conformance."""
    return _run("pdfinfo", "-meta", content=content).decode("utf-8")
