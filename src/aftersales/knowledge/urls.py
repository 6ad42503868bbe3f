from django.urls import path
from django.views.decorators.http import require_POST

from . import views

app_name = "knowledge"
urlpatterns = [
    path("", views.ArticleList.as_view(), name="article_list"),
    path("new/", views.ArticleCreate.as_view(), name="article_create"),
    path("review/", views.ReviewQueue.as_view(), name="review_queue"),
    path("suggest/", views.Suggest.as_view(), name="suggest"),
    path("<id:pk>/", views.ArticleDetail.as_view(), name="article_detail"),
    path("<id:pk>/edit/", views.ArticleEdit.as_view(), name="article_edit"),
    # One POST per verb on an article: knowledge:<name>
    *(path(f"<id:pk>/{view.name.replace('_', '-')}/", require_POST(view.as_view()), name=view.name)
      for view in views.ARTICLE_VERBS),
    path("from-request/<id:pk>/", require_POST(views.ProposeFromRequest.as_view()), name="propose"),
]
