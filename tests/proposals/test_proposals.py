"""LOG-3/LOG-4: a proposal is a draft with options; sending freezes them; the customer chooses exactly one in writing
or declines; the follow-up of the chosen option is tracked in steps and the proposal is done when every step is."""

from datetime import timedelta
from decimal import Decimal

import pytest

from aftersales.core import clock
from aftersales.core.errors import DomainError, IllegalTransition, StaleObject
from aftersales.notify.models import OutboxMessage
from aftersales.proposals import services
from aftersales.proposals.models import (
    FollowUpStep,
    Proposal,
    ProposalKind,
    ProposalOption,
    ProposalState,
    StepState,
)

from ..factories import current_version
from .conftest import draft_proposal


def written():
    return (sorted(Proposal.objects.values_list("pk", "state", "version", "chosen_option")),
            sorted(ProposalOption.objects.values_list("pk", "label", "title")), FollowUpStep.objects.count(),
            OutboxMessage.objects.count())


def choose(proposal, user, label="B", **overrides):
    option = proposal.options.get(label=label)
    arguments = {"proposal": proposal, "version": current_version(proposal), "option": option, "via": "portal",
                 "name": "马红梅", "by": user}
    return services.choose_option(**{**arguments, **overrides})


def test_options_are_labelled_in_order_and_may_be_free(frozen_clock, project_a, engineer):
    proposal = draft_proposal(project_a, engineer, options=("甲", "乙", "丙"), kind=ProposalKind.UPGRADE)
    assert [(o.label, o.title, o.free) for o in proposal.options.order_by("label")] == [
        ("A", "甲", True), ("B", "乙", False), ("C", "丙", False)]
    assert proposal.number == f"FA{proposal.pk:05d}" and proposal.state == ProposalState.DRAFT


def test_a_proposal_without_options_cannot_be_sent(frozen_clock, project_a, engineer):
    proposal = draft_proposal(project_a, engineer, options=())
    with pytest.raises(DomainError):
        services.send_proposal(proposal=proposal, by=engineer, version=current_version(proposal))
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.DRAFT and not OutboxMessage.objects.exists()


def test_sending_mails_the_contacts_and_freezes_the_options(proposal_a, engineer, customer_user_a):
    messages = OutboxMessage.objects.filter(event="proposal_sent")
    assert {m.recipient_user_id for m in messages} == {customer_user_a.pk}
    assert all("/proposals/choose/" in m.url for m in messages)
    before = written()
    with pytest.raises(IllegalTransition):
        services.add_option(proposal=proposal_a, by=engineer, version=current_version(proposal_a), title="C")
    with pytest.raises(IllegalTransition):
        services.remove_option(proposal=proposal_a, by=engineer, version=current_version(proposal_a),
                               option=proposal_a.options.first())
    with pytest.raises(IllegalTransition):
        services.edit_proposal(proposal=proposal_a, by=engineer, version=current_version(proposal_a),
                               kind=ProposalKind.SOLUTION, title="改")
    assert written() == before


def test_choosing_records_exactly_one_option_and_tells_staff(proposal_a, customer_user_a, engineer):
    choose(proposal_a, customer_user_a)
    proposal = Proposal.objects.get(pk=proposal_a.pk)
    assert (proposal.state, proposal.chosen_option.label, proposal.answered_name, proposal.answered_via,
            proposal.answered_by) == (ProposalState.CHOSEN, "B", "马红梅", "portal", customer_user_a)
    assert {m.recipient_user_id for m in OutboxMessage.objects.filter(event="proposal_answered")} == {engineer.pk}
    before = written()
    with pytest.raises(IllegalTransition):  # a second choice is refused
        choose(proposal_a, customer_user_a, label="A")
    assert written() == before


def test_an_option_of_another_proposal_cannot_be_chosen(proposal_a, proposal_b, customer_user_a):
    before = written()
    with pytest.raises(DomainError) as error:
        services.choose_option(proposal=proposal_a, version=current_version(proposal_a),
                               option=proposal_b.options.first(), via="portal", name="马红梅", by=customer_user_a)
    assert error.value.field == "option" and written() == before


def test_two_contacts_choosing_at_once_the_second_gets_a_conflict(proposal_a, customer_user_a):
    seen = current_version(proposal_a)  # both loaded the page at this version
    choose(proposal_a, customer_user_a, label="A", version=seen)
    before = written()
    with pytest.raises(StaleObject):
        choose(proposal_a, customer_user_a, label="B", version=seen)
    assert written() == before and Proposal.objects.get(pk=proposal_a.pk).chosen_option.label == "A"


def test_declining_needs_a_reason_and_records_it(proposal_a, customer_user_a):
    with pytest.raises(DomainError) as error:
        services.decline_proposal(proposal=proposal_a, version=current_version(proposal_a), via="portal",
                                  name="马红梅", reason="", by=customer_user_a)
    assert error.value.field == "reason"
    services.decline_proposal(proposal=proposal_a, version=current_version(proposal_a), via="portal", name="马红梅",
                              reason="明年再议", by=customer_user_a)
    proposal = Proposal.objects.get(pk=proposal_a.pk)
    assert (proposal.state, proposal.decline_reason, proposal.chosen_option) == (ProposalState.DECLINED, "明年再议",
                                                                                 None)


def test_follow_up_steps_and_the_proposal_is_done_when_every_step_is(frozen_clock, proposal_a, customer_user_a,
                                                                      engineer):
    with pytest.raises(IllegalTransition):  # nothing to follow up before a choice
        services.add_step(proposal=proposal_a, by=engineer, version=current_version(proposal_a), title="采购")
    choose(proposal_a, customer_user_a)
    for title in ("采购", "安装"):
        services.add_step(proposal=proposal_a, by=engineer, version=current_version(proposal_a), title=title)
    buy, install = FollowUpStep.objects.filter(proposal=proposal_a).order_by("position")
    services.update_step(step=buy, by=engineer, version=current_version(proposal_a), state=StepState.DONE)
    services.update_step(step=install, by=engineer, version=current_version(proposal_a),
                         state=StepState.IN_PROGRESS, note="已开工")
    proposal = Proposal.objects.get(pk=proposal_a.pk)
    assert proposal.state == ProposalState.CHOSEN and proposal.done_at is None
    install.refresh_from_db()
    assert (install.state, install.started_on, install.done_on, install.note) == (
        StepState.IN_PROGRESS, clock.today(), None, "已开工")
    services.update_step(step=install, by=engineer, version=current_version(proposal_a), state=StepState.DONE)
    proposal = Proposal.objects.get(pk=proposal_a.pk)
    assert proposal.state == ProposalState.DONE and proposal.done_at is not None


def test_a_step_date_in_the_future_is_refused(frozen_clock, proposal_a, customer_user_a, engineer):
    choose(proposal_a, customer_user_a)
    step = services.add_step(proposal=proposal_a, by=engineer, version=current_version(proposal_a), title="采购")
    with pytest.raises(DomainError) as error:
        services.update_step(step=step, by=engineer, version=current_version(proposal_a), state=StepState.DONE,
                             on=clock.today() + timedelta(days=1))
    assert error.value.field == "on" and FollowUpStep.objects.get(pk=step.pk).state == StepState.PLANNED


def test_a_negative_cost_is_refused(frozen_clock, project_a, engineer):
    proposal = draft_proposal(project_a, engineer, options=())
    with pytest.raises(DomainError) as error:
        services.add_option(proposal=proposal, by=engineer, version=current_version(proposal), title="A",
                            cost=Decimal(-1))
    assert error.value.field == "cost" and not ProposalOption.objects.exists()
