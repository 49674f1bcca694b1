# Prints n records shaped like the template (one line), with runtime, driver, pair, load and the
# figures varied. The template holds the placeholders @RT@ @DRV@ @PAIR@ @LOAD@ @BW@ @P50@ @P99@
# @U50@ @CREATE@ @ID@; it is cut at them once, then each record is put together piece by piece.
# -v create_slow=1: runsc's create three times as long as runc's (default: the same).
BEGIN { srand(42) }
{ template = $0 }
END {
  nparts = 0
  rest = template
  while (match(rest, /@[A-Z0-9]+@/)) {
    part[nparts] = substr(rest, 1, RSTART - 1)
    name[nparts] = substr(rest, RSTART + 1, RLENGTH - 2)
    nparts++
    rest = substr(rest, RSTART + RLENGTH)
  }
  split("runc runsc", rts, " ")
  split("bridge/bridge host/bridge macvlan/macvlan overlay/overlay", pairs, " ")
  split("none stress", loads, " ")
  for (i = 0; i < n; i++) {
    v["RT"] = rts[1 + i % 2]; v["PAIR"] = pairs[1 + int(i / 2) % 4]
    v["LOAD"] = loads[1 + int(i / 8) % 2]
    split(v["PAIR"], p, "/"); v["DRV"] = p[2]
    slow = (v["RT"] == "runsc") ? 3 : 1
    v["BW"] = sprintf("%.0f", (18e9 / slow) * (0.9 + 0.2 * rand()))
    v["P50"] = sprintf("%.3f", 80 * slow * (0.9 + 0.2 * rand()))
    v["P99"] = sprintf("%.3f", 160 * slow * (0.9 + 0.4 * rand()))
    v["U50"] = sprintf("%.3f", 70 * slow * (0.9 + 0.2 * rand()))
    v["CREATE"] = sprintf("%d", (150000 + 100000 * rand()) * (create_slow ? slow : 1))
    v["ID"] = sprintf("%064x", i)
    line = ""
    for (k = 0; k < nparts; k++)
      line = line part[k] v[name[k]]
    print line rest
  }
}
