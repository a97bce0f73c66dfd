#!/usr/bin/env bash
# make bench-images: image-resize's rendition code against libvips's
# vipsthumbnail on real photographs, in the same run on the same machine.
#
# The corpus comes from Debian's wallpaper packages (fetched with
# apt-get download, extracted, never committed): every JPEG and PNG of at
# least 1 megapixel, deduplicated. It is cached in $BENCH_CACHE
# (default /tmp/blocpress-bench-images).
#
# Environment:
#   BENCH_CACHE     cache directory
#   BENCH_PACKAGES  Debian packages to take photos from
#   BENCH_MODES     what to run, in order: compare (the table, default), crop,
#                   webp, eval; "all" for the four (about 20 minutes on 2 CPUs)
#   BENCH_REPEAT    runs per photo and tool in compare; the fastest counts
#   BENCH_EVAL_MAX  photos for eval (slow: it makes a float Lanczos reference)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
svc=$(dirname "$here")
cache=${BENCH_CACHE:-/tmp/blocpress-bench-images}
packages=${BENCH_PACKAGES:-"plasma-workspace-wallpapers ukui-wallpapers lomiri-wallpapers lomiri-wallpapers-16.04 lomiri-wallpapers-20.04"}
modes=${BENCH_MODES:-compare}
if [ "$modes" = all ]; then modes="compare crop webp eval"; fi
repeat=${BENCH_REPEAT:-1}
eval_max=${BENCH_EVAL_MAX:-8}

sudo=""
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi

mkdir -p "$cache/debs" "$cache/extract" "$cache/corpus" "$cache/out"

# Tools: libvips-tools for vipsthumbnail and vipsheader.
if ! command -v vipsthumbnail >/dev/null || ! command -v vipsheader >/dev/null; then
  echo "installing libvips-tools"
  $sudo apt-get install -y libvips-tools >/dev/null || { $sudo apt-get update >/dev/null && $sudo apt-get install -y libvips-tools >/dev/null; }
fi

# The corpus.
for p in $packages; do
  if ! ls "$cache/debs/${p}"_*.deb >/dev/null 2>&1; then
    echo "fetching $p"
    (cd "$cache/debs" && { apt-get download "$p" 2>/dev/null || { $sudo apt-get update >/dev/null && apt-get download "$p"; }; })
  fi
done
if [ -z "$(ls -A "$cache/corpus")" ]; then
  for deb in "$cache"/debs/*.deb; do
    pkg=$(basename "$deb" | cut -d_ -f1)
    dpkg-deb -x "$deb" "$cache/extract/$pkg"
  done
  declare -A seen=()
  while IFS= read -r f; do
    w=$(vipsheader -f width "$f" 2>/dev/null || echo 0)
    h=$(vipsheader -f height "$f" 2>/dev/null || echo 0)
    if [ $((w * h)) -lt 1000000 ]; then continue; fi
    sum=$(sha256sum "$f" | cut -c1-16)
    if [ -n "${seen[$sum]:-}" ]; then continue; fi
    seen[$sum]=1
    rel=${f#"$cache/extract/"}
    pkg=${rel%%/*}
    name=$(echo "${rel#*/}" | sed -e 's|usr/share/||' -e 's|/contents/images||' -e 's|/|_|g')
    cp "$f" "$cache/corpus/${pkg}__${name}"
  done < <(find "$cache/extract" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort)
fi
mapfile -t corpus < <(ls -S "$cache"/corpus/*)
echo "corpus: ${#corpus[@]} photos in $cache/corpus ($(du -sh "$cache/corpus" | cut -f1)), $(nproc) CPUs, $(vips --version)"

(cd "$svc" && go build -o "$cache/bench" ./bench)

for mode in $modes; do
  echo
  case $mode in
    compare)
      echo "== renditions: ours (photo.Render, as the service) vs vipsthumbnail, same widths and formats"
      "$cache/bench" -out "$cache/out" -repeat "$repeat" "${corpus[@]}" ;;
    crop)
      echo "== 16:9 crop: smart detection vs centre vs libvips attention"
      "$cache/bench" -crop -out "$cache/out" "${corpus[@]}" ;;
    webp)
      echo "== WebP: the pure-Go encoder available against the formats stored now"
      "$cache/bench" -webp -out "$cache/out" "${corpus[@]}" ;;
    eval)
      echo "== resampling filter and DCT-scale headroom: PSNR against a full-size float Lanczos reference"
      mapfile -t jpegs < <(printf '%s\n' "${corpus[@]}" | grep -iE '\.jpe?g$' | head -n "$eval_max")
      "$cache/bench" -eval -out "$cache/out" "${jpegs[@]}" ;;
    *)
      echo "unknown mode $mode" >&2; exit 2 ;;
  esac
done
