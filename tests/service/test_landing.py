"""Issue 21 §9: each role lands where it works after logging in; a customer's list says what awaits their answer."""

import pytest
from django.urls import reverse

from aftersales.service import verbs

from ..factories import current_version


@pytest.mark.parametrize("role, landing", [
    ("engineer", "service:my_work"), ("dispatcher", "service:desk"), ("customer_user_a", "home"),  # issue 24 §1
    ("manager", "home"), ("general_manager", "home"), ("admin_user", "home"),
])
def test_the_login_lands_each_role_where_it_works(client, request, role, landing):
    user = request.getfixturevalue(role)
    user.set_password("Zt7-long-enough-pass")
    user.save()
    response = client.post(reverse("login"), {"username": user.username, "password": "Zt7-long-enough-pass"},
                           follow=True)
    assert response.redirect_chain[-1][0] == reverse(landing)
    assert response.status_code == 200


def test_a_page_asked_for_before_the_login_wins(client, engineer):
    engineer.set_password("Zt7-long-enough-pass")
    engineer.save()
    response = client.post(reverse("login") + "?next=" + reverse("service:request_list"),
                           {"username": engineer.username, "password": "Zt7-long-enough-pass"})
    assert response["Location"] == reverse("service:request_list")


def test_the_customers_list_names_what_awaits_their_confirmation(client, frozen_clock, customer_user_a, dispatcher,
                                                                  engineer, project_a):
    request_obj = verbs.open_request(by=customer_user_a, project=project_a, priority="general", channel="portal",
                                     title="录像丢失", description="三号 NVR")
    client.force_login(customer_user_a)
    assert 'id="awaiting-confirmation"' not in client.get(reverse("service:request_list")).content.decode()
    verbs.reply(request=request_obj, by=dispatcher, version=current_version(request_obj), mode="remote", plan="远程")
    verbs.submit_work_order(request=request_obj, by=engineer, version=current_version(request_obj), actions="重启",
                            minutes_spent=5, result="solved")
    page = client.get(reverse("service:request_list")).content.decode()
    assert 'id="awaiting-confirmation"' in page and request_obj.number in page.split('id="awaiting-confirmation"')[1]
