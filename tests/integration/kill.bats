#!/usr/bin/env bats
# `kill`: signals by name or number, to the init or (--all) to every process.

load helpers

# A PID 1 that records each TERM/USR1 it receives in /host/signals and exits on TERM.
# (PID 1 of a pid namespace only gets the signals it has a handler for.)
trap_container() {
	add_bind "$HOST_DIR" /host
	set_args sh -c 'trap "echo USR1 >>/host/signals" USR1
		trap "echo TERM >>/host/signals; exit 0" TERM
		touch /host/ready
		while true; do sleep 0.05; done'
	run_detached
	wait_for test -e "$HOST_DIR/ready"
}

got_signal() { grep -qx "$1" "$HOST_DIR/signals" 2>/dev/null; }

@test "kill without a signal sends SIGTERM" {
	trap_container
	runtime kill "$CID"
	assert_success
	wait_for got_signal TERM
	wait_for_status "$CID" stopped
}

@test "kill accepts signal names with and without SIG and numbers" {
	trap_container
	runtime kill "$CID" USR1
	assert_success
	wait_for got_signal USR1
	rm "$HOST_DIR/signals"
	runtime kill "$CID" SIGUSR1
	assert_success
	wait_for got_signal USR1
	rm "$HOST_DIR/signals"
	runtime kill "$CID" 10
	assert_success
	wait_for got_signal USR1
	status_is "$CID" running
	runtime kill "$CID" 15
	assert_success
	wait_for got_signal TERM
	wait_for_status "$CID" stopped
}

@test "kill KILL, SIGKILL and 9 stop a container that ignores TERM" {
	local sig
	for sig in KILL SIGKILL 9; do
		run_sleeping_container
		runtime kill "$CID" "$sig"
		assert_success
		wait_for_status "$CID" stopped
		runtime delete "$CID"
		assert_success
	done
}

@test "kill --all signals every process of the container" {
	add_bind "$HOST_DIR" /host
	set_args sh -c 'sleep 1001 & sleep 1002 & touch /host/ready; wait'
	run_detached
	wait_for test -e "$HOST_DIR/ready"
	wait_for pgrep -f '^sleep 1002$'
	[ "$(wc -l <"$(cgroup_dir pids)/cgroup.procs")" -eq 3 ]
	runtime kill --all "$CID" KILL
	assert_success
	wait_for_status "$CID" stopped
	wait_for eval '[ ! -s "$(cgroup_dir pids)/cgroup.procs" ]'
	refute pgrep -f '^sleep 100[12]$'
}

@test "kill of a created container stops it" {
	set_args sleep 1000
	create_container
	runtime kill "$CID" KILL
	assert_success
	wait_for_status "$CID" stopped
}

@test "kill of a stopped container fails" {
	set_args true
	runtime run --keep --bundle "$BUNDLE" "$CID"
	assert_success
	runtime kill "$CID" KILL
	assert_failure
	assert_output_contains "not running"
}

@test "kill with an unknown signal fails and leaves the container running" {
	run_sleeping_container
	runtime kill "$CID" NOSUCHSIG
	assert_failure
	runtime kill "$CID" 999
	assert_failure
	status_is "$CID" running
}

@test "kill of an unknown container fails" {
	runtime kill no-such-container KILL
	assert_failure
	assert_output_contains "does not exist"
}
