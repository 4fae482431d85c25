"""The process and its terminal: refuse to draw without one, and always end when told to.

A clean shutdown can hang (Textual's output writer blocks on a terminal that is gone;
a KeyboardInterrupt can land inside a driver's lock), so every stop request also arms a
watchdog thread that ends the process if the clean path has not finished in time. What
it cuts short is safe to cut: every page of a sync is one transaction, a sync marks its run
interrupted from a hard-exit hook (`on_hard_exit`), and a run left "running" by a process
that died harder still is reported as interrupted (store/liveness.py).
"""

from __future__ import annotations

import _thread
import os
import select
import signal
import sys
import threading
from collections.abc import Callable

from mspkpi_tui.errors import MspkpiError

STOP_GRACE_SECONDS = 0.8  # SIGINT / SIGTERM: end within a second
RESTOP_SECONDS = 0.02  # a stop lost in a finalizer is raised again this much later (_stop_not_lost)
HANGUP_GRACE_SECONDS = 2.0  # SIGHUP in the TUI: end within two seconds


class TerminalNeeded(MspkpiError):
    """Shown as one line; exits 2 like a usage error."""

    exit_status = 2


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwound like Ctrl-C (a sync marks its run interrupted), exit status 143."""

    exit_status = 143


def require_terminal(instead: str = "mspkpi kpi") -> None:
    """The dashboard draws on a terminal: under cron, a pipe or nohup it would run forever."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise TerminalNeeded(f"mspkpi needs a terminal; use `{instead}` for scripts")


def watch_terminal(fd: int = 0) -> None:
    """End the dashboard when its terminal goes away, even if no SIGHUP comes (the terminal
    was not the process's controlling one, or the hang-up was lost): a thread waits for the
    hang-up on stdin (poll with no events reports only POLLHUP and errors), arms the
    watchdog and raises SIGHUP, which the app handles as a hang-up."""

    def wait_for_hangup() -> None:
        poller = select.poll()
        poller.register(fd, 0)
        while True:
            for _fd, events in poller.poll():
                if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    arm_watchdog(HANGUP_GRACE_SECONDS, 129)
                    os.kill(os.getpid(), signal.SIGHUP)
                    return

    threading.Thread(target=wait_for_hangup, name="mspkpi-terminal-watch", daemon=True).start()


def arm_watchdog(seconds: float, status: int) -> threading.Timer:
    """End the process with `status` after `seconds`, whatever the main thread is stuck in."""
    timer = threading.Timer(seconds, _hard_exit, args=(status,))
    timer.daemon = True
    timer.start()
    return timer


HOOK_SECONDS = 0.5  # what the hard-exit hooks may take together: the watchdog must still end the process
_exit_hooks: dict[int, Callable[[], None]] = {}
_hooks_lock = threading.Lock()


def on_hard_exit(hook: Callable[[], None]) -> Callable[[], None]:
    """Run `hook` if the watchdog ends the process (the clean path, which would have done the
    same, was cut short): e.g. a sync marks its run interrupted. Returns the call that removes it."""
    key = id(hook)
    with _hooks_lock:
        _exit_hooks[key] = hook

    def remove() -> None:
        with _hooks_lock:
            _exit_hooks.pop(key, None)

    return remove


def _run_exit_hooks() -> None:
    with _hooks_lock:
        hooks = list(_exit_hooks.values())
    for hook in hooks:
        try:
            hook()
        except Exception:  # best effort: the process ends either way
            pass


def _hard_exit(status: int) -> None:
    try:
        # In a thread of their own, with a bound: a hook may wait on what the main thread is stuck in.
        runner = threading.Thread(target=_run_exit_hooks, name="mspkpi-exit-hooks", daemon=True)
        runner.start()
        runner.join(HOOK_SECONDS)
        sys.stderr.flush()
    finally:
        os._exit(status)


received: int | None = None  # the stop signal that arrived, for the exit status
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_status() -> int:
    """128 + the signal that stopped the command (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + (received or signal.SIGINT)


def on_stop_signals() -> None:
    """SIGINT and SIGTERM unwind the command (KeyboardInterrupt) and arm the watchdog.

    The signals are taken by a thread of their own (sigwait), not by the main thread: a
    Python handler runs only between bytecodes, so a main thread waiting in C (SQLite's
    busy wait on a locked database, 30 s) would not even arm the watchdog. The thread arms
    it, then raises the interrupt in the main thread for the clean path."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in STOP_SIGNALS:
        signal.signal(signum, _raise_stop)  # what interrupt_main runs in the main thread
    if sys.unraisablehook is not _stop_not_lost:
        global _earlier_unraisablehook
        _earlier_unraisablehook = sys.unraisablehook
        sys.unraisablehook = _stop_not_lost
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # threads started later inherit the mask
    threading.Thread(target=_watch_stop_signals, name="mspkpi-stop-signals", daemon=True).start()


def _watch_stop_signals() -> None:
    global received
    while True:
        signum = signal.sigwait(STOP_SIGNALS)
        if received is not None:  # a second request: no more waiting
            _hard_exit(128 + signum)
        received = signum
        arm_watchdog(STOP_GRACE_SECONDS, 128 + signum)
        _thread.interrupt_main(signal.Signals(signum))


def _raise_stop(signum: int, _frame) -> None:
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


_earlier_unraisablehook = sys.unraisablehook


def _stop_not_lost(unraisable: sys.UnraisableHookArgs) -> None:
    """A stop raised while Python runs code it cannot raise from (a weakref callback or a
    __del__, e.g. SQLAlchemy's event registry collecting a garbage engine) is printed as
    "Exception ignored" with a traceback, and then lost: the command ran on until the watchdog
    cut it short. Instead nothing is printed, and the stop is raised again in the main thread
    once that callback has returned, where the command's clean path takes it. Raised a moment
    later from a timer thread: an interrupt asked for here would be raised inside this hook."""
    if received is not None and isinstance(unraisable.exc_value, KeyboardInterrupt):
        again = threading.Timer(RESTOP_SECONDS, _thread.interrupt_main, args=(signal.Signals(received),))
        again.daemon = True
        again.start()
        return
    _earlier_unraisablehook(unraisable)
