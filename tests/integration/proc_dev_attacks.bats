#!/usr/bin/env bats
# Attacks on the runtime's own writes and binds through /proc and /dev, performed for real
# with a hostile image (and a normal-looking config):
#   CVE-2025-31133   masking with a /dev/null that is not the null device
#   CVE-2019-16884 / CVE-2025-52881   the runtime's writes to /proc (sysctl, oom_score_adj)
#                    landing somewhere else than the container's procfs
#   CVE-2025-52565 class   the /dev/console bind following a link of the image
# Each test saves the host's /proc/sys/kernel/core_pattern (the target a successful attack
# would write) and teardown restores it, and fails the test, if it ever changed; teardown
# also fails on any mount of the test's dirs left in the host's namespace.

load helpers

# The value a successful attack would leave in the host's core_pattern.
PAYLOAD="mdt-attack-pwned"

setup() {
	common_setup
	CORE_SAVED="$(cat /proc/sys/kernel/core_pattern)"
}

teardown() {
	common_teardown
	local now rc=0
	now="$(cat /proc/sys/kernel/core_pattern)"
	if [[ "$now" != "$CORE_SAVED" ]]; then
		printf '%s\n' "$CORE_SAVED" >/proc/sys/kernel/core_pattern
		echo "teardown: the host's core_pattern was changed to '$now' (restored)" >&2
		rc=1
	fi
	if grep -qF "$BATS_TEST_TMPDIR" /proc/self/mountinfo; then
		echo "teardown: mounts left on the host:" >&2
		grep -F "$BATS_TEST_TMPDIR" /proc/self/mountinfo >&2
		rc=1
	fi
	return "$rc"
}

host_core_unchanged() {
	local now
	now="$(cat /proc/sys/kernel/core_pattern)"
	[[ "$now" == "$CORE_SAVED" ]] || fail "the host's core_pattern changed: '$now'"
}

# The container writes the payload to two masked files and reports what it reads back from
# one. A mask with the real /dev/null swallows the write and reads empty.
attack_masked_paths() {
	update_config '.linux.maskedPaths = ["/proc/kcore", "/proc/timer_list"]'
	set_args sh -c "echo $PAYLOAD >/proc/timer_list; echo $PAYLOAD >/proc/kcore
		echo \"timer [\$(head -c 64 /proc/timer_list)]\"; stat -c 'null %F %t:%T' /dev/null"
}

# The rootfs's own /dev is used: no tmpfs at /dev (the runtime still adds its default nodes).
use_rootfs_dev() {
	update_config '.mounts |= map(select(.destination != "/dev"))'
}

# Masked paths read empty, or the create failed naming /dev/null.
assert_masked_harmlessly() {
	if [[ "$status" -ne 0 ]]; then
		assert_output_contains "/dev/null"
		no_state_left "$CID"
	else
		assert_output_contains "timer []"
		assert_output_contains "null character special file 1:3"
	fi
}

@test "CVE-2025-31133: the rootfs's /dev/null is a link to core_pattern" {
	# runc 1.1 keeps the image's link (mknod EEXIST) and opens and binds through it: run
	# against it, this attack rewrote the host's core_pattern.
	is_mydocker || skip "runc 1.1 here is vulnerable to CVE-2025-31133 (the host's core_pattern gets written)"
	use_rootfs_dev
	ln -s /proc/sys/kernel/core_pattern "$BUNDLE/rootfs/dev/null"
	attack_masked_paths
	runtime run --bundle "$BUNDLE" "$CID"
	host_core_unchanged
	assert_masked_harmlessly
}

@test "CVE-2025-31133: the rootfs's /dev/null is a regular file" {
	use_rootfs_dev
	echo "not-the-null-device" >"$BUNDLE/rootfs/dev/null"
	attack_masked_paths
	runtime run --bundle "$BUNDLE" "$CID"
	host_core_unchanged
	is_mydocker || skip "runc 1.1 here keeps the image's file as /dev/null and masks with it (CVE-2025-31133)"
	assert_masked_harmlessly
}

# /dev bound from a host dir: the runtime makes no default nodes, so the /dev/null found at
# masking time is whatever that dir holds.
bind_dev_dir() {
	mkdir -p "$HOST_DIR/dev"
	update_config '.mounts |= map(if .destination == "/dev"
		then {destination: "/dev", type: "bind", source: $s, options: ["rbind", "rw"]} else . end)' \
		--arg s "$HOST_DIR/dev"
}

@test "CVE-2025-31133: a bound /dev whose null is a link to core_pattern" {
	bind_dev_dir
	ln -s /proc/sys/kernel/core_pattern "$HOST_DIR/dev/null"
	attack_masked_paths
	runtime run --bundle "$BUNDLE" "$CID"
	host_core_unchanged
	is_mydocker || skip "runc 1.1 here masks with the link's target (CVE-2025-31133)"
	assert_failure
	assert_output_contains "/dev/null"
	no_state_left "$CID"
}

@test "CVE-2025-31133: a bound /dev whose null is a regular file" {
	# runc 1.1 masks with that file: the container's writes to a masked path land in it.
	is_mydocker || skip "runc 1.1 here is vulnerable to CVE-2025-31133 (masks with a host file, writable)"
	bind_dev_dir
	echo "not-the-null-device" >"$HOST_DIR/dev/null"
	attack_masked_paths
	runtime run --bundle "$BUNDLE" "$CID"
	host_core_unchanged
	[[ "$(cat "$HOST_DIR/dev/null")" == "not-the-null-device" ]] || fail "the file under /dev/null was written"
	is_mydocker || skip "runc 1.1 here masks with the regular file (CVE-2025-31133)"
	assert_failure
	assert_output_contains "/dev/null"
	no_state_left "$CID"
}

# A volume (a host dir another container could fill) holding a fake procfs tree under p/,
# and an image whose /proc is a link into where that volume is mounted: the spec's procfs
# lands under the link at mount time, and the volume, mounted after it, covers it.
fake_proc_volume() {
	VOL="$BATS_TEST_TMPDIR/vol"
	mkdir -p "$VOL/p/sys/net/ipv4" "$VOL/p/sys/kernel" "$VOL/p/self/attr"
	echo 0 >"$VOL/p/sys/net/ipv4/ip_forward"
	echo fake >"$VOL/p/sys/kernel/domainname"
	echo 0 >"$VOL/p/self/oom_score_adj"
	rmdir "$BUNDLE/rootfs/proc"
	ln -s /data/p "$BUNDLE/rootfs/proc"
	mkdir -p "$BUNDLE/rootfs/data"
	add_bind "$VOL" /data rw
	set_args sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj'
}

fake_proc_unchanged() {
	[[ "$(cat "$VOL/p/sys/net/ipv4/ip_forward")" == 0 ]] || fail "the sysctl was written into the volume"
	[[ "$(cat "$VOL/p/sys/kernel/domainname")" == fake ]] || fail "the sysctl was written into the volume"
	[[ "$(cat "$VOL/p/self/oom_score_adj")" == 0 ]] || fail "oom_score_adj was written into the volume"
}

# Runs the attacked container (sleeping) and checks, from the host, that the runtime's writes
# reached the container's own procfs: its net namespace's ip_forward, its PID 1's
# oom_score_adj. Or that it failed, naming /proc (runc 1.1 refuses procfs on a link).
run_and_check_writes() {
	set_args sleep 1000
	runtime_detached run -d --bundle "$BUNDLE" "$CID"
	if [[ "$status" -ne 0 ]]; then
		assert_output_contains "/proc"
		no_state_left "$CID"
		return 0
	fi
	local pid
	pid="$(container_pid "$CID")"
	[[ -n "$pid" ]] || fail "no pid for $CID"
	if [[ -n "${WANT_FORWARD:-}" ]]; then
		[[ "$(nsenter -t "$pid" -n cat /proc/sys/net/ipv4/ip_forward)" == "$WANT_FORWARD" ]] ||
			fail "the sysctl did not reach the container's net namespace"
	fi
	if [[ -n "${WANT_OOM:-}" ]]; then
		[[ "$(cat "/proc/$pid/oom_score_adj")" == "$WANT_OOM" ]] || fail "oomScoreAdj did not reach the container's PID 1"
	fi
}

@test "CVE-2025-52881: a sysctl write redirected into a volume by the image's /proc link" {
	fake_proc_volume
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	WANT_FORWARD=1 run_and_check_writes
	fake_proc_unchanged
}

@test "CVE-2025-52881: the oom_score_adj write redirected into a volume by the image's /proc link" {
	fake_proc_volume
	update_config '.process.oomScoreAdj = 500'
	WANT_OOM=500 run_and_check_writes
	fake_proc_unchanged
}

@test "CVE-2019-16884: an image's /proc linked to a fake tree: the writes land in the container's procfs" {
	mkdir -p "$BUNDLE/rootfs/fakeproc/sys/net/ipv4" "$BUNDLE/rootfs/fakeproc/self"
	echo 0 >"$BUNDLE/rootfs/fakeproc/sys/net/ipv4/ip_forward"
	echo 0 >"$BUNDLE/rootfs/fakeproc/self/oom_score_adj"
	rmdir "$BUNDLE/rootfs/proc"
	ln -s /fakeproc "$BUNDLE/rootfs/proc"
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .process.oomScoreAdj = 500'
	set_args sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj; stat -f -c "fs %T" /proc/'
	runtime run --bundle "$BUNDLE" "$CID"
	[[ "$(cat "$BUNDLE/rootfs/fakeproc/sys/net/ipv4/ip_forward")" == 0 ]] || fail "the sysctl was written into the image"
	[[ "$(cat "$BUNDLE/rootfs/fakeproc/self/oom_score_adj")" == 0 ]] || fail "oom_score_adj was written into the image"
	if [[ "$status" -ne 0 ]]; then
		# runc 1.1: procfs "must be mounted on ordinary directory".
		assert_output_contains /proc
		no_state_left "$CID"
		return 0
	fi
	# The procfs was mounted where the link leads: the writes reached it, not the image.
	[[ "${lines[0]}" == 1 && "${lines[1]}" == 500 && "${lines[2]}" == "fs proc" ]] || fail "unexpected: $output"
}

@test "CVE-2019-16884: a volume over /proc (an image's VOLUME /proc) is refused" {
	mkdir -p "$HOST_DIR/sys/net/ipv4"
	echo 0 >"$HOST_DIR/sys/net/ipv4/ip_forward"
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	add_bind "$HOST_DIR" /proc rw
	runtime run --bundle "$BUNDLE" "$CID"
	[[ "$(cat "$HOST_DIR/sys/net/ipv4/ip_forward")" == 0 ]] || fail "the sysctl was written into the volume"
	assert_failure
	assert_output_contains "/proc"
	no_state_left "$CID"
}

@test "CVE-2019-16884: a volume reaching /proc/sys through a link of the image is refused" {
	mkdir -p "$HOST_DIR/net/ipv4"
	echo 0 >"$HOST_DIR/net/ipv4/ip_forward"
	ln -s /proc/sys "$BUNDLE/rootfs/vol"
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	add_bind "$HOST_DIR" /vol rw
	runtime run --bundle "$BUNDLE" "$CID"
	[[ "$(cat "$HOST_DIR/net/ipv4/ip_forward")" == 0 ]] || fail "the sysctl was written into the volume"
	assert_failure
	assert_output_contains "inside /proc"
	no_state_left "$CID"
}

@test "a tmpfs over /proc/sys is refused before anything is made" {
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	add_mount '{"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"}'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains "/proc/sys"
	no_state_left "$CID"
}

@test "CVE-2025-52565 class: the rootfs's /dev/console is a link: the pty lands on no other path" {
	use_rootfs_dev
	ln -s /proc/sys/kernel/core_pattern "$BUNDLE/rootfs/dev/console"
	start_recvtty "$BATS_TEST_TMPDIR/console.sock" "$BATS_TEST_TMPDIR/tty.out"
	update_config '.process.terminal = true'
	set_args sh -c "echo $PAYLOAD >/proc/sys/kernel/core_pattern
		echo \"mounts \$(grep -c ' /proc/sys/kernel/core_pattern ' /proc/self/mountinfo)\""
	runtime_detached run -d --console-socket "$BATS_TEST_TMPDIR/console.sock" --bundle "$BUNDLE" "$CID"
	if [[ "$status" -eq 0 ]]; then
		wait_pid_exit "$RECVTTY_PID" || fail "recvtty still running"
		output="$(tr -d '\r' <"$BATS_TEST_TMPDIR/tty.out")"
		echo "tty: $output" >&2
		host_core_unchanged
		# A pty bound over a file of the container's choosing (here the container's view of
		# core_pattern, ahead of readonlyPaths) is the mount CVE-2025-52565 misplaced.
		is_mydocker || skip "runc 1.1 here binds the pty where the image's link points (CVE-2025-52565)"
		assert_output_contains "mounts 0"
	else
		host_core_unchanged
		assert_output_contains "/dev/console"
		no_state_left "$CID"
	fi
}

# The same image, with the host's /proc also given to the container (a monitoring agent's
# `-v /proc:/host/proc`, rw as docker's -v defaults): the volume's fake tree now links the
# runtime's write to a file of the host's procfs, which a check of the filesystem type
# alone lets through. The victim is a host process of the test: its oom_score_adj.
fake_proc_volume_to_host() {
	fake_proc_volume
	sleep 1000 &
	VICTIM=$!
	BG_PIDS+=("$VICTIM")
	VICTIM_OOM="$(cat "/proc/$VICTIM/oom_score_adj")"
	rm "$VOL/p/sys/net/ipv4/ip_forward" "$VOL/p/self/oom_score_adj"
	ln -s "/host/proc/$VICTIM/oom_score_adj" "$VOL/p/sys/net/ipv4/ip_forward"
	ln -s "/host/proc/$VICTIM/oom_score_adj" "$VOL/p/self/oom_score_adj"
	add_bind /proc /host/proc rbind rw
}

victim_unchanged() {
	local now
	now="$(cat "/proc/$VICTIM/oom_score_adj")"
	[[ "$now" == "$VICTIM_OOM" ]] || fail "the host process's oom_score_adj changed to $now"
}

@test "CVE-2025-52881: a sysctl write linked to a file of the host's procfs" {
	fake_proc_volume_to_host
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	WANT_FORWARD=1 run_and_check_writes
	victim_unchanged
}

@test "CVE-2025-52881: the oom_score_adj write linked to a file of the host's procfs" {
	fake_proc_volume_to_host
	update_config '.process.oomScoreAdj = 500'
	WANT_OOM=500 run_and_check_writes
	victim_unchanged
}

@test "the rootfs's /dev/console as a regular file of the image gets the pty bound over it" {
	use_rootfs_dev
	echo "image-console" >"$BUNDLE/rootfs/dev/console"
	start_recvtty "$BATS_TEST_TMPDIR/console.sock" "$BATS_TEST_TMPDIR/tty.out"
	update_config '.process.terminal = true'
	set_args sh -c 'ls -l /dev/console | cut -c1; echo "mounts $(grep -c " /dev/console " /proc/self/mountinfo)"'
	run_detached --console-socket "$BATS_TEST_TMPDIR/console.sock"
	wait_pid_exit "$RECVTTY_PID" || fail "recvtty still running"
	output="$(tr -d '\r' <"$BATS_TEST_TMPDIR/tty.out")"
	assert_output_contains "c"
	assert_output_contains "mounts 1"
}

@test "CVE-2025-31133: the mask's /dev/null is not looked up through the image's /proc" {
	# The image's /proc links into a volume (as above) whose tree has a timer_list and
	# self/fd/N links to a file of the image: a mask bound from /proc/self/fd/N would show it.
	fake_proc_volume
	echo "leaked" >"$BUNDLE/rootfs/leak"
	echo "fake-timer" >"$VOL/p/timer_list"
	mkdir -p "$VOL/p/self/fd"
	local n
	for n in $(seq 3 63); do ln -s /leak "$VOL/p/self/fd/$n"; done
	update_config '.linux.maskedPaths = ["/proc/timer_list"]'
	set_args sh -c 'echo "timer [$(cat /proc/timer_list)]"'
	runtime run --bundle "$BUNDLE" "$CID"
	host_core_unchanged
	if [[ "$status" -ne 0 ]]; then
		assert_output_contains "/proc"
		no_state_left "$CID"
		return 0
	fi
	assert_output_contains "timer []"
	[[ "$(cat "$BUNDLE/rootfs/leak")" == leaked ]]
}
