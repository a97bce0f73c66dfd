#!/usr/bin/env bash
# make check-pages: starts the demo platform on free ports and checks every
# page type of one tenant with the W3C Nu Html Checker (vnu-jar on the
# machine's Java), axe-core and Lighthouse (both in Debian's chromium),
# checks feeds and sitemaps are well-formed XML, and takes screenshots at
# 360 px and 1440 px. Artefacts go to deploy/artifacts/check-pages (or
# $ARTIFACTS). Exits non-zero on any vnu error, axe violation, request to
# another host, or Lighthouse performance < 95 or accessibility,
# best-practices, SEO < 100.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
CHECK=$ROOT/services/render/check
ART=${ARTIFACTS:-$ROOT/deploy/artifacts/check-pages}
TENANT=${TENANT:-hungyen}
BIN=${BIN:-$ROOT/bin} # the platform's binaries (make build)
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
CHROME_FLAGS="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync"

for tool in java node npm curl jq python3 "$CHROME_PATH" "$BIN/blocpress-local"; do
	command -v "$tool" >/dev/null || { echo "check-pages: $tool not found (make deps build installs what is missing)" >&2; exit 1; }
done

# Pinned tools (package-lock.json), installed once into check/node_modules.
# Puppeteer and Lighthouse never download a browser: CHROME_PATH is Debian's.
if [ ! -f "$CHECK/node_modules/.package-lock.json" ] || ! cmp -s "$CHECK/package-lock.json" "$CHECK/node_modules/.lock-copy"; then
	echo "installing the pinned checkers (npm ci)…"
	(cd "$CHECK" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
	cp "$CHECK/package-lock.json" "$CHECK/node_modules/.lock-copy"
fi
VNU=$CHECK/node_modules/vnu-jar/build/dist/vnu.jar
LIGHTHOUSE=$CHECK/node_modules/.bin/lighthouse

rm -rf "$ART"
mkdir -p "$ART/pages" "$ART/screenshots" "$ART/lighthouse"
DATA=$(mktemp -d)
PLATFORM_PID=
cleanup() {
	if [ -n "$PLATFORM_PID" ] && kill -0 "$PLATFORM_PID" 2>/dev/null; then
		kill -TERM "$PLATFORM_PID" 2>/dev/null || true
		for _ in $(seq 60); do kill -0 "$PLATFORM_PID" 2>/dev/null || break; sleep 0.5; done
		kill -KILL "$PLATFORM_PID" 2>/dev/null || true
	fi
	rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "starting the demo platform (log: $ART/platform.log)…"
ports=()
for p in nats minio redis site ingest view-counter image-resize moderation render; do ports+=("-$p-port" 0); done
"$BIN/blocpress-local" -root "$ROOT" -data "$DATA" -bin "$BIN" "${ports[@]}" >"$ART/platform.log" 2>&1 &
PLATFORM_PID=$!
for _ in $(seq 480); do
	grep -q "blocpress is running" "$ART/platform.log" && break
	kill -0 "$PLATFORM_PID" 2>/dev/null || { echo "check-pages: the platform stopped:" >&2; tail -30 "$ART/platform.log" >&2; exit 1; }
	sleep 0.5
done
grep -q "blocpress is running" "$ART/platform.log" || { echo "check-pages: the platform did not start in 4 minutes" >&2; exit 1; }
SITE=$(awk -v t="$TENANT" '$1 == "site" && $2 == t {print $3; exit}' "$ART/platform.log")
INGEST=$(awk '$1 == "ingest" && $2 == "API" {print $3; exit}' "$ART/platform.log")
NATS=$(awk '$1 == "NATS" {print $2; exit}' "$ART/platform.log")
[ -n "$SITE" ] && [ -n "$INGEST" ] && [ -n "$NATS" ] || { echo "check-pages: could not read the URLs from the platform's output" >&2; exit 1; }
ORIGIN=${SITE%/$TENANT/}
echo "site $SITE, ingest $INGEST"

# The demo articles of the tenant, all published.
want=$(jq -r .tenant "$ROOT"/deploy/demo/articles/*.json | grep -cx "$TENANT")
for _ in $(seq 240); do
	have=$(curl -fsS "${SITE}rss.xml" 2>/dev/null | grep -c '<item>' || true)
	[ "$have" -ge "$want" ] && break
	sleep 0.5
done
[ "$have" -ge "$want" ] || { echo "check-pages: $have of $want demo articles of $TENANT published in 2 minutes" >&2; exit 1; }

# A takedown notice: one more article, published, then taken down.
KEY=$(jq -r ".tenants.\"$TENANT\".editor_key" "$DATA/credentials.json")
CATEGORY=$(jq -r "select(.tenant == \"$TENANT\") | .category" "$ROOT"/deploy/demo/articles/*.json | head -1)
ID=$(curl -fsS -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "$INGEST/v1/tenants/$TENANT/articles" \
	-d "{\"category\":\"$CATEGORY\",\"title\":\"Bài viết thử nghiệm sẽ được gỡ bỏ\",\"lead\":\"Bài này được đăng để kiểm tra trang gỡ bỏ.\",\"body\":[{\"type\":\"paragraph\",\"text\":\"Nội dung thử nghiệm.\"}],\"author\":\"Ban biên tập\"}" | jq -r .id)
TAKEDOWN_URL=
for _ in $(seq 120); do
	TAKEDOWN_URL=$(curl -fsS -H "Authorization: Bearer $KEY" "$INGEST/v1/tenants/$TENANT/articles/$ID" | jq -r 'select(.status == "published") | .public_url')
	[ -n "$TAKEDOWN_URL" ] && break
	sleep 0.5
done
[ -n "$TAKEDOWN_URL" ] || { echo "check-pages: the takedown test article was not published" >&2; exit 1; }
(cd "$ROOT/services/render" && go run ./check/takedown -nats "$NATS" -tenant "$TENANT" -article "$ID" \
	-reason "notice: Bài viết được gỡ theo yêu cầu của Ban biên tập.")
for _ in $(seq 60); do curl -fsS "$TAKEDOWN_URL" | grep -q 'Lý do' && break; sleep 0.5; done

# A tagged article, for the tag page (ingest takes "tags" since the API of
# issue 3; an ingest without them leaves the tag page out, said below).
TAGGED=$(curl -fsS -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' "$INGEST/v1/tenants/$TENANT/articles" \
	-d "{\"category\":\"$CATEGORY\",\"title\":\"Đẩy mạnh chuyển đổi số trong các cơ quan Đảng\",\"lead\":\"Các chi bộ ứng dụng phần mềm quản lý đảng viên.\",\"body\":[{\"type\":\"paragraph\",\"text\":\"Nội dung về chuyển đổi số.\"}],\"author\":\"Ban biên tập\",\"tags\":[\"Chuyển đổi số\"]}" | jq -r .id || true)
TAG_URL=
for _ in $(seq 120); do
	[ -n "$TAGGED" ] && [ "$TAGGED" != null ] || break
	url=$(curl -fsS -H "Authorization: Bearer $KEY" "$INGEST/v1/tenants/$TENANT/articles/$TAGGED" | jq -r 'select(.status == "published") | .public_url')
	if [ -n "$url" ]; then
		tag=$(curl -fsS "$url" | grep -o 'href="[^"]*" rel="tag"' | head -1 | cut -d'"' -f2 || true)
		[ -n "$tag" ] && TAG_URL=$ORIGIN$tag
		break
	fi
	sleep 0.5
done
[ -n "$TAG_URL" ] || echo "check-pages: no tagged article was published (does ingest take \"tags\"?); the tag page is not checked" >&2

# The pages: take addresses from the feed and the pages themselves.
RSS=$(curl -fsS "${SITE}rss.xml")
# (a demo article, not the short tagged test article)
ARTICLE=$(grep -o '<link>[^<]*bai-viet/[^<]*</link>' <<<"$RSS" | grep -v -e "-${TAGGED:-none}\.html" | head -1 | sed 's/<[^>]*>//g')
AUTHOR=$ORIGIN$(curl -fsS "$ARTICLE" | grep -o 'href="[^"]*" rel="author"' | head -1 | cut -d'"' -f2)
MONTH=$(curl -fsS "${SITE}sitemap.xml" | grep -o '<loc>[^<]*sitemap-[0-9-]*\.xml</loc>' | head -1 | sed 's/<[^>]*>//g')
declare -A PAGES=(
	[home]="$SITE"
	[category]="$SITE$CATEGORY/"
	[archive]="${SITE}$CATEGORY/trang-1.html"
	[article]="$ARTICLE"
	[author]="$AUTHOR"
	[notfound]="${SITE}khong-co-trang-nay.html"
	[takedown]="$TAKEDOWN_URL"
)
ORDER=(home category archive article author notfound takedown)
if [ -n "$TAG_URL" ]; then
	PAGES[tag]=$TAG_URL
	ORDER+=(tag)
fi
declare -A XMLS=(
	[rss]="${SITE}rss.xml" [atom]="${SITE}atom.xml" [category-rss]="$SITE$CATEGORY/rss.xml" [category-atom]="$SITE$CATEGORY/atom.xml"
	[sitemap]="${SITE}sitemap.xml" [sitemap-pages]="${SITE}sitemap-pages.xml" [sitemap-news]="${SITE}sitemap-news.xml" [sitemap-month]="$MONTH"
)
declare -A STATUS
for name in "${ORDER[@]}"; do
	STATUS[$name]=$(curl -sS -o "$ART/pages/$name.html" -w '%{http_code}' "${PAGES[$name]}")
done

fail=0
declare -A VNU AXE LH XMLOK
# W3C Nu Html Checker, every page in one JVM.
echo "vnu…"
java -jar "$VNU" --errors-only --format gnu "${ORDER[@]/#/$ART/pages/}" 2>"$ART/vnu.txt" || true
for name in "${ORDER[@]}"; do
	VNU[$name]=$(grep -c "$name.html" "$ART/vnu.txt" || true)
done

# Feeds and sitemaps: well-formed XML.
for name in "${!XMLS[@]}"; do
	if curl -fsS "${XMLS[$name]}" -o "$ART/pages/$name.xml" && python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$ART/pages/$name.xml" 2>>"$ART/xml.txt"; then
		XMLOK[$name]=ok
	else
		XMLOK[$name]=BAD; fail=1
	fi
done

# axe-core, foreign requests and screenshots in chromium.
echo "axe and screenshots…"
args=()
for name in "${ORDER[@]}"; do args+=("$name=${PAGES[$name]}"); done
(cd "$CHECK" && node browser.mjs "$ART/screenshots" "${args[@]}") | tee "$ART/axe.txt"
for name in "${ORDER[@]}"; do
	AXE[$name]=$(jq --arg n "$name" '[.[] | select(.name == $n) | .violations[]] | length' "$ART/screenshots/axe.json")
	foreign=$(jq --arg n "$name" '[.[] | select(.name == $n) | .foreign[]] | length' "$ART/screenshots/axe.json")
	[ "$foreign" -eq 0 ] || fail=1
done
mv "$ART/screenshots/axe.json" "$ART/axe.json"

# Lighthouse on the home and article pages (mobile, simulated throttling).
for name in home article; do
	echo "lighthouse $name…"
	"$LIGHTHOUSE" "${PAGES[$name]}" --quiet --output=json --output=html --output-path="$ART/lighthouse/$name" \
		--only-categories=performance,accessibility,best-practices,seo --max-wait-for-load=45000 \
		--chrome-flags="$CHROME_FLAGS" || true
	j=$ART/lighthouse/$name.report.json
	if [ -f "$j" ]; then
		LH[$name]=$(jq -r '[.categories.performance, .categories.accessibility, .categories["best-practices"], .categories.seo] | map(if .score == null then "–" else (.score * 100 | round | tostring) end) | join(" ")' "$j")
		jq -r '.audits[] | select(.score != null and .score < 1 and (.scoreDisplayMode == "binary" or .scoreDisplayMode == "numeric")) | "  \(.id): \(.score) \(.displayValue // "")"' "$j" >"$ART/lighthouse/$name.failing.txt"
	else
		LH[$name]="– – – –"
	fi
done

# Summary.
printf '\n%-9s %-6s %-5s %-5s %-30s %s\n' page status vnu axe "lighthouse perf/a11y/bp/seo" url
for name in "${ORDER[@]}"; do
	lh=${LH[$name]:-}
	printf '%-9s %-6s %-5s %-5s %-30s %s\n' "$name" "${STATUS[$name]}" "${VNU[$name]}" "${AXE[$name]}" "${lh:-n/a}" "${PAGES[$name]}"
	[ "${VNU[$name]}" -eq 0 ] && [ "${AXE[$name]}" -eq 0 ] || fail=1
	if [ -n "$lh" ]; then
		read -r perf a11y bp seo <<<"$lh"
		if [[ "$perf $a11y $bp $seo" =~ ^[0-9]+\ [0-9]+\ [0-9]+\ [0-9]+$ ]]; then
			[ "$perf" -ge 95 ] && [ "$a11y" -ge 100 ] && [ "$bp" -ge 100 ] && [ "$seo" -ge 100 ] || fail=1
		else
			fail=1
		fi
	fi
done
printf '\nXML:'
for name in "${!XMLS[@]}"; do printf ' %s %s;' "$name" "${XMLOK[$name]}"; done
printf '\n\nvnu messages: %s\naxe details: %s\nLighthouse reports: %s\nscreenshots: %s\n' \
	"$ART/vnu.txt" "$ART/axe.json" "$ART/lighthouse/" "$ART/screenshots/"
for name in home article; do
	[ -s "$ART/lighthouse/$name.failing.txt" ] && { echo "Lighthouse audits below 1 on $name:"; cat "$ART/lighthouse/$name.failing.txt"; }
done
if [ "$fail" -ne 0 ]; then
	echo "check-pages: FAILED" >&2
	exit 1
fi
echo "check-pages: all pages pass"
