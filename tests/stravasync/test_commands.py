"""The base of long-running commands: the first signal asks for a clean stop, a second aborts."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from stravasync.commands import StoppableCommand


class Countdown(StoppableCommand):
    """Works through ten items; the signals it sends itself stand for a person's Ctrl+C."""

    def __init__(self, *, signals_at: tuple[int, ...]) -> None:
        super().__init__()
        self.signals_at, self.done = signals_at, []

    def handle(self, *args: Any, **options: Any) -> None:
        for item in range(10):
            if item in self.signals_at:
                os.kill(os.getpid(), signal.SIGINT)
            if self.should_stop():
                break
            self.done.append(item)


def test_the_first_ctrl_c_lets_the_item_in_flight_finish_then_stops():
    command = Countdown(signals_at=(3,))
    command.execute(no_color=True, force_color=False, skip_checks=True)
    assert command.done == [0, 1, 2] and command.stopping


def test_a_second_ctrl_c_aborts_at_once():
    class Stubborn(Countdown):
        def should_stop(self) -> bool:
            return False  # stands for an item that takes long: only the second signal ends it

    command = Stubborn(signals_at=(3, 5))
    with pytest.raises(KeyboardInterrupt):
        command.execute(no_color=True, force_color=False, skip_checks=True)
    assert command.done == [0, 1, 2, 3, 4]


def test_the_previous_signal_handlers_come_back_after_the_command():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    Countdown(signals_at=()).execute(no_color=True, force_color=False, skip_checks=True)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_sleep_returns_at_once_when_a_stop_was_asked_for():
    command = Countdown(signals_at=())
    command.stopping = True
    assert command.sleep(3600) is False
