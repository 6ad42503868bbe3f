"""Integration keys: one per source and customer (or one project), shown once, stored as a hash. A key is a
credential: it is read from the database on every event (one query on its unique hash), never kept per worker,
so a deactivation applies to the next event in every process, also one made without signals (QuerySet.update)."""

from datetime import timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.assets.models import Device
from aftersales.core import clock
from aftersales.core.errors import DomainError

from ..models import IntegrationKey, hash_key, new_key

TOUCH_INTERVAL = timedelta(minutes=1)  # last_used_at is written at most once a minute per key


def create_key(*, by, customer, name: str, project=None, auto_close_recovered: bool = True) -> tuple[IntegrationKey, str]:
    """A new key; the caller shows the returned plain key once. Only its hash is stored."""
    if not name.strip():
        raise DomainError(_("Give the key a name (the monitoring system it is for)."), field="name")
    if project is not None and project.customer_id != customer.pk:
        raise DomainError(_("The project must belong to the customer."), field="project")
    plain = new_key()
    key = IntegrationKey.objects.create(name=name.strip(), customer=customer, project=project, prefix=plain[:12],
                                        key_hash=hash_key(plain), auto_close_recovered=auto_close_recovered,
                                        created_by=by)
    return key, plain


def deactivate_key(key: IntegrationKey) -> IntegrationKey:
    if key.active:
        key.active = False
        key.save(update_fields=["active"])
    return key


KEY_BY_HASH = 'SELECT * FROM "{table}" WHERE "key_hash" = %s AND "active"'.format(table=IntegrationKey._meta.db_table)


def authenticate(raw_key: str | None) -> IntegrationKey | None:
    """The active key whose sha256 matches, or None: one query on the unique hash, for every event. A raw statement
    (Manager.raw): building the same query through the ORM cost a fifth of an alarm append (issue 19's bench)."""
    if not raw_key:
        return None
    return next(iter(IntegrationKey.objects.raw(KEY_BY_HASH, [hash_key(raw_key.strip())])), None)


def touch(key: IntegrationKey, *, now=None) -> None:
    """Remember when the key was last used, at most once a minute (no hot row under an alarm storm). `key` was read
    for this request, so its last_used_at is the database's (and this call's own write)."""
    now = now or clock.now()
    if key.last_used_at is not None and key.last_used_at >= now - TOUCH_INTERVAL:
        return  # written less than a minute before the key was read
    IntegrationKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_INTERVAL)).update(last_used_at=now)
    key.last_used_at = now


def devices_reachable(key: IntegrationKey):
    """The devices a key may report on: its customer's, or only its project's."""
    devices = Device.objects.filter(project__customer_id=key.customer_id)
    if key.project_id:
        devices = devices.filter(project_id=key.project_id)
    return devices
