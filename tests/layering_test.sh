#!/bin/sh
# The layer rules of harness/src/README.md, checked over the tree:
#  - every source under harness/src/ sits in one of the layer folders named there;
#  - a file includes private headers ("<folder>/x.h") only from its own layer or a lower one;
#  - nothing in the library includes "models/..."; public headers include no private header;
#  - the CLI includes no private header of the library but util/'s building blocks (exact
#    numbers, strings); it may register models/, which sits beside it on top of the library.
#   layering_test.sh SOURCE_DIR
root=$1
src=$root/harness/src
layers=$(sed -n 's/^Layers, lowest first: //p' "$src/README.md")
[ -n "$layers" ] || { echo "layering_test: no 'Layers, lowest first:' line in $src/README.md"; exit 1; }
rank() {
  i=0
  for l in $layers; do
    i=$((i + 1))
    [ "$l" = "$1" ] && { echo $i; return; }
  done
  echo 0
}
fail=0
for f in $(cd "$src" && find . -type f ! -name README.md | sed 's|^\./||' | sort); do
  folder=${f%%/*}
  if [ "$folder" = "$f" ] || [ "$(rank "$folder")" = 0 ]; then
    echo "$src/$f: not in a layer folder ($layers)"
    fail=1
    continue
  fi
  own=$(rank "$folder")
  for inc in $(sed -n 's/^#include "\([a-z_]*\)\/.*/\1/p' "$src/$f" | sort -u); do
    [ "$inc" = repro ] || [ "$inc" = proto ] && continue
    r=$(rank "$inc")
    if [ "$inc" = models ] || [ "$r" = 0 ] || [ "$r" -gt "$own" ]; then
      echo "$src/$f: includes from $inc/, above or outside layer $folder"
      fail=1
    fi
  done
done
private=$(echo $layers | sed 's/ /\\|/g')
for f in $(find "$root/harness/include" -type f | sort); do
  if grep -q "^#include \"\(models\|$private\)/" "$f"; then
    echo "$f: a public header includes a private header or models/"
    fail=1
  fi
done
for f in $(find "$root/harness/cli" -type f | sort); do
  if grep "^#include \"\($private\)/" "$f" | grep -qv '^#include "util/'; then
    echo "$f: the CLI includes a private header of the library (other than util/)"
    fail=1
  fi
done
[ $fail = 0 ] && echo "layering: harness/src follows the order: $layers"
exit $fail
