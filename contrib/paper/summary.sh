#!/bin/bash
# The findings of a paper run in words, each next to the study's own. Reads the report's JSON
# (grouped by runtime, pair, load) and, when given, the tools' lines (which tool failed where).
#   usage: summary.sh report.json BASELINE "RUNTIMES" [tools.jsonl]
set -euo pipefail
report=$1 base=$2 runtimes=$3 tools=${4:-}
jq -r --arg base "$base" --arg rts "$runtimes" '
  def mean(g; m): (g.metrics[m].mean // null);
  def groups(load): [.groups[] | select(.key.load == load and (.unsupported | not))];
  def cell(rt; pair; load): (.groups[] | select(.key.runtime == rt and .key.pair == pair and .key.load == load)) // null;
  def fmt: if . == null then "n/a" else (. * 100 | round / 100 | tostring) end;
  ($rts | split(" ") | map(select(. != ""))) as $rt
  | ([.groups[].key.pair] | unique) as $pairs
  | "Findings of this run, next to the study'"'"'s (RunC and Kata using Docker, 20.10.2, two VMs)",
    "",
    "1. The study: runc has the lower latency and the higher bandwidth on every driver.",
    ( $pairs[] as $p
      | [ $rt[] as $r | cell($r; $p; "none") | select(. != null and (.unsupported | not))
          | {rt: .key.runtime, lat: mean(.; "tcp_p50"), bw: mean(.; "bandwidth")} ] as $c
      | if ($c | length) < 2 then "   \($p): not enough runtimes measured"
        else
          ($c | map(select(.lat != null)) | min_by(.lat)) as $lo
          | ($c | map(select(.bw != null)) | max_by(.bw)) as $hi
          | "   \($p): lowest TCP p50 \($lo.rt) (\($lo.lat | fmt) us); highest bandwidth \($hi.rt) (\($hi.bw | fmt) Gbit/s)"
        end ),
    "",
    "2. The study: the overlay driver has the lowest bandwidth.",
    ( $rt[] as $r
      | [ $pairs[] as $p | cell($r; $p; "none") | select(. != null and (.unsupported | not))
          | {pair: .key.pair, bw: mean(.; "bandwidth")} | select(.bw != null) ] as $c
      | if ($c | length) == 0 then "   \($r): no bandwidth measured"
        else ($c | min_by(.bw)) as $lo | "   \($r): lowest bandwidth on \($lo.pair) (\($lo.bw | fmt) Gbit/s)" end ),
    "",
    "3. The study: CPU load (stress-ng in the server) hurts the sandboxed runtime more.",
    ( $rt[] as $r
      | [ $pairs[] as $p | {n: cell($r; $p; "none"), s: cell($r; $p; "stress")}
          | select(.n != null and .s != null and (.n.unsupported | not) and (.s.unsupported | not))
          | {bw: (if mean(.n; "bandwidth") and mean(.s; "bandwidth") then mean(.s; "bandwidth") / mean(.n; "bandwidth") else null end),
             lat: (if mean(.n; "tcp_p50") and mean(.s; "tcp_p50") then mean(.s; "tcp_p50") / mean(.n; "tcp_p50") else null end)} ] as $c
      | ($c | map(.bw) | map(select(. != null))) as $bw
      | ($c | map(.lat) | map(select(. != null))) as $lat
      | if ($bw | length) == 0 then "   \($r): no run under load to compare"
        else "   \($r): under load, bandwidth x\($bw | add / length | fmt) and TCP p50 x\($lat | add / length | fmt) of the unloaded figures (mean over \($bw | length) driver pair(s))" end ),
    "",
    "Verdicts with confidence intervals: report.txt (ratios to \($base)); figures: figures/."
' "$report"

[ -n "$tools" ] && [ -s "$tools" ] || exit 0
# The tools' failures, counted per runtime and tool: a figure missing from the table is explained.
jq -rs '
  [ .[] | select(.kind == "tool" and (.reason // "") != "") | .runtime.name as $rt
    | .reason | split("; ")[] | {rt: $rt, tool: (split(":")[0]), why: (split(": ")[1:] | join(": "))} ]
  | group_by(.rt + " " + .tool)
  | if length == 0 then empty else
      "", "Where a reference tool gave no figure (its output is kept in raw/):",
      (.[] | "   \(.[0].rt): \(.[0].tool) failed \(length) time(s): \(.[0].why)")
    end
' "$tools"
