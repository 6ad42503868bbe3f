"""TRN-1: 培训反馈 — "培训结果将以书面形式进行反馈，并由用户签字确认": the session (kind, venue, time, trainers, content,
attendees) and the customer's written feedback with the signer, the time, how it was signed and the signature; before
the feedback, empty boxes for a paper copy filled in and signed by hand."""

from aftersales.training import selectors
from aftersales.training.models import SessionKind, SessionState, SignedVia, Venue

from .common import NO_SIGNATURE, issuer, label, name_of, signature, when

TEMPLATE = "printing/training_feedback.html"
PERMISSION = "training.view_trainingsession"


def load(user, pk):
    """The session as its page reads it (scoped; a fixed number of queries), its feedback and the project's branch."""
    session = selectors.session_page(user, pk)
    feedback = session.feedback_row
    session.picture = signature(feedback.signature) if feedback is not None else NO_SIGNATURE
    return session


def filename(session) -> str:
    return f"培训反馈-{session.number}.pdf"


def facts(session, user) -> dict:
    feedback = session.feedback_row
    project = session.project
    return {
        "form": "training_feedback",
        "issuer": issuer(session.branch),
        "number": session.number,
        "customer": project.customer.name,
        "project": project.name,
        "contract_number": project.contract_number,
        "title": session.title,
        "kind": label(SessionKind, session.kind),
        "venue": label(Venue, session.venue),
        "place": session.place,
        "starts_at": when(session.starts_at),
        "ends_at": when(session.ends_at),
        "trainers": [name_of(trainer) for trainer in session.trainers.all()],
        "vendor_trainers": session.vendor_trainer_list,
        "content": session.content,
        "summary": session.summary,
        "state": label(SessionState, session.state),
        "held_at": when(session.held_at),
        "attendees": [{"name": a.name, "role": a.role, "phone": a.phone, "attended": a.attended}
                      for a in session.attendees.all()],
        "feedback": None if feedback is None else {
            "evaluation": feedback.evaluation,
            "opinions": feedback.opinions,
            "rating": feedback.rating,
            "signer": feedback.signer_name,
            "at": when(feedback.signed_at),
            "via": label(SignedVia, feedback.signed_via),
            "signature_sha256": session.picture.sha256,
        },
    }


def context(session, user) -> dict:
    return {"signature_src": session.picture.src, "ratings": [5, 4, 3, 2, 1]}
