"""CUS-1, CUS-2 verbs. Each is one transaction."""

from django.db import transaction
from django.db.models import F

from aftersales.assets.services import refresh_project_warranties

from .models import MilestoneKind, Milestone, Project


@transaction.atomic
def save_milestone(*, milestone: Milestone) -> Milestone:
    """Save a milestone; an acceptance date moves the project's warranty start (CUS-4)."""
    milestone.full_clean()
    milestone.save()
    if milestone.kind == MilestoneKind.ACCEPTANCE:
        _sync_acceptance(milestone.project)
    return milestone


@transaction.atomic
def extend_deadline(*, milestone: Milestone, days: int, reason: str, by) -> Milestone:
    """CUS-2: a delay caused by the owner extends the deadline (工期顺延), with its reason."""
    milestone.extensions.create(days=days, reason=reason, recorded_by=by)
    Milestone.objects.filter(pk=milestone.pk).update(extension_days=F("extension_days") + days)
    milestone.refresh_from_db(fields=["extension_days"])
    return milestone


@transaction.atomic
def save_project(*, project: Project) -> Project:
    """Save a project; changed warranty defaults reach every device."""
    project.save()
    refresh_project_warranties(project)
    return project


def _sync_acceptance(project: Project) -> None:
    accepted = project.milestones.filter(kind=MilestoneKind.ACCEPTANCE).values_list("actual_date", flat=True).first()
    if accepted != project.accepted_on:
        project.accepted_on = accepted
        project.save(update_fields=["accepted_on", "updated_at"])
        refresh_project_warranties(project)
