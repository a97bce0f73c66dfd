#!/usr/bin/env bash
# make bench-render: a generated tenant of $ARTICLES (10,000) articles —
# the demo articles' seed-length Vietnamese text with photo manifests —
# rendered in full by blocpress to a local directory and to MinIO
# (BenchmarkFullBuild in services/render), and the same content built by
# Hugo with the minimal theme in services/render/bench/hugo. Prints both
# times and the ratio blocpress local / Hugo (goal ≤ 1.0). The local build
# and Hugo's each run twice and the faster counts; MinIO runs once.
# ARTICLES (10000) sets the size; KEEP_OUTPUT=1 keeps both built sites.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BENCH=$ROOT/services/render/bench
BIN=$ROOT/bin
HUGO_VERSION=v0.152.2
ARTICLES=${ARTICLES:-10000}
WORK=${BENCH_DIR:-$ROOT/deploy/artifacts/bench-render}

if ! "$BIN/hugo" version 2>/dev/null | grep -q "hugo $HUGO_VERSION"; then
	echo "installing hugo $HUGO_VERSION into $BIN (go install; a few minutes the first time)…"
	GOBIN=$BIN GOWORK=off go install "github.com/gohugoio/hugo@$HUGO_VERSION"
fi

rm -rf "$WORK"
mkdir -p "$WORK"
echo "blocpress: generating $ARTICLES articles and rendering them (local directory, then MinIO)…"
(cd "$ROOT/services/render" && BENCH_ARTICLES=$ARTICLES BENCH_RENDER_DIR=$WORK \
	go test -run '^$' -bench '^BenchmarkFullBuild$' -benchtime 1x -timeout 30m . >"$WORK/go-bench.txt" 2>&1) ||
	{ cat "$WORK/go-bench.txt" >&2; exit 1; }
# shellcheck disable=SC1091
. "$WORK/blocpress.txt"

echo "hugo: building the same content…"
cp -r "$BENCH/hugo/." "$WORK/hugo/"
# Twice (the second with Hugo's cache warm, into an emptied destination);
# the faster counts, as for blocpress, since the machine may be shared.
hugo_seconds=
for round in 1 2; do
	rm -rf "$WORK/hugo-public"
	start=$(date +%s.%N)
	"$BIN/hugo" --quiet --source "$WORK/hugo" --destination "$WORK/hugo-public" --cacheDir "$WORK/hugo-cache" >"$WORK/hugo.txt" 2>&1 ||
		{ cat "$WORK/hugo.txt" >&2; exit 1; }
	end=$(date +%s.%N)
	took=$(echo "$end - $start" | bc -l)
	printf '  hugo round %d: %.2f s\n' "$round" "$took"
	if [ -z "$hugo_seconds" ] || [ "$(echo "$took < $hugo_seconds" | bc -l)" -eq 1 ]; then hugo_seconds=$took; fi
done
hugo_files=$(find "$WORK/hugo-public" -type f | wc -l)
local_bytes=$(du -sm "$WORK/blocpress" | cut -f1)
hugo_bytes=$(du -sm "$WORK/hugo-public" | cut -f1)

printf '\n%-28s %10s %8s %8s\n' "" seconds files MiB
printf '%-28s %10.2f %8d %8s\n' "blocpress → local directory" "$local_seconds" "$local_files" "$local_bytes"
printf '%-28s %10.2f %8d %8s\n' "blocpress → MinIO" "$minio_seconds" "$minio_files" "–"
printf '%-28s %10.2f %8d %8s\n' "hugo $HUGO_VERSION" "$hugo_seconds" "$hugo_files" "$hugo_bytes"
ratio=$(echo "$local_seconds / $hugo_seconds" | bc -l)
printf '\n%d articles; ratio blocpress local / hugo = %.2f (goal ≤ 1.0); MinIO / hugo = %.2f\n' \
	"$articles" "$ratio" "$(echo "$minio_seconds / $hugo_seconds" | bc -l)"
if [ -n "${KEEP_OUTPUT:-}" ]; then
	echo "outputs in $WORK (blocpress/, hugo-public/)"
else
	rm -rf "$WORK/blocpress" "$WORK/hugo-public" "$WORK/hugo/content" "$WORK/hugo-cache"
	echo "(KEEP_OUTPUT=1 keeps both sites in $WORK)"
fi
