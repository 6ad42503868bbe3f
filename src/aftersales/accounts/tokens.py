"""API tokens die with a new password or a deactivation (issue 20, point 1): whoever held the old password (or the
departed user) keeps no access through a token made with it. Sessions need nothing: Django ends them on a password
change (a session carries a hash of the password) and refuses inactive users.

`set_password` (the password page, the admin, a contact's form, `changepassword`) leaves the raw value in
`_password` until the save; Django's own rehash at login (PBKDF2 → Argon2, the same
password) clears `_password` before saving, so it keeps the tokens. Deactivation: any save of an inactive user."""

from django.db.models.signals import pre_save
from rest_framework.authtoken.models import Token


def password_changed(user) -> bool:
    return getattr(user, "_password", None) is not None


def drop_tokens(sender, instance, update_fields=None, raw=False, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. the last_login update at every login
    if not instance.is_active or password_changed(instance):
        Token.objects.filter(user_id=instance.pk).delete()


def connect(user_model) -> None:
    pre_save.connect(drop_tokens, sender=user_model, dispatch_uid="accounts_drop_tokens")
