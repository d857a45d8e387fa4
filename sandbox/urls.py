from __future__ import annotations

# The simulator's routes (Strava's own paths) are filled in by sandbox/views.py.
urlpatterns: list = []
