"""LOG-2: the side-by-side diff of two versions' texts (pure: difflib over lines, no ORM, no HTML).

The rows are data; the template escapes every line (no |safe on user content). Runs of unchanged lines longer than
twice the context collapse into one "N unchanged lines" row."""

import difflib
from dataclasses import dataclass

CONTEXT = 3
MAX_LINES = 20_000  # each side: a longer text is compared up to here (the page says so)


@dataclass(frozen=True, slots=True)
class Row:
    kind: str  # "equal", "replace", "delete", "insert", "skip"
    left_number: int | None = None
    left: str = ""
    right_number: int | None = None
    right: str = ""
    skipped: int = 0  # for "skip": how many unchanged lines are hidden


@dataclass(frozen=True, slots=True)
class SideBySide:
    rows: list
    added: int
    removed: int
    truncated: bool

    @property
    def identical(self) -> bool:
        return not self.added and not self.removed


def lines(text: str) -> list[str]:
    """The text's lines; a final newline ends the last line, it does not start an empty one."""
    return (text.removesuffix("\n")).split("\n")


def side_by_side(old: str, new: str, *, context: int = CONTEXT) -> SideBySide:
    left, right = lines(old), lines(new)
    truncated = len(left) > MAX_LINES or len(right) > MAX_LINES
    left, right = left[:MAX_LINES], right[:MAX_LINES]
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    rows, added, removed = [], 0, 0
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            keep_head = 0 if index == 0 else context  # after a change
            keep_tail = 0 if index == len(opcodes) - 1 else context  # before a change
            length = i2 - i1
            if length > keep_head + keep_tail + 1:
                for k in range(keep_head):
                    rows.append(Row("equal", i1 + k + 1, left[i1 + k], j1 + k + 1, right[j1 + k]))
                rows.append(Row("skip", skipped=length - keep_head - keep_tail))
                for k in range(length - keep_tail, length):
                    rows.append(Row("equal", i1 + k + 1, left[i1 + k], j1 + k + 1, right[j1 + k]))
            else:
                for k in range(length):
                    rows.append(Row("equal", i1 + k + 1, left[i1 + k], j1 + k + 1, right[j1 + k]))
            continue
        removed += i2 - i1
        added += j2 - j1
        for k in range(max(i2 - i1, j2 - j1)):
            has_left, has_right = i1 + k < i2, j1 + k < j2
            kind = "replace" if has_left and has_right else ("delete" if has_left else "insert")
            rows.append(Row(kind,
                            i1 + k + 1 if has_left else None, left[i1 + k] if has_left else "",
                            j1 + k + 1 if has_right else None, right[j1 + k] if has_right else ""))
    return SideBySide(rows=rows, added=added, removed=removed, truncated=truncated)
