#!/usr/bin/env bats
# File descriptors and cwd: nothing of the runtime reaches the container beyond stdio and the
# fds the caller passes (the two halves of CVE-2024-21626: leaked fds and a cwd outside the
# rootfs).

load helpers

setup() {
	common_setup
	echo three >"$BATS_TEST_TMPDIR/f3"
	echo four >"$BATS_TEST_TMPDIR/f4"
}

# run_with_fds SHELL-REDIRECTIONS RUNTIME-ARGS...: runs the runtime from a shell that opened
# extra fds first (e.g. '3<file 4<file').
run_with_fds() {
	local redirs="$1"
	shift
	run bash -c "exec $redirs; exec \"\$RUNTIME\" --root \"\$ROOT\" \"\$@\"" bash "$@"
	echo "\$ ($redirs) $(basename "$RUNTIME") $* -> status $status" >&2
	printf '%s\n' "$output" >&2
}

@test "the container process has only fds 0, 1 and 2" {
	# ls itself holds one more: the /proc/self/fd directory it reads (3).
	set_args sh -c 'ls /proc/self/fd | tr "\n" " "'
	run_with_fds '3<"$BATS_TEST_TMPDIR/f3" 4<"$BATS_TEST_TMPDIR/f4" 9>/dev/null' run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = "0 1 2 3 " ]
}

@test "no fd of the runtime or its caller reaches an exec'd process" {
	run_sleeping_container
	run_with_fds '3<"$BATS_TEST_TMPDIR/f3" 5</etc/hostname' exec "$CID" sh -c 'ls /proc/self/fd | tr "\n" " "'
	assert_success
	[ "$output" = "0 1 2 3 " ]
}

@test "none of the container's fds point outside it" {
	set_args sh -c 'for f in /proc/1/fd/*; do echo "$f -> $(readlink $f)"; done'
	run_with_fds '3<"$BATS_TEST_TMPDIR/f3"' run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_not_contains "$BATS_TEST_TMPDIR"
	assert_output_not_contains "/sys/fs/cgroup"
	assert_output_not_contains "$ROOT"
}

@test "--preserve-fds 1 passes fd 3 (and only it)" {
	set_args sh -c 'cat <&3; cat 2>/dev/null <&4 || echo no-fd-4'
	run_with_fds '3<"$BATS_TEST_TMPDIR/f3" 4<"$BATS_TEST_TMPDIR/f4"' run --preserve-fds 1 --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = "three
no-fd-4" ]
}

@test "--preserve-fds on exec" {
	run_sleeping_container
	run_with_fds '3<"$BATS_TEST_TMPDIR/f3"' exec --preserve-fds 1 "$CID" sh -c 'cat <&3'
	assert_success
	[ "$output" = three ]
}

@test "LISTEN_FDS passes the socket-activation fds and sets LISTEN_FDS/LISTEN_PID" {
	set_args sh -c 'echo "fds=$LISTEN_FDS pid=$LISTEN_PID"; cat <&3; cat 2>/dev/null <&4 || echo no-fd-4'
	run bash -c 'exec 3<"$BATS_TEST_TMPDIR/f3" 4<"$BATS_TEST_TMPDIR/f4"
		LISTEN_FDS=1 LISTEN_PID=$$ exec "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$CID"'
	assert_success
	[ "$output" = "fds=1 pid=1
three
no-fd-4" ]
}

@test "process.cwd is the working directory, inside the rootfs" {
	update_config '.process.cwd = "/tmp"'
	set_args sh -c 'pwd; readlink /proc/self/cwd'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = "/tmp
/tmp" ]
}

@test "a missing cwd is created inside the rootfs" {
	update_config '.process.cwd = "/new/work/dir"'
	set_args pwd
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = /new/work/dir ]
	[ -d "$BUNDLE/rootfs/new/work/dir" ]
}

@test "a cwd of /proc/self/fd/N cannot reach the host (CVE-2024-21626)" {
	local host_hostname n
	host_hostname="$(cat /etc/hostname)"
	[[ "$host_hostname" != mydocker-bundle ]] || skip "host and bundle hostname files are alike"
	for n in 3 4 5 6 7 8 9; do
		update_config '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		set_args sh -c 'cat ../../../../../../../../etc/hostname; readlink /proc/self/cwd'
		runtime run --bundle "$BUNDLE" "$CID-$n"
		# Failing is fine; escaping is not.
		if [[ "$status" -eq 0 ]]; then
			assert_output_not_contains "$host_hostname"
		fi
	done
}

@test "exec --cwd /proc/self/fd/N cannot reach the host (CVE-2024-21626)" {
	local host_hostname n
	host_hostname="$(cat /etc/hostname)"
	[[ "$host_hostname" != mydocker-bundle ]] || skip "host and bundle hostname files are alike"
	run_sleeping_container
	for n in 3 4 5 6 7 8 9; do
		runtime exec --cwd "/proc/self/fd/$n" "$CID" sh -c 'cat ../../../../../../../../etc/hostname'
		if [[ "$status" -eq 0 ]]; then
			assert_output_not_contains "$host_hostname"
		fi
	done
}
