def register(router) -> None:
    from .api_alarms import register as register_alarms

    register_alarms(router)
