def register(router) -> None:
    from .api_alarms import register as register_alarms
    from .api_intake import register as register_intake

    register_alarms(router)
    register_intake(router)
