"""The console says each thing once, and an ordinary refusal without a traceback (issue 21 §13).

Django logs a PermissionDenied or a 404 raised in a view with its traceback (`django.request`, WARNING): for an
operator that reads like a crash, though it is the product working. The line stays; the traceback goes. Server
errors (5xx) keep theirs."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True
