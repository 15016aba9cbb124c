#!/usr/bin/env bats
# linux.seccomp with SCMP_ACT_NOTIFY: the runtime hands the listener fd and the container
# process state to the agent at listenerPath (runtime-spec config-linux.md "seccomp"), and
# the container sees the agent's answers. runc 1.1 does this too.

load helpers

# The agent (tests/tools/seccomp_agent.cpp), built by CMake into $BUILD_DIR/tools, or
# compiled here once per bats run.
require_agent() {
	AGENT="${BUILD_DIR:+$BUILD_DIR/tools/seccomp_agent}"
	if [[ -n "$AGENT" && -x "$AGENT" ]]; then
		return 0
	fi
	AGENT="$BATS_RUN_TMPDIR/tools/seccomp_agent"
	mkdir -p "$(dirname "$AGENT")"
	(
		flock 9
		[[ -x "$AGENT" ]] || g++ -std=c++23 -O2 -Wall -Wextra -o "$AGENT" "$REPO_ROOT/tests/tools/seccomp_agent.cpp"
	) 9>"$AGENT.lock" || fail "cannot build seccomp_agent"
}

# start_agent [AGENT-OPTIONS...]: the agent on $SOCK in the background, the first state it
# receives in $AGENT_STATE, its log of notifications in $AGENT_LOG.
start_agent() {
	require_agent
	"$AGENT" --timeout 110 --state "$AGENT_STATE" --log "$AGENT_LOG" "$@" "$SOCK" \
		</dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/agent.err" 3>&- &
	BG_PIDS+=("$!")
	wait_for test -S "$SOCK" || fail "the agent never listened on $SOCK: $(cat "$BATS_TEST_TMPDIR/agent.err")"
}

# notify_mkdir: a profile whose only rule sends mkdir/mkdirat to the agent.
notify_mkdir() {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"listenerPath": $sock, "listenerMetadata": "agent-meta=42",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}' --arg sock "$SOCK"
}

setup() {
	common_setup
	# Short: sun_path holds 108 bytes, and BATS_TEST_TMPDIR can be long.
	SOCK="$(mktemp -u /tmp/mdt-agent.XXXXXX).sock"
	AGENT_STATE="$BATS_TEST_TMPDIR/agent-state.json"
	AGENT_LOG="$BATS_TEST_TMPDIR/agent.log"
}

teardown() {
	common_teardown
	rm -f "$SOCK"
}

@test "seccomp notify: the container sees the agent's errno, the agent gets pid and metadata" {
	start_agent --errno 28
	notify_mkdir
	# Without no_new_privs the filter is loaded before the capabilities are dropped (the
	# other path is the next test's).
	update_config '.process.noNewPrivileges = false'
	set_args sh -c 'mkdir /tmp/x; echo "mkdir $?"; [ -e /tmp/x ] || echo no-x'
	create_container
	local pid
	pid="$(container_pid "$CID")"
	[[ "$pid" -gt 0 ]]
	# The state arrives during create: the agent has it before start.
	[[ -s "$AGENT_STATE" ]] || fail "no state sent to the agent"
	cat "$AGENT_STATE" >&2
	jq -e --argjson pid "$pid" --arg id "$CID" '
		.fds == ["seccompFd"] and .pid == $pid and .metadata == "agent-meta=42"
		and .state.id == $id and .state.pid == $pid and .state.status == "creating"
		and (.ociVersion | type) == "string"' "$AGENT_STATE"
	runtime start "$CID"
	assert_success
	wait_for_status "$CID" stopped
	output="$(cat "$CTR_STDIO")"
	echo "$output" >&2
	assert_output_contains "No space left on device"
	assert_output_contains "mkdir 1"
	assert_output_contains no-x
	[ ! -e "$BUNDLE/rootfs/tmp/x" ]
	grep -q '^syscall ' "$AGENT_LOG"
}

@test "seccomp notify: an agent that answers continue lets the syscall run" {
	start_agent
	notify_mkdir
	update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.noNewPrivileges = true'
	set_args sh -c 'mkdir /tmp/made && echo made-ok; id -u'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains made-ok
	assert_output_contains 1000
	[ -d "$BUNDLE/rootfs/tmp/made" ]
	rmdir "$BUNDLE/rootfs/tmp/made"
	# The agent really saw it: mkdir went through the notification.
	grep -q '^syscall ' "$AGENT_LOG"
	jq -e '.metadata == "agent-meta=42"' "$AGENT_STATE"
}

@test "seccomp notify: exec sends its own listener with the exec'd process's pid" {
	start_agent --errno 13
	notify_mkdir
	run_sleeping_container
	[[ -s "$AGENT_STATE" ]]
	runtime exec "$CID" sh -c 'mkdir /tmp/e; echo "mkdir $?"; echo "pid $$"'
	assert_output_contains "Permission denied"
	assert_output_contains "mkdir 1"
	[[ -s "$AGENT_STATE.2" ]] || fail "exec sent no state to the agent"
	cat "$AGENT_STATE.2" >&2
	# The exec'd process is a new process: its pid is not the container's init.
	local init_pid
	init_pid="$(container_pid "$CID")"
	jq -e --argjson init "$init_pid" '.pid != $init and .pid > 0 and .state.pid == $init
		and .metadata == "agent-meta=42"' "$AGENT_STATE.2"
}

@test "seccomp notify: no agent at listenerPath is an error and leaves nothing behind" {
	notify_mkdir
	set_args true
	runtime_detached create --bundle "$BUNDLE" "$CID"
	assert_failure
	if is_mydocker; then
		assert_output_contains linux.seccomp.listenerPath
		assert_output_contains "$SOCK"
		assert_output_contains "No such file or directory"
	fi
	runtime state "$CID"
	assert_failure
	no_state_left
	wait_for no_cgroup_left
}

@test "seccomp notify: NOTIFY without listenerPath is rejected, naming the field" {
	notify_mkdir
	update_config 'del(.linux.seccomp.listenerPath)'
	runtime_detached create --bundle "$BUNDLE" "$CID"
	assert_failure
	if is_mydocker; then
		assert_output_contains linux.seccomp.listenerPath
	fi
	no_state_left
	wait_for no_cgroup_left
}

@test "seccomp notify: a relative listenerPath is rejected" {
	is_mydocker || skip "the absolute-path rule is mydocker-runc's (runc does not check it)"
	notify_mkdir
	update_config '.linux.seccomp.listenerPath = "agent.sock"'
	runtime_detached create --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains linux.seccomp.listenerPath
	assert_output_contains "absolute"
	no_state_left
	wait_for no_cgroup_left
}
