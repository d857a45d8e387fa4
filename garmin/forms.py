from __future__ import annotations

from django import forms


class GarminSignInForm(forms.Form):
    """Email and password, used once for the sign-in and never kept (the view is sensitive_post_parameters)."""

    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(max_length=256, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class GarminMfaForm(forms.Form):
    code = forms.CharField(max_length=12, label="Code from Garmin",
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class GarminBackfillForm(forms.Form):
    since = forms.DateField(label="Bring activities since", widget=forms.DateInput(attrs={"type": "date"}))
