#!/usr/bin/env bash
# Regenerates scenarios/expected/<name>.go.json by running every scenario
# (or the scenario files given as arguments) RUNS times (default 10, at
# least 5) on the real Go 1.19 runtime, each run in a fresh process, and
# merging the runs with goref/mkfixture: the modal run's result plus a
# "variance" object listing every field that differed between runs.
#
#   goref/gen-fixtures.sh                       # all scenarios/*.json
#   goref/gen-fixtures.sh scenarios/empty.json  # just one
#   RUNS=10 GO=/path/to/go goref/gen-fixtures.sh
#
# Needs Go 1.19 (apt-get install golang-1.19-go -> /usr/lib/go-1.19/bin/go).
# Standard library only: no network, no module downloads.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
GO="${GO:-/usr/lib/go-1.19/bin/go}"
RUNS="${RUNS:-10}"
if [ "$RUNS" -lt 5 ]; then
  echo "gen-fixtures: RUNS must be >= 5 (got $RUNS)" >&2
  exit 2
fi
if ! "$GO" version | grep -q 'go1\.19'; then
  echo "gen-fixtures: $GO is not Go 1.19: $("$GO" version)" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Build (module mode, no network, no dependencies).
(
  cd "$here"
  export GO111MODULE=on GOPROXY=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
  if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ]; then export GOCACHE="$work/gocache"; fi
  "$GO" build -trimpath -o "$work/replay" ./replay
  "$GO" build -trimpath -o "$work/mkfixture" ./mkfixture
)

# The runtime settings every run uses (the runner also forces them itself,
# re-executing itself if they are missing). No memory limit: it would drive
# the scavenger.
export GOMAXPROCS=1 GOGC=off GODEBUG=memprofilerate=0
unset GOMEMLIMIT

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  files=("$root"/scenarios/*.json)
fi

mkdir -p "$root/scenarios/expected"
status=0
for f in "${files[@]}"; do
  name="$(basename "$f" .json)"
  for i in $(seq 1 "$RUNS"); do
    "$work/replay" "$f" > "$work/$name.run$i.json"
  done
  runs=()
  for i in $(seq 1 "$RUNS"); do runs+=("$work/$name.run$i.json"); done
  "$work/mkfixture" -scenario "$f" "${runs[@]}" > "$work/$name.go.json"
  mv "$work/$name.go.json" "$root/scenarios/expected/$name.go.json"
done

# Self-check: the empty scenario (checkpoints only) proves that the runner
# allocates nothing between checkpoints: every delta must be 0 in every run.
if [ -f "$root/scenarios/empty.json" ]; then
  for i in $(seq 1 "$RUNS"); do
    "$work/replay" "$root/scenarios/empty.json" > "$work/selfcheck.run$i.json"
  done
  if "$work/mkfixture" -expect-zero -scenario "$root/scenarios/empty.json" "$work"/selfcheck.run*.json > /dev/null 2> "$work/selfcheck.err"; then
    echo "self-check: empty scenario has all-zero deltas in all $RUNS runs"
  else
    cat "$work/selfcheck.err" >&2
    status=1
  fi
fi
exit $status
