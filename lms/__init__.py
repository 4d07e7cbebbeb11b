"""Online safety-training platform. The app factory is ``lms.app.create_app``: this package
imports nothing, so that the offline certificate verifier (``lms.hours.cli``) runs without Flask."""
