"""What the player tells other modules.

``course_publishing`` is sent with the course as sender before a course is published. A receiver
returns a list of messages for staff, each a reason the course cannot be published yet (an empty
list when there is none); the player refuses while any is given. lms.quiz connects the bank-size
rule and the paper settings.
"""
from blinker import Namespace

_signals = Namespace()

course_publishing = _signals.signal("course-publishing")
