"""The last step of the social-auth pipeline: our Athlete and our encrypted token."""

from __future__ import annotations

from typing import Any

from django.views.decorators.debug import sensitive_variables

from .services import athlete_connect


@sensitive_variables("response")
def save_athlete_and_token(backend: Any, user: Any, response: dict, *args: Any, **kwargs: Any) -> dict:
    if user is None:
        return {}
    # The scope the athlete actually accepted arrives on the callback, not in the token answer.
    scopes = backend.data.get("scope") or ""
    athlete = athlete_connect(user=user, athlete_data=response["athlete"], token_payload=response, scopes=scopes)
    social = kwargs.get("social")
    if social is not None and social.extra_data:
        social.extra_data = {}
        social.save(update_fields=["extra_data"])
    return {"athlete": athlete}
