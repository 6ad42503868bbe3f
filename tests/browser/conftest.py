"""Browser tests: pytest-playwright driving Debian's chromium against pytest-django's live_server.

Playwright's bundled browsers are never downloaded (`playwright install` can't reach its CDN here);
we launch the system chromium (`apt-get install chromium fonts-noto-cjk`, done by scripts/run-tests.sh).
"""

import os

# Playwright's sync API runs an event loop in the main thread; without this, ORM calls in
# tests that use `page` raise SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    # this machine refuses Chromium's background connections; don't let it try
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Extends pytest-playwright's own session fixture (keeps --slowmo; --headed drops "--headless").
    # Do not use --browser-channel: it can't point at Debian's chromium.
    args = CHROMIUM_ARGS
    if browser_type_launch_args.get("headless") is False:
        args = [a for a in args if a != "--headless"]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}
