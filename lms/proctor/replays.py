"""Whole answers that replay an earlier one (issue 21): the rule over the per-face matches of fingerprints.py.

How tries.py uses it (one entry per posted frame, in order, in both lists):

    frames = [(image.data, analysis.faces) for image, analysis in zip(images, analyses)]
    moving = [...]   # True where the pose differs from the hold baseline by half the asked change
    if replays.replayed_answer(learner_id, frames, moving, rule.mode):
        ...          # fails as "replayed"
    ...
    fingerprints.keep(learner_id, replays.prints_to_keep(frames, moving, rule.mode), now, attempt_id=attempt.id)

The module makes every print it needs itself: version 2 prints for the stored version 2 rows and version 1
prints for the rows from before version 2 (each compared at its own version's thresholds), each as the face
is and mirrored (faces.mirrored: a flipped replay turns the other way).

Camera answers. Frames of one person looking ahead at one webcam are near-duplicates of each other
whatever the print (bench/fingerprint_threshold.py, README "Face checks"), so an answer's hold frames never
count; they are stored, and its moving frames are compared with every stored frame.
For each earlier attempt, the answer's moving frames that are copies (CAMERA_COPY) of any stored print of
that attempt are counted; the answer is a replay when the count reaches min(REPLAY_MIN_FRAMES, moving
frames). The
enrolment photo is one still picture: the answer is a replay of it only when every moving frame (at
least REPLAY_MIN_FRAMES of them) matches it, i.e. the whole turn is made of that one picture. A genuine
turn of a learner who took the enrolment selfie minutes before at the same desk reaches the asked
change in frames that no longer match a frontal picture; hold frames would match it (hence not compared).

Photo answers (two photos from the album): any photo matching any stored print, the enrolment photo's
included, is a replay, as before.

Known limit, measured: two genuine turns of one learner in the same direction at the same place match
frame by frame as closely as a stretched or perspective-warped copy does. Refusing those copies would
sign genuine learners out on their second check the same way, so camera answers are compared at the
copy thresholds, which catch re-encoded and rescaled copies and no genuine repeat measured, and a
warped copy of a recorded move is not refused by this rule. See the README, "Face checks".
"""
from collections import defaultdict
from collections.abc import Sequence

from . import decisions, faces, fingerprints
from .fingerprints import DEFAULT_THRESHOLDS, Fingerprint, Source, Thresholds

# Warped replays of a real webcam clip's turns matched all their moving frames but at most one (7-21 of them,
# bench/fingerprint_threshold.py); 3 leaves room for a missed copy and is above the 1-2 stray matches seen
# between some genuine moves in different directions (README, "Face checks").
REPLAY_MIN_FRAMES = 3
# Camera answers: only copies of frames count. Two genuine moves of one learner the same way match frame by
# frame at the loose thresholds (left turns 7 s apart: 7 of 7 moving frames, even at patch 0.12 / geometry
# 0.055); at these, not one moving frame of the webcam clip's 9 genuine moves matched another move (72
# ordered pairs), while re-encoded and rescaled copies of every move did (9 of 9) and 6 of 9 copies
# stretched by 20 %. Measured on the frames of bench/fingerprint_threshold.py; README, "Face checks".
# Copies within these have hashes at most 6-12 bits apart; 12 keeps the prefilter selective on a learner's
# own prints (20 let 29-43 % of 40,000 noisy prints of the same face through: 1.5 s, bench/face_bench.py).
CAMERA_COPY = Thresholds(patch=0.06, geometry=0.04, hash_bits=12)


def replayed_answer(learner_id: int, frames: Sequence[tuple[bytes, Sequence[faces.Face]]], moving: Sequence[bool],
                    mode: str, thresholds: Thresholds | None = None) -> bool:
    """Does this answer replay an earlier attempt of the learner (or, see the module docstring, the
    enrolment photo)? ``thresholds`` are for version 2 prints (default: CAMERA_COPY for a camera answer,
    the loose DEFAULT_THRESHOLDS for photos); version 1 rows use theirs, and only photos are compared with
    them (their camera rows hold still frames of the old capture, which genuine frames match)."""
    if len(frames) != len(moving):
        raise ValueError("one moving flag per frame")
    camera = mode != decisions.PHOTOS
    thresholds = thresholds or (CAMERA_COPY if camera else DEFAULT_THRESHOLDS)
    compared = compared_frames(moving, mode)
    prints, owners = _answer_prints(frames, compared, versions=(fingerprints.PRINT_VERSION,) if camera else None)
    matches = fingerprints.matching_sources(learner_id, prints, thresholds)
    return is_replay(frames_by_source(matches, owners), moving, mode)


def compared_frames(moving: Sequence[bool], mode: str) -> list[int]:
    """Indexes of the frames whose faces are compared with stored prints: the moving ones of a camera
    answer, both photos of a photo answer."""
    return [index for index, turned in enumerate(moving) if turned or mode == decisions.PHOTOS]


def prints_to_keep(frames: Sequence[tuple[bytes, Sequence[faces.Face]]], moving: Sequence[bool],
                   mode: str) -> list[Fingerprint]:
    """What to store for this answer (current version, as seen): the faces of every frame. Hold frames are
    never compared as the new answer's, but they are kept to compare with: a recorded answer played
    backwards makes its hold frames the moving ones (from the turned pose back to the front), and at the
    copy thresholds a genuine moving frame, turned away from its own hold pose, does not match them."""
    return [fingerprints.of_face(data, face) for data, found in frames for face in found]


def _answer_prints(frames, compared: list[int], versions=None) -> tuple[list[Fingerprint], list[int]]:
    """Every print the comparison needs (``versions``, default both; as seen and mirrored), and each one's
    frame."""
    prints, owners = [], []
    for index in compared:
        data, found = frames[index]
        for face in found:
            for view in (face, faces.mirrored(face)):
                for version in versions or (1, fingerprints.PRINT_VERSION):
                    prints.append(fingerprints.of_face(data, view, version))
                    owners.append(index)
    return prints, owners


def frames_by_source(matches: list[set[Source]], owners: list[int]) -> dict[Source, set[int]]:
    """Which frames matched each stored source (an attempt or the enrolment photo)."""
    matched = defaultdict(set)
    for sources, frame in zip(matches, owners, strict=True):
        for source in sources:
            matched[source].add(frame)
    return dict(matched)


def is_replay(matched: dict[Source, set[int]], moving: Sequence[bool], mode: str,
              min_frames: int = REPLAY_MIN_FRAMES) -> bool:
    """The answer-level rule of the module docstring, on the frames each stored source matched."""
    if mode == decisions.PHOTOS:
        return any(matched.values())
    turned = {index for index, flag in enumerate(moving) if flag}
    if not turned:
        return False   # nothing to compare: such an answer fails the turn anyway
    for source, frames in matched.items():
        hits = len(frames & turned)
        if source.enrolment_id is not None:
            if hits == len(turned) and hits >= min_frames:
                return True
        elif hits >= min(min_frames, len(turned)):
            return True
    return False
