from __future__ import annotations

from django.contrib import admin

from .models import QuotaState


@admin.register(QuotaState)
class QuotaStateAdmin(admin.ModelAdmin):
    list_display = ("client_id", "used_short", "limit_short", "used_daily", "limit_daily", "closed_until", "inactive_since")
    readonly_fields = [f.name for f in QuotaState._meta.fields]
