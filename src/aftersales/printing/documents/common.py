"""What every form states the same way: the issuer, times in Shanghai, people, a signature and its fingerprint."""

import base64
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from aftersales.core.clock import SHANGHAI

SIGNATURE_MAX_BYTES = 1024 * 1024  # as the signature verbs accept


def company_name() -> str:
    """The integrator's registered name, printed at the top of every form (AFTERSALES_COMPANY_NAME)."""
    return settings.COMPANY_NAME


def issuer(branch) -> str:
    """The company and the branch office that serves the record, e.g. 上海致达信息产业股份有限公司 宁夏分公司."""
    parts = [company_name(), branch.name if branch is not None else ""]
    return " ".join(part for part in parts if part)


def when(moment) -> str:
    """A time as the paper writes it: local (Asia/Shanghai) to the minute; "" for none."""
    if moment is None:
        return ""
    return timezone.localtime(moment, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def day(value) -> str:
    return value.isoformat() if value is not None else ""


def name_of(user) -> str:
    return str(user) if user is not None else ""


def label(choices, value) -> str:
    """The display label of a stored choice (in the language active while the facts are built)."""
    if value in (None, ""):
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@dataclass(frozen=True)
class Signature:
    src: str  # data:image/png;base64,… or "" (no picture: a paper copy is signed by hand)
    sha256: str  # of the PNG's bytes, a fact of the form; "" without a picture


NO_SIGNATURE = Signature("", "")


def signature(field_file) -> Signature:
    """The stored signature PNG inline (never a media URL, lessons.md #7) and its fingerprint."""
    if not field_file:
        return NO_SIGNATURE
    try:
        with field_file.open("rb") as handle:
            png = handle.read(SIGNATURE_MAX_BYTES + 1)
    except (FileNotFoundError, OSError, ValueError):
        return NO_SIGNATURE
    if len(png) > SIGNATURE_MAX_BYTES or not png.startswith(b"\x89PNG\r\n\x1a\n"):
        return NO_SIGNATURE
    return Signature("data:image/png;base64," + base64.b64encode(png).decode("ascii"), hashlib.sha256(png).hexdigest())


def money(value) -> str:
    return f"{value:.2f}" if value is not None else ""
