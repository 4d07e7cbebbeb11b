"""A learner's registration (account, profile, materials and face enrolment in one transaction) and
the learner's own materials page: above lms.learners and lms.proctor, so that neither imports the other."""
