#!/usr/bin/env bash
# Prints the gzip size of everything a first visit downloads besides the HTML: the wasm, js
# and css bundle and the public scripts/styles. gzip level 6 is what the server's compression
# layer uses. With --max-kb N it fails when the total is over N KB (1 KB = 1000 bytes).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
site=${GATEHOUSE_SITE_ROOT:-$repo_root/target/site}
max_kb=""
if [ "${1:-}" = "--max-kb" ]; then
  max_kb=${2:?--max-kb needs a number}
fi

files=("$site/pkg/gatehouse.wasm" "$site/pkg/gatehouse.js" "$site/pkg/gatehouse.css")
while IFS= read -r extra; do files+=("$extra"); done < <(find "$site" -maxdepth 1 -name '*.js' | sort)

total=0
printf '%-28s %12s %12s\n' "file" "bytes" "gzip bytes"
for file in "${files[@]}"; do
  [ -f "$file" ] || {
    echo "missing $file: run 'cargo leptos build --release' first" >&2
    exit 1
  }
  raw=$(wc -c <"$file")
  packed=$(gzip -6 -c "$file" | wc -c)
  total=$((total + packed))
  printf '%-28s %12d %12d\n' "${file#"$site"/}" "$raw" "$packed"
done
printf '%-28s %12s %12d  (%d.%d KB)\n' "total" "" "$total" $((total / 1000)) $((total % 1000 / 100))

if [ -n "$max_kb" ] && [ "$total" -gt $((max_kb * 1000)) ]; then
  echo "over budget: $total bytes gzip > $max_kb KB" >&2
  exit 1
fi
