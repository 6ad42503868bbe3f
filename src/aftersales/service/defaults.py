"""SRQ-3 defaults: the 7×24 and office-hours calendars, the public holidays chinese-calendar knows and
the seed's service levels as the default policy. Written by migration 0002; written again after a
database flush (post_migrate) so a wiped database never leaves requests without a policy."""

from aftersales.core.calendar_math import holiday_days_from_chinese_calendar

FIRST_YEAR, LAST_YEAR = 2016, 2026
OFFICE_HOURS = {str(d): [["09:00", "12:00"], ["13:30", "18:00"]] for d in range(5)}

# priority, target, minutes, counted from, on-site only
SEED_TARGETS = [
    ("general", "reply", 120, "created", False),
    ("general", "arrival", 120, "dispatched", True),
    ("general", "resolution", 480, "created", False),
    ("serious", "reply", 15, "created", False),  # "immediately": configurable, 15 min by default
    ("serious", "departure", 60, "created", True),
    ("serious", "arrival", 120, "created", True),
    ("serious", "resolution", 240, "created", False),
    ("emergency", "reply", 10, "created", False),
    ("emergency", "departure", 10, "created", True),  # "immediately, fastest route"
    ("emergency", "arrival", 120, "created", True),
    ("emergency", "resolution", 120, "arrived", False),  # 2 h after arrival on site
]


def ensure_defaults(apps=None, **kwargs) -> None:
    """Create the default calendars, holidays and policy unless a policy exists already."""
    get = apps.get_model if apps is not None else _current_model
    WorkCalendar, CalendarDay, HolidayYear = get("service", "WorkCalendar"), get("service", "CalendarDay"), get("service", "HolidayYear")
    SlaPolicy, SlaTargetRule = get("service", "SlaPolicy"), get("service", "SlaTargetRule")
    if SlaPolicy.objects.exists():
        return
    always, _ = WorkCalendar.objects.get_or_create(name="7×24", defaults={"always_on": True})
    WorkCalendar.objects.get_or_create(name="工作日 9:00–18:00", defaults={"weekly_hours": OFFICE_HOURS, "use_public_holidays": True})
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        data = holiday_days_from_chinese_calendar(year)
        if data is None or HolidayYear.objects.filter(year=year).exists():
            continue
        days_off, make_up = data
        CalendarDay.objects.bulk_create([CalendarDay(day=d, kind="off") for d in sorted(days_off)]
                                        + [CalendarDay(day=d, kind="make_up") for d in sorted(make_up)])
        HolidayYear.objects.create(year=year, source="chinese-calendar 1.11.0")
    policy = SlaPolicy.objects.create(name="标准服务 7×24", calendar=always, warn_at_percent=80, is_default=True)
    SlaTargetRule.objects.bulk_create([
        SlaTargetRule(policy=policy, priority=p, kind=k, minutes=m, starts=s, onsite_only=o) for p, k, m, s, o in SEED_TARGETS
    ])


def _current_model(app_label, name):
    from django.apps import apps as current

    return current.get_model(app_label, name)


def after_migrate(sender, app_config=None, **kwargs) -> None:
    if app_config is not None and app_config.label == "service":
        ensure_defaults()
