"""The demo holds visits done, planned and overdue, follow-ups open and done, and surveys answered (one with a low
satisfaction and its follow-up) and one mailed link still unanswered."""

from aftersales.core import clock
from aftersales.demo import data
from aftersales.visits import links
from aftersales.visits.models import FollowUp, ReturnVisit, Survey, VisitState


def test_the_demo_shows_every_state_of_visits_and_surveys(db, client):
    data.load(devices=40)
    today = clock.today()
    states = set(ReturnVisit.objects.values_list("state", flat=True))
    assert {VisitState.DONE, VisitState.PLANNED} <= states
    assert ReturnVisit.objects.filter(state=VisitState.PLANNED, due_on__lt=today).exists()  # overdue
    assert {"open", "done"} <= set(FollowUp.objects.values_list("state", flat=True))
    low = Survey.objects.get(satisfaction__lte=2)
    assert low.follow_ups.count() == 1 and low.abnormal
    assert Survey.objects.filter(state="answered", satisfaction__gte=4).exists()
    mailed = Survey.objects.get(state="pending")
    assert mailed.sent_to.username == "hospital"
    assert client.get(f"/visits/survey/{links.survey_token(mailed)}/").status_code == 200
