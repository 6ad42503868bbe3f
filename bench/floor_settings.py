"""The framework floor: the product's settings and middleware, one view returning a constant."""

from aftersales.settings import *  # noqa: F401,F403

ROOT_URLCONF = "floor_urls"
