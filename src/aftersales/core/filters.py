import django_filters

from .scoping import visible


def scoped_choices(model):
    """Filter choices limited to what the requesting user may see (SEC-1: form choices too)."""

    def queryset(request):
        if request is None:
            return model._default_manager.none()
        return visible(model._default_manager.all(), request.user)

    return queryset


def ScopedChoiceFilter(model, **kwargs):  # noqa: N802 - reads like a field class
    return django_filters.ModelChoiceFilter(queryset=scoped_choices(model), **kwargs)
