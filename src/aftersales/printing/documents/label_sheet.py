"""Issue 11 §2: 设备标签 — the QR label sheet of a project as a PDF: the same codes as the HTML sheet
(intake/labels/codes.py: the device's scan address on AFTERSALES_SITE_URL), 3 × 7 labels of 66 × 40 mm (or 2 × 5 of
99 × 56 mm) on A4, a label never split across pages."""

from functools import lru_cache

import segno
from django.conf import settings

from aftersales.core.scoping import get_visible_or_404
from aftersales.customers.models import Project
from aftersales.intake.labels import codes

from .common import issuer

TEMPLATE = "printing/label_sheet.html"
PERMISSION = "assets.view_device"
LAYOUTS = {"3x7": (3, 7), "2x5": (2, 5)}


def load(user, pk, *, category: str = "", layout: str = "") -> Project:
    """Two queries: the project, its devices in service (scoped, in the order an installer walks the site)."""
    project = get_visible_or_404(Project.objects.select_related("customer", "branch"), user, pk=pk)
    category_id = int(category) if category.isdigit() else None
    project.label_devices = codes.sheet_devices(user, project, category_id)
    project.layout = layout if layout in LAYOUTS else "3x7"
    return project


def filename(project) -> str:
    return f"设备标签-{project.contract_number}.pdf"


@lru_cache(maxsize=4096)
def qr_data_uri(url: str) -> str:
    """The QR code (error level M, two-module quiet zone) as an SVG data URI: vector, sharp at any printer's DPI.
    Pure, hence cached (like codes.qr_svg)."""
    return segno.make(url, error="m").svg_data_uri(border=2, omitsize=True)


def facts(project, user) -> dict:
    return {
        "form": "label_sheet",
        "issuer": issuer(project.branch),
        "number": project.contract_number,
        "customer": project.customer.name,
        "project": project.name,
        "layout": project.layout,
        "hotline": settings.SERVICE_HOTLINE,
        "labels": facts_labels(project),
    }


def context(project, user) -> dict:
    columns, rows = LAYOUTS[project.layout]
    per_page = columns * rows
    labels = [{**row, "qr": qr_data_uri(row["url"])} for row in facts_labels(project)]
    return {"pages": [labels[start:start + per_page] for start in range(0, len(labels), per_page)],
            "columns": columns, "rows": rows}


def facts_labels(project) -> list[dict]:
    return [{"url": codes.scan_url(d.label_code), "name": d.name, "model": d.model, "serial_number": d.serial_number,
             "location": d.location} for d in project.label_devices]
