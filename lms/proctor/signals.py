"""What the proctor tells the modules that ask it for face checks.

``check_changed`` is sent whenever a check's status changes, with the check's context kind as the
sender and ``check``, ``previous`` (the status before) and ``now`` as keyword arguments. It is sent
inside the transaction that changes the check, before its commit, so that what a receiver writes
lands (or rolls back) together with the change. A module connects its receiver for its own context
kind in its ``init_app``:

    check_changed.connect(on_check_changed, sender="study_session")

Connecting the same function again (every app the tests build calls init_app) keeps one
connection: blinker identifies receivers by the function.
"""
from blinker import Namespace

_signals = Namespace()

check_changed = _signals.signal("check-changed")
