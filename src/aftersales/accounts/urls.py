from django.urls import path

from . import token_views, views

app_name = "accounts"
urlpatterns = [
    path("branches/", views.BranchList.as_view(), name="branch_list"),
    path("branches/<id:pk>/", views.BranchDetail.as_view(), name="branch_detail"),
    path("staff/", views.StaffList.as_view(), name="staff_list"),
    path("staff/<id:pk>/", views.StaffDetail.as_view(), name="staff_detail"),
    path("roster/", views.Roster.as_view(), name="roster"),
    # Issue 20, point 1: password reset by mail (every user), the second factor (staff)
    path("password-reset/", views.PasswordReset.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDone.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirm.as_view(), name="password_reset_confirm"),
    path("password-reset/complete/", views.PasswordResetComplete.as_view(), name="password_reset_complete"),
    path("two-factor/", views.TwoFactor.as_view(), name="two_factor"),
    path("two-factor/verify/", views.TwoFactorVerify.as_view(), name="two_factor_verify"),
    path("tokens/", token_views.ApiTokens.as_view(), name="api_tokens"),
]
