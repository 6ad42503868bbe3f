"""Administration of inbound mail: read-only, every message as it arrived and what became of it."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..models import InboundMail
from .parsing import parse_or_none


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    """Read-only: every message that reached the service mailbox, what became of it and why. Mail is
    handled on the desk's triage page; the raw message is kept as it arrived."""

    list_display = ("received_at", "from_address", "subject", "state", "customer", "request", "source")
    list_filter = ("state",)
    search_fields = ("message_id", "from_address", "subject")
    list_select_related = ("customer", "request")
    date_hierarchy = "received_at"
    show_full_result_count = False
    fields = ("message_id", "source", "received_at", "processed_at", "from_address", "subject", "state", "reason",
              "customer", "request", "size", "text")
    readonly_fields = fields

    @admin.display(description=_("size"))
    def size(self, obj):
        return f"{len(obj.raw or b''):,} B"

    @admin.display(description=_("text"))
    def text(self, obj):
        parsed = parse_or_none(obj)
        if parsed is None:
            return "—"
        files = ", ".join(item.name for item in parsed.files)
        return format_html('<pre style="white-space: pre-wrap; max-width: 60em">{}</pre>{}', parsed.text[:20000],
                           format_html("<div>📎 {}</div>", files) if files else "")

    def get_queryset(self, request):
        # the list never loads the raw messages
        queryset = super().get_queryset(request)
        return queryset if request.resolver_match and request.resolver_match.url_name.endswith("_change") else queryset.defer("raw")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
