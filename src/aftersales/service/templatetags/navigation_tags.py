"""Issue 21 §11: `{% load navigation_tags %}` … `project|map_links`: the Amap / Baidu links to a project's site
(service/navigation.py); the markup is in the templates (my_work.html, request_detail.html)."""

from django import template

from ..navigation import project_links

register = template.Library()


@register.filter
def map_links(project):
    return project_links(project)
