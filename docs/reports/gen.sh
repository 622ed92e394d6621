# Sourced by docs/reports/*/regenerate.sh (from the repository's root).
# gen FILE CMD...: writes $out/FILE, the command in a code block, then what
# the command prints (each table file so carries the command that wrote it).
py=$(sh scripts/find_python.sh)

gen() {
  file=$1
  shift
  { printf '```sh\n%s\n```\n\n' "$*"; "$@"; } > "$out/$file"
}
