# The real wrapper against the fake runtime (test/functional/fake-runtime.sh), no Docker: a link
# measured-NAME to the wrapper, a runtime table with state and store, and a bundle, all under
# $work; W is the wrapper's command line with its log. Needs $wrapper and $work.
FAKE_RUNTIME=$(cd "$(dirname "${BASH_SOURCE[0]}")/../functional" && pwd)/fake-runtime.sh

fake_setup() { # name config.json ['"key": value' members of the entry] [more table entries]
  local name=$1 config=$2 members=${3:+, $3} more=${4:+, $4}
  ln -s "$wrapper" "$work/measured-$name"
  cat >"$work/table.json" <<JSON
{"state_dir": "$work/state", "store": "$work/samples.jsonl",
 "runtimes": {"$name": {"path": "$FAKE_RUNTIME"$members}$more}}
JSON
  mkdir -p "$work/bundle"
  printf '%s\n' "$config" >"$work/bundle/config.json"
  export MEASURED_CONFIG=$work/table.json FAKE_DIR=$work
  W=("$work/measured-$name" --log "$work/log.json" --log-format json)
}

# The state scope the fake runtime's lifecycles live in (one: no --root on W), once a create
# has made it.
state_scope() {
  local d
  d=$(ls -d "$work"/state/.scope-* 2>/dev/null)
  [ -n "$d" ] && [ "$(wc -l <<<"$d")" = 1 ] && echo "$d"
}
