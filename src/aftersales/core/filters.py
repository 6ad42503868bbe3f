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


class StyledFilterSet(django_filters.FilterSet):
    """A FilterSet whose form is styled for the compact filter bar above every list."""

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_styled", False):
            for field in form.fields.values():
                css = "form-select form-select-sm" if hasattr(field, "choices") else "form-control form-control-sm"
                field.widget.attrs.setdefault("class", css)
            form._styled = True
        return form
