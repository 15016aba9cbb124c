# Shared by the bench scripts: sourced, not run.

die() {
	echo "bench: $*" >&2
	exit 1
}

# abspath NAME-OR-PATH: an executable file's absolute path (a bare name is looked up on PATH).
abspath() {
	local p="$1"
	if [[ "$p" != */* ]]; then
		p="$(command -v "$p")" || return 1
	fi
	[[ "$p" == /* ]] || p="$PWD/$p"
	[ -f "$p" ] && [ -x "$p" ] || return 1
	echo "$p"
}
