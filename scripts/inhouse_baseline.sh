#!/usr/bin/env bash
# Builds liballoc.so as of git REF and reconfigures ./build so that the
# adapter inhouse_baseline runs it, next to inhouse (this tree), in one run:
#
#   scripts/inhouse_baseline.sh HEAD~3
#   build/allocbench run --alloc inhouse,inhouse_baseline --reps 5 ... --out DIR
#
# The baseline is built from `git archive REF` (committed files only) with
# the same build type. Undo with: cmake -S . -B build -DALLOC_BASELINE_SO=
set -euo pipefail
ref=${1:?usage: scripts/inhouse_baseline.sh GIT_REF}
root=$(git rev-parse --show-toplevel)
build=${BUILD:-$root/build}
commit=$(git -C "$root" rev-parse --short=12 "$ref^{commit}")
src=$build/baseline-src
rm -rf "$src" "$build/baseline-build"
mkdir -p "$src" "$build/baseline"
git -C "$root" archive "$commit" | tar -x -C "$src"
cmake -S "$src" -B "$build/baseline-build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build/baseline-build" --target alloc_shared -j "${JOBS:-2}" -- --no-print-directory >/dev/null
cp "$build/baseline-build/allocators/inhouse/liballoc.so" "$build/baseline/liballoc.so"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DALLOC_BASELINE_SO="$build/baseline/liballoc.so" \
  -DALLOC_BASELINE_DESC="liballoc at $commit" >/dev/null
cmake --build "$build" -j "${JOBS:-2}" -- --no-print-directory >/dev/null
echo "inhouse_baseline = liballoc at $commit ($build/baseline/liballoc.so)"
