from django.urls import path

from apps.onboarding import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("signup/", views.signup, name="signup"),
    path("signup/<uuid:token>/", views.signup_progress, name="signup-progress"),
    path("signup/<uuid:token>/status/", views.signup_status, name="signup-status"),
]
