"""The accounts pages of a company's site, included at its root by jamono/urls_tenants.py.
Names without a namespace: Django's auth views reverse ``login``, ``password_reset_done``,
``password_reset_complete`` by these names."""

from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("login/", views.login_page, name="login"),
    path("logout/", views.logout_page, name="logout"),
    path("password-reset/", views.password_reset_page, name="password_reset"),
    path("password-reset/done/", views.password_reset_done_page, name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        views.password_reset_confirm_page,
        name="password_reset_confirm",
    ),
    path("reset/done/", views.password_reset_complete_page, name="password_reset_complete"),
    path("team/", views.team_page, name="team"),
    path("team/invite/", views.team_invite, name="team-invite"),
    path("team/<int:user_id>/role/", views.team_role, name="team-role"),
    path("team/<int:user_id>/active/", views.team_active, name="team-active"),
    path("invite/<str:token>/", views.invite_accept_page, name="invite-accept"),
]
