"""The API: scoped lists and details (a customer never sees a draft; another customer's row is a 404), one POST per
verb; a stale version or an illegal step is a 409 with its code, bad input a 400 naming the field."""

import pytest
from django.urls import reverse

from aftersales.proposals.models import (
    HazardReport,
    Proposal,
    ProposalState,
)

from ..conftest import api_as
from ..factories import current_version
from .conftest import draft_report


def test_staff_create_and_send_a_report(frozen_clock, project_a, engineer, customer_user_a):
    api = api_as(engineer)
    created = api.post(reverse("hazardreport-list"), {"project": project_a.pk, "title": "UPS老化", "risk": "high",
                                                      "description": "续航不足"}, format="json")
    assert created.status_code == 201 and created.json()["state"] == "draft"
    pk = created.json()["id"]
    sent = api.post(reverse("hazardreport-send", args=[pk]), {"version": created.json()["version"]}, format="json")
    assert sent.status_code == 200 and sent.json()["state"] == "awaiting"


def test_bad_input_is_a_400_with_the_field(frozen_clock, project_a, engineer):
    response = api_as(engineer).post(reverse("hazardreport-list"), {"project": project_a.pk, "title": "x",
                                                                    "risk": "extreme", "description": "y"},
                                     format="json")
    assert response.status_code == 400 and "risk" in str(response.json())
    assert not HazardReport.objects.exists()


def test_another_customer_s_project_is_refused(frozen_clock, project_b, engineer):
    response = api_as(engineer).post(reverse("proposal-list"), {"project": project_b.pk, "kind": "upgrade",
                                                                "title": "升级"}, format="json")
    assert response.status_code == 400 and not Proposal.objects.exists()


def test_the_customer_confirms_and_a_stale_version_is_a_409(report_a, customer_user_a):
    api = api_as(customer_user_a)
    url = reverse("hazardreport-confirm", args=[report_a.pk])
    stale = api.post(url, {"version": current_version(report_a) - 1, "name": "马红梅"}, format="json")
    assert (stale.status_code, stale.json()["code"]) == (409, "stale")
    done = api.post(url, {"version": current_version(report_a), "name": "马红梅"}, format="json")
    assert done.status_code == 200 and (done.json()["state"], done.json()["answered_via"]) == ("confirmed", "portal")
    again = api.post(reverse("hazardreport-reject", args=[report_a.pk]),
                     {"version": current_version(report_a), "name": "马红梅", "reason": "x"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")


def test_staff_cannot_confirm_and_customers_cannot_send(report_a, engineer, customer_user_a):
    assert api_as(engineer).post(reverse("hazardreport-confirm", args=[report_a.pk]),
                                 {"version": current_version(report_a), "name": "x"}, format="json").status_code == 403
    assert api_as(customer_user_a).post(reverse("hazardreport-send", args=[report_a.pk]),
                                        {"version": current_version(report_a)}, format="json").status_code == 403


def test_scoping_hides_drafts_and_other_customers(frozen_clock, report_a, report_b, project_a, engineer,
                                                   customer_user_a):
    draft = draft_report(project_a, engineer, title="草稿")
    api = api_as(customer_user_a)
    listed = {row["id"] for row in api.get(reverse("hazardreport-list")).json()["results"]}
    assert listed == {report_a.pk}
    for pk in (draft.pk, report_b.pk):
        assert api.get(reverse("hazardreport-detail", args=[pk])).status_code == 404
        assert api.post(reverse("hazardreport-confirm", args=[pk]), {"version": 1, "name": "x"},
                        format="json").status_code == 404


def test_choose_exactly_one_option_through_the_api(proposal_a, proposal_b, customer_user_a):
    api = api_as(customer_user_a)
    url = reverse("proposal-choose", args=[proposal_a.pk])
    foreign = api.post(url, {"version": current_version(proposal_a), "name": "马红梅",
                             "option": proposal_b.options.first().pk}, format="json")
    assert foreign.status_code == 400 and "option" in foreign.json()["fields"]
    option = proposal_a.options.get(label="A")
    chosen = api.post(url, {"version": current_version(proposal_a), "name": "马红梅", "option": option.pk},
                      format="json")
    assert chosen.status_code == 200 and (chosen.json()["state"], chosen.json()["chosen_label"]) == ("chosen", "A")
    declined = api.post(reverse("proposal-decline", args=[proposal_a.pk]),
                        {"version": current_version(proposal_a), "name": "马红梅", "reason": "x"}, format="json")
    assert declined.status_code == 409


def test_follow_up_through_the_api(proposal_a, customer_user_a, engineer):
    api_as(customer_user_a).post(reverse("proposal-choose", args=[proposal_a.pk]),
                                 {"version": current_version(proposal_a), "name": "马红梅",
                                  "option": proposal_a.options.first().pk}, format="json")
    api = api_as(engineer)
    added = api.post(reverse("proposal-steps", args=[proposal_a.pk]),
                     {"version": current_version(proposal_a), "title": "施工"}, format="json")
    step = added.json()["steps"][0]["id"]
    done = api.post(reverse("proposal-update-step", args=[proposal_a.pk]),
                    {"version": current_version(proposal_a), "step": step, "state": "done"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == ProposalState.DONE


@pytest.mark.parametrize("n", [2, 12])
def test_api_lists_cost_the_same_for_2_or_12_rows(n, frozen_clock, project_a, engineer, django_assert_max_num_queries):
    from .conftest import sent_proposal, sent_report

    for i in range(n):
        sent_report(project_a, engineer, title=f"隐患{i}")
        sent_proposal(project_a, engineer, title=f"方案{i}")
    api = api_as(engineer)
    for name in ("hazardreport-list", "proposal-list"):
        with django_assert_max_num_queries(8):
            response = api.get(reverse(name))
        assert response.status_code == 200 and response.json()["count"] == n
