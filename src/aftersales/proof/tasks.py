"""Background entry point of the monthly proof of service (huey). Thin: services.py does the work."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


# Hourly, so a worker that was down on the 1st catches up within the hour. Any number of workers may run it at once:
# each (customer, month)'s version 1 is a unique row, and only the run whose row went in renders, stores and mails it.
@db_periodic_task(crontab(minute="40"))
def monthly_reports() -> list[int]:
    """Issue 24 §4: from the 1st on, last month's report of every active customer that has none yet."""
    return services.produce_last_month()
