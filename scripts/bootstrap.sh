#!/usr/bin/env bash
# Installs whatever is missing: Debian packages, the virtualenv and Python packages,
# compiled translations and instance secrets. Safe to run again; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3 python3-venv ffmpeg chromium fonts-noto-cjk fonts-wqy-microhei poppler-utils wrk)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}. Run this script as root, or install them first." >&2
    exit 1
  fi
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "Python 3.11 or newer is needed (found $("$PYTHON" --version))." >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat setup.cfg setup.py | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "Installing Python packages into .venv"
  .venv/bin/pip install -q --upgrade pip "setuptools<81" wheel
  .venv/bin/pip install -q -e ".[test]"
  # face_recognition declares a dependency on dlib, which would compile from source
  # (far too slow); dlib-bin (a prebuilt wheel, in setup.cfg) provides the same module.
  .venv/bin/pip install -q --no-deps "face_recognition==1.3.0"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

.venv/bin/pybabel compile -d lms/translations >/dev/null

# Secrets live outside git, in instance/config.py, created once per installation.
if [ ! -f instance/config.py ]; then
  mkdir -p instance
  (umask 077; .venv/bin/python scripts/make_instance_config.py > instance/config.py)
  echo "Created instance/config.py with fresh secrets"
fi
mkdir -p media
bash scripts/fetch_test_footage.sh || echo "Test footage not fetched (see above); the tests that play it are skipped." >&2
