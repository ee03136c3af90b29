#!/usr/bin/env bash
# The HTML pages of `run DEMO --html FILE`, opened in a real browser:
# headless Chromium parses each page, and the test checks what it built
# (--dump-dom: the headings, every SVG shape of the timeline and the
# charts, no parser error) and that it paints (--screenshot: a PNG of some
# size).  The network is never needed: the pages load nothing.
#
#     tests/test-browser.sh [BUILD-DIR]
#
# Exit status 0 when every page passed, 1 when one failed, 77 (skipped)
# when there is no Chromium (`make test-browser` installs it).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/cmd/concur-tutor

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "browser: skipped: no chromium (make test-browser installs it)"
  exit 77
fi
[ -x "$bin" ] || { echo "browser: $bin is not built"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME=$tmp/state NO_COLOR=1

browse() {  # browse WHAT FILE ARGS...: run headless Chromium on the page
  local what=$1 page=$2
  shift 2
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$tmp/profile-$what" \
    "$@" "file://$page" 2>"$tmp/$what.err"
}

count() { grep -o "$2" "$1" | wc -l; }

ok=0 fail=0
check() {  # check NAME ANSWER DEMO ARGS...
  local name=$1 answer=$2 demo=$3
  shift 3
  local page=$tmp/$name.html why=""
  if ! printf '%s\n' "$answer" | "$bin" run "$demo" "$@" --html "$page" >"$tmp/$name.out" 2>&1; then
    why="the run failed: $(tail -n 3 "$tmp/$name.out")"
  elif ! browse "$name-dom" "$page" --dump-dom >"$tmp/$name.dom"; then
    why="chromium could not load it: $(tail -n 3 "$tmp/$name-dom.err")"
  elif ! browse "$name-png" "$page" --screenshot="$tmp/$name.png" --window-size=1000,1800 \
       >/dev/null; then
    why="chromium could not paint it: $(tail -n 3 "$tmp/$name-png.err")"
  else
    local dom=$tmp/$name.dom
    grep -q "<h1>$demo: " "$dom" || why="no <h1> for $demo in the DOM"
    grep -q "<h2>Checks (" "$dom" || why="no checks section in the DOM"
    grep -q "parsererror" "$dom" && why="the browser reported a parse error"
    # every shape of the page became an element: none was dropped
    for shape in "<rect " "<path " "<line " "<text "; do
      if [ "$(count "$page" "$shape")" -ne "$(count "$dom" "$shape")" ]; then
        why="$shape: $(count "$page" "$shape") in the page, $(count "$dom" "$shape") in the DOM"
      fi
    done
    # a PNG, and not a blank one (a blank page compresses to a few KB)
    if [ "$(head -c 8 "$tmp/$name.png" | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
      why="the screenshot is not a PNG"
    elif [ "$(stat -c %s "$tmp/$name.png")" -lt 20000 ]; then
      why="the screenshot is nearly empty ($(stat -c %s "$tmp/$name.png") bytes)"
    fi
  fi
  if [ -z "$why" ]; then
    echo "browser: $name: ok ($(count "$tmp/$name.dom" "<rect ") rects, $(stat -c %s "$tmp/$name.png") byte screenshot)"
    ok=$((ok + 1))
  else
    echo "browser: $name: FAILED: $why"
    fail=$((fail + 1))
  fi
}

# a timeline with readers and a writer; a prediction over three runs
# (histogram); a demo with a table, bar chart and timeline
check rwlock "" rwlock
check race-predict "1000000" race predict=true runs=3 threads=2 iters=100000 rounds=1
check select "two" select predict=true
check mutex "" mutex threads=4 iters=20000

if grep -q "<h2>Timeline</h2>" "$tmp/rwlock.dom" 2>/dev/null &&
   grep -q "<h2>Over 3 runs</h2>" "$tmp/race-predict.dom" 2>/dev/null; then :; else
  echo "browser: the timeline or the histogram is missing from the DOM"
  fail=$((fail + 1))
fi
echo "browser: $ok passed, $fail failed"
[ "$fail" -eq 0 ]
