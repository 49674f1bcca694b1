#!/bin/bash
# Prints "N passed, N failed, N skipped" over meson test logs (testlog.json files given as
# arguments). TAP tests count one per test point, so a skipped check shows as a skip and a
# failing check inside a long script is not hidden; a test that died without reporting its
# points counts as one failure.
set -euo pipefail
jq -rs '
  [ .[] | . as $t
    | (($t.stdout // "") | split("\n")) as $lines
    | ($lines | map(select(test("^ok ") and (test("# *[Ss][Kk][Ii][Pp]") | not))) | length) as $pass
    | ($lines | map(select(test("^not ok "))) | length) as $fail
    | ($lines | map(select(test("^ok .*# *[Ss][Kk][Ii][Pp]"))) | length) as $skip
    | if ($pass + $fail + $skip) == 0 then
        { pass: (if $t.result == "OK" then 1 else 0 end),
          skip: (if $t.result == "SKIP" then 1 else 0 end),
          fail: (if ($t.result == "OK" or $t.result == "SKIP") then 0 else 1 end) }
      elif ($t.result != "OK" and $t.result != "SKIP" and $fail == 0) then
        { pass: $pass, skip: $skip, fail: 1 }
      else { pass: $pass, skip: $skip, fail: $fail } end ]
  | "\(map(.pass) | add // 0) passed, \(map(.fail) | add // 0) failed, \(map(.skip) | add // 0) skipped"
' "$@"
