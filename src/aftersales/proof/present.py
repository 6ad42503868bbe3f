"""The facts as the page and the PDF show them: each figure with its label and the references of its rows."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .templatetags.proof_labels import LABELS

# (section, figure key, label, anchor prefix of its rows on the page)
FIGURES = [
    ("requests", "opened", _("Requests opened"), "sr"),
    ("requests", "resolved", _("Requests resolved"), "sr"),
    ("requests", "on_site", _("Requests with on-site service"), "sr"),
    ("requests", "paused", _("Requests with the clock paused"), "sr"),
    ("requests", "escalated", _("Requests escalated"), "sr"),
    ("requests", "contingency", _("Requests with a contingency plan"), "sr"),
    ("requests", "signed", _("Work orders signed by the customer"), "sr"),
    ("inspections", "due", _("Inspection rounds due"), "xj"),
    ("inspections", "done", _("Inspection rounds done"), "xj"),
    ("inspections", "missed", _("Inspection rounds missed"), "xj"),
    ("inspections", "overridden", _("Rounds whose approval was overridden"), "xj"),
    ("inspections", "pending", _("Rounds not done yet"), "xj"),
    ("inspections", "findings", _("Inspection findings"), "finding"),
    ("repairs", "opened", _("Repair cases opened"), "rp"),
    ("repairs", "closed", _("Repair cases closed"), "rp"),
    ("repairs", "loans", _("Spare units lent"), "loan"),
    ("charges", "sheets", _("Charge sheets issued"), "sheet"),
    ("charges", "charged", _("Charge sheets with an amount to pay"), "sheet"),
    ("charges", "parts", _("Part lines"), "line"),
    ("surveys", "sent", _("Surveys"), "survey"),
    ("surveys", "answered", _("Surveys answered"), "survey"),
    ("surveys", "abnormal", _("Surveys reporting an abnormality"), "survey"),
    ("training", "planned", _("Training sessions"), "px"),
    ("training", "held", _("Training sessions held"), "px"),
    ("training", "signed", _("Training feedback signed"), "px"),
]

SECTIONS = {
    "requests": _("Service requests"),
    "inspections": _("Inspections"),
    "repairs": _("Repairs and spare units"),
    "charges": _("Parts and charges"),
    "surveys": _("Surveys"),
    "training": pgettext_lazy("report section", "Training"),
}


def shown(refs: list, limit: int | None) -> dict:
    """The references a cell lists, and how many more it leaves to the full tables and evidence.json. The PDF lists
    at most `limit`: WeasyPrint lays out a table cell of hundreds of references across pages in minutes."""
    if limit is None or len(refs) <= limit:
        return {"refs": refs, "more": 0}
    return {"refs": refs[:limit], "more": len(refs) - limit}


def figure_table(facts: dict, refs_shown: int | None = None) -> list[dict]:
    """One line per figure: section, label, value, its rows' references and their anchor on the web page. The
    money total and the average satisfaction follow their section's counts."""
    lines = []
    for section, key, label, anchor in FIGURES:
        found = facts.get(section, {}).get("figures", {}).get(key)
        if found is not None:
            lines.append({"section": SECTIONS[section], "label": label, "value": found["n"],
                          **shown(found["rows"], refs_shown), "anchor": anchor})
        if (section, key) == ("charges", "parts") and "total" in facts.get("charges", {}).get("figures", {}):
            total = facts["charges"]["figures"]["total"]
            lines.append({"section": SECTIONS["charges"], "label": _("The customer pays (CNY)"),
                          "value": total["amount"], **shown(total["rows"], refs_shown), "anchor": "sheet"})
        if (section, key) == ("surveys", "abnormal") and "average_satisfaction" in facts.get("surveys", {}).get(
                "figures", {}):
            average = facts["surveys"]["figures"]["average_satisfaction"]
            lines.append({"section": SECTIONS["surveys"], "label": _("Average satisfaction (1-5)"),
                          "value": average["value"] if average["value"] is not None else "—",
                          **shown(average["rows"], refs_shown), "anchor": "survey"})
    return lines


def target_table(facts: dict, refs_shown: int | None = None) -> list[dict]:
    """Promised times per target kind: met, missed, still open, with the requests behind each."""
    rows = []
    for kind, counts in facts.get("requests", {}).get("targets", {}).items():
        rows.append({"kind": kind, "label": LABELS["target"].get(kind, kind),
                     **{state: {"n": counts[state]["n"], **shown(counts[state]["rows"], refs_shown)}
                        for state in ("met", "missed", "open")}})
    return rows


def context(facts: dict, *, refs_shown: int | None = None) -> dict:
    """The template's tables; `refs_shown` caps the references listed in one cell (the PDF's)."""
    return {"figure_table": figure_table(facts, refs_shown), "target_table": target_table(facts, refs_shown),
            "target_order": ["reply", "departure", "arrival", "resolution"]}
