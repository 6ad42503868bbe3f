"""Issue 21 §6: the forms of the configuration pages. They parse; the verbs in service/config.py check and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.models import Position
from aftersales.core.forms import style_fields
from aftersales.core.plausible import PlausibleDateField, implausible_year_message, plausible_year

from . import config, policy_config
from .models import DayKind, SlaPolicy, TargetStart, WorkCalendar


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class YearForm(StyledForm):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=9999)

    def clean_year(self):
        year = self.cleaned_data["year"]
        if not plausible_year(year):
            raise forms.ValidationError(implausible_year_message(), code="implausible_date")
        return year


class DayForm(StyledForm):
    day = PlausibleDateField(label=_("Date"))
    kind = forms.ChoiceField(label=_("Kind"), choices=DayKind.choices, initial=DayKind.OFF)
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("E.g. 国庆节, or the reason of a closure."))


class ProjectPolicyForm(StyledForm):
    policy = forms.ModelChoiceField(label=_("SLA policy"), queryset=SlaPolicy.objects.order_by("name"), required=False,
                                    empty_label=_("The default policy"))


class StepForm(StyledForm):
    level = forms.IntegerField(label=_("Level"), min_value=1, max_value=config.MAX_LEVELS)
    position = forms.ChoiceField(label=_("Notify position"), choices=Position.choices)
    delay_minutes = forms.IntegerField(label=_("Minutes after the miss"), min_value=0,
                                       max_value=config.MAX_DELAY_MINUTES, initial=0,
                                       help_text=_("Level 1 fires at the miss; later levels this many minutes after it."))

    def __init__(self, *args, holders=None, **kwargs):
        super().__init__(*args, **kwargs)
        if holders is not None:  # each position with who holds it in the branch
            self.fields["position"].choices = [
                (value, f"{label} ({', '.join(user.display_name for user in holders.get(value, [])) or _('nobody in this branch')})")
                for value, label in Position.choices]


# ------------------------------------------------------------------------------------------------ a policy's own promises

STALE_FORM = _("This form is out of date. Reload the page and make your change again.")


class VersionField(forms.IntegerField):
    """The version of the policy the form was opened on (service/policy_config.py refuses a stale one)."""

    def __init__(self, **kwargs):
        super().__init__(widget=forms.HiddenInput, min_value=1,
                         error_messages={"required": STALE_FORM, "invalid": STALE_FORM, "min_value": STALE_FORM},
                         **kwargs)


def warning_field():
    return forms.IntegerField(label=_("Warning at (percent of the target's time)"), min_value=1, max_value=99, initial=80,
                              help_text=_("The warning comes when this share of a target's time has passed."))


class NewPolicyForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=policy_config.MAX_NAME_LENGTH)
    calendar = forms.ModelChoiceField(label=_("Service calendar"), queryset=WorkCalendar.objects.order_by("name"))
    warn_at_percent = warning_field()
    copy_from = forms.ModelChoiceField(label=_("Copy the targets of"), queryset=SlaPolicy.objects.order_by("name"),
                                       required=False, empty_label=_("No targets yet"),
                                       help_text=_("Start from every target of an existing policy, then change them."))


class PolicyForm(StyledForm):
    version = VersionField()
    name = forms.CharField(label=_("Name"), max_length=policy_config.MAX_NAME_LENGTH)
    calendar = forms.ModelChoiceField(label=_("Service calendar"), queryset=WorkCalendar.objects.order_by("name"))
    warn_at_percent = warning_field()
    is_default = forms.BooleanField(label=_("The default policy, for projects without one of their own"),
                                    required=False)

    def __init__(self, *args, policy: SlaPolicy, **kwargs):
        kwargs.setdefault("initial", {"version": policy.version, "name": policy.name, "calendar": policy.calendar_id,
                                      "warn_at_percent": policy.warn_at_percent, "is_default": policy.is_default})
        super().__init__(*args, **kwargs)
        if policy.is_default:  # stays the default until another policy is made the default
            self.fields["is_default"].disabled = True
            self.fields["is_default"].help_text = _("To change this, make another policy the default.")


class DeletePolicyForm(StyledForm):
    version = VersionField()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "delete_%s")  # ids unique on the page, which has three forms with a version
        super().__init__(*args, **kwargs)


class TargetsForm(StyledForm):
    """The targets table: one row per priority × target kind; a row with minutes is a target, an empty row none."""

    version = VersionField()

    def __init__(self, *args, policy: SlaPolicy, **kwargs):
        self.rows = policy_config.target_rows(policy)
        initial = {"version": policy.version}
        for row in self.rows:
            if row.rule is not None:
                initial |= {self.name(row, "minutes"): row.rule.minutes, self.name(row, "starts"): row.rule.starts,
                            self.name(row, "onsite_only"): row.rule.onsite_only}
        kwargs.setdefault("initial", initial)
        kwargs.setdefault("auto_id", "targets_%s")
        super().__init__(*args, **kwargs)
        for row in self.rows:
            label = f"{row.priority_label} · {row.kind_label}"
            self.fields[self.name(row, "minutes")] = forms.IntegerField(
                label=label, required=False, min_value=1, max_value=policy_config.MAX_TARGET_MINUTES,
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm", "inputmode": "numeric",
                                                "placeholder": "—"}))
            self.fields[self.name(row, "starts")] = forms.ChoiceField(
                label=_("Counted from"), required=False, initial=row.starts[0],
                choices=[(start, TargetStart(start).label) for start in row.starts],
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
            if row.onsite == "choice":
                self.fields[self.name(row, "onsite_only")] = forms.BooleanField(
                    label=_("On site only"), required=False,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    @staticmethod
    def name(row, part: str) -> str:
        return f"{row.priority}-{row.kind}-{part}"

    def table(self) -> list[dict]:
        """The rows with their bound fields and the minutes in hours and minutes, for the template."""
        lines = []
        for row in self.rows:
            minutes = self[self.name(row, "minutes")]
            value = minutes.value()
            try:
                value = int(value) if value not in (None, "") else None
            except (TypeError, ValueError):
                value = None
            lines.append({"row": row, "minutes": minutes, "starts": self[self.name(row, "starts")],
                          "onsite_only": self[self.name(row, "onsite_only")] if row.onsite == "choice" else None,
                          "duration": policy_config.duration_words(value) if value else ""})
        return lines

    def targets(self) -> list:
        """The targets of the cleaned form (rows with minutes)."""
        specs = []
        for row in self.rows:
            minutes = self.cleaned_data.get(self.name(row, "minutes"))
            if minutes is None:
                continue
            onsite = (row.onsite == "always") or (row.onsite == "choice"
                                                   and bool(self.cleaned_data.get(self.name(row, "onsite_only"))))
            starts = self.cleaned_data.get(self.name(row, "starts")) or row.starts[0]
            specs.append(policy_config.TargetSpec(priority=row.priority, kind=row.kind, minutes=minutes, starts=starts,
                                                  onsite_only=onsite))
        return specs

    def add_target_error(self, error) -> None:
        """A verb's refusal on the row it names (policy_config.TargetRuleError), else above the table."""
        name = f"{getattr(error, 'priority', '')}-{getattr(error, 'kind', '')}-{getattr(error, 'part', '')}"
        if name not in self.fields:
            name = f"{getattr(error, 'priority', '')}-{getattr(error, 'kind', '')}-minutes"
        self.add_error(name if name in self.fields else None, error.message)
