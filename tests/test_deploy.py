"""`check --deploy` passes with production-like variables (run in a fresh process)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from cryptography.fernet import Fernet

from tests.processes import ROOT


def test_check_deploy_reports_no_problems_with_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STRAVA_", "SANDBOX_"))},
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "sync.example.org",
        "SITE_URL": "https://sync.example.org",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "STRAVA_CLIENT_ID": "12345",
        "STRAVA_CLIENT_SECRET": "not-a-real-secret",
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DJANGO_SETTINGS_MODULE": "stravasync.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_mode_has_no_simulator_routes():
    env = {**os.environ, "STRAVA_CLIENT_ID": "12345", "DJANGO_SETTINGS_MODULE": "stravasync.settings"}
    code = (
        "import django; django.setup();"
        "from django.urls import resolve, Resolver404\n"
        "try:\n resolve('/sandbox/strava/oauth/authorize'); print('mounted')\n"
        "except Resolver404:\n print('absent')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "absent", result.stderr
