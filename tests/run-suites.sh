#!/usr/bin/env bash
# Build and run every test suite three times: a plain -Werror build, then
# under AddressSanitizer + UndefinedBehaviorSanitizer, then under
# ThreadSanitizer.  Each build has its own directory; all three always run,
# and the last line sums them up.  Exit status: 0 only if all passed.
set -uo pipefail
cd "$(dirname "$0")/.."

suites=(
  "plain|build|"
  "asan+ubsan|build-asan|-Db_sanitize=address,undefined -Dbuildtype=debug"
  "tsan|build-tsan|-Db_sanitize=thread -Dbuildtype=debugoptimized"
)

total_ok=0 total_fail=0 summary="" status=0
for suite in "${suites[@]}"; do
  IFS='|' read -r name dir opts <<<"$suite"
  echo "=== $name: $dir ==="
  ok=0 fail=0
  if [ ! -f "$dir/build.ninja" ]; then
    # shellcheck disable=SC2086
    meson setup "$dir" $opts >/dev/null || { echo "meson setup failed for $name"; fail=1; }
  fi
  if [ "$fail" -eq 0 ] && ! meson compile -C "$dir"; then
    echo "build failed for $name"
    fail=1
  fi
  if [ "$fail" -eq 0 ]; then
    log=$(mktemp)
    meson test -C "$dir" --print-errorlogs 2>&1 | tee "$log"
    ok=$(awk '/^Ok:/ {print $2}' "$log")
    fail=$(awk '/^Fail:/ {f+=$2} /^Timeout:/ {f+=$2} /^Unexpected Pass:/ {f+=$3} END {print f+0}' "$log")
    [ -n "$ok" ] || { ok=0; fail=$((fail + 1)); }
    rm -f "$log"
  fi
  [ "$fail" -eq 0 ] || status=1
  total_ok=$((total_ok + ok)) total_fail=$((total_fail + fail))
  summary="$summary $name $ok/$((ok + fail));"
done
echo "==="
echo "suites:$summary"
echo "$total_ok passed, $total_fail failed"
exit $status
