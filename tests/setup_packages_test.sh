#!/bin/sh
# scripts/setup.sh's package list holds only valid Debian package names
# (a merge that leaves conflict markers in it breaks CI's first step), and
# every library the build finds with find_package has its -dev package there.
# Usage: setup_packages_test.sh SOURCE_DIR
cd "${1:?usage: setup_packages_test.sh SOURCE_DIR}" || exit 2
list=$(awk '/^PACKAGES="/{on=1; sub(/^PACKAGES="/, "")} on{line=$0; if (sub(/".*$/, "", line)) {print line; exit} print line}' scripts/setup.sh)
[ -n "$list" ] || { echo "no PACKAGES list found in scripts/setup.sh"; exit 1; }
bad=0
for p in $list; do
  if ! printf '%s\n' "$p" | grep -Eq '^[a-z0-9][a-z0-9+.-]+$'; then
    echo "not a Debian package name in scripts/setup.sh: '$p'"
    bad=1
  fi
done
for p in libcli11-dev nlohmann-json3-dev libfmt-dev libgtest-dev libjemalloc-dev python3-scipy \
         libtbbmalloc2 libclang-rt-14-dev; do
  printf '%s\n' $list | grep -qx "$p" || { echo "scripts/setup.sh does not install $p"; bad=1; }
done
[ "$bad" = 0 ] && echo "setup packages: ok"
exit $bad
