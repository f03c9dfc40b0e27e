#!/bin/sh
# The wrapped example is the plain one plus at most MAX changed lines (and at least one).
#   example_diff_test.sh PLAIN WRAPPED MAX
# Fails when either file is missing or unreadable, or diff fails.
plain=$1 wrapped=$2 max=$3
for f in "$plain" "$wrapped"; do
  [ -f "$f" ] && [ -r "$f" ] || { echo "example_diff_test: cannot read $f"; exit 1; }
done
d=$(diff "$plain" "$wrapped")
rc=$?
[ "$rc" -le 1 ] || { echo "example_diff_test: diff failed ($rc)"; exit 1; }
n=$(printf '%s\n' "$d" | grep -c '^[<>]')
echo "$n changed lines (at most $max)"
[ "$n" -ge 1 ] && [ "$n" -le "$max" ]
