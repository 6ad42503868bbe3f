"""The `aftersales` command: Django's management commands plus our own (serve, demo, …)."""

import os
import sys


def command_name(name: str) -> str:
    """`mail-in` runs the command `mail_in`: Django names commands after their (importable) module files.
    A hyphenated name that is itself a known command is left alone."""
    if name.startswith("-") or "-" not in name:
        return name
    import django
    from django.core.management import get_commands

    try:
        django.setup()  # the apps' commands are listed only once the apps are loaded (and get_commands caches)
        commands = get_commands()
    except Exception:  # noqa: BLE001 - Django reports the real problem itself below
        get_commands.cache_clear()
        return name
    underscored = name.replace("-", "_")
    return underscored if name not in commands and underscored in commands else name


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
    from django.core.management import execute_from_command_line

    argv = sys.argv[1:]
    if argv:
        argv[0] = command_name(argv[0])
    execute_from_command_line(["aftersales", *argv])


if __name__ == "__main__":
    main()
