#!/usr/bin/env bash
# Runs the deterministic race tests (allocators/inhouse/alloc_race_test.cpp)
# against liballoc as it was before issue 9 (commit ab8af58, the
# kNotify/kPageOnStack handshake), to show that they fail there:
#   interleaving 1 hangs (the test's 20 s deadline fires);
#   interleaving 2 leaks (a 128 KiB large span stays active after 3 trims).
#
# The old alloc.cpp gets the test hook at the two points that open the old
# windows (after the freer cleared kNotify, and after it pushed the page),
# chosen by OLD_HOOK_AT, and a copy of today's census (stats.cpp) adapted to
# the old field names, so the same test source compiles against it.
#
#   scripts/repro_issue9_old_code.sh        (about 30 s; needs g++ and libgtest-dev)
set -euo pipefail
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d /tmp/issue9_repro.XXXXXX)
trap 'rm -rf "$work"' EXIT
old=ab8af58
mkdir -p "$work/allocators/inhouse"
git -C "$root" show "$old:allocators/inhouse/alloc.cpp" > "$work/allocators/inhouse/alloc.cpp"
git -C "$root" show "$old:allocators/inhouse/alloc_internal.h" > "$work/allocators/inhouse/alloc_internal.h"
/usr/bin/python3 - "$work/allocators/inhouse/alloc.cpp" "$root/allocators/inhouse/stats.cpp" <<'EOF'
import sys
path, stats = sys.argv[1], open(sys.argv[2]).read()
s = open(path).read()
def rep(old, new):
    global s
    assert s.count(old) == 1, old[:60]
    s = s.replace(old, new)
rep('#include "allocators/inhouse/alloc_internal.h"\n',
    '#include "allocators/inhouse/alloc_internal.h"\n#include "allocators/inhouse/alloc_test_hooks.h"\n'
    'alloc_test_hooks_t alloc_test_hooks = {nullptr};\n'
    'static bool hook_at_page() { const char* v = getenv("OLD_HOOK_AT"); return v && v[0] == \'p\'; }\n')
rep("""        continue;
      }
      Heap* owner = seg->heap;""", """        continue;
      }
      if (!hook_at_page() && alloc_test_hooks.remote_claimed) alloc_test_hooks.remote_claimed(b);
      Heap* owner = seg->heap;""")
rep("""      old &= ~kNotify;
    }""", """      old &= ~kNotify;
      if (hook_at_page() && alloc_test_hooks.remote_claimed) alloc_test_hooks.remote_claimed(b);
    }""")
census = stats[stats.index("// Walks every heap and the global caches"):stats.index("void print_stats(int fd) {")]
census = (census.replace("xthread", "remote").replace("kStateMask", "kNotify")
          .replace("Block* b = h->delayed.load(std::memory_order_acquire); b != nullptr; b = b->next",
                   "Page* b = h->delayed.load(std::memory_order_acquire); b != nullptr; b = b->delayed_next"))
rep("void print_stats(int fd) {", census + "void print_stats(int fd) {")
rep("void alloc_print_stats(int fd) { ih::print_stats(fd); }",
    "void alloc_print_stats(int fd) { ih::print_stats(fd); }\nvoid alloc_census(alloc_census_t* out) { ih::census(out); }")
open(path, "w").write(s)
EOF
cp "$root/allocators/inhouse/alloc.h" "$root/allocators/inhouse/alloc_test_hooks.h" "$work/allocators/inhouse/"
mkdir -p "$work/allocators/common"
cp "$root/allocators/common/platform.h" "$root/allocators/common/platform_linux.cpp" "$work/allocators/common/"
flags="-O2 -std=c++17 -I$work -pthread"
g++ $flags -fno-exceptions -fno-rtti -ftls-model=initial-exec -c "$work/allocators/inhouse/alloc.cpp" -o "$work/alloc.o"
g++ $flags -c "$work/allocators/common/platform_linux.cpp" -o "$work/platform.o"
g++ $flags -I"$work" "$root/allocators/inhouse/alloc_race_test.cpp" "$work/alloc.o" "$work/platform.o" \
  -lgtest -lgtest_main -o "$work/old_race_test"
status=0
echo "== interleaving 1 on $old (hook after the freer cleared kNotify): expect a hang caught by the deadline"
"$work/old_race_test" --gtest_filter='*Rearm*' || status=1
echo "== interleaving 2 on $old (hook after the freer pushed the page): expect a stranded span"
OLD_HOOK_AT=page "$work/old_race_test" --gtest_filter='*Trim*' || status=1
if [ "$status" = 0 ]; then
  echo "repro: the old code passed both tests (unexpected)" >&2
  exit 1
fi
echo "repro: both interleavings fail on $old, as expected (they pass on today's code: build/allocators/inhouse/inhouse_alloc_race_test)"
