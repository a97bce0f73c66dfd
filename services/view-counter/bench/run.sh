#!/usr/bin/env bash
# make bench-views: view-counter's beacons (wrk) against Redis's plain INCR
# (redis-benchmark, same connections, no pipelining, same Redis), on one
# machine. Installs wrk (Debian's package) when it is missing; redis-server
# and redis-benchmark come with `make deps` (Debian's redis-server and
# redis-tools). Extra arguments go to viewbench, e.g.
#   services/view-counter/bench/run.sh -duration 30s -connections 100
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"

need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null && return
	echo "installing $2 from Debian's packages…"
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" </dev/null ||
		{ $sudo apt-get update -q </dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" </dev/null; }
}
need wrk wrk
need redis-benchmark redis-tools
need redis-server redis-server

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/view-counter" ./services/view-counter
go build -o "$tmp/viewbench" ./services/view-counter/bench/viewbench
"$tmp/viewbench" -view-counter "$tmp/view-counter" -script services/view-counter/bench/beacons.lua -bin "$root/bin" "$@"
