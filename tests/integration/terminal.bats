#!/usr/bin/env bats
# process.terminal and --console-socket: the runtime sends the pty master to the socket
# (received by tests/tools/recvtty) and the container gets the slave as stdio.

load helpers

setup() {
	common_setup
	require_recvtty
	SOCK="$BATS_TEST_TMPDIR/console.sock"
	TTY_OUT="$BATS_TEST_TMPDIR/tty.out"
	update_config '.process.terminal = true'
}

# Waits until recvtty saw the pty hang up (the container's processes exited), then checks
# that TTY_OUT has each line given (the pty turns \n into \r\n).
tty_output_has() {
	wait_pid_exit "$RECVTTY_PID" || fail "recvtty still running; got: $(cat "$TTY_OUT")"
	local want
	for want in "$@"; do
		tr -d '\r' <"$TTY_OUT" | grep -qxF -- "$want" || fail "no line '$want' in tty output: $(cat -A "$TTY_OUT")"
	done
}

@test "run -d --console-socket: the process has a tty on stdin, stdout and stderr" {
	start_recvtty "$SOCK" "$TTY_OUT"
	set_args sh -c 'tty; test -t 0 && echo in-tty; test -t 1 && echo out-tty; test -t 2 && echo err-tty
		ls -l /dev/console | cut -c1'
	run_detached --console-socket "$SOCK"
	tty_output_has /dev/pts/0 in-tty out-tty err-tty c
}

@test "create --console-socket then start" {
	start_recvtty "$SOCK" "$TTY_OUT"
	set_args sh -c 'echo "tty $(tty)"'
	create_container --console-socket "$SOCK"
	[ "$(container_status "$CID")" = created ]
	runtime start "$CID"
	assert_success
	tty_output_has "tty /dev/pts/0"
}

@test "input written to the pty master reaches the process" {
	printf 'echo "typed $((6*7))"\nexit 0\n' >"$BATS_TEST_TMPDIR/input"
	require_recvtty
	"$RECVTTY" --timeout 60 --output "$TTY_OUT" "$SOCK" <"$BATS_TEST_TMPDIR/input" >/dev/null 2>&1 3>&- &
	RECVTTY_PID=$!
	BG_PIDS+=("$RECVTTY_PID")
	wait_for test -S "$SOCK"
	set_args sh
	run_detached --console-socket "$SOCK"
	tty_output_has "typed 42"
}

@test "consoleSize sets the window size" {
	start_recvtty "$SOCK" "$TTY_OUT"
	update_config '.process.consoleSize = {"height": 40, "width": 100}'
	set_args stty size
	run_detached --console-socket "$SOCK"
	tty_output_has "40 100"
}

@test "exec -t --console-socket gives the exec'd process its own tty" {
	update_config '.process.terminal = false'
	run_sleeping_container
	start_recvtty "$SOCK" "$TTY_OUT"
	runtime_detached exec -t -d --console-socket "$SOCK" "$CID" sh -c 'tty; test -t 0 && echo exec-tty'
	assert_success
	tty_output_has /dev/pts/0 exec-tty
}

@test "terminal without a console socket fails for a detached container, leaving nothing" {
	set_args true
	runtime_detached create --bundle "$BUNDLE" "$CID"
	assert_failure
	[[ "$output" =~ console[-\ ]socket ]] || fail "no mention of the console socket: $output"
	runtime state "$CID"
	assert_failure
	no_state_left
	no_cgroup_left
}

@test "a console socket without terminal fails" {
	update_config '.process.terminal = false'
	set_args true
	runtime_detached create --bundle "$BUNDLE" --console-socket "$SOCK" "$CID"
	assert_failure
	[[ "$output" =~ console[-\ ]socket ]] || fail "no mention of the console socket: $output"
	no_state_left
}

@test "a console socket path nobody listens on fails create" {
	set_args true
	runtime_detached create --bundle "$BUNDLE" --console-socket "$BATS_TEST_TMPDIR/nobody.sock" "$CID"
	assert_failure
	runtime state "$CID"
	assert_failure
	wait_for no_cgroup_left
}

@test "without terminal the process's stdio are not ttys" {
	update_config '.process.terminal = false'
	set_args sh -c 'test -t 0 || echo not-tty; test -e /dev/console || echo no-console'
	runtime run --bundle "$BUNDLE" "$CID" </dev/null
	assert_success
	assert_output_contains not-tty
	assert_output_contains no-console
}

@test "foreground run with terminal proxies the pty and passes the exit code" {
	command -v script >/dev/null || skip "needs script(1) to give the runtime a terminal"
	set_args sh -c 'tty; test -t 0 && echo fg-tty; exit 4'
	run script -qec "$RUNTIME --root $ROOT run --bundle $BUNDLE $CID" /dev/null </dev/null
	assert_status 4
	assert_output_contains /dev/pts/0
	assert_output_contains fg-tty
}
