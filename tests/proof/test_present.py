"""The PDF lists at most PDF_REFS_SHOWN references per cell (WeasyPrint takes minutes over a cell of hundreds);
the web page lists them all. Found at 1,000,000 requests: a month of 678 requests did not render in 2 minutes."""

from aftersales.proof import present
from aftersales.proof.services import PDF_REFS_SHOWN

REFS = [f"SR{i:07d}" for i in range(1, 101)]
FACTS = {"requests": {"figures": {"opened": {"n": 100, "rows": REFS}},
                      "targets": {"reply": {"met": {"n": 100, "rows": REFS}, "missed": {"n": 0, "rows": []},
                                            "open": {"n": 0, "rows": []}}}}}


def test_the_pdf_lists_the_first_references_and_counts_the_rest():
    context = present.context(FACTS, refs_shown=PDF_REFS_SHOWN)
    opened = next(line for line in context["figure_table"] if line["anchor"] and line["value"] == 100)
    assert opened["refs"] == REFS[:PDF_REFS_SHOWN] and opened["more"] == 100 - PDF_REFS_SHOWN
    met = context["target_table"][0]["met"]
    assert met["n"] == 100 and met["refs"] == REFS[:PDF_REFS_SHOWN] and met["more"] == 100 - PDF_REFS_SHOWN
    assert context["target_table"][0]["missed"] == {"n": 0, "refs": [], "more": 0}


def test_the_web_page_lists_every_reference():
    context = present.context(FACTS)
    assert all(line["more"] == 0 for line in context["figure_table"])
    assert context["target_table"][0]["met"]["refs"] == REFS
