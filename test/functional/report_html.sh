#!/bin/bash
# measured report --html on the fixed store, checked in a real browser (headless Chromium,
# Debian's `chromium`): the page holds every group, comparison and figure the other outputs
# give; loaded from disk, every figure is an SVG that rendered (a box of non-zero size, shapes
# drawn, every glyph reference resolved); no console error (a page that logs one is caught, so
# the check can fail); text from the store is escaped; the page fits a narrow window. The
# screenshots (desktop and narrow) are kept in $MEASURED_ARTEFACTS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
measured=${MEASURED_CLI:?set MEASURED_CLI}
artefacts=${MEASURED_ARTEFACTS:-/tmp}
cd "$here/../report" || exit 1
work=$(mktemp -d /tmp/measured-report-html-XXXXXX)
trap 'rm -rf "$work"' EXIT
if ! command -v chromium >/dev/null; then
  echo "Bail out! chromium is not installed (contrib/setup-debian.sh installs it)"
  exit 1
fi
browser() { # chromium options...: headless, as root, a profile of its own
  timeout 60 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$work/profile" "$@"
}
png_size() { python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"; }

page=$work/report.html
"$measured" report store.jsonl --baseline runc --html "$page" >/dev/null 2>"$work/err"
check_eq "the page is written" "$?|$(head -1 "$page")" "0|<!DOCTYPE html>"
check_contains "it says where" "$(cat "$work/err")" "wrote $page"

# --- what the page holds, against the JSON and the figures the other outputs give ---------------
json=$("$measured" report store.jsonl --baseline runc --format json)
"$measured" report store.jsonl --plot "$work/figs" >/dev/null 2>&1
check_eq "one section per group" "$(grep -c '^<h3>' "$page")" "$(jq '.groups | length' <<<"$json")"
check_eq "one row per group and metric" "$(grep -c '^<tr><td>' "$page")" \
  "$(jq '[.groups[].metrics | length] + [.baseline.comparisons | length] | add' <<<"$json")"
check_eq "every verdict" "$(grep -c 'class="\(better\|worse\)"' "$page")" \
  "$(jq '[.baseline.comparisons[] | select(.verdict != null)] | length' <<<"$json")"
check_eq "every figure --plot writes, inline" "$(grep -c '^<figure' "$page")" "$(ls "$work/figs"/*.svg | wc -l)"
check_eq "nothing external, no script" "$(grep -cE '<script|<link|src=|@import' "$page")" 0

# --- in the browser ------------------------------------------------------------------------------
cat >"$work/probe.js" <<'EOF'
<script>
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('figure').forEach(function (f) {
    var svg = f.querySelector('svg');
    var r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    var shapes = svg ? svg.querySelectorAll('path,rect,use').length : 0;
    var broken = 0;
    if (svg) svg.querySelectorAll('use').forEach(function (u) {
      var h = u.getAttribute('xlink:href') || u.getAttribute('href');
      if (!h || !document.getElementById(h.slice(1))) broken++;
    });
    out.push('figure ' + (r.width > 0 && r.height > 0 && shapes > 0 && broken == 0 ? 'ok' : 'bad') +
             ' ' + f.id + ' ' + Math.round(r.width) + 'x' + Math.round(r.height) +
             ' shapes=' + shapes + ' broken=' + broken);
  });
  out.push('overflow ' + (document.body.scrollWidth > document.documentElement.clientWidth));
  out.push('injected ' + document.querySelectorAll('img,b.x').length);
  var p = document.createElement('pre');
  p.id = 'probe';
  p.textContent = out.join('\n');
  document.body.appendChild(p);
});
</script>
EOF
probe() { # page, window width: the probe's lines
  python3 -c 'import sys; s=open(sys.argv[1]).read(); p=open(sys.argv[2]).read(); open(sys.argv[3],"w").write(s.replace("</body>", p + "</body>"))' \
    "$1" "$work/probe.js" "$work/probed.html"
  browser --window-size="$2",900 --dump-dom "file://$work/probed.html" 2>/dev/null |
    sed -n '/<pre id="probe">/,/<\/pre>/p' | sed 's/<[^>]*>//g'
}
out=$(probe "$page" 1280)
check_eq "every figure rendered: a box, shapes, every glyph found" \
  "$(grep -c '^figure ok' <<<"$out")" "$(ls "$work/figs"/*.svg | wc -l)"
tap_diag "$(grep "^figure" <<<"$out" | head -1)"
check_eq "no figure failed" "$(grep -c '^figure bad' <<<"$out")" 0
out=$(probe "$page" 412)
check_eq "narrow window: the page does not overflow it (tables scroll, figures scale)" \
  "$(grep '^overflow' <<<"$out")" "overflow false"

console_errors() { # page: the console's messages (the page has no script: any is a failure to
  # load or render something), and uncaught exceptions
  browser --enable-logging=stderr --log-level=0 --dump-dom "file://$1" 2>&1 >/dev/null |
    grep -cE ':CONSOLE[:(]|Uncaught'
}
printf '<!DOCTYPE html><html><body><script>console.error("broken")</script></body></html>' >"$work/bad.html"
check "the console check catches an error (it can fail)" test "$(console_errors "$work/bad.html")" -ge 1
check_eq "no console message on the page" "$(console_errors "$page")" 0

browser --window-size=1280,2400 --screenshot="$artefacts/report-html-desktop.png" "file://$page" >/dev/null 2>&1
browser --window-size=412,2400 --screenshot="$artefacts/report-html-narrow.png" "file://$page" >/dev/null 2>&1
check_eq "a desktop screenshot (kept: $artefacts/report-html-desktop.png)" \
  "$(png_size "$artefacts/report-html-desktop.png")" 1280x2400
check "a narrow one, non-trivial" test "$(stat -c %s "$artefacts/report-html-narrow.png")" -gt 20000

# --- text from a store is anyone's ------------------------------------------------------------
sed 's/"name":"runsc"/"name":"<img src=x onerror=alert(1)><b class=x>b<\/b>"/' store.jsonl >"$work/hostile.jsonl"
"$measured" report "$work/hostile.jsonl" --baseline runc --html "$work/hostile.html" >/dev/null 2>&1
check_contains "a runtime name with markup is escaped" "$(cat "$work/hostile.html")" \
  "&lt;img src=x onerror=alert(1)&gt;&lt;b class=x&gt;b&lt;/b&gt;"
check_eq "... and no element of it reaches the page" "$(probe "$work/hostile.html" 1280 | grep '^injected')" "injected 0"

# --- refused --------------------------------------------------------------------------------------
"$measured" report store.jsonl --html /nonexistent/dir/x.html >/dev/null 2>"$work/err"
check_eq "an unwritable path: exit 1, said" "$?|$(grep -c '/nonexistent/dir' "$work/err")" "1|1"
tap_done
