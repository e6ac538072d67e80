from django.contrib import admin

from apps.conversations.models import Conversation, Message
from apps.core.admin_sites import tenant_admin_site


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ["role", "status", "slack_user_id", "text", "model", "answer_latency_ms", "created_at"]
    readonly_fields = fields


@admin.register(Conversation, site=tenant_admin_site)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "agent", "channel_type", "started_by", "updated_at"]
    list_filter = ["agent", "channel_type"]
    inlines = [MessageInline]


@admin.register(Message, site=tenant_admin_site)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["role", "status", "text", "model", "answer_latency_ms", "created_at"]
    list_filter = ["role", "status"]
    search_fields = ["text"]
