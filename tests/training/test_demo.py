"""The demo holds trainings planned, held awaiting the customer's feedback and signed, and a project whose handover
checklist is complete (独立运行) beside one partly done, all loaded through the verbs."""

from aftersales.demo import data
from aftersales.notify.models import OutboxMessage
from aftersales.training import selectors
from aftersales.training.models import SessionState, TrainingFeedback, TrainingSession


def test_the_demo_has_trainings_in_each_state_and_a_complete_and_a_partial_handover(db):
    data.load()
    assert set(TrainingSession.objects.values_list("state", flat=True)) == set(SessionState.values)
    feedback = TrainingFeedback.objects.get()
    assert feedback.signature.read()[:8] == b"\x89PNG\r\n\x1a\n" and feedback.signed_via == "screen"
    assert feedback.session.materials.exists()
    awaiting = TrainingSession.objects.get(state=SessionState.HELD)
    assert awaiting.vendor_trainers and OutboxMessage.objects.filter(event="training_feedback_needed",
                                                                     about_id=str(awaiting.pk)).exists()
    statuses = {session.project.contract_number: selectors.handover_status(session.project)
                for session in TrainingSession.objects.select_related("project")}
    assert statuses["NXZD-2021-031"].independent
    partial = statuses["NXZD-2023-007"]
    assert 0 < partial.done < partial.total and not partial.independent
