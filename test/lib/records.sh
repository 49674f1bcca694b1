# What integration tests know of measured's files and records, whatever engine ran the container.
STORE=${MEASURED_STORE:-/var/lib/measured/samples.jsonl}
STATE_DIR=${MEASURED_STATE_DIR:-/run/measured}
# Lifecycles live in a scope per runtime root (lib/state.h): $STATE_DIR/.scope-*/<entry>.
STATE_GLOB="$STATE_DIR/.scope-*"
# The lifecycle entries (directories) of the state directory, every scope, newer than a file.
lifecycle_entries_newer() { # marker
  find "$STATE_DIR" -mindepth 2 -maxdepth 2 -path "$STATE_DIR/.scope-*/*" -type d -newer "$1"
}

# The records of a container id (one JSON object per line), waiting up to 10 s for at least
# $2 (default 1) of them: the record is written by the runtime's delete, which the engine may run
# just after its command returned.
records_of() {
  local id=$1 want=${2:-1} n
  for _ in $(seq 100); do
    n=$(grep -c "\"id\":\"$id\"" "$STORE" 2>/dev/null)
    [ "${n:-0}" -ge "$want" ] && break
    sleep 0.1
  done
  grep "\"id\":\"$id\"" "$STORE" 2>/dev/null
}

record_count() { records_of "$1" "${2:-1}" | wc -l; }

# Every record line must be a complete JSON object with the fields a report relies on.
RECORD_COMPLETE='select(.schema == 2 and (.id|type) == "string" and .outcome == "completed"
                and (.calls.create.us|type) == "number" and (.calls.delete.us|type) == "number"
                and (.runtime.path|type) == "string")'
record_complete() { jq -e "$RECORD_COMPLETE" >/dev/null; }
# How many of the records on stdin are complete.
record_complete_count() { jq -c "$RECORD_COMPLETE" | wc -l; }
