"""What accounts tells the apps above it; they subscribe, accounts never imports them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by athlete_connect with `athlete=` (an accounts.models.Athlete) once the athlete and their
# token are committed: the warehouse fetches their newest activities while the person waits.
athlete_connected = Signal()
