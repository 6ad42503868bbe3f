from django import template

register = template.Library()


@register.filter
def css_string(value) -> str:
    """Text inside a CSS string ("…" in @page margin boxes): quotes, backslashes and line breaks escaped the CSS way
    (a record's name may hold any of them; HTML escaping does not apply inside <style>)."""
    text = str(value)
    for char in ("\\", '"', "'", "<", ">", "&"):
        text = text.replace(char, f"\\{ord(char):x} ")
    return text.replace("\n", " ").replace("\r", " ")
