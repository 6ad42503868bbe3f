"""The demo's documents: several per project, in several versions, one shared with the customer, and texts whose
diff shows real changes (Markdown, .docx, .xlsx); drawings (PDF) without text."""

from aftersales.documents import demo, diffing
from aftersales.documents.models import Document, DocumentVersion


def test_the_demo_loads_versioned_documents_once(project_a, engineer):
    assert demo.load()["documents"] == 4
    assert demo.load() == {"documents": 0}
    documents = {d.title: d for d in Document.objects.filter(project=project_a)}
    assert documents["维护规程"].current_number == 3 and documents["维护规程"].visibility == "shared"
    texts = {}
    for title in ("维护规程", "IP 地址规划表", "竣工说明"):
        versions = list(DocumentVersion.objects.filter(document=documents[title]).order_by("number"))
        assert all(version.text for version in versions), title
        texts[title] = diffing.side_by_side(versions[-2].text, versions[-1].text)
    assert all(not diff.identical for diff in texts.values())
    drawing = DocumentVersion.objects.filter(document=documents["监控中心平面图"])
    assert drawing.count() == 2 and all(version.text is None for version in drawing)
