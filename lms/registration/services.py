"""Registering a learner: the account, profile and materials (lms.learners) and the face enrolment
from the 1-inch photo (lms.proctor), in one transaction.

An operation above both packages, so that neither imports the other for it: the proctor reads
learners, and lms.learners' services know nothing of faces."""
from datetime import datetime

from ..core.context import Actor
from ..extensions import db
from ..files.storage import CheckedImage, files_kept_only_if_committed
from ..learners import services as learners
from ..learners.models import PHOTO, Learner
from ..proctor import services as proctor


def register_learner(profile: learners.Profile, password: str, images: dict[str, CheckedImage],
                     now: datetime, actor: Actor, enrolment: proctor.EnrolmentCandidate | None = None) -> Learner:
    """Create the learner's account, profile, encrypted materials and face enrolment (from the
    1-inch photo) in one transaction. ``enrolment`` is the photo's assessment when the caller
    already made it; a photo that cannot be an enrolment photo is refused before anything is written.

    Refuses (RuleViolation) a person outside the learner age range, whoever calls; a number already
    registered raises learners.DuplicateRegistration (see learners.new_learner_account)."""
    user = learners.new_learner_account(profile, password, now, actor)
    if PHOTO in images and enrolment is None:
        enrolment = proctor.assess_photo(images[PHOTO].data)
    with files_kept_only_if_committed() as stored:
        learner = learners.add_learner(user, profile, images, now, actor, stored)
        if PHOTO in images:
            photo = next(record for record in stored if record.id == learner.photo_file_id)
            proctor.add_enrolment(learner, photo, enrolment, now, actor)
        db.session.commit()
    return learner
