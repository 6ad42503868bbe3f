"""The desk page sorted by a column shows its rows in that order (the rows are read by a second query)."""

import re
from datetime import timedelta

from django.urls import reverse

from aftersales.service import verbs
from aftersales.service.models import Priority


def test_the_desk_sorted_by_opening_time_lists_the_newest_first(client, frozen_clock, dispatcher, project_a):
    numbers = []
    for title in ("第一", "第二", "第三"):
        numbers.append(verbs.open_request(by=dispatcher, project=project_a, priority=Priority.GENERAL,
                                          channel="phone", title=title, description="…").number)
        frozen_clock.shift(timedelta(minutes=5))
    client.force_login(dispatcher)
    page = client.get(reverse("service:desk"), {"sort": "-created"}).content.decode()
    shown = [number for number in re.findall(r"SR\d{7}", page) if number in numbers]
    assert list(dict.fromkeys(shown)) == numbers[::-1]
    page = client.get(reverse("service:desk"), {"sort": "created"}).content.decode()
    shown = [number for number in re.findall(r"SR\d{7}", page) if number in numbers]
    assert list(dict.fromkeys(shown)) == numbers
