#!/usr/bin/env bash
# Install Eleventy from the npm registry under $BENCH_ROOT, and scaffold an Eleventy site
# holding a corpus, the way the peers benchmark builds it (PEERS.md: one page per post and
# one index, Nunjucks layouts, markdownTemplateEngine off). Called by bench/run.py --peers.
# usage: setup.sh CORPUS_DIR SITE_DIR        prints Eleventy's version last
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CORPUS="$(cd "$1" && pwd)"
SITE="$2"
BENCH_ROOT="${BENCH_ROOT:-/tmp/ssg-bench}"
ELEVENTY_VERSION="${ELEVENTY_VERSION:-3.1.5}"  # 3.1.8 needs a package the registry here lacks
P="$BENCH_ROOT/eleventy"

if [ "$(cat "$P/version" 2>/dev/null)" != "$ELEVENTY_VERSION" ]; then
  rm -rf "$P"
  mkdir -p "$P"
  npm install --prefix "$P" --no-audit --no-fund --loglevel=error "@11ty/eleventy@$ELEVENTY_VERSION" >&2
  echo "$ELEVENTY_VERSION" > "$P/version"
fi

rm -rf "$SITE"
mkdir -p "$SITE/posts"
cp -r "$HERE/site/." "$SITE/"
cp "$CORPUS"/*.md "$SITE/posts/"
ln -s "$P/node_modules" "$SITE/node_modules"
node "$P/node_modules/@11ty/eleventy/cmd.cjs" --version
