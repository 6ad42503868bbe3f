"""Demo data (issue 24 §4): last month's proof-of-service report of every demo customer, as the monthly job makes it
on the 1st — its PDF, its outbox messages to the customer's contacts."""

from . import services


def load() -> list[int]:
    return services.produce_last_month()
