#!/usr/bin/env bats
# Container escapes through the runtime's own processes, performed for real from inside a
# container by tests/tools/exe_grabber (a root process with the spec's capabilities):
# CVE-2019-5736 (a `#!/proc/self/exe` script or args run the runtime binary inside the
# container; the container overwrites it) in its exec and joined-pid-namespace variants,
# and the host's root reached through /proc/PID/root of a process entering by exec.
# Each attack runs against a copy of the runtime, so a successful one cannot hurt the build.

load helpers
load attack_helpers

GRABBER="${BUILD_DIR:+$BUILD_DIR/tools/exe_grabber}"

setup() {
	common_setup
	[[ -x "$GRABBER" ]] || skip "exe_grabber not built (set BUILD_DIR)"
	prepare_attack
	# The runtime under attack: a copy (the same binary, at another path).
	# (Same file name, so is_mydocker still knows it.)
	mkdir -p "$BATS_TEST_TMPDIR/copy"
	COPY="$BATS_TEST_TMPDIR/copy/$(basename "$RUNTIME")"
	cp "$RUNTIME" "$COPY"
	COPY_SUM="$(sha256sum <"$COPY")"
	REAL_RUNTIME="$RUNTIME"
	RUNTIME="$COPY"
	add_bind "$ATTACK" /attack
}

teardown() {
	[[ -z "${REAL_RUNTIME:-}" ]] || RUNTIME="$REAL_RUNTIME"
	# Containers were made by the copy: the real binary deletes them (same state root).
	common_teardown
}

# start_grabber MODE [CAPS...]: the attacker as PID 1 of $CID (with the spec's capabilities
# plus CAPS), watching until $ATTACK/stop appears.
start_grabber() {
	local mode="$1"
	shift
	local c
	for c in "$@"; do
		update_config '.process.capabilities |= with_entries(.value += [$c])' --arg c "$c"
	done
	set_args /attack/grabber "$mode" /attack 60
	run_detached
	wait_for test -e "$ATTACK/ready"
}



# assert_runtime_intact: the copy is byte for byte what it was, and running it runs it.
assert_runtime_intact() {
	[[ "$(sha256sum <"$COPY")" == "$COPY_SUM" ]] || fail "the runtime binary was overwritten from the container"
	"$COPY" --version >/dev/null 2>&1 || true
	[[ ! -e "$ATTACK/pwned" ]] || fail "the container's payload ran on the host"
	[[ "$(result_count overwrote)" == 0 ]] || fail "the grabber overwrote an executable it reached"
}

@test "CVE-2019-5736: exec of a #!/proc/self/exe script cannot reach the runtime binary" {
	start_grabber exe
	local i
	for i in $(seq 1 10); do
		runtime exec "$CID" /attack/evil
	done
	finish_grabber
	assert_runtime_intact
	[[ "$(result_count watched)" -ge 1 ]] || fail "the grabber did not see the exec'd processes"
}

@test "CVE-2019-5736: a container joining another's pid namespace with args /proc/self/exe" {
	start_grabber exe
	local pid i
	pid="$(container_pid "$CID")"
	local b2="$BATS_TEST_TMPDIR/b2"
	make_test_bundle "$b2" "$CGROUP_PATH-2"
	CONFIG="$b2/config.json" update_config '.process.args = ["/proc/self/exe"]'
	CONFIG="$b2/config.json" update_config \
		'.linux.namespaces = ([.linux.namespaces[] | select(.type != "pid")] + [{type: "pid", path: $p}])' \
		--arg p "/proc/$pid/ns/pid"
	for i in $(seq 1 5); do
		runtime run --bundle "$b2" "$CID-joined-$i"
	done
	finish_grabber
	assert_runtime_intact
	[[ "$(result_count watched)" -ge 1 ]] || fail "the grabber did not see the joined containers' processes"
}

@test "CVE-2019-5736: a startContainer hook whose path in the container is a #!/proc/self/exe script" {
	# The hook runs in the container before its process: what /proc/self/exe was for it
	# shows in its output (the run fails: the script is not a hook).
	update_config '.hooks.startContainer = [{path: "/attack/evil"}]'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	if is_mydocker; then
		# The sealed stub ran, refusing: not our command line.
		assert_output_contains "mydocker-stub: not a program to run by hand"
	fi
	[[ "$(sha256sum <"$COPY")" == "$COPY_SUM" ]] || fail "the runtime binary was overwritten"
}

@test "exec: with CAP_SYS_PTRACE nothing of the host is reachable through /proc/PID/root or cwd" {
	start_grabber root CAP_SYS_PTRACE
	local i
	for i in $(seq 1 50); do
		runtime exec "$CID" true
	done
	finish_grabber
	[[ "$(result_count escapes)" == 0 ]] || fail "the container reached the host's root through an exec'd process"
	[[ "$(result_count watched)" -ge 1 ]] || fail "the grabber did not see the exec'd processes"
}
