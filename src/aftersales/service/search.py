"""Issue 21 §8: the one search of requests, for the request list, the desk queue, the export and the top bar.

`search_requests(queryset, text)` narrows an already scoped queryset (`visible()`: the scope is never widened here,
so another customer's or branch's request is not found, not even by its exact number). What the text can be, and how
each is matched so that it stays fast at 1,000,000 requests (bench/NOTES.md, issue 21 §8):

* a request number — ``SR0000123``, ``sr123`` or just ``123`` — exact, on the unique index of `number`;
* a phone number — digits with spaces, ``+``, ``-``, ``(``, ``)``; 7 to 20 digits — equal, after dropping those
  characters, to the reporter's phone (an index on that same expression, `phone_key`), or to the phone of the
  customer contact who reported the request; ``+86`` / ``0086`` are optional in front of a mobile number;
* a device serial number or a project contract number — exact, as typed or in capitals (indexes ``device_serial``
  and the unique contract number), through the request's affected devices and its project;
* a reporter's full name — exact (index ``srq_reporter_name``);
* words of the title or the reporter's name — through the index of their terms (service/terms.py, indexed by
  service/term_index.py: FTS5 on SQLite, GIN on PostgreSQL) among **all** the requests: Chinese by any two or more
  consecutive characters, other words whole (on PostgreSQL, whose index knows no order, each word typed is then
  checked to be contained in the title or the name). A text with no term (one Chinese character) that is no number, phone or code is
  looked for by "contains" among the **newest `TITLE_SCAN_LIMIT` requests the user may see** only: a "contains"
  cannot use an index, and scanning a million titles takes over a second on SQLite.

A text matches every reading that fits it (``1234567`` is a number, a phone and maybe a serial). Empty text matches
everything (no search); the forms limit it to `MAX_LENGTH` characters. Each reading is one indexed SELECT of ids
and the request must be in their UNION ALL, a subquery of the caller's query, so a page costs the queries it costs
without a search.
"""

import re
import unicodedata

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import F, Func, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from aftersales.assets.models import Device
from aftersales.customers.models import Project

from .models import RequestTermIndex, ServiceRequest
from .term_index import fts_query, has_terms
from .terms import terms_of

MAX_LENGTH = 100
TITLE_SCAN_LIMIT = 20_000

# Written out with literals (no bound parameters): SQLite uses an index on an expression only for the same
# expression, and a parameter is not the same as a literal. models.ServiceRequest.Meta.indexes holds the same
# template (srq_reporter_phone_key); tests/service/test_search.py reads the plan.
PHONE_KEY_TEMPLATE = ("REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(%(expressions)s, ' ', ''), '-', ''), '+', ''), "
                      "'(', ''), ')', '')")

NUMBER = re.compile(r"(?:SR)?\s*0*([1-9][0-9]{0,9})", re.IGNORECASE)
PHONE_DROPPED = re.compile(r"[\s\-+().]")
DIGITS = re.compile(r"[0-9]{7,20}")
CODE = re.compile(r"(?=.*[0-9])[A-Za-z0-9][A-Za-z0-9_./-]*")  # serial or contract numbers: DS-2CD2T47G2-0042


def phone_key(column: str) -> Func:
    """The phone in `column` without spaces, dashes, plus signs and brackets (SQL; see PHONE_KEY_TEMPLATE)."""
    return Func(F(column), template=PHONE_KEY_TEMPLATE)


def normalize(text: str | None) -> str:
    """What was typed, as searched: full-width characters as ASCII (Chinese input methods), runs of white space as
    one space, no space around."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def request_number(text: str) -> str | None:
    """``SR0000123`` for ``SR0000123``, ``sr 123`` or ``123``; None when the text is no request number."""
    found = NUMBER.fullmatch(text)
    return f"SR{int(found.group(1)):07d}" if found else None


def phone_keys(text: str) -> list[str]:
    """The stored phone keys the text can mean: its digits, with and without China's country code in front of a
    mobile number. Empty when the text is no phone number."""
    digits = PHONE_DROPPED.sub("", text)
    if not DIGITS.fullmatch(digits):
        return []
    keys = [digits]
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11 and digits[len(prefix)] == "1":
            keys.append(digits[len(prefix):])
    if len(digits) == 11 and digits.startswith("1"):
        keys += ["86" + digits, "0086" + digits]
    return keys


def search_requests(queryset: QuerySet, text: str | None, *, one_customer: bool = False) -> QuerySet:
    """`queryset` (scoped) narrowed to the requests `text` finds (module docstring). Empty text: `queryset`.
    `one_customer`: the scope is one customer's requests, a few thousand at most, so the database should walk them and
    look each up among the ids found (``id + 0 IN``: SQLite otherwise looks up each of the, for a common word, tens of
    thousands of ids found among the million; 14 ms instead of 69 in the bench).

    Each reading is its own indexed SELECT of request ids, and the request must be in their UNION ALL: an OR of
    the readings in one WHERE clause lets SQLite's planner fall back to scanning every request (it combines an OR
    through indexes only for plain columns, not for the indexed phone expression, and only when its statistics
    say each branch is selective)."""
    text = normalize(text)[:MAX_LENGTH]
    if not text:
        return queryset
    requests = ServiceRequest.objects.order_by()
    found = []
    if number := request_number(text):
        found.append(requests.filter(number=number).values("pk"))
    if keys := phone_keys(text):
        contacts = get_user_model().objects.filter(customer__isnull=False).alias(key=phone_key("phone")).filter(key__in=keys)
        found.append(requests.alias(key=phone_key("reporter_phone")).filter(key__in=keys).values("pk"))
        found.append(requests.filter(reporter__in=contacts.values("pk")).values("pk"))
    exact = {text, text.upper()}
    found.append(ServiceRequest.devices.through.objects.order_by().filter(
        device__in=Device.objects.order_by().filter(serial_number__in=exact).values("pk")).values("servicerequest_id"))
    found.append(requests.filter(project__in=Project.objects.order_by().filter(contract_number__in=exact).values("pk"))
                 .values("pk"))
    found.append(requests.filter(reporter_name=text).values("pk"))
    found += title_readings(queryset, text, scan=not (number or keys or CODE.fullmatch(text)))
    ids = found[0].union(*found[1:], all=True)
    if one_customer:
        return queryset.alias(walked_pk=F("pk") + 0).filter(walked_pk__in=ids)
    return queryset.filter(pk__in=ids)


def title_readings(queryset: QuerySet, text: str, *, scan: bool) -> list[QuerySet]:
    """The ids of the requests whose title or reporter's name holds every word of `text`, through the term index;
    with no term, and `scan`, among the newest TITLE_SCAN_LIMIT requests of the scope. Empty when neither applies."""
    words = Q()
    for word in text.split(" "):
        words &= Q(title__icontains=word) | Q(reporter_name__icontains=word)
    vendor = connections[queryset.db].vendor
    if vendor == "sqlite" and (query := fts_query(text)):
        # The index's own ids, no request row read: its phrases match exactly what was typed (term_index.fts_query).
        return [RequestTermIndex.objects.using(queryset.db).filter(search_terms__match=query).values("rowid")]
    if terms := terms_of(text):
        # PostgreSQL reads the rows the GIN index finds anyway: checking the words there costs nothing more.
        having = has_terms(terms) if vendor == "postgresql" else Q(*[Q(search_terms__contains=term) for term in terms])
        return [ServiceRequest.objects.using(queryset.db).order_by().filter(having).filter(words).values("pk")]
    if not scan:
        return []
    # The newest TITLE_SCAN_LIMIT requests of the scope: from the id of the last of them (fewer: all of them).
    newest = queryset.order_by("-pk").values("pk")[TITLE_SCAN_LIMIT - 1:TITLE_SCAN_LIMIT]
    return [queryset.order_by().filter(pk__gte=Coalesce(Subquery(newest), Value(0))).filter(words).values("pk")]


def first_hit(queryset: QuerySet, text: str | None, *, one_customer: bool = False) -> int | None:
    """For the top bar: the id of the request an exact number names, or of the only request the text finds;
    None when there is none or more than one. One query, or two for a number that names no visible request."""
    text = normalize(text)[:MAX_LENGTH]
    if not text:
        return None
    number = request_number(text)
    if number and (pk := queryset.filter(number=number).values_list("pk", flat=True).first()) is not None:
        return pk
    hits = list(search_requests(queryset, text, one_customer=one_customer).order_by().values_list("pk", flat=True)[:2])
    return hits[0] if len(hits) == 1 else None
