#!/usr/bin/env bash
# Checks the module rule of ARCHITECTURE.md on the sources: a module includes only modules
# below it, and no protocol folder includes another — except proto/mcp, the MCP endpoint,
# which is a client of the other front ends (inside the process) and speaks their protocols
# with their codecs; no front end includes it. Exits 1 and lists every offending
# include otherwise. Run by ctest (ModuleLayers) and by hand: scripts/check_layers.sh
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../src" && pwd)

# Lower numbers are lower layers; a module may include its own layer's siblings only where
# listed as such below (none today), and every lower layer.
rank() {
  case "$1" in
    common) echo 0 ;;
    config) echo 1 ;;
    store | net | sql | shell) echo 2 ;;
    masking | identity) echo 3 ;;
    policy) echo 4 ;;
    audit) echo 5 ;;
    review) echo 6 ;;
    gateway) echo 7 ;;
    proto) echo 8 ;;
    api) echo 9 ;;
    cli) echo 10 ;;
    *) echo unknown ;;
  esac
}

status=0
while IFS= read -r file; do
  rel=${file#"$SRC"/}
  module=${rel%%/*}
  own_rank=$(rank "$module")
  if [ "$own_rank" = unknown ]; then
    echo "$rel: module \"$module\" has no place in the layer order (scripts/check_layers.sh)"
    status=1
    continue
  fi
  # The protocol folder the file is in (proto/postgres), or empty for proto/front_ends.cc.
  own_protocol=
  if [ "$module" = proto ]; then
    rest=${rel#proto/}
    [ "$rest" != "${rest%%/*}" ] && own_protocol=${rest%%/*}
  fi
  while IFS= read -r line; do
    target=${line#*\"}
    target=${target%%\"*}
    [ "$target" = "${target%%/*}" ] && continue  # same folder, no module prefix
    target_module=${target%%/*}
    target_rank=$(rank "$target_module")
    [ "$target_rank" = unknown ] && continue  # a library's header, not a module
    if [ "$target_module" != "$module" ] && [ "$target_rank" -ge "$own_rank" ]; then
      echo "$rel includes $target: $module may not include $target_module (a layer above or beside it)"
      status=1
    fi
    if [ "$module" = proto ] && [ -n "$own_protocol" ] && [ "$target_module" = proto ]; then
      target_rest=${target#proto/}
      target_protocol=${target_rest%%/*}
      if [ "$target_protocol" != "$own_protocol" ] && [ "$own_protocol" != mcp ]; then
        echo "$rel includes $target: protocol front ends do not include each other"
        status=1
      fi
    fi
  done < <(grep -E '^#include "' "$file" || true)
done < <(find "$SRC" -name '*.h' -o -name '*.cc' -o -name '*.inc' | sort)
[ "$status" = 0 ] && echo "module layers: every include points downwards"
exit "$status"
