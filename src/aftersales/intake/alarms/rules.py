"""Alarm types and the priority rules (reference data): which priority a request opened by an alarm gets, read
once per worker; the defaults written after migrate."""

import logging

from django.utils.translation import gettext_lazy

from aftersales.assets.models import Device
from aftersales.core.cache import WorkerCache
from aftersales.service.models import Priority

from ..models import AlarmPriorityRule

log = logging.getLogger(__name__)

# The types most sources send. Any other lower-case slug is accepted and shown as it is.
ALARM_TYPES = {
    "offline": gettext_lazy("Offline"),  # 离线
    "video_loss": gettext_lazy("Video loss"),  # 视频丢失
    "disk_error": gettext_lazy("Disk error"),  # 硬盘故障
    "tamper": gettext_lazy("Tampering"),  # 遮挡/破坏
    "storage_full": gettext_lazy("Storage full"),  # 存储已满
}

# Defaults written by migration 0002 (which keeps its own copy); (alarm type, device category code or None, priority).
DEFAULT_PRIORITY_RULES = [
    ("offline", "nvr", Priority.SERIOUS),
    ("offline", None, Priority.GENERAL),
    ("video_loss", None, Priority.GENERAL),
    ("disk_error", None, Priority.SERIOUS),
    ("tamper", None, Priority.SERIOUS),
    ("storage_full", None, Priority.SERIOUS),
]


def type_label(alarm_type: str) -> str:
    return str(ALARM_TYPES.get(alarm_type, alarm_type))


# The rules, read once per worker and cleared by a save in this process (core/cache.py: others within its TTL).
_priority_rules = WorkerCache("alarm priority rules", AlarmPriorityRule)


def priority_for(alarm_type: str, device: Device) -> str:
    """The most specific rule wins: type and device category, else the type's default, else general."""
    def load():
        rules = {}
        for rule in AlarmPriorityRule.objects.all():
            rules.setdefault(rule.alarm_type, {})[rule.category_id] = rule.priority
        return rules

    by_category = _priority_rules.get("all", load).get(alarm_type, {})
    for priority in (by_category.get(device.category_id), by_category.get(None)):
        if priority in Priority.values:
            return priority
        if priority:
            log.warning("alarm priority rule for %s has an unknown priority %r; ignored", alarm_type, priority)
    return Priority.GENERAL


def ensure_default_rules() -> int:
    """Write the default rules that are missing (categories that do not exist yet are skipped). For a database
    flushed after migrate, and after the device categories were created. Returns the number written."""
    from aftersales.assets.models import DeviceCategory

    categories = {c.code: c for c in DeviceCategory.objects.filter(code__in=[c for _t, c, _p in DEFAULT_PRIORITY_RULES if c])}
    written = 0
    for alarm_type, code, priority in DEFAULT_PRIORITY_RULES:
        if code and code not in categories:
            continue
        _rule, created = AlarmPriorityRule.objects.get_or_create(
            alarm_type=alarm_type, category=categories.get(code) if code else None, defaults={"priority": priority})
        written += created
    return written
