#!/bin/bash
# Runs last: every record the integration suite left in the default store (and in any store a
# table entry of the default table names) follows the record's contract, docs/record.schema.json.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/tap.sh"
. "$here/../lib/docker.sh"
require_engine

check "the store exists and holds records" test -s "$STORE"
check_records "every record in $STORE follows docs/record.schema.json" "$STORE"
tap_done
