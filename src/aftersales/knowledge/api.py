"""The knowledge base over the API (SRQ-9): `/api/articles/` lists and searches (`?q=`, Chinese by any two
consecutive characters, best first) the articles the caller may read — staff all, a customer's user the published
customer-visible ones only (another is a 404) —, writes drafts, and one POST per verb: submit, review (publish),
send-back, retire. A stale `version` or a step the state does not allow is a 409 with nothing written."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aftersales.assets.models import DeviceCategory, Manufacturer
from aftersales.core.api_base import AuditActorMixin, ErrorOut, require_perm, requires
from aftersales.core.api_settings import VerbPermissions

from . import selectors, services
from .models import Article, ArticleState

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class ArticleOut(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    manufacturer = serializers.CharField(source="manufacturer.name", default=None, read_only=True, allow_null=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Article
        fields = ["id", "number", "title", "symptom", "cause", "fix", "manufacturer", "device_models", "state",
                  "customer_visible", "helpful", "updated_at", "version", "url"]


class StaffArticleOut(ArticleOut):
    author = serializers.CharField(source="author.display_name", read_only=True)
    reviewer = serializers.CharField(source="reviewer.display_name", default=None, read_only=True, allow_null=True)
    source_request = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta(ArticleOut.Meta):
        fields = [*ArticleOut.Meta.fields, "manufacturer_id", "category_id", "author", "reviewer", "reviewed_at",
                  "review_note", "source_request"]


class ArticleIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    symptom = serializers.CharField(max_length=8000)
    cause = serializers.CharField(max_length=8000, required=False, allow_blank=True, default="")
    fix = serializers.CharField(max_length=8000)
    device_models = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    manufacturer = serializers.PrimaryKeyRelatedField(queryset=Manufacturer.objects.all(), required=False,
                                                      allow_null=True, default=None)
    category = serializers.PrimaryKeyRelatedField(queryset=DeviceCategory.objects.all(), required=False,
                                                  allow_null=True, default=None)
    customer_visible = serializers.BooleanField(required=False, default=False)


class EditArticleIn(ArticleIn):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class ArticleVersionIn(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class ReviewIn(ArticleVersionIn):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ArticleViewSet(AuditActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Article.objects.all()  # always narrowed by get_queryset()
    permission_classes = [VerbPermissions]

    def get_queryset(self):
        articles = selectors.visible_articles(self.request.user).select_related("manufacturer", "author", "reviewer")
        return articles.order_by("-pk")

    def get_serializer_class(self):
        # the schema is generated without a user (AnonymousUser has no customer_id): it documents the staff's fields
        return ArticleOut if getattr(self.request.user, "customer_id", None) else StaffArticleOut

    @extend_schema(parameters=[OpenApiParameter("q", str, description="Words, a symptom or a model: the best "
                                                "50 articles holding them, best first."),
                               OpenApiParameter("state", str, enum=ArticleState.values)])
    def list(self, request, *args, **kwargs):
        articles = self.get_queryset()
        state = request.query_params.get("state", "")
        if state in ArticleState.values:
            articles = articles.filter(state=state)
        text = request.query_params.get("q", "")
        rows = selectors.search_articles(articles, text) if text.strip() else articles
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def answer(self, article, status=200):
        article = self.get_queryset().get(pk=article.pk)
        return Response(self.get_serializer(article).data, status=status)

    def data(self, serializer) -> dict:
        data = serializer(data=self.request.data, context={"user": self.request.user})
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    @extend_schema(request=ArticleIn, responses={201: StaffArticleOut, **ERRORS})
    def create(self, request, *args, **kwargs):
        """A new draft."""
        require_perm(request, services.WRITE)
        return self.answer(services.write_article(by=request.user, **self.data(ArticleIn)), status=201)

    @extend_schema(request=EditArticleIn, responses={200: StaffArticleOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(services.EDIT)
    def edit(self, request, pk=None):
        """Change the text: the author of a draft, or a reviewer."""
        return self.answer(services.edit_article(article=self.get_object(), by=request.user, **self.data(EditArticleIn)))

    @extend_schema(request=ArticleVersionIn, responses={200: StaffArticleOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(services.WRITE)
    def submit(self, request, pk=None):
        """The author sends the draft for review."""
        return self.answer(services.submit_for_review(article=self.get_object(), by=request.user,
                                                      **self.data(ArticleVersionIn)))

    @extend_schema(request=ReviewIn, responses={200: StaffArticleOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(services.REVIEW)
    def review(self, request, pk=None):
        """A technical advisor or a manager (not the author) publishes the article."""
        return self.answer(services.publish(article=self.get_object(), by=request.user, **self.data(ReviewIn)))

    @extend_schema(request=ReviewIn, responses={200: StaffArticleOut, **ERRORS})
    @action(detail=True, methods=["post"], url_path="send-back", url_name="send-back")
    @requires(services.REVIEW)
    def send_back(self, request, pk=None):
        """Back to the author as a draft, with a note."""
        return self.answer(services.send_back(article=self.get_object(), by=request.user, **self.data(ReviewIn)))

    @extend_schema(request=ArticleVersionIn, responses={200: StaffArticleOut, **ERRORS})
    @action(detail=True, methods=["post"])
    @requires(services.REVIEW)
    def retire(self, request, pk=None):
        """Withdraw an article that no longer applies."""
        return self.answer(services.retire(article=self.get_object(), by=request.user, **self.data(ArticleVersionIn)))


def register(router) -> None:
    """The app's API routes on the project's router."""
    router.register("articles", ArticleViewSet, basename="article")
