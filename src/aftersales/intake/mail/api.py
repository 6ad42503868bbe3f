"""The desk's API for mail waiting for triage (issue 11, point 4): list it, open a request from a mail, add it to
a request, or dismiss it. The same rules as the triage page (`views`), through the same services (`triage`):
- the permission is the page's, service.handle_request (`permission_required`, which the URL walk reads too);
- every mail is looked up through `triage.desk_mails` (the caller's branch's customers, and every mail whose
  customer is unknown): another branch's mail is a 404 like a missing one; a project or request in the body that
  the caller may not see is a 400 "does not exist";
- a mail handled meanwhile is a 409; bad input a 400 with field messages.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from aftersales.core.api_base import AuditActorMixin, ScopedPrimaryKeyField, requires
from aftersales.core.api_settings import JSONParser
from aftersales.core.errors import DomainError
from aftersales.customers.models import Project
from aftersales.service.models import Priority, ServiceRequest

from ..api_base import DESK_PERM, ERRORS, HANDLED, LIST_ERRORS, PagePermission, RequestRefOut, request_ref
from ..models import InboundMail
from . import triage
from .parsing import parse_or_none, title_of
from .views import PREVIEW_CHARS


def _parsed(mail: InboundMail):
    """The parsed message (None when it cannot be read), parsed once per object."""
    if not hasattr(mail, "_parsed_mail"):
        mail._parsed_mail = parse_or_none(mail)
    return mail._parsed_mail


class MailOut(serializers.ModelSerializer):
    class Meta:
        model = InboundMail
        fields = ["id", "message_id", "received_at", "from_address", "subject", "state", "reason", "customer",
                  "request", "processed_at"]


class TriageMailOut(MailOut):
    customer_name = serializers.CharField(source="customer.name", default=None)
    readable = serializers.SerializerMethodField(help_text="false: the message cannot be parsed; only the headers "
                                                           "stored on arrival are shown.")
    sender = serializers.SerializerMethodField(help_text="The sender's address, lower case.")
    sender_name = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField(help_text="The title a request opened from it gets by default.")
    text = serializers.SerializerMethodField(help_text=f"The text of the mail, cut at {PREVIEW_CHARS} characters.")
    text_shortened = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField(help_text="Names of the attachments.")

    class Meta(MailOut.Meta):
        fields = [*MailOut.Meta.fields, "customer_name", "readable", "sender", "sender_name", "title", "text",
                  "text_shortened", "files"]

    def get_readable(self, mail) -> bool:
        return _parsed(mail) is not None

    def get_sender(self, mail) -> str:
        parsed = _parsed(mail)
        return parsed.sender if parsed else mail.from_address

    def get_sender_name(self, mail) -> str:
        parsed = _parsed(mail)
        return parsed.sender_name if parsed else ""

    def get_title(self, mail) -> str:
        parsed = _parsed(mail)
        return title_of(parsed) if parsed else mail.subject

    def get_text(self, mail) -> str:
        parsed = _parsed(mail)
        return parsed.text[:PREVIEW_CHARS] if parsed else ""

    def get_text_shortened(self, mail) -> bool:
        parsed = _parsed(mail)
        return bool(parsed) and len(parsed.text) > PREVIEW_CHARS

    def get_files(self, mail) -> list[str]:
        parsed = _parsed(mail)
        return [item.name for item in parsed.files] if parsed else []


class CreateFromMailIn(serializers.Serializer):
    project = ScopedPrimaryKeyField(queryset=Project.objects.all(),
                                    help_text="A project of the mail's customer (any of yours if the sender is unknown).")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.GENERAL)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                  help_text="Empty: the mail's subject (or its first line).")


class AppendMailIn(serializers.Serializer):
    request = ScopedPrimaryKeyField(queryset=ServiceRequest.objects.all(),
                                    help_text="A request of the mail's customer (any of yours if the sender is unknown).")


class DismissMailIn(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class MailActionOut(serializers.Serializer):
    detail = serializers.CharField()
    mail = MailOut()
    request = RequestRefOut(allow_null=True)


class TriageMailViewSet(AuditActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Inbound mail waiting for the desk (unknown sender, or no clear request), oldest first: the mail of the
    caller's branch's customers and every mail whose customer is unknown; all for staff who see every branch."""

    queryset = InboundMail.objects.all()  # always narrowed by get_queryset()
    serializer_class = TriageMailOut
    permission_classes = [PagePermission]
    permission_required = DESK_PERM
    parser_classes = [JSONParser, FormParser]
    filter_backends = []

    def get_queryset(self):
        return triage.triage_mails(self.request.user).select_related("customer").order_by("received_at", "pk")

    def _mail(self) -> InboundMail:
        # any state, as on the page: a mail handled meanwhile is a 409 from the service, not a 404
        found = triage.desk_mails(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if found is None:
            raise Http404
        return found

    @staticmethod
    def _out(mail, detail, status=200):
        mail = InboundMail.objects.select_related("request").get(pk=mail.pk)
        return Response({"detail": detail, "mail": MailOut(mail).data, "request": request_ref(mail.request)},
                        status=status)

    @extend_schema(operation_id="triage_mail_list", responses={200: TriageMailOut(many=True), **LIST_ERRORS})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=CreateFromMailIn, responses={201: MailActionOut, **ERRORS, **HANDLED})
    @action(detail=True, methods=["post"], url_path="create-request")
    @requires(DESK_PERM)
    def create_request(self, request, pk=None):
        """Open a request from the mail in one of the caller's projects; its attachments pass the upload checks."""
        mail = self._mail()
        data = CreateFromMailIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        created = triage.create_request_from_mail(mail=mail, by=request.user, **data.validated_data)
        detail = _("Request %(number)s is opened from the mail.") % {"number": created.number}
        return self._out(mail, detail, status=201)

    @extend_schema(request=AppendMailIn, responses={200: MailActionOut, **ERRORS, **HANDLED})
    @action(detail=True, methods=["post"])
    @requires(DESK_PERM)
    def append(self, request, pk=None):
        """Add the mail to a request (e.g. a colleague of the customer's who is not a user yet)."""
        mail = self._mail()
        data = AppendMailIn(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        target = data.validated_data["request"]
        if mail.customer_id and target.customer_id != mail.customer_id:
            raise DomainError(_("Choose a request of the customer this mail is about."), field="request")
        triage.append_mail_to_request(mail=mail, by=request.user, request=target)
        return self._out(mail, _("The mail is added to %(number)s.") % {"number": target.number})

    @extend_schema(request=DismissMailIn, responses={200: MailActionOut, **ERRORS, **HANDLED})
    @action(detail=True, methods=["post"])
    @requires(DESK_PERM)
    def dismiss(self, request, pk=None):
        """Nothing to do (spam, a thank-you): kept as ignored, with who dismissed it and why."""
        mail = self._mail()
        data = DismissMailIn(data=request.data)
        data.is_valid(raise_exception=True)
        triage.dismiss_mail(mail=mail, by=request.user, reason=data.validated_data["reason"])
        return self._out(mail, _("The mail is dismissed."))


def register(router) -> None:
    router.register("triage/mail", TriageMailViewSet, basename="triage-mail")
