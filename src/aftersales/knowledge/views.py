"""Pages of the knowledge base (SRQ-9): the list with its Chinese search, an article, writing and editing, the
review queue of the advisors, one POST per verb, "propose from this request", and the JSON the portal's report form
asks for suggestions while the customer types.

Views stay thin: a form parses, a verb decides. Every article is reached through selectors.visible_articles (a
customer's user: published customer-visible ones only; anything else is a 404 like a missing one)."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from aftersales.core.errors import DomainError
from aftersales.core.rows import row_id
from aftersales.core.scoping import get_visible_or_404
from aftersales.core.views import ScopedMixin
from aftersales.core.verb_forms import add_error
from aftersales.service.models import ServiceRequest

from . import matching, selectors, services
from .forms import ArticleForm, EditArticleForm, NoteForm, SearchForm, VersionForm
from .models import Article, ArticleState

VIEW = "knowledge.view_article"
PAGE_SIZE = 25
SUGGESTIONS = 5


def article_or_404(user, pk) -> Article:
    found = (selectors.visible_articles(user).select_related("manufacturer", "category", "author", "reviewer",
                                                              "source_request").filter(pk=pk).first())
    if found is None:
        raise Http404
    return found


class ArticleList(ScopedMixin, View):
    """The articles the user may read: searched (the best SEARCH_LIMIT, ranked), or newest first in pages of
    PAGE_SIZE by id (keyset: `?before=<id>`)."""

    model = Article
    permission_required = VIEW

    def get(self, request):
        form = SearchForm(request.GET)
        text = form.cleaned_data["q"] if form.is_valid() else ""
        articles = selectors.visible_articles(request.user)
        state = request.GET.get("state", "")
        is_customer = bool(request.user.customer_id)
        if state in ArticleState.values and not is_customer:
            articles = articles.filter(state=state)
        elif not is_customer:
            articles = articles.exclude(state=ArticleState.RETIRED)
        before, more = row_id(request.GET.get("before", "")), False
        if text:
            rows = selectors.search_articles(articles, text)
        else:
            page = articles.select_related("manufacturer").order_by("-pk")
            if before:
                page = page.filter(pk__lt=before)
            rows = list(page[:PAGE_SIZE + 1])
            more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
        return render(request, "knowledge/article_list.html", {
            "articles": rows, "form": form, "query": text, "state": state, "states": ArticleState.choices,
            "is_customer": is_customer, "limit": selectors.SEARCH_LIMIT,
            "next_before": rows[-1].pk if more and rows else None,
            "can_write": request.user.has_perm(services.WRITE) and not is_customer,
            "can_review": services.can_review(request.user),
        })


class ArticleDetail(ScopedMixin, View):
    model = Article
    permission_required = VIEW

    def get(self, request, pk):
        article = article_or_404(request.user, pk)
        user = request.user
        return render(request, "knowledge/article_detail.html", {
            "article": article, "is_customer": bool(user.customer_id),
            "can_edit": services.can_edit(user, article),
            "can_submit": article.state == ArticleState.DRAFT and (article.author_id == user.pk
                                                                    or services.can_review(user)),
            "can_publish": (services.can_review(user) and article.author_id != user.pk
                            and article.state in (ArticleState.DRAFT, ArticleState.REVIEW)),
            "can_send_back": services.can_review(user) and article.state == ArticleState.REVIEW,
            "can_retire": services.can_review(user) and article.state != ArticleState.RETIRED,
            "own_article": article.author_id == user.pk,
            "note_form": NoteForm(initial={"version": article.version}),
        })


class ArticleCreate(ScopedMixin, View):
    """A new draft, by an engineer, the desk, a manager or an advisor."""

    model = Article
    permission_required = services.WRITE

    def get(self, request):
        return self.show(ArticleForm())

    def post(self, request):
        form = ArticleForm(request.POST)
        if form.is_valid():
            try:
                article = services.write_article(by=request.user, **form.cleaned_data)
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Draft %(number)s is saved.") % {"number": article.number})
                return redirect(article)
        return self.show(form, status=422 if request.htmx else 200)

    def show(self, form, status=200, article=None):
        available = article is None or services.can_edit(self.request.user, article)
        if not available:  # shown read-only, with why
            for field in form.fields.values():
                field.disabled = True
        return render(self.request, "knowledge/article_form.html", {"form": form, "article": article,
                                                                    "available": available}, status=status)


class ArticleEdit(ArticleCreate):
    permission_required = services.EDIT

    def get(self, request, pk):
        article = article_or_404(request.user, pk)
        initial = {name: getattr(article, name) for name in
                   ("title", "symptom", "cause", "fix", "device_models", "customer_visible", "version")}
        initial |= {"manufacturer": article.manufacturer_id, "category": article.category_id}
        return self.show(EditArticleForm(initial=initial), article=article)

    def post(self, request, pk):
        article = article_or_404(request.user, pk)
        form = EditArticleForm(request.POST)
        if form.is_valid():
            try:
                article = services.edit_article(article=article, by=request.user, **form.cleaned_data)
            except DomainError as error:
                add_error(form, error)
            else:
                messages.success(request, _("Article %(number)s is saved.") % {"number": article.number})
                return redirect(article)
        return self.show(form, status=409 if request.htmx else 200, article=article)


class ArticleVerb(ScopedMixin, View):
    """POST: one step of an article's review (its page shows the buttons)."""

    model = Article
    permission_required = VIEW
    name = ""
    form_class = VersionForm
    done = ""

    def perform(self, article, user, data):
        raise NotImplementedError

    def post(self, request, pk):
        article = article_or_404(request.user, pk)
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, _("Reload the page and try again."))
            return redirect(article)
        try:
            self.perform(article, request.user, form.cleaned_data)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, str(self.done))
        return redirect(article)


class Submit(ArticleVerb):
    name = "submit"
    permission_required = services.WRITE
    done = gettext_lazy("Sent to the technical advisors for review.")

    def perform(self, article, user, data):
        services.submit_for_review(article=article, by=user, version=data["version"])


class Publish(ArticleVerb):
    name = "publish"
    permission_required = services.REVIEW
    form_class = NoteForm
    done = gettext_lazy("The article is published.")

    def perform(self, article, user, data):
        services.publish(article=article, by=user, version=data["version"], note=data.get("note", ""))


class SendBack(ArticleVerb):
    name = "send_back"
    permission_required = services.REVIEW
    form_class = NoteForm
    done = gettext_lazy("Sent back to the author.")

    def perform(self, article, user, data):
        services.send_back(article=article, by=user, version=data["version"], note=data.get("note", ""))


class Retire(ArticleVerb):
    name = "retire"
    permission_required = services.REVIEW
    done = gettext_lazy("The article is retired.")

    def perform(self, article, user, data):
        services.retire(article=article, by=user, version=data["version"])


class Helpful(ArticleVerb):
    name = "helpful"
    done = gettext_lazy("Thank you: your vote is counted.")

    def post(self, request, pk):
        article = article_or_404(request.user, pk)
        if article.state != ArticleState.PUBLISHED:
            raise Http404
        voted = set(request.session.get("knowledge_helpful", []))
        if article.pk not in voted:  # once per session
            services.mark_helpful(article=article)
            request.session["knowledge_helpful"] = sorted(voted | {article.pk})[-200:]
        messages.success(request, str(self.done))
        return redirect(article)


ARTICLE_VERBS = [Submit, Publish, SendBack, Retire, Helpful]


class ReviewQueue(ScopedMixin, View):
    """The articles waiting for a technical advisor or a manager, the oldest first."""

    model = Article
    permission_required = services.REVIEW

    def get(self, request):
        rows = list(selectors.review_queue()[:100])
        return render(request, "knowledge/review_queue.html", {"articles": rows, "limit": 100})


class ProposeFromRequest(ScopedMixin, View):
    """POST on a solved request: its draft article (or the one already proposed), opened for editing."""

    model = ServiceRequest
    permission_required = services.WRITE

    def post(self, request, pk):
        service_request = get_visible_or_404(ServiceRequest.objects.all(), request.user, pk=pk)
        try:
            article, created = services.propose_from_request(request=service_request, by=request.user)
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect(service_request)
        if created:
            messages.success(request, _("Draft %(number)s is written from the request: check it and submit it for "
                                        "review.") % {"number": article.number})
        else:
            messages.info(request, _("This request's article already exists."))
        if services.can_edit(request.user, article):
            return redirect(reverse("knowledge:article_edit", args=[article.pk]))
        return redirect(article)


class Suggest(ScopedMixin, View):
    """JSON for the portal's report form: the articles the user may read that match what they type, the best
    SUGGESTIONS (published; customers: customer-visible)."""

    model = Article
    permission_required = VIEW

    def get(self, request):
        form = SearchForm(request.GET)
        text = form.cleaned_data["q"] if form.is_valid() else ""
        rows = matching.matching_articles(request.user, devices=[], text=text, limit=SUGGESTIONS) if text else []
        return JsonResponse({"articles": [{"id": a.pk, "title": a.title, "symptom": a.symptom[:120],
                                           "url": a.get_absolute_url()} for a in rows]})
