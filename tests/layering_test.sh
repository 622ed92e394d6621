#!/bin/sh
# The include rule of docs/architecture.md: a layer includes only its own
# headers and those of layers below it. Prints every include that breaks it.
# Usage: layering_test.sh SOURCE_DIR
cd "${1:?usage: layering_test.sh SOURCE_DIR}" || exit 2
bad=$( {
  grep -rn '#include "' allocators | grep -E '"(adapters|workloads|runner)/'
  grep -rn '#include "' workloads | grep -E '"(adapters|runner)/'
  grep -rn '#include "' adapters | grep -E '"runner/'
  grep -rn '#include "allocators/' workloads runner | grep -v 'allocators/common/platform.h'
  grep -rn '#include "' recorder |
    grep -vE '"(recorder/|workloads/recorded_trace_format.h|allocators/common/(platform|spin_lock).h)'
  grep -rn '#include "recorder/' allocators adapters workloads runner
} )
if [ -n "$bad" ]; then
  echo "includes that break the layering of docs/architecture.md:"
  echo "$bad"
  exit 1
fi
echo "layering: ok"
