"""Forms: the list's filters (GET) and the export upload."""

from __future__ import annotations

from django import forms

from .selectors import SORTS, ActivityFilters


class FilterForm(forms.Form):
    sport = forms.CharField(required=False, max_length=40)
    after = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    before = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(required=False, max_length=100, label="name contains")
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])

    def filters(self) -> ActivityFilters:
        """The valid filters; an invalid one is dropped rather than failing the page."""
        if not self.is_bound:
            return ActivityFilters()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return ActivityFilters(
            sport=data.get("sport") or "",
            after=data.get("after"),
            before=data.get("before"),
            q=(data.get("q") or "").strip(),
            sort=data.get("sort") or "-start_date",
        )


class ExportUploadForm(forms.Form):
    archive = forms.FileField(label="Strava export (.zip)")
