"""What the quiz tells other modules.

``result_changed`` is sent with the attempt as sender whenever an attempt ends or its pass is taken
away (staff failed a doubtful face check after the test), inside the quiz's transaction, with
``now``. lms.hours connects it: a course's hours follow its test result.
"""
from blinker import Namespace

_signals = Namespace()

result_changed = _signals.signal("result-changed")
