"""Garmin Connect in the simulator: the sign-in, DI token service and connectapi endpoints the app's library talks to.

Mounted at /sandbox/garmin/ when SANDBOX_MODE (sso/, diauth/, connectapi/); see sandbox/garmin/README.md.
"""
