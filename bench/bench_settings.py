"""The product's settings, with bench_urls as the URLconf (see bench_urls.py). Nothing else changes."""

from aftersales.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench_urls"
