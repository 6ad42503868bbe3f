"""Pages of service requests (SRQ-1..10), by audience:

- queue.py            the desk queue, the list of requests (我的报修 for a customer), the engineer's 我的工作
- intake_forms.py     the desk's phone-call form, the portal's 报修 form, project search and device choices
- request_page.py     the request page with a panel for each action allowed now, and attachment downloads
- request_actions.py  one page per verb (RequestAction) and the desk's verbs
- field_actions.py    the engineer's verbs on site and the customer's confirmation of a work order
- incident_actions.py the incident report: written, submitted, answered
- signed_links.py     confirmation by the signed link of a notification, without a login
- exports.py          the request list as CSV or Excel
- common.py           the small helpers they share

Views stay thin: a form parses the input, a verb decides, the page shows the result. A DomainError becomes a form
message (422 for htmx); an IllegalTransition or StaleObject a clear conflict message (409 for htmx). Nothing here
answers 500 for bad input, and every object is reached through `visible()`.
"""

# The request forms of the intake channels (intake/labels) reuse these.
from .common import add_domain_error, error_status, priority_choices
from .intake_forms import DEVICE_CHOICES_LIMIT, device_choices

__all__ = ["DEVICE_CHOICES_LIMIT", "add_domain_error", "device_choices", "error_status", "priority_choices"]
