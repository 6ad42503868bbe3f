from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data and the `demo` command: the top floor, it may import every app."""

    name = "aftersales.demo"
