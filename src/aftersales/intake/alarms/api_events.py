"""POST /api/alarms/events/: monitoring alarms in (issue 11 §3).

Authenticated by an integration key only (`Authorization: Bearer <key>` or `X-Aftersales-Key: <key>`),
never by a session or a user token; no CSRF. A wrong, missing or inactive key is a 401 and writes nothing.
The rules live in `receiving`; this module parses, validates (400, nothing written) and answers.

An implausible event time (issue 20's one date rule, core/plausible.py: before 2000 or more than ten years ahead)
is a device clock that lost its setting (1970 after a power cut) or a garbled field (9999),
and those devices are the ones raising alarms. Refusing the event would lose the alarm (a monitoring system rarely
retries a 400), and using the time would order it before every recovery (a raise "older" than the last clear is
ignored). So the event is accepted with the receipt time, as `receiving` already does for a clock that is ahead, the
original stays in the stored payload (`AlarmEvent.payload["time"]`), and the answer's `detail` says so.
"""

import re

from django.contrib.auth.models import AnonymousUser
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from aftersales.core.api_settings import JSONParser
from aftersales.core.plausible import is_plausible

from ..api_base import RequestRefOut, request_ref
from ..models import AlarmOutcome, IntegrationKey
from . import keys, receiving

KEY_HEADER = "X-Aftersales-Key"
MAX_BATCH = 100
TYPE_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]{0,39}$")


# ------------------------------------------------------------------------------------------ authentication

class IntegrationKeyAuthentication(BaseAuthentication):
    """The caller is an IntegrationKey (request.auth); request.user stays anonymous."""

    def authenticate(self, request):
        raw = self._raw_key(request)
        if raw is None:
            return None
        key = keys.authenticate(raw)
        if key is None:
            raise exceptions.AuthenticationFailed(_("The integration key is not valid or no longer active."))
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return 'Bearer realm="aftersales-alarms"'

    @staticmethod
    def _raw_key(request) -> str | None:
        header = request.META.get("HTTP_X_AFTERSALES_KEY", "").strip()
        if header:
            return header
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the key as “Authorization: Bearer <key>”."))
        try:
            return parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The integration key is not valid or no longer active.")) from None


class IntegrationKeyScheme(OpenApiAuthenticationExtension):
    target_class = IntegrationKeyAuthentication
    name = ["IntegrationKeyBearer", "IntegrationKeyHeader"]

    def get_security_definition(self, auto_schema):
        text = ("An integration key that an administrator created for one customer or project (页面: 接入 → 接入密钥). "
                "It is shown once; only its SHA-256 is stored. Either header works.")
        return [
            {"type": "http", "scheme": "bearer", "description": text},
            {"type": "apiKey", "in": "header", "name": KEY_HEADER, "description": text},
        ]

    def get_security_requirement(self, auto_schema):
        return [{"IntegrationKeyBearer": []}, {"IntegrationKeyHeader": []}]


class HasIntegrationKey(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, IntegrationKey)


# ------------------------------------------------------------------------------------------ input

class OffsetDateTimeField(serializers.DateTimeField):
    """ISO 8601 with its UTC offset (or Z): a time without one is ambiguous across the sources' zones."""

    default_error_messages = {"naive": gettext_lazy("Give the time with its UTC offset, e.g. 2026-11-26T10:00:00+08:00.")}

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


class AlarmDeviceIn(serializers.Serializer):
    serial = serializers.CharField(max_length=100, required=False, help_text="The device's serial number as registered.")
    manufacturer = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                         help_text="Only needed when two of the customer's devices share a serial number.")
    external_id = serializers.CharField(max_length=200, required=False,
                                        help_text="The monitoring system's own id of the device, mapped once to a "
                                                  "registered device (unmatched alarms page).")

    def validate(self, data):
        if bool(data.get("serial")) == bool(data.get("external_id")):
            raise serializers.ValidationError(_("Name the device by its serial number or by its external id (one of the two)."))
        return data


class AlarmEventIn(serializers.Serializer):
    device = AlarmDeviceIn()
    type = serializers.CharField(max_length=40, help_text="offline, video_loss, disk_error, tamper, storage_full or "
                                                          "another lower-case slug (letters, digits, _ ; '-' becomes '_').")
    state = serializers.ChoiceField(choices=[("raised", "raised"), ("cleared", "cleared")])
    time = OffsetDateTimeField(required=False, allow_null=True,
                               help_text="When it happened, ISO 8601 with offset. Default: when we receive it. "
                                         "Decides the order of raise and clear. A time before 2000 or more than ten "
                                         "years ahead (a device clock that lost its setting) is replaced by the "
                                         "receipt time; the answer's detail says so.")
    detail = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")

    def validate_type(self, value):
        slug = value.strip().lower().replace("-", "_")
        if not TYPE_SLUG.match(slug):
            raise serializers.ValidationError(_("Use a lower-case name of letters, digits and “_”, e.g. video_loss."))
        return slug

    def to_internal_value(self, data):
        """An implausible `time` (see the module's docstring) is read as none: the receipt time is used. It is
        checked on the time as written, before the conversion to our zone, which would overflow on 9999-12-31."""
        original = implausible_time(data.get("time")) if isinstance(data, dict) else None
        if original is None:
            return super().to_internal_value(data)
        validated = super().to_internal_value({name: value for name, value in data.items() if name != "time"})
        validated["time"], validated["implausible_time"] = None, original
        return validated


def implausible_time(value) -> str | None:
    """`value` if it is a readable time with its offset outside the date rule, else None (the field decides)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None or is_plausible(parsed):
        return None
    return value


def to_input(validated: dict, raw: dict) -> receiving.AlarmInput:
    device = validated["device"]
    return receiving.AlarmInput(
        alarm_type=validated["type"], raised=validated["state"] == "raised", serial=device.get("serial", "").strip(),
        manufacturer=device.get("manufacturer", "").strip(), external_id=device.get("external_id", "").strip(),
        time=validated.get("time"), detail=validated.get("detail", ""), payload=raw,
    )


# ------------------------------------------------------------------------------------------ output (documentation)

class AlarmResultOut(serializers.Serializer):
    event = serializers.IntegerField(help_text="The stored AlarmEvent's id.")
    outcome = serializers.ChoiceField(choices=AlarmOutcome.choices)
    detail = serializers.CharField()
    request = RequestRefOut(allow_null=True)


class AlarmUnmatchedOut(AlarmResultOut):
    code = serializers.CharField(help_text="unknown_device")
    device = serializers.DictField(help_text="The device as the event named it.")


class AlarmBatchItemOut(AlarmResultOut):
    index = serializers.IntegerField()
    status = serializers.IntegerField(help_text="What the same event alone would have been answered: 201, 200 or 422.")
    code = serializers.CharField(required=False)


class AlarmBatchOut(serializers.Serializer):
    results = AlarmBatchItemOut(many=True)


class InvalidOut(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.JSONField(required=False,  # absent when the request is refused before its events are read
                                   help_text="Field messages: an object for one event, a list (one per item) for a batch.")


class ProblemOut(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


RAISE = {"device": {"serial": "DS96320001"}, "type": "offline", "state": "raised",
         "time": "2026-11-26T10:00:00+08:00", "detail": "ICMP 不可达 3 分钟"}
CLEAR = {"device": {"serial": "DS96320001"}, "type": "offline", "state": "cleared", "time": "2026-11-26T10:07:30+08:00"}
BATCH = [{"device": {"external_id": "zbx-10084"}, "type": "video_loss", "state": "raised",
          "time": "2026-11-26T10:01:00+08:00", "detail": "通道 5 视频丢失"},
         {"device": {"serial": "SN00000042", "manufacturer": "海康威视"}, "type": "disk_error", "state": "raised",
          "time": "2026-11-26T10:01:05+08:00", "detail": "HDD 3 S.M.A.R.T. 错误"}]
REQUEST_REF = {"id": 12, "number": "SR0000012", "state": "new", "url": "https://service.example/service/requests/12/"}

SCHEMA = extend_schema(
    operation_id="alarm_events_receive",
    tags=["alarms"],
    summary="Receive monitoring alarm events (raise / clear)",
    description=(
        "For video platforms, NVRs and monitoring systems (e.g. a Zabbix webhook). Send one event (a JSON object) or "
        f"a batch (a JSON array of up to {MAX_BATCH}). Authenticate with the integration key only.\n\n"
        "* One open request per device and alarm type: repeated raises are added to its timeline.\n"
        "* `time` (with offset) decides the order, not the arrival: a clear older than the raise is ignored; "
        "a raise newer than the recovery raises the alarm again (same request if still open, else a new one).\n"
        "* A clear records the recovery; a request nobody was dispatched to is closed as recovered if the key "
        "says so (auto_close_recovered), otherwise the desk decides.\n"
        "* Unknown device: the event is stored in the unmatched list with the reason and the answer is **422** "
        "`unknown_device`; map or register the device, then replay it from that list.\n"
        "* Any validation error: **400**, nothing is written (a batch is validated whole first).\n"
        "* Batch: **200** with `results`, one per item in order, each with the `status` it would have had alone."
    ),
    request=PolymorphicProxySerializer(component_name="AlarmEventsIn", serializers=[AlarmEventIn, AlarmEventIn(many=True)],
                                       resource_type_field_name=None, many=False),
    responses={
        201: OpenApiResponse(AlarmResultOut, description="A request was opened (`outcome: opened`)."),
        200: OpenApiResponse(
            PolymorphicProxySerializer(component_name="AlarmEventsOut", serializers=[AlarmResultOut, AlarmBatchOut],
                                       resource_type_field_name=None, many=False),
            description="One event handled without a new request (appended, recovered, closed, ignored), or a batch."),
        400: OpenApiResponse(InvalidOut, description="Not valid; nothing written."),
        401: OpenApiResponse(ProblemOut, description="Missing, wrong or inactive key; nothing written."),
        415: OpenApiResponse(ProblemOut, description="Send Content-Type: application/json."),
        422: OpenApiResponse(AlarmUnmatchedOut, description="Unknown device: stored as unmatched with the reason."),
    },
    examples=[
        OpenApiExample("raise", value=RAISE, request_only=True, summary="An NVR goes offline"),
        OpenApiExample("clear", value=CLEAR, request_only=True, summary="It is back"),
        OpenApiExample("batch", value=BATCH, request_only=True, summary="Several events at once"),
        OpenApiExample("opened", status_codes=["201"], response_only=True,
                       value={"event": 101, "outcome": "opened", "detail": "已创建 SR0000012。", "request": REQUEST_REF}),
        OpenApiExample("appended", status_codes=["200"], response_only=True,
                       value={"event": 102, "outcome": "appended", "detail": "已追加到 SR0000012。", "request": REQUEST_REF}),
        OpenApiExample("closed as recovered", status_codes=["200"], response_only=True,
                       value={"event": 103, "outcome": "closed", "detail": "已记录恢复；SR0000012 已按“已恢复”关闭。",
                              "request": {**REQUEST_REF, "state": "cancelled"}}),
        OpenApiExample("batch results", status_codes=["200"], response_only=True, value={"results": [
            {"index": 0, "status": 422, "code": "unknown_device", "event": 104, "outcome": "unmatched",
             "detail": "没有设备映射到外部编号“zbx-10084”……", "request": None},
            {"index": 1, "status": 201, "event": 105, "outcome": "opened", "detail": "已创建 SR0000013。",
             "request": {**REQUEST_REF, "id": 13, "number": "SR0000013"}}]}),
        OpenApiExample("invalid", status_codes=["400"], response_only=True,
                       value={"code": "invalid", "detail": "The event is not valid; nothing was written.",
                              "errors": {"state": ["“resolved” is not a valid choice."],
                                         "time": ["Give the time with its UTC offset, e.g. 2026-11-26T10:00:00+08:00."]}}),
        OpenApiExample("wrong key", status_codes=["401"], response_only=True,
                       value={"code": "authentication_failed", "detail": "The integration key is not valid or no longer active."}),
        OpenApiExample("unknown device", status_codes=["422"], response_only=True,
                       value={"code": "unknown_device", "event": 106, "outcome": "unmatched", "request": None,
                              "device": {"serial": "XX123"},
                              "detail": "No registered device has the serial number “XX123” in 银川市公安局."}),
    ],
)


# ------------------------------------------------------------------------------------------ the endpoint

def answer(result: receiving.Result, data: receiving.AlarmInput, implausible: str | None = None) -> tuple[int, dict]:
    detail = result.message
    if implausible:
        detail = " ".join(part for part in (str(detail or ""), _(
            "The event time %(time)s is not plausible (the source's clock is wrong); the receipt time is used.")
            % {"time": implausible}) if part)
    body = {"event": result.event.pk, "outcome": result.outcome, "detail": detail,
            "request": request_ref(result.request)}
    if result.outcome == AlarmOutcome.UNMATCHED:
        return 422, {"code": "unknown_device", **body, "device": (data.payload or {}).get("device")}
    return (201 if result.outcome == AlarmOutcome.OPENED else 200), body


class AlarmEventViewSet(viewsets.ViewSet):
    """Monitoring alarms in. Only POST; a GET is a 405 before any authentication."""

    authentication_classes = [IntegrationKeyAuthentication]
    permission_classes = [HasIntegrationKey]
    parser_classes = [JSONParser]

    def initial(self, request, *args, **kwargs):
        if request.method.lower() not in getattr(self, "action_map", {}) and request.method != "OPTIONS":
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(response.data, dict) and "detail" in response.data and "code" not in response.data:
            response.data = {"code": getattr(exc, "default_code", "error"), "detail": response.data["detail"]}
        return response

    @SCHEMA
    def create(self, request):
        body = request.data
        batch = isinstance(body, list)
        if not isinstance(body, (dict, list)):
            return self._invalid(_("Send one event (a JSON object) or a list of events."), {})
        items = body if batch else [body]
        if not items:
            return self._invalid(_("Send at least one event."), [])
        if len(items) > MAX_BATCH:
            return self._invalid(_("Send at most %(n)s events at once.") % {"n": MAX_BATCH}, [])
        parsed, errors, implausible = [], [], []
        for item in items:
            if not isinstance(item, dict):
                errors.append({"non_field_errors": [_("Each event is a JSON object.")]})
                continue
            serializer = AlarmEventIn(data=item)
            if serializer.is_valid():
                errors.append({})
                parsed.append(to_input(serializer.validated_data, item))
                implausible.append(serializer.validated_data.get("implausible_time"))
            else:
                errors.append(serializer.errors)
        if any(errors):
            if batch:
                bad = ", ".join(str(i) for i, e in enumerate(errors) if e)
                return self._invalid(_("Items %(items)s are not valid; nothing was written.") % {"items": bad}, errors)
            return self._invalid(_("The event is not valid; nothing was written."), errors[0])
        key = request.auth
        keys.touch(key)
        answers = [answer(receiving.receive(key, data), data, wrong) for data, wrong in zip(parsed, implausible)]
        if not batch:
            status, out = answers[0]
            return Response(out, status=status)
        return Response({"results": [{"index": i, "status": status, **out} for i, (status, out) in enumerate(answers)]})

    @staticmethod
    def _invalid(detail, errors):
        return Response({"code": "invalid", "detail": detail, "errors": errors}, status=400)


def register(router) -> None:
    router.register("alarms/events", AlarmEventViewSet, basename="alarm-event")
