"""What every page that posts a form to a verb does with the outcome: run it, put a DomainError on the form, answer
htmx and plain posts each in their way."""

from django.http import HttpResponse
from django.shortcuts import redirect

from .errors import DomainError, IllegalTransition, StaleObject


def done(http_request, url: str) -> HttpResponse:
    """After a successful POST: htmx follows HX-Redirect (the whole page shows the new state), a form redirects."""
    if http_request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def add_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def error_status(http_request, status: int) -> int:
    """htmx swaps 409/422 bodies (base.html's htmx-config); a plain form post shows the page with its message."""
    return status if http_request.htmx else 200


def run_verb(form, perform) -> int | None:
    """Run the verb of a valid form: None when it went through, else the status of the answer (the error is on the
    form): 409 for a stale version or a step the state does not allow, 422 for bad input."""
    if not form.is_valid():
        return 422
    try:
        perform(form.cleaned_data)
    except (IllegalTransition, StaleObject) as error:
        add_error(form, error)
        return 409
    except DomainError as error:
        add_error(form, error)
        return error.status if error.status == 409 else 422
    return None
