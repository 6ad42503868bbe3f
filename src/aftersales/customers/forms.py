from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from aftersales.accounts.roles import CUSTOMER_USER
from aftersales.core.forms import ScopedModelForm, style_fields
from aftersales.core.plausible import plausible_form_fields

from .models import Customer, DeadlineExtension, Milestone, Project


class CustomerForm(ScopedModelForm):
    class Meta:
        model = Customer
        fields = ["name", "short_name", "branch", "address", "phone", "notes"]


class ProjectForm(ScopedModelForm):
    class Meta:
        model = Project
        fields = [
            "customer", "branch", "name", "contract_number", "site_address", "latitude", "longitude",
            "contract_signed_on", "service_starts_on", "service_ends_on",
            "manufacturer_warranty_months", "integrator_warranty_months",
        ]
        widgets = {f: forms.DateInput() for f in ["contract_signed_on", "service_starts_on", "service_ends_on"]}
        field_classes = plausible_form_fields("contract_signed_on", "service_starts_on", "service_ends_on")  # issue 20

    def clean(self):
        data = super().clean()
        starts, ends = data.get("service_starts_on"), data.get("service_ends_on")
        if starts and ends and ends < starts:
            self.add_error("service_ends_on", _("The service period cannot end before it starts."))
        return data


class MilestoneForm(ScopedModelForm):
    class Meta:
        model = Milestone
        fields = ["kind", "contract_deadline", "actual_date", "place", "notes"]
        widgets = {"contract_deadline": forms.DateInput(), "actual_date": forms.DateInput()}
        field_classes = plausible_form_fields("contract_deadline", "actual_date")  # issue 20


class DeadlineExtensionForm(ScopedModelForm):
    class Meta:
        model = DeadlineExtension
        fields = ["days", "reason"]


class ContactForm(forms.ModelForm):
    """A customer's contact who can log in to the portal."""

    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput, min_length=8)

    class Meta:
        model = get_user_model()
        fields = ["username", "full_name", "title", "phone", "email"]

    def __init__(self, *args, customer, **kwargs):
        self.customer = customer
        super().__init__(*args, **kwargs)
        self.fields["full_name"].required = True
        style_fields(self)

    def clean(self):
        """Django's password validators (settings.AUTH_PASSWORD_VALIDATORS), against the contact as entered (not
        like their username or e-mail address)."""
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            contact = get_user_model()(**{name: cleaned[name] for name in self._meta.fields if name in cleaned})
            try:
                password_validation.validate_password(password, contact)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned

    def save(self, commit=True):
        user = super().save(commit=False)
        user.customer = self.customer
        user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
            user.groups.add(Group.objects.get(name=CUSTOMER_USER))
        return user
