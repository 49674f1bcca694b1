# TAP output for shell tests: every check is one test point, so the suite's totals count checks,
# and a skip is reported as a skip (with its reason), never as a pass.
_tap_n=0
_tap_failed=0

tap_ok() {
  _tap_n=$((_tap_n + 1))
  echo "ok $_tap_n - $*"
}

tap_fail() {
  _tap_n=$((_tap_n + 1))
  _tap_failed=1
  echo "not ok $_tap_n - $*"
}

tap_skip() { # description, reason
  _tap_n=$((_tap_n + 1))
  echo "ok $_tap_n - $1 # SKIP $2"
}

tap_diag() { printf '# %s\n' "$@"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { # DESCRIPTION COMMAND...: passes when the command succeeds (its output is not TAP)
  local desc=$1
  shift
  if "$@" >/dev/null; then tap_ok "$desc"; else tap_fail "$desc"; fi
}

# check_eq DESCRIPTION GOT WANT
check_eq() {
  if [ "$2" = "$3" ]; then
    tap_ok "$1"
  else
    tap_fail "$1"
    tap_diag "got:  $2" "want: $3"
  fi
}

# check_contains DESCRIPTION HAYSTACK NEEDLE
check_contains() {
  case $2 in
  *"$3"*) tap_ok "$1" ;;
  *)
    tap_fail "$1"
    tap_diag "missing: $3" "in: $(printf '%s' "$2" | head -c 2000)"
    ;;
  esac
}

tap_done() {
  echo "1..$_tap_n"
  exit $_tap_failed
}

# check_records DESCRIPTION STORE...: every record in the stores is valid against the record's
# contract, docs/record.schema.json (the harness's tool lines are left out).
check_records() {
  local desc=$1 out
  shift
  if out=$(python3 "$(dirname "${BASH_SOURCE[0]}")/validate_records.py" "$@" 2>&1); then
    tap_ok "$desc ($(tail -1 <<<"$out"))"
  else
    tap_fail "$desc"
    tap_diag "$(head -20 <<<"$out")"
  fi
}
