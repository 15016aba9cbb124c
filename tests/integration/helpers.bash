#!/bin/bash
# Shared helpers of the OCI runtime integration suite (bats).
#
# The runtime under test is $RUNTIME, else $MYDOCKER_RUNC (set by ctest). The same suite runs
# against Debian's runc as the reference:   RUNTIME=runc bats tests/integration/
#
# Every test gets, from setup():
#   ROOT         its own runtime state root (passed as --root)
#   BUNDLE       its own busybox bundle (scripts/make-bundle), with terminal=false, a writable
#                root and linux.cgroupsPath=$CGROUP_PATH
#   CID          a container id unique to the test
#   CGROUP_PATH  an absolute cgroupsPath unique to the test (removed again by teardown)
#   HOST_DIR     an empty host dir, handy as a bind-mount source
# and teardown() deletes every container of ROOT, kills the helper processes the test started
# and removes the cgroups of CGROUP_PATHS, even when the test failed.
#
# A .bats file that needs more setup defines its own setup() and calls common_setup first
# (teardown likewise with common_teardown).

INTEGRATION_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INTEGRATION_DIR/../.." && pwd)"
MAKE_BUNDLE="$REPO_ROOT/scripts/make-bundle"

RUNTIME="${RUNTIME:-${MYDOCKER_RUNC:-}}"
if [[ -n "$RUNTIME" ]] && command -v "$RUNTIME" >/dev/null 2>&1; then
	RUNTIME="$(command -v "$RUNTIME")"
fi
export RUNTIME

# The console-socket receiver (tests/tools/recvtty.cpp). Built by CMake into
# $BUILD_DIR/tools; when that is missing, require_recvtty compiles it once per bats run.
RECVTTY="${RECVTTY:-${BUILD_DIR:+$BUILD_DIR/tools/recvtty}}"

# Where the hierarchies are mounted: on a v1 host one per controller, plus the cgroup2 mount
# of a hybrid host (unified/); on a v2 host (Debian 12 and most current distributions) the
# one cgroup2 hierarchy itself. Cleanup looks for the test's cgroups in each of them.
CGROUP_ROOT=/sys/fs/cgroup
# CGROUP_V2: 1 when cgroup2 alone is mounted at $CGROUP_ROOT (as the runtimes decide it).
CGROUP_V2=""
[[ "$(stat -fc %T "$CGROUP_ROOT" 2>/dev/null)" != cgroup2fs ]] || CGROUP_V2=1

# A hung runtime must not hang the suite (ctest only stops a whole file, after 600 s).
BATS_TEST_TIMEOUT="${BATS_TEST_TIMEOUT:-120}"

# ---------------------------------------------------------------------------------------
# setup / teardown

common_setup() {
	if [[ $EUID -ne 0 ]]; then
		skip "the runtime integration tests must run as root"
	fi
	if [[ -z "$RUNTIME" ]]; then
		echo "no runtime under test: set RUNTIME (e.g. RUNTIME=runc) or MYDOCKER_RUNC" >&2
		return 1
	fi
	if [[ ! -x "$RUNTIME" ]]; then
		echo "runtime '$RUNTIME' is not an executable" >&2
		return 1
	fi

	ROOT="$BATS_TEST_TMPDIR/root"
	BUNDLE="$BATS_TEST_TMPDIR/bundle"
	HOST_DIR="$BATS_TEST_TMPDIR/host"
	local file
	file="$(basename "$BATS_TEST_FILENAME" .bats)"
	CID="mdt-${file}-${BATS_TEST_NUMBER}-$$"
	CGROUP_PATH="/mydocker-test-${file}-${BATS_TEST_NUMBER}-$$"
	CGROUP_PATHS=("$CGROUP_PATH")
	BG_PIDS=()
	RT_SEQ=0
	export ROOT BUNDLE HOST_DIR CID CGROUP_PATH
	mkdir -p "$ROOT" "$HOST_DIR"

	make_test_bundle "$BUNDLE" "$CGROUP_PATH"
}

# make_test_bundle DIR CGROUP-PATH: a bundle as setup makes $BUNDLE: terminal off, writable
# root, args ["true"], the given cgroupsPath (registered for cleanup). For tests that need a
# second container: make_test_bundle "$BATS_TEST_TMPDIR/b2" "$CGROUP_PATH-2".
make_test_bundle() {
	local dir="$1" cg="$2"
	[[ " ${CGROUP_PATHS[*]} " == *" $cg "* ]] || CGROUP_PATHS+=("$cg")
	"$MAKE_BUNDLE" "$dir" >&2
	# The test defaults are applied with jq once per bats run into a template (jq 1.6 takes
	# ~50 ms to start, more on a busy box); each bundle gets the template with its path.
	local template
	template="$BATS_RUN_TMPDIR/test-config.$(basename "$RUNTIME").json"
	if [[ ! -s "$template" ]]; then
		(
			flock 9
			[[ -s "$template" ]] || jq '.process.terminal = false
				| .root.readonly = false
				| .process.args = ["true"]
				| .linux.cgroupsPath = "@CGROUP_PATH@"' "$dir/config.json" >"$template.tmp" &&
				mv "$template.tmp" "$template"
		) 9>"$template.lock"
	fi
	sed "s|@CGROUP_PATH@|$cg|" "$template" >"$dir/config.json"
}

common_teardown() {
	# Nothing to clean when setup skipped before choosing the paths.
	[[ -n "${ROOT:-}" ]] || return 0
	local id pid
	if [[ -n "${RUNTIME:-}" && -d "$ROOT" ]]; then
		for id in $("$RUNTIME" --root "$ROOT" list -q 2>/dev/null </dev/null 3>&-); do
			"$RUNTIME" --root "$ROOT" delete -f "$id" </dev/null >/dev/null 2>&1 3>&- ||
				echo "teardown: delete -f $id failed" >&2
		done
	fi
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	remove_test_cgroups
}

setup() { common_setup; }
teardown() { common_teardown; }

# Removes the cgroups named in CGROUP_PATHS from every hierarchy, killing what is left in
# them first (a runtime under test may have leaked a process). Only paths this suite made up
# (they contain "mydocker-test") are touched.
remove_test_cgroups() {
	local path hier dir i
	for path in "${CGROUP_PATHS[@]}"; do
		[[ "$path" == *mydocker-test* ]] || continue
		for hier in $(cgroup_hierarchies); do
			dir="$hier/${path#/}"
			[[ -d "$dir" ]] || continue
			# Thaw first: a frozen task never dies.
			if [[ -f "$dir/freezer.state" ]]; then
				echo THAWED >"$dir/freezer.state" 2>/dev/null || true
			fi
			while read -r sub; do
				echo 0 >"$sub/cgroup.freeze" 2>/dev/null || true
			done < <(find "$dir" -name cgroup.freeze -printf '%h\n')
			while read -r sub; do
				for ((i = 0; i < 50; i++)); do
					xargs -r kill -KILL <"$sub/cgroup.procs" 2>/dev/null || true
					rmdir "$sub" 2>/dev/null && break
					sleep 0.1
				done
				[[ -d "$sub" ]] && echo "teardown: could not remove cgroup '$sub'" >&2
			done < <(find "$dir" -depth -type d)
		done
	done
	return 0
}

# ---------------------------------------------------------------------------------------
# running the runtime

# is_mydocker: true when the runtime under test is ours (not runc/crun), for assertions on
# behaviour only mydocker-runc promises (error messages with JSON paths, ...).
is_mydocker() {
	[[ -n "${MYDOCKER_RUNC:-}" && "$RUNTIME" -ef "$MYDOCKER_RUNC" ]] && return 0
	[[ "$(basename "$RUNTIME")" == mydocker* ]]
}

_runtime() { "$RUNTIME" --root "$ROOT" "$@" 3>&-; }

# runtime ARGS...: runs "$RUNTIME --root $ROOT ARGS" under bats' run (status, output, lines;
# stdout and stderr merged) and logs the command and its result to stderr, which bats shows
# for a failing test. Only for commands that leave no process behind holding stdout (not
# create, run -d or exec -d: see runtime_detached).
runtime() {
	run _runtime "$@"
	echo "\$ $(basename "$RUNTIME") $* -> status $status" >&2
	[[ -z "$output" ]] || printf '%s\n' "$output" >&2
}

# runtime_detached ARGS...: for commands that leave a container process behind (create,
# run -d, exec -d). Its stdio (inherited by the container) goes to a file, $LAST_STDIO,
# instead of bats' pipe, which the container would keep open. Sets status and output (the
# file's content when the command returned) like runtime does.
runtime_detached() {
	RT_SEQ=$((RT_SEQ + 1))
	LAST_STDIO="$BATS_TEST_TMPDIR/stdio.$RT_SEQ"
	status=0
	"$RUNTIME" --root "$ROOT" "$@" </dev/null >"$LAST_STDIO" 2>&1 3>&- || status=$?
	output="$(cat "$LAST_STDIO")"
	lines=()
	[[ -z "$output" ]] || mapfile -t lines <<<"$output"
	echo "\$ $(basename "$RUNTIME") $* (detached stdio $LAST_STDIO) -> status $status" >&2
	[[ -z "$output" ]] || printf '%s\n' "$output" >&2
	return 0
}

# create_container [OPTIONS...]: runtime create --bundle $BUNDLE OPTIONS $CID, asserting
# success. The container's stdio is the file $CTR_STDIO.
create_container() {
	runtime_detached create --bundle "$BUNDLE" "$@" "$CID"
	CTR_STDIO="$LAST_STDIO"
	[[ "$status" -eq 0 ]] || fail "create failed: $output"
}

# run_detached [OPTIONS...]: runtime run -d --bundle $BUNDLE OPTIONS $CID, asserting success.
run_detached() {
	runtime_detached run -d --bundle "$BUNDLE" "$@" "$CID"
	CTR_STDIO="$LAST_STDIO"
	[[ "$status" -eq 0 ]] || fail "run -d failed: $output"
}

# run_sleeping_container: a detached container whose PID 1 sleeps, for exec/kill/ps/pause.
run_sleeping_container() {
	set_args sleep 1000
	run_detached "$@"
	wait_for_status "$CID" running
}

# ---------------------------------------------------------------------------------------
# config.json

# update_config FILTER [JQ-OPTIONS...]: applies the jq FILTER to $BUNDLE/config.json, e.g.
#   update_config '.process.args = ["sh","-c","echo hi"]'
#   update_config '.hostname = $h' --arg h myhost
update_config() {
	local filter="$1" cfg="${CONFIG:-$BUNDLE/config.json}"
	shift
	jq "$@" "$filter" "$cfg" >"$cfg.tmp" && mv "$cfg.tmp" "$cfg"
}

# set_args ARG...: process.args, without quoting worries: set_args sh -c 'echo "$HOME"'
set_args() {
	update_config '.process.args = $a' --argjson a "$(json_array "$@")"
}

# json_string STRING: STRING as a JSON string literal. Pure bash: jq 1.6 costs ~50 ms a call.
json_string() {
	local s="$1" out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c="${s:i:1}"
		case "$c" in
		'"') out+='\"' ;;
		'\') out+='\\' ;;
		$'\n') out+='\n' ;;
		$'\t') out+='\t' ;;
		$'\r') out+='\r' ;;
		[$'\x01'-$'\x1f']) out+="$(printf '\\u%04x' "'$c")" ;;
		*) out+="$c" ;;
		esac
	done
	printf '"%s"' "$out"
}

# json_array STRING...: a JSON array of the strings.
json_array() {
	local a sep="" out="["
	for a in "$@"; do
		out+="$sep$(json_string "$a")"
		sep=","
	done
	printf '%s]' "$out"
}

# add_namespace TYPE [PATH]: a new (or, with PATH, joined) namespace of TYPE, replacing any
# TYPE entry the spec already had.
add_namespace() {
	update_config '.linux.namespaces = ([.linux.namespaces[] | select(.type != $t)]
		+ [{type: $t} + (if $p == "" then {} else {path: $p} end)])' --arg t "$1" --arg p "${2:-}"
}

# add_mount JSON: appends a mount object to .mounts.
add_mount() {
	update_config '.mounts += [$m]' --argjson m "$1"
}

# add_bind SRC DEST [OPTION...]: a bind mount (options default to rbind).
add_bind() {
	local src="$1" dst="$2"
	shift 2
	update_config '.mounts += [{source: $s, destination: $d, type: "bind", options: $o}]' \
		--arg s "$src" --arg d "$dst" --argjson o "$(json_array rbind "$@")"
}

# ---------------------------------------------------------------------------------------
# observing containers

# wait_for COMMAND...: polls COMMAND until it succeeds, at most WAIT_TRIES times (default 50)
# 0.1 s apart. The only sanctioned way to wait for something asynchronous.
wait_for() {
	local i tries="${WAIT_TRIES:-50}"
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "wait_for: gave up after $tries tries: $*" >&2
	return 1
}

# container_state ID: the state JSON (empty when the container does not exist).
container_state() { "$RUNTIME" --root "$ROOT" state "$1" 2>/dev/null 3>&-; }
# state_field FIELD: a string or number field of the state JSON on stdin (without jq, which
# is slow to start, as these run in polling loops).
state_field() {
	local json re
	json="$(cat)"
	re="\"$1\"[[:space:]]*:[[:space:]]*\"?([^\",}[:space:]]*)"
	[[ "$json" =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}
container_status() { container_state "$1" | state_field status; }
container_pid() { container_state "$1" | state_field pid; }

status_is() { [[ "$(container_status "$1")" == "$2" ]]; }

# wait_for_status ID STATUS
wait_for_status() {
	wait_for status_is "$1" "$2" || fail "container '$1' never became $2 (now: $(container_status "$1"))"
}

# cgroup_v2: true on a v2 host (see CGROUP_V2).
cgroup_v2() { [[ -n "$CGROUP_V2" ]]; }

# cgroup_hierarchies: the mount points a cgroup path can live under, one a line: every v1
# hierarchy (and a hybrid host's unified/), or the v2 root alone.
cgroup_hierarchies() {
	local hier
	if cgroup_v2; then
		echo "$CGROUP_ROOT"
		return
	fi
	for hier in "$CGROUP_ROOT"/*/; do
		echo "${hier%/}"
	done
}

# cgroup_dir CONTROLLER: the test's cgroup directory in the v1 hierarchy of CONTROLLER; on a
# v2 host, in the one hierarchy (whatever the CONTROLLER).
cgroup_dir() {
	if cgroup_v2; then
		echo "$CGROUP_ROOT${CGROUP_PATH}"
	else
		echo "$CGROUP_ROOT/$1${CGROUP_PATH}"
	fi
}

# cgroup_read CONTROLLER FILE: the content of the test cgroup's FILE.
cgroup_read() { cat "$(cgroup_dir "$1")/$2"; }

# cgroup_is CONTROLLER V1-FILE V1-VALUE V2-FILE V2-VALUE: the test cgroup's file holds the
# value: the V1 pair on a v1 host (in CONTROLLER's hierarchy), the V2 pair on a v2 host. A
# file named "-" checks nothing on that version (a knob it does not have).
#   cgroup_is cpu cpu.cfs_quota_us 50000 cpu.max "50000 100000"
cgroup_is() {
	local file want got
	if cgroup_v2; then
		file="$4" want="$5"
	else
		file="$2" want="$3"
	fi
	[[ "$file" != - ]] || return 0
	got="$(cgroup_read "$1" "$file")" || fail "cannot read $(cgroup_dir "$1")/$file"
	[[ "$got" == "$want" ]] || fail "$(cgroup_dir "$1")/$file holds '$got', expected '$want'"
}

# no_cgroup_left: no hierarchy holds the test's cgroup any more.
no_cgroup_left() {
	local hier
	for hier in $(cgroup_hierarchies); do
		[[ ! -d "$hier${CGROUP_PATH}" ]] || {
			echo "cgroup left: $hier${CGROUP_PATH}" >&2
			return 1
		}
	done
}

# no_state_left: the state root holds no container.
no_state_left() {
	local left
	left="$(find "$ROOT" -mindepth 1 -maxdepth 1 2>/dev/null)"
	[[ -z "$left" ]] || {
		echo "state left under $ROOT: $left" >&2
		return 1
	}
}

process_gone() { ! kill -0 "$1" 2>/dev/null; }

# cmdline_is PID "ARGS ": the process's command line, NULs shown as spaces ("sleep 9 ").
cmdline_is() {
	local c
	c="$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline")" || return 1
	[[ "$c" == "$2" ]]
}

# ---------------------------------------------------------------------------------------
# assertions

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# refute COMMAND...: fails when COMMAND succeeds. (A bare `! cmd` never fails a bats test:
# errexit ignores negated commands.)
refute() {
	if "$@"; then
		fail "expected to fail but succeeded: $*"
	fi
}

# assert_output_contains TEXT: $output contains TEXT (a literal substring).
assert_output_contains() {
	[[ "$output" == *"$1"* ]] || fail "output does not contain '$1': $output"
}

assert_output_not_contains() {
	[[ "$output" != *"$1"* ]] || fail "output contains '$1': $output"
}

assert_status() {
	[[ "$status" -eq "$1" ]] || fail "exit status $status, expected $1; output: $output"
}

assert_success() { assert_status 0; }

assert_failure() {
	[[ "$status" -ne 0 ]] || fail "command succeeded, expected a failure; output: $output"
}

# ---------------------------------------------------------------------------------------
# helper processes

# require_recvtty: makes $RECVTTY usable, compiling tests/tools/recvtty.cpp once per bats run
# when no build provides it.
require_recvtty() {
	if [[ -n "$RECVTTY" && -x "$RECVTTY" ]]; then
		return 0
	fi
	local out="$BATS_RUN_TMPDIR/tools/recvtty"
	mkdir -p "$(dirname "$out")"
	(
		flock 9
		[[ -x "$out" ]] || g++ -std=c++23 -O2 -Wall -Wextra -o "$out" "$REPO_ROOT/tests/tools/recvtty.cpp"
	) 9>"$out.lock" || fail "cannot build recvtty"
	RECVTTY="$out"
}

# start_recvtty SOCKET OUTPUT [MODE]: runs recvtty in the background on SOCKET, copying the
# pty's output to OUTPUT; waits until it listens. RECVTTY_PID is its pid.
start_recvtty() {
	local sock="$1" out="$2" mode="${3:-single}"
	require_recvtty
	"$RECVTTY" --mode "$mode" --timeout 60 --output "$out" "$sock" </dev/null >/dev/null 2>"$out.err" 3>&- &
	RECVTTY_PID=$!
	BG_PIDS+=("$RECVTTY_PID")
	wait_for test -S "$sock" || fail "recvtty never listened on $sock: $(cat "$out.err")"
}

# wait_pid_exit PID: waits for a process (not necessarily our child) to be gone.
wait_pid_exit() { wait_for process_gone "$1"; }
