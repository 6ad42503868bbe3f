"""NOT-1, issue 21 §12: the form where each user chooses their channels: email, in-app, their own robot, SMS."""

import uuid

from django import forms
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.core import clock
from aftersales.core.forms import style_fields

from . import services, sms
from .models import (PERSONAL_ROBOT_HOSTS, Channel, EndpointKind, NotificationPreference, OutboxMessage,
                     WebhookEndpoint, validate_personal_robot_url)

SIGNED_KINDS = (EndpointKind.DINGTALK, EndpointKind.FEISHU)  # WeCom group robots have no signing


def personal_robot(user) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(owner=user).first()


def personal_robot_name(user) -> str:
    return f"personal-{user.pk} {user.username}"[:100]  # unique by the user's id; the admin lists the owner


class PreferenceForm(forms.Form):
    email = forms.BooleanField(label=NotificationPreference._meta.get_field("email").verbose_name, required=False)
    inapp = forms.BooleanField(label=NotificationPreference._meta.get_field("inapp").verbose_name, required=False)
    sms = forms.BooleanField(label=NotificationPreference._meta.get_field("sms").verbose_name, required=False)
    robot_kind = forms.ChoiceField(
        label=gettext_lazy("My robot"), required=False,
        choices=[("", gettext_lazy("No robot"))] + [(kind.value, kind.label) for kind in PERSONAL_ROBOT_HOSTS])
    robot_url = forms.CharField(
        label=gettext_lazy("Robot address"), max_length=500, required=False,
        help_text=gettext_lazy("The webhook address from your robot's settings. It contains the robot's key: "
                               "keep it private."))
    robot_secret = forms.CharField(
        label=gettext_lazy("Signing secret"), max_length=200, required=False, strip=True,
        widget=forms.PasswordInput(render_value=True),  # not shown on screen over a shoulder
        help_text=gettext_lazy("DingTalk and Feishu: the robot's signing secret, when signing is on. "
                               "WeCom robots are not signed."))

    def __init__(self, *args, user, **kwargs):
        self.user = user
        self.robot = personal_robot(user)
        preference = services.preference_of(user)
        shown = self.robot if self.robot is not None and self.robot.active else None
        kwargs["initial"] = {
            "email": preference.email, "inapp": preference.inapp, "sms": preference.sms,
            "robot_kind": shown.kind if shown else "", "robot_url": shown.url if shown else "",
            "robot_secret": shown.secret if shown else "", **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = _("Sent to the address in your profile.")
        if sms.enabled():
            self.fields["sms"].help_text = (
                _("Subject and link, to %(phone)s, the number in your profile.") % {"phone": user.phone}
                if user.phone else _("Your profile has no phone number yet."))
        else:
            del self.fields["sms"]  # no provider: the choice is not offered
        style_fields(self)

    robot_fields = ("robot_kind", "robot_url", "robot_secret")

    def channel_fields(self):
        return [self[name] for name in self.fields if name not in self.robot_fields]

    def robot_field_list(self):
        return [self[name] for name in self.robot_fields]

    def clean(self):
        data = super().clean()
        kind, url = data.get("robot_kind") or "", (data.get("robot_url") or "").strip()
        if kind and not url:
            self.add_error("robot_url", _("Enter your robot's address, or choose no robot."))
        elif url and not kind:
            self.add_error("robot_kind", _("Choose which kind of robot this address belongs to."))
        elif kind and url:
            try:
                validate_personal_robot_url(url, kind)
            except forms.ValidationError as error:
                self.add_error("robot_url", error)
        data["robot_url"] = url
        if kind not in SIGNED_KINDS:
            data["robot_secret"] = ""
        if data.get("sms") and not self.user.phone:
            self.add_error("sms", _("Add a phone number to your profile first."))
        return data

    @transaction.atomic
    def save(self) -> None:
        data = self.cleaned_data
        choice = {"email": data["email"], "inapp": data["inapp"]}
        if "sms" in self.fields:
            choice["sms"] = data["sms"]
        NotificationPreference.objects.update_or_create(user=self.user, defaults=choice)
        robot, kind = self.robot, data["robot_kind"]
        if not kind:  # switched off, not deleted: its messages stay in the outbox's history
            if robot is not None and robot.active:
                robot.active = False
                robot.save(update_fields=["active", "updated_at"])
            return
        wanted = {"kind": kind, "url": data["robot_url"], "secret": data["robot_secret"], "active": True}
        if robot is None:
            self.robot = WebhookEndpoint.objects.create(owner=self.user, name=personal_robot_name(self.user), **wanted)
        elif any(getattr(robot, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(robot, name, value)
            robot.save(update_fields=[*wanted, "updated_at"])


def enqueue_robot_test(user) -> bool:
    """One test message to the user's own robot, through the outbox like every other. False: no robot."""
    robot = WebhookEndpoint.objects.filter(owner=user, active=True).first()
    if robot is None:
        return False
    now = clock.now()
    services.enqueue_rows([OutboxMessage(
        event="robot_test", channel=Channel.WEBHOOK, endpoint=robot, created_at=now, next_attempt_at=now,
        subject=_("Test message from the after-sales service system"),
        body=_("If you can read this, your robot will receive your notifications."),
        url=reverse("notify:preferences"), dedupe_key=f"robot-test-{robot.pk}-{uuid.uuid4().hex}")])
    return True
