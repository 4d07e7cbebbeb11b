"""Fingerprints of analysed frames and photos, to refuse recycled frames (issue 10).

A frame captured for an earlier check and posted again, whether unchanged, re-encoded, re-ordered,
scaled or shifted, shows the same face pixels and the same landmark geometry; a new capture of the
same person a minute later differs in both (pose, expression, light, camera noise). So a print
keeps the face's pixels and its landmark geometry, each normalised so that scaling, shifting,
in-plane rotation and brightness or contrast changes drop out, and two prints are near-duplicates
when both are close. The sha256 of the bytes catches unchanged replays before any face analysis.

Prints are compared only with prints of the same learner: a family sharing one computer is not a
replay. The thresholds are measured by bench/fingerprint_threshold.py on the real test photos.

Version 2 (issue 21) aligns the face by an affine map fitted on all 68 landmarks instead of a similarity
fixed to the eyes, so that a copy stretched, sheared or seen in perspective (up to 25 degrees) keeps its
print too. Version 1 rows stay on record until the retention period ends; they are compared with the
version 1 print of a new face, at the version 1 thresholds, and every new row is version 2. Which
answers count as replays given these per-face matches is replays.py's business.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, select

from ..extensions import db
from .models import FaceFingerprint

PATCH_SIDE = 16          # stored patch: 16x16 grey levels, 256 bytes
SAMPLE_SIDE = 32         # the aligned patch is sampled at 32x32, then averaged down (less aliasing)
PATCH_LEVELS_PER_SD = 32  # stored grey level = 128 + 32 * (standard scores): +-4 SD fit in a byte
# The aligned window, in units of the distance between the eye centres, from the point between
# them: x to the right along the eye line, y down. It spans brows to chin and cheek to cheek, about
# the detector's box (the only pixels a Face carries); samples beyond it repeat the edge pixels.
WINDOW_X = (-1.0, 1.0)
WINDOW_Y = (-0.7, 1.4)
# Version 2: the window in the landmarks' whitened frame (centroid at 0, unit variance along every
# direction, eye line horizontal), where a frontal face's landmarks span about x -2..2 (jaw to jaw)
# and y -1.5..2.1 (brows to chin). The detector's box (the only pixels a Face carries) reaches about
# x +-1.9 and y -1.9..1.4 there: a window beyond it samples repeated edge pixels, which differ between
# a frame and its scaled copy (copies reached patch 0.47 with y up to 2.1, 0.42 with this window).
WINDOW_X_V2 = (-1.8, 1.8)
WINDOW_Y_V2 = (-1.8, 1.4)
PRINT_VERSION = 2        # what of_face makes and keep stores by default
LEFT_EYE, RIGHT_EYE = slice(36, 42), slice(42, 48)   # dlib's 68-point model, as the image shows them
MAX_IDS_IN_LIST = 5000   # ids per IN (...) list: under SQLite's 32,766 and PostgreSQL's 65,535 parameters
GEOMETRY_VALUES = 68 * 2


@dataclass(frozen=True)
class Fingerprint:
    digest: str        # sha256 hex of the image bytes
    phash: int         # 64-bit DCT hash of the aligned face patch, as a signed 64-bit int
    patch: bytes       # 16x16 uint8 aligned face patch, brightness and contrast normalised
    geometry: bytes    # 68x2 float16 landmarks, normalised for position, scale and rotation (v2: any affine map)
    version: int = PRINT_VERSION


@dataclass(frozen=True)
class Thresholds:
    """Version 1, measured with bench/fingerprint_threshold.py on ../shared/testdata/faces (dlib 20,
    2026-11-29). Duplicates (a 640x480 frame re-encoded at JPEG quality 50..95, scaled 0.6..1.4, shifted,
    these combined, the enrolment photo against its frame; 149 pairs) reach patch 0.146, geometry 0.052,
    hash 10 bits. Different photos of one person reach down to patch 0.636, geometry 0.136, hash 24
    bits; mirrored frames to patch 0.327, hash 22 bits, but geometry 0.033 (a near-symmetric face
    mirrored keeps its shape), which is why both the patch and the geometry must be close. Each
    threshold sits near the middle of its gap (0.146..0.327, 0.052..0.136, 10..22 bits).
    Version 2: see DEFAULT_THRESHOLDS."""
    patch: float = 0.22      # mean absolute difference of the patches, in standard scores
    geometry: float = 0.08   # RMS landmark distance, in units of the landmarks' RMS radius (v2: whitened units)
    hash_bits: int = 16      # Hamming distance of the hashes: the loose prefilter on stored prints


V1_THRESHOLDS = Thresholds()
# Version 2, measured with bench/fingerprint_threshold.py (dlib 20, 2026-12-07) on the test photos and 7 frames
# of turn_a.gif: of 505 copies (re-encoded, scaled, shifted, stretched 0.8-1.25 along x or y, sheared
# +-0.15, seen in perspective at 15-25 degrees about either axis, combined), 501 are within these
# thresholds; the other 4 (stretched 1.25 or 0.8, sheared 0.15, perspective -25) reach patch 0.42 and
# geometry 0.124. An answer needs only REPLAY_MIN_FRAMES of its moving frames matched (replays.py); replays
# of a real webcam clip's turns, warped, matched 18-21 of 19-21 moving frames. Different photos of
# one person stay from patch 0.75, geometry 0.18; a face and its mirror image from patch 0.18 but
# geometry 0.048 and hash 22 bits, which is why mirrored genuine turns are told apart only over a
# whole answer (none of their frames matched on a real webcam clip).
DEFAULT_THRESHOLDS = Thresholds(patch=0.25, geometry=0.10, hash_bits=20)


# --- making a print ------------------------------------------------------------------------------

def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def of_face(data: bytes, face, version: int = PRINT_VERSION) -> Fingerprint:
    """The print of one face (a faces.Face with its landmarks) found in the image ``data``."""
    if face.points is None:
        raise ValueError("the face has no landmarks")
    if version not in (1, 2):
        raise ValueError(f"no print version {version}")
    aligned = aligned_patch(face.patch, face.box, face.points, version)
    shape = normalised_geometry(face.points) if version == 1 else affine_normalised_geometry(face.points)
    return Fingerprint(digest_of(data), perceptual_hash(aligned), _patch_bytes(aligned),
                       shape.astype(np.float16).tobytes(), version)


def aligned_patch(patch: np.ndarray, box, points: np.ndarray, version: int = PRINT_VERSION) -> np.ndarray:
    """The face crop resampled (bilinear) on a window fixed to the landmarks: to the eyes by a
    similarity (version 1) or to all 68 points by an affine map (version 2). The detector's box moves
    by several pixels between a frame and its scaled copy: compared unaligned, the crops of
    duplicates differed by up to 0.81 and different photos of one person from 0.39."""
    left, top, right, bottom = box
    side = patch.shape[0]
    scale = np.array([side / max(right - left, 1), side / max(bottom - top, 1)])
    in_patch = (np.asarray(points, dtype=np.float64) - [left, top]) * scale
    origin, axes = _eye_frame(in_patch) if version == 1 else _whitened_frame(in_patch)
    window_x, window_y = (WINDOW_X, WINDOW_Y) if version == 1 else (WINDOW_X_V2, WINDOW_Y_V2)
    steps = (np.arange(SAMPLE_SIDE) + 0.5) / SAMPLE_SIDE
    xs, ys = np.meshgrid(np.interp(steps, [0, 1], window_x), np.interp(steps, [0, 1], window_y))
    where = origin + np.stack([xs, ys], axis=-1) @ axes
    return _bilinear(np.asarray(patch, dtype=np.float64), where[..., 0] - 0.5, where[..., 1] - 0.5)


def _eye_frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Version 1: origin between the eyes; unit vectors along and across the eye line, one eye
    distance long (rows of ``axes``: window coordinates @ axes = image offset)."""
    left_eye, right_eye = points[LEFT_EYE].mean(axis=0), points[RIGHT_EYE].mean(axis=0)
    eye_distance = max(float(np.linalg.norm(right_eye - left_eye)), 1e-6)
    across = (right_eye - left_eye) / eye_distance
    down = np.array([-across[1], across[0]])
    return (left_eye + right_eye) / 2, np.stack([across, down]) * eye_distance


def _whitened_frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Version 2: the inverse of _whitening (window coordinates @ axes = image offset from the centroid)."""
    centroid, to_whitened = _whitening(points)
    return centroid, np.linalg.inv(to_whitened)


def _whitening(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The affine map that takes the landmarks to their whitened frame: (points - centroid) @ matrix
    has the identity as its covariance and a horizontal eye line. Any affine change of the picture
    (scale, stretch, shear, rotation, shift) that keeps left and right gives the same whitened points;
    a perspective view of up to 25 degrees nearly so."""
    centroid = points.mean(axis=0)
    centred = points - centroid
    values, vectors = np.linalg.eigh(centred.T @ centred / len(centred))
    inverse_root = vectors @ np.diag(1 / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T
    whitened = centred @ inverse_root
    eye_line = whitened[RIGHT_EYE].mean(axis=0) - whitened[LEFT_EYE].mean(axis=0)
    angle = np.arctan2(eye_line[1], eye_line[0])
    cos, sin = np.cos(angle), np.sin(angle)
    return centroid, inverse_root @ np.array([[cos, -sin], [sin, cos]])   # then rotated by -angle


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample at pixel-index coordinates; outside the image the nearest edge pixel is used."""
    height, width = image.shape
    x, y = np.clip(x, 0, width - 1), np.clip(y, 0, height - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    fx, fy = x - x0, y - y0
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _standard_scores(values: np.ndarray) -> np.ndarray:
    """Brightness and contrast out: mean 0, standard deviation 1."""
    return (values - values.mean()) / (values.std() + 1e-6)


def _patch_bytes(aligned: np.ndarray) -> bytes:
    factor = SAMPLE_SIDE // PATCH_SIDE
    small = aligned.reshape(PATCH_SIDE, factor, PATCH_SIDE, factor).mean(axis=(1, 3))
    levels = np.clip(np.round(128 + PATCH_LEVELS_PER_SD * _standard_scores(small)), 0, 255)
    return levels.astype(np.uint8).tobytes()


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II basis: coefficients = M @ block @ M.T."""
    k, i = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    matrix = np.sqrt(2 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    matrix[0] /= np.sqrt(2)
    return matrix


_DCT = _dct_matrix(SAMPLE_SIDE)
# The 64 lowest spatial frequencies but the mean (which normalising removes), lowest first.
_HASH_FREQUENCIES = sorted(((u, v) for u in range(9) for v in range(9) if (u, v) != (0, 0)),
                           key=lambda uv: (uv[0] + uv[1], uv[0]))[:64]
_HASH_ROWS, _HASH_COLUMNS = (np.array(axis) for axis in zip(*_HASH_FREQUENCIES, strict=True))


def perceptual_hash(aligned: np.ndarray) -> int:
    """pHash: one bit per low frequency, set when its coefficient is above the median of the 64."""
    coefficients = (_DCT @ _standard_scores(aligned) @ _DCT.T)[_HASH_ROWS, _HASH_COLUMNS]
    bits = coefficients > np.median(coefficients)
    unsigned = int(np.packbits(bits.astype(np.uint8)).view(">u8")[0])
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned  # fits a signed BIGINT column


def affine_normalised_geometry(points: np.ndarray) -> np.ndarray:
    """Version 2: the 68 landmarks in their whitened frame (see _whitening), so that only what no
    affine map explains is left: the pose and expression of a real head."""
    points = np.asarray(points, dtype=np.float64)
    centroid, to_whitened = _whitening(points)
    return (points - centroid) @ to_whitened


def normalised_geometry(points: np.ndarray) -> np.ndarray:
    """Version 1: the 68 landmarks moved to their centroid, scaled to unit RMS radius and turned so that the
    eye line is horizontal: a similarity normalisation, so a scaled, shifted or tilted copy of a
    frame gives the same shape, while a changed pose or expression does not."""
    points = np.asarray(points, dtype=np.float64)
    centred = points - points.mean(axis=0)
    centred /= max(float(np.sqrt((centred ** 2).sum(axis=1).mean())), 1e-9)
    eye_line = centred[RIGHT_EYE].mean(axis=0) - centred[LEFT_EYE].mean(axis=0)
    angle = np.arctan2(eye_line[1], eye_line[0])
    cos, sin = np.cos(angle), np.sin(angle)
    return centred @ np.array([[cos, -sin], [sin, cos]])   # rotates by -angle (row vectors)


# --- comparing prints ----------------------------------------------------------------------------

def hamming(a: int, b: int) -> int:
    return bin((a ^ b) & ((1 << 64) - 1)).count("1")


def patch_distance(a: Fingerprint, b: Fingerprint) -> float:
    """Mean absolute difference of the normalised patches, in standard scores."""
    return float(_patch_distances(_patch_array(a.patch), _patch_array(b.patch)[None, :])[0])


def geometry_distance(a: Fingerprint, b: Fingerprint) -> float:
    """RMS distance between corresponding landmarks, in units of the face's RMS radius."""
    return float(_geometry_distances(_geometry_array(a.geometry), _geometry_array(b.geometry)[None, :])[0])


def near_duplicate(a: Fingerprint, b: Fingerprint, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """Both the pixels and the geometry of the face are close. The hash test is the prefilter
    find_replays applies to stored prints; it is part of the rule so that both always agree. Prints
    of different versions are never near-duplicates: their numbers mean different things."""
    return (a.version == b.version and hamming(a.phash, b.phash) <= thresholds.hash_bits
            and patch_distance(a, b) <= thresholds.patch
            and geometry_distance(a, b) <= thresholds.geometry)


def _patch_array(patch: bytes) -> np.ndarray:
    return np.frombuffer(patch, dtype=np.uint8).astype(np.float32)


def _geometry_array(geometry: bytes) -> np.ndarray:
    return np.frombuffer(geometry, dtype=np.float16).astype(np.float32)


def _patch_distances(one: np.ndarray, many: np.ndarray) -> np.ndarray:
    return np.abs(many - one).mean(axis=1) / PATCH_LEVELS_PER_SD


def _geometry_distances(one: np.ndarray, many: np.ndarray) -> np.ndarray:
    differences = (many - one).reshape(len(many), -1, 2)
    return np.sqrt((differences ** 2).sum(axis=2).mean(axis=1))


_BITS_IN_BYTE = np.array([bin(value).count("1") for value in range(256)], dtype=np.uint8)


def hamming_many(one: int, many: np.ndarray) -> np.ndarray:
    """Hamming distances of one hash to an int64 array of hashes (numpy 1.26 has no bitwise_count)."""
    differing = np.bitwise_xor(many, np.int64(one)).view(np.uint8).reshape(len(many), 8)
    return _BITS_IN_BYTE[differing].sum(axis=1)


# --- storage -------------------------------------------------------------------------------------

def byte_replay(learner_id: int, digests: list[str]) -> bool:
    """Is any of these exact images already on record for the learner? (Cheap: before any analysis.)
    Looked up by digest alone, the selective index, and only then narrowed to the learner: filtered
    by learner too, SQLite scanned the learner's prints (30 ms with 40,000 of them; now 0.2 ms)."""
    if not digests:
        return False
    owners = db.session.scalars(select(FaceFingerprint.learner_id).where(FaceFingerprint.digest.in_(set(digests))))
    return learner_id in set(owners)


def thresholds_for(version: int, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Thresholds:
    """Version 1 prints are always compared at the version 1 thresholds; ``thresholds`` is for version 2."""
    return V1_THRESHOLDS if version == 1 else thresholds


@dataclass(frozen=True)
class Source:
    """What a stored print was kept for: a check attempt's frame or an enrolment photo. Rows kept
    with neither (only tests and benches keep such) count as one source of their own."""
    attempt_id: int | None
    enrolment_id: int | None


def matching_sources(learner_id: int, prints: list[Fingerprint],
                     thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[set[Source]]:
    """For each of ``prints``, the sources of the learner's stored prints it is a near-duplicate of
    (empty when none). A print is compared only with stored prints of its own version. Call it before
    keep() stores the attempt's own prints. Only (id, version, hash, source) of every stored print is
    read; patches and geometry only of those whose hash is close to one of ``prints``."""
    if not prints:
        return []
    rows = db.session.execute(select(
        FaceFingerprint.id, FaceFingerprint.phash, FaceFingerprint.version, FaceFingerprint.attempt_id,
        FaceFingerprint.enrolment_id).where(FaceFingerprint.learner_id == learner_id)).all()
    if not rows:
        return [set() for _ in prints]
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    hashes = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
    versions = np.fromiter((row[2] for row in rows), dtype=np.int64, count=len(rows))
    sources = {row[0]: Source(row[3], row[4]) for row in rows}
    close = [ids[(versions == p.version) & (hamming_many(p.phash, hashes) <= thresholds_for(p.version, thresholds).hash_bits)]
             for p in prints]
    candidates = _Candidates.load(np.unique(np.concatenate(close)))
    return [{sources[row_id] for row_id in candidates.near_duplicates(p, near, thresholds_for(p.version, thresholds))}
            for p, near in zip(prints, close, strict=True)]


def find_replays(learner_id: int, prints: list[Fingerprint], thresholds: Thresholds = DEFAULT_THRESHOLDS,
                 with_enrolment: bool = True) -> list[int]:
    """Indexes of ``prints`` that are near-duplicates of a print already stored for the learner
    (``with_enrolment``: the enrolment photo's too). Per-frame: replays.py decides whole answers."""
    matched = matching_sources(learner_id, prints, thresholds)
    return [index for index, found in enumerate(matched)
            if any(with_enrolment or source.enrolment_id is None for source in found)]


@dataclass(frozen=True)
class _Candidates:
    """Stored prints whose hash passed the prefilter, as matrices: one row per print."""
    ids: np.ndarray
    patches: np.ndarray      # (n, 256) float32
    geometries: np.ndarray   # (n, 136) float32

    @classmethod
    def load(cls, ids: np.ndarray) -> "_Candidates":
        query = select(FaceFingerprint.id, FaceFingerprint.patch, FaceFingerprint.geometry)
        # By id, in chunks: faster than one pass over all the learner's prints even for thousands of
        # candidates (19 against 129 ms for 40,000 stored, bench/face_bench.py).
        wanted = ids.tolist()
        rows = [row for start in range(0, len(wanted), MAX_IDS_IN_LIST)
                for row in db.session.execute(
                    query.where(FaceFingerprint.id.in_(wanted[start:start + MAX_IDS_IN_LIST])))]
        return cls(np.array([row[0] for row in rows], dtype=np.int64),
                   _stack(b"".join(row[1] for row in rows), np.uint8, PATCH_SIDE * PATCH_SIDE),
                   _stack(b"".join(row[2] for row in rows), np.float16, GEOMETRY_VALUES))

    def near_duplicates(self, p: Fingerprint, ids: np.ndarray, thresholds: Thresholds) -> list[int]:
        """Those of ``ids`` (already through the hash prefilter) whose patch and geometry are close to p's."""
        rows = np.flatnonzero(np.isin(self.ids, ids))
        if not len(rows):
            return []
        close = ((_patch_distances(_patch_array(p.patch), self.patches[rows]) <= thresholds.patch)
                 & (_geometry_distances(_geometry_array(p.geometry), self.geometries[rows]) <= thresholds.geometry))
        return self.ids[rows[close]].tolist()


def _stack(joined: bytes, dtype, width: int) -> np.ndarray:
    return np.frombuffer(joined, dtype=dtype).astype(np.float32).reshape(-1, width)


def keep(learner_id: int, prints: list[Fingerprint], now: datetime, attempt_id: int | None = None,
         enrolment_id: int | None = None) -> list[FaceFingerprint]:
    """Add (not commit) one row per print, for an attempt's frames or an enrolment photo."""
    rows = [FaceFingerprint(learner_id=learner_id, attempt_id=attempt_id, enrolment_id=enrolment_id, created_at=now,
                            digest=p.digest, phash=p.phash, patch=p.patch, geometry=p.geometry, version=p.version)
            for p in prints]
    db.session.add_all(rows)
    return rows


def purge(now: datetime, retention_days: int) -> int:
    """Delete (not commit) prints older than the evidence-retention period; returns how many."""
    cutoff = now - timedelta(days=retention_days)
    return db.session.execute(delete(FaceFingerprint).where(FaceFingerprint.created_at < cutoff)).rowcount
