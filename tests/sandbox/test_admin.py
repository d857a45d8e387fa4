from __future__ import annotations

import pytest
from django.urls import reverse

from sandbox.models import SimConfig

pytestmark = pytest.mark.django_db

MODELS = [
    "simconfig",
    "simathlete",
    "simtoken",
    "simactivity",
    "simsegment",
    "simsegmenteffort",
    "simupload",
    "simpushsubscription",
    "simratecounter",
    "simrequestlog",
]


@pytest.fixture
def staff_client(client, admin_user, settings):
    # Only Django's context processors: the app's own may not exist while the simulator is tested alone.
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ]
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_every_sim_model_has_an_admin_list(staff_client, model, alice_history):
    response = staff_client.get(reverse(f"admin:sandbox_{model}_changelist"))

    assert response.status_code == 200


def test_the_switches_are_editable_in_the_admin(staff_client):
    url = reverse("admin:sandbox_simconfig_change", args=[SimConfig.load().pk])
    form = {"error_rate": "0.5", "slow_seconds": "0", "slow_rate": "0", "drop_rate": "0", "inactive": "on"}

    response = staff_client.post(url, form)

    assert response.status_code == 302
    config = SimConfig.load()
    assert config.error_rate == 0.5 and config.inactive and not config.fail_uploads


def test_simulated_activities_are_not_editable(staff_client, alice_history):
    url = reverse("admin:sandbox_simactivity_change", args=[alice_history[0].pk])

    response = staff_client.post(url, {"name": "changed"})

    assert response.status_code == 403
