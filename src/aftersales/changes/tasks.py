"""Background entry points of change notices (huey). Thin: sweep.py does the work."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from . import sweep


# Every minute, so a warning fires within a minute of its time. The lock keeps minute runs from piling up; two sweeps
# at once would still warn once per step (sweep.py: each notice is claimed by a conditional UPDATE).
@db_periodic_task(crontab(minute="*"))
@lock_task("changes-sweep")
def change_notice_deadlines() -> dict:
    """LOG-3: "due soon" and "overdue" warnings of unanswered change notices; answered ones closed after the window."""
    return sweep.sweep()
