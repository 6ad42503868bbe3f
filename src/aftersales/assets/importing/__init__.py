"""CUS-3: import the device lists integrators keep in Excel (lessons.md item 9).

    parse()   file bytes -> ParsedFile     reading.py   (headers recognised, cells read as text, limits enforced)
    plan()    ParsedFile -> ImportPlan     planning.py  (each row: create / update / unchanged / error, and why)
    commit()  ParsedFile -> ImportResult   writing.py   (plans again under lock and apply()s it: every row in ONE
                                                         transaction, or nothing when any row has an error or the
                                                         plan differs from the preview; one audit entry per device)
    stash()   upload -> signed token       stash.py     (the file kept between preview and confirm)

The accepted headers are one table (columns.py); a cell becomes text or a date in cells.py; errors.py holds what
can go wrong. Callers use the names below.
"""

from .columns import COLUMN_BY_FIELD, COLUMNS, FORMULA_PREFIXES, Column
from .errors import ImportConflict, ImportFileError, PlanChanged, RowErrors, StashExpired
from .planning import ACTION_LABELS, CREATE, ERROR, UNCHANGED, UPDATE, Change, ImportPlan, RowPlan, fingerprint, plan
from .reading import MAX_BYTES, MAX_ROWS, ParsedFile, SourceRow, check_upload, file_kind, parse
from .stash import STASH_DIR, STASH_MAX_AGE, discard, stash, unstash
from .writing import ImportResult, apply, commit, request_address

__all__ = [
    "ACTION_LABELS", "COLUMNS", "COLUMN_BY_FIELD", "CREATE", "ERROR", "FORMULA_PREFIXES", "MAX_BYTES", "MAX_ROWS",
    "STASH_DIR", "STASH_MAX_AGE", "UNCHANGED", "UPDATE",
    "Change", "Column", "ImportConflict", "ImportFileError", "ImportPlan", "ImportResult", "ParsedFile", "PlanChanged",
    "RowErrors", "RowPlan", "SourceRow", "StashExpired",
    "apply", "check_upload", "commit", "discard", "file_kind", "fingerprint", "parse", "plan", "request_address",
    "stash", "unstash",
]
