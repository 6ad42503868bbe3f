"""Public interfaces only (issue 19, point 2): the code under src/ uses Django, DRF, django-auditlog, huey and every
other library through their documented API. A file fails when it

1. imports a name that starts with an underscore from a module outside `aftersales`,
2. imports an internal module: `django.db.models.sql` and below, a module named `compiler`, or any module whose
   dotted path has a component that starts with an underscore,
3. writes a model's or a queryset's internal state (`_state`, `_result_cache`, `_prefetch_done`), or
4. defines in a class a method `_name` that overrides the same name on a library base class.

Dunder names (`__future__`, `__version__`) and enum's documented `_sunder_` hooks are public. Migrations are
Django's generated code and are not checked.
"""

import ast
import importlib
import inspect
import pkgutil
import types
from functools import cached_property
from pathlib import Path

import pytest

import aftersales

SRC = Path(aftersales.__file__).resolve().parent.parent
OURS = "aftersales"
INTERNAL_MODULES = ("django.db.models.sql",)
INTERNAL_STATE = {"_state", "_result_cache", "_prefetch_done"}
NOT_IMPORTABLE = {"aftersales.__main__"}  # runs the command line when imported


def is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def is_sunder(name: str) -> bool:
    return len(name) > 2 and name[0] == name[-1] == "_" and name[1] != "_" and name[-2] != "_"


def is_private(name: str) -> bool:
    return name.startswith("_") and not is_dunder(name) and not is_sunder(name)


def is_ours(module: str) -> bool:
    return module == OURS or module.startswith(OURS + ".")


def internal_module(dotted: str) -> bool:
    parts = dotted.split(".")
    return (any(dotted == prefix or dotted.startswith(prefix + ".") for prefix in INTERNAL_MODULES)
            or "compiler" in parts or any(is_private(part) for part in parts))


def writes_internal_state(target: ast.expr) -> bool:
    """`obj._state = …`, `obj._state.adding = …`, `qs._result_cache[0] = …`, also inside tuple targets."""
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(writes_internal_state(element) for element in target.elts)
    if isinstance(target, ast.Starred):
        return writes_internal_state(target.value)
    node = target
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute) and node.attr in INTERNAL_STATE:
            return True
        node = node.value
    return False


def sets_internal_state(call: ast.Call) -> bool:
    """`setattr(obj, "_state", …)`, `delattr(obj, "_result_cache")`."""
    return (isinstance(call.func, ast.Name) and call.func.id in ("setattr", "delattr") and len(call.args) >= 2
            and isinstance(call.args[1], ast.Constant) and call.args[1].value in INTERNAL_STATE)


def violations_in_source(source: str, filename: str = "<snippet>") -> list[str]:
    """Rules 1 to 3, read from the source."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not is_ours(alias.name) and internal_module(alias.name):
                    found.append(f"{where}: imports the internal module {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if node.level or not node.module or is_ours(node.module):
                continue  # a relative import is ours
            if internal_module(node.module):
                found.append(f"{where}: imports from the internal module {node.module}")
                continue
            for alias in node.names:
                if is_private(alias.name):
                    found.append(f"{where}: imports the private name {alias.name} from {node.module}")
                elif internal_module(f"{node.module}.{alias.name}"):
                    found.append(f"{where}: imports the internal module {node.module}.{alias.name}")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            if any(writes_internal_state(target) for target in targets):
                found.append(f"{where}: writes internal state ({', '.join(sorted(INTERNAL_STATE))})")
        elif isinstance(node, ast.Call) and sets_internal_state(node):
            found.append(f"{where}: writes internal state with {node.func.id}({node.args[1].value!r})")
    return found


def function_of(value):
    """The function a class attribute was defined with, if it is a method of some kind."""
    if isinstance(value, (classmethod, staticmethod)):
        return value.__func__
    if isinstance(value, property):
        return value.fget
    if isinstance(value, cached_property):
        return value.func
    return value if isinstance(value, types.FunctionType) else None


def private_overrides(cls, ours=is_ours) -> list[str]:
    """Rule 4: methods `_name` defined in the body of `cls` that a library base class (by `ours(module)`) defines."""
    found = []
    for name, value in vars(cls).items():
        function = function_of(value)
        if not is_private(name) or function is None or name.startswith(f"_{cls.__name__.lstrip('_')}__"):
            continue
        if function.__qualname__ != f"{cls.__qualname__}.{name}":  # not written in this class's body
            continue
        for base in cls.__mro__[1:]:
            if not ours(base.__module__) and name in vars(base):
                found.append(f"{cls.__module__}.{cls.__qualname__}.{name} overrides "
                             f"{base.__module__}.{base.__qualname__}.{name}")
                break
    return found


def source_files() -> list[Path]:
    return sorted(path for path in (SRC / OURS).rglob("*.py") if "migrations" not in path.relative_to(SRC).parts)


def our_modules() -> list[str]:
    names = [OURS]
    for info in pkgutil.walk_packages(aftersales.__path__, prefix=OURS + "."):
        if ".migrations" not in info.name and info.name not in NOT_IMPORTABLE:
            names.append(info.name)
    return names


def classes_defined_in(module) -> list[type]:
    """The classes of a module, nested ones included."""
    pending = [value for value in vars(module).values()
               if inspect.isclass(value) and value.__module__ == module.__name__]
    found = []
    while pending:
        cls = pending.pop()
        if cls in found:
            continue
        found.append(cls)
        pending.extend(value for value in vars(cls).values()
                       if inspect.isclass(value) and value.__module__ == module.__name__)
    return found


def test_no_file_under_src_uses_a_private_interface():
    problems = []
    for path in source_files():
        relative = path.relative_to(SRC.parent).as_posix()
        problems += violations_in_source(path.read_text(encoding="utf-8"), relative)
    assert not problems, "private interfaces used under src/:\n" + "\n".join(problems)


def test_no_class_under_src_overrides_a_private_method_of_a_library():
    problems, unimportable = [], []
    for name in our_modules():
        try:
            module = importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 - report every module, not the first that fails
            unimportable.append(f"{name}: {type(error).__name__}: {error}")
            continue
        for cls in classes_defined_in(module):
            problems += private_overrides(cls)
    assert not unimportable, "modules that cannot be imported:\n" + "\n".join(unimportable)
    assert not problems, "private methods of libraries overridden under src/:\n" + "\n".join(sorted(set(problems)))


# The rules themselves: each snippet must be caught, each legitimate one must pass.

@pytest.mark.parametrize("snippet", [
    "from django.db.models.sql import Query",
    "from django.db.models.sql.compiler import SQLInsertCompiler",
    "from django.db.models import sql",
    "import django.db.models.sql.compiler",
    "from jinja2.compiler import CodeGenerator",
    "from auditlog.context import _set_extra_data",
    "from auditlog.cid import _get_cid as get",
    "from django.utils._os import safe_join",
    "import django.utils._os",
    "obj._state.adding = False",
    "obj._state.adding, obj._state.db = False, 'default'",
    "queryset._result_cache = rows",
    "queryset._prefetch_done = True",
    "queryset._result_cache[0] += 1",
    "setattr(obj, '_state', state)",
])
def test_a_private_interface_is_caught(snippet):
    assert violations_in_source(snippet)


@pytest.mark.parametrize("snippet", [
    "from __future__ import annotations",
    "from django.db import models",
    "from django.db.models import Q, F, Subquery",
    "from django.db.backends.sqlite3 import base",
    "from rest_framework.fields import empty",
    "from auditlog.context import set_actor",
    "from aftersales.core.scoping import _internal_helper",
    "from .rows import _private",
    "from pkg import __version__",
    "self._cache = {}",
    "state = obj._state.adding",
    "instance._meta.get_field('name')",
])
def test_legitimate_code_passes(snippet):
    assert violations_in_source(snippet) == []


class LibraryBase:
    """Stands for a library's class: `ours` below says this test module is not ours."""

    def _queryset(self, view):
        return view

    def _missing_(self):
        return None

    def public(self):
        return self


def this_module_is_a_library(module: str) -> bool:
    return module != __name__


def test_overriding_a_private_method_of_a_library_class_is_caught():
    class Overrides(LibraryBase):
        def _queryset(self, view):
            return None

    class OverridesAsProperty(LibraryBase):
        @property
        def _queryset(self):
            return None

    for cls in (Overrides, OverridesAsProperty):
        assert private_overrides(cls, ours=this_module_is_a_library) == [
            f"{__name__}.{cls.__qualname__}._queryset overrides {__name__}.LibraryBase._queryset"]


def test_own_private_methods_public_overrides_and_sunder_hooks_pass():
    class Ours(LibraryBase):
        def _helper(self):  # no base defines it
            return None

        def public(self):
            return None

        def _missing_(self):  # enum's documented hooks have this shape
            return None

        def __private(self):  # name-mangled: cannot override anything
            return None

    assert private_overrides(Ours, ours=this_module_is_a_library) == []


def test_a_private_override_is_caught_on_a_real_library_class():
    from rest_framework import permissions

    class ModelPermissions(permissions.DjangoModelPermissions):
        def _queryset(self, view):
            return None

    (problem,) = private_overrides(ModelPermissions)
    assert problem.endswith("overrides rest_framework.permissions.DjangoModelPermissions._queryset")
