from django.contrib import admin

from apps.onboarding.models import Signup


@admin.register(Signup)
class SignupAdmin(admin.ModelAdmin):
    list_display = ["company_name", "schema_name", "admin_email", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["company_name", "schema_name", "admin_email"]
    exclude = ["password_hash"]  # never shown, even hashed
    readonly_fields = ["token", "schema_name", "status", "step", "progress", "error"]
