#!/bin/bash
# The man pages render without a warning, and every command and every option that `measured
# --help` and each `measured COMMAND --help` names is in measured(1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
measured=${MEASURED_CLI:?}
mandir=${MEASURED_MAN_DIR:?}

for page in measured.1 measured.json.5 measured-runtime.8; do
  warnings=$(MANWIDTH=80 man --warnings -l "$mandir/$page" 2>&1 >/dev/null)
  check_eq "$page renders without warnings" "$warnings" ""
  check "$page has a NAME and a SEE ALSO section" \
    bash -c "MANWIDTH=80 man -l '$mandir/$page' 2>/dev/null | grep -q '^NAME' &&
             MANWIDTH=80 man -l '$mandir/$page' 2>/dev/null | grep -q '^SEE ALSO'"
done

page=$(MANWIDTH=200 man -l "$mandir/measured.1" 2>/dev/null)
commands=$("$measured" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
check "measured --help lists commands" test -n "$commands"
for cmd in $commands; do
  check_contains "measured(1) describes the command $cmd" "$page" "       $cmd"
  [ "$cmd" = version ] && continue
  # The options of its usage lines (up to the first blank line).
  for opt in $("$measured" "$cmd" --help | sed '/^$/q' | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
    check_contains "measured(1) names $cmd's option $opt" "$page" "$opt"
  done
done
tap_done
