"""ORG-1, ORG-2: branches, staff, roles and the 7×24 on-call roster."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from aftersales.core.models import TimeStampedModel


class Specialty(models.TextChoices):
    ELECTROMECHANICAL = "electromechanical", _("Electromechanical")  # 机电
    COMPUTING = "computing", _("Computing")  # 计算机
    SYSTEM_INTEGRATION = "system_integration", _("System integration")  # 系统集成
    ELECTRICAL_AUTOMATION = "electrical_automation", _("Electrical automation")  # 电气自动化


class Position(models.TextChoices):
    ENGINEER = "engineer", _("Engineer")  # 工程师
    LOGISTICS = "logistics", _("Logistics")  # 后勤保障
    DISPATCHER = "dispatcher", _("Dispatcher")  # 客服调度
    DEPARTMENT_MANAGER = "department_manager", _("Department manager")  # 部门经理
    GENERAL_MANAGER = "general_manager", _("General manager")  # 总经理
    TECHNICAL_ADVISOR = "technical_advisor", _("Technical advisor")  # 技术顾问


class Branch(TimeStampedModel):
    """A branch office (分公司) from which engineers depart."""
    choice_label_fields = ("name",)  # the columns __str__ reads (filter choices load only these)

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    scope_customer = None  # a customer's users never see branches
    scope_branch = "pk"

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="branch_latitude_range", condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90)
            ),
            models.CheckConstraint(
                name="branch_longitude_range",
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("accounts:branch_detail", args=[self.pk])


DISPLAY_NAME_FIELDS = ("full_name", "first_name", "last_name", "username")  # what User.display_name reads


def display_name(full_name: str, first_name: str, last_name: str, username: str) -> str:
    """A user's name as shown everywhere (User.__str__), also from columns read with `.values()`."""
    return full_name or f"{first_name} {last_name}".strip() or username


class User(AbstractUser):
    """Staff member or a customer's contact. `customer` set means a customer user (SEC-1)."""

    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    branch = models.ForeignKey(
        Branch, models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("branch")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("customer"),
    )
    position = models.CharField(_("position"), max_length=30, choices=Position, blank=True)
    specialty = models.CharField(_("specialty"), max_length=30, choices=Specialty, blank=True)
    title = models.CharField(_("job title"), max_length=100, blank=True, help_text=_("For a customer's contact."))

    scope_customer = "customer_id"
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        permissions = [("see_all_branches", _("Can see every branch's data"))]
        constraints = [
            models.CheckConstraint(
                name="user_customer_or_branch_not_both", condition=Q(customer__isnull=True) | Q(branch__isnull=True)
            ),
            models.CheckConstraint(name="user_position_known", condition=Q(position__in=["", *Position.values])),
            models.CheckConstraint(name="user_specialty_known", condition=Q(specialty__in=["", *Specialty.values])),
        ]

    def __str__(self):
        return display_name(*(getattr(self, field) for field in DISPLAY_NAME_FIELDS))

    @property
    def display_name(self) -> str:
        return str(self)

    def get_absolute_url(self):
        return reverse("accounts:staff_detail", args=[self.pk])

    # A new password ends the user's API tokens (accounts/tokens.py, on the save); a hash upgrade at login (the same
    # password, rehashed by `check_password` through `set_password`) does not.
    password_replaced = False
    rehashing = False

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_replaced = self.password_replaced or not self.rehashing

    def set_unusable_password(self):
        super().set_unusable_password()
        self.password_replaced = True

    def check_password(self, raw_password):
        self.rehashing = True
        try:
            return super().check_password(raw_password)
        finally:
            self.rehashing = False

    async def acheck_password(self, raw_password):
        self.rehashing = True
        try:
            return await super().acheck_password(raw_password)
        finally:
            self.rehashing = False


class ApiToken(models.Model):
    """Issue 20, point 1: one of a user's named API tokens, sent as `Authorization: Token <secret>`. Only the SHA-256
    of the secret is kept (the secret has 160 random bits: no slow hash needed, and one indexed lookup finds it); the
    secret is shown once, when the token is issued (accounts/tokens.py). A token works until `expires_at`, until its
    owner revokes it (the row is deleted), changes their password or is deactivated."""

    DEFAULT_NAME = gettext_noop("API login")  # a token from the password endpoint, unless the client names it

    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100)
    digest = models.CharField(max_length=64, unique=True, editable=False)  # hex SHA-256 of the secret
    created_at = models.DateTimeField(_("created"), editable=False)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)  # to the hour

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        constraints = [models.CheckConstraint(name="apitoken_expires_after_creation",
                                              condition=Q(expires_at__gt=models.F("created_at")))]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The name as shown: the endpoint's default name in the reader's language."""
        return gettext(self.DEFAULT_NAME) if self.name == self.DEFAULT_NAME else self.name

    def has_expired(self, now) -> bool:
        return self.expires_at <= now


class RoleVersion(models.Model):
    """One row whose value changes with every change of a role anywhere (a user's groups or own permissions, a
    group's permissions): each worker keeps permission sets under it (accounts/backends.py), so a role change
    applies on the next request in every worker."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("role version")
        default_permissions = ()

    def __str__(self):
        return str(self.value)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OnCallShift(TimeStampedModel):
    """ORG-2: a recurring duty shift. End before start means the shift runs past midnight;
    end equal to start means a full 24 hours. Times are Asia/Shanghai wall-clock times."""

    branch = models.ForeignKey(Branch, models.CASCADE, related_name="shifts", verbose_name=_("branch"))
    user = models.ForeignKey(User, models.CASCADE, related_name="shifts", verbose_name=_("on duty"))
    specialty = models.CharField(_("specialty"), max_length=30, choices=Specialty)
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=Weekday, null=True, blank=True, help_text=_("Empty means every day.")
    )
    start_time = models.TimeField(_("starts at"))
    end_time = models.TimeField(_("ends at"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    scope_customer = None
    scope_branch = "branch_id"

    class Meta:
        verbose_name = _("on-call shift")
        verbose_name_plural = _("on-call shifts")
        ordering = ["branch", "weekday", "start_time", "pk"]
        indexes = [models.Index(fields=["branch", "specialty"], name="shift_branch_specialty")]
        constraints = [
            models.CheckConstraint(name="shift_specialty_known", condition=Q(specialty__in=Specialty.values)),
            models.CheckConstraint(
                name="shift_valid_range", condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from"))
            ),
        ]

    def __str__(self):
        return f"{self.user} {self.get_weekday_display() or ''} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def get_absolute_url(self):
        return reverse("accounts:roster")
