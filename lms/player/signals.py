"""What the player tells other modules.

``course_publishing`` is sent with the course as sender before a course is published. A receiver
returns a list of messages for staff, each a reason the course cannot be published yet (an empty
list when there is none); the player refuses while any is given. lms.quiz connects the bank-size
rule and the paper settings.

``study_time_changed`` is sent with the learner's id as sender, with ``now``, when a person's
decision on a doubtful or failed face check changed whether study time stands (voided, confirmed
after review, or given back), inside the transaction of that decision and after the player has
rebuilt the lessons' totals. lms.hours connects it: whether a course's lessons are confirmed, one
of the rules for crediting its hours, may have changed.
"""
from blinker import Namespace

_signals = Namespace()

course_publishing = _signals.signal("course-publishing")
study_time_changed = _signals.signal("study-time-changed")
