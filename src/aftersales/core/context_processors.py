from django.conf import settings

from .scoping import is_staff_member


def navigation(request):
    user = getattr(request, "user", None)
    return {
        "is_staff_member": is_staff_member(user),
        "service_hotline": settings.SERVICE_HOTLINE,
    }
