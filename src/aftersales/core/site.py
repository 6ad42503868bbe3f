"""The site's own address (AFTERSALES_SITE_URL) goes into every QR label and mailed link. A loopback address works
only on the server itself: printed labels and mailed links would lead nowhere, so the pages that produce them warn
(issue 21 §13)."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_site_url() -> str | None:
    """The configured address when it only works on this machine, else None."""
    return settings.SITE_URL if is_loopback(settings.SITE_URL) else None
