# Order statistics of numbers read one per line, for the tests and benchmarks (sourced).

# The median (the mean of the two middle values when their number is even); "nan" when none.
median() {
  sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# The first and third quartiles ("Q1 to Q3", nearest rank): how far apart repeated runs are.
quartiles() {
  sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else printf "%s to %s", v[int((NR - 1) / 4) + 1], v[int(3 * (NR - 1) / 4) + 1]}'
}
