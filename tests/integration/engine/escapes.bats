#!/usr/bin/env bats
# CVE-2019-5736 and the host's root through /proc/PID/root, against `mydocker exec`: a root
# process of a default container (tests/tools/exe_grabber as PID 1) watches for what the
# engine starts in it. The attack runs against a copy of mydocker, so a successful one
# cannot hurt the build. (The runtime's variants: tests/integration/escapes.bats.)

load engine_helpers
load ../attack_helpers
bats_require_minimum_version 1.5.0

GRABBER="${BUILD_DIR:+$BUILD_DIR/tools/exe_grabber}"

setup() {
	engine_setup
	[[ -x "$GRABBER" ]] || skip "exe_grabber not built (set BUILD_DIR)"
	prepare_attack
	COPY="$BATS_TEST_TMPDIR/mydocker-copy"
	cp "$MYDOCKER" "$COPY"
	COPY_SUM="$(sha256sum <"$COPY")"
	REAL_MYDOCKER="$MYDOCKER"
	MYDOCKER="$COPY"
}

teardown() {
	[[ -z "${REAL_MYDOCKER:-}" ]] || MYDOCKER="$REAL_MYDOCKER"
	engine_teardown
}



@test "CVE-2019-5736: mydocker exec of a #!/proc/self/exe script, with the monitor alive and killed" {
	md run -d --name victim -v "$ATTACK:/attack" busybox /attack/grabber exe /attack 60
	wait_for test -e "$ATTACK/ready"
	local i
	for i in 1 2 3 4 5; do
		run md exec victim /attack/evil
	done
	# The monitor maps the binary (ETXTBSY while it runs): kill it, as an attacker inside
	# would wait for, and try again.
	local pid mon
	pid="$(field victim .State.Pid)"
	mon="$(awk '$1 == "PPid:" { print $2 }' "/proc/$pid/status")"
	[[ "$(readlink "/proc/$mon/exe")" == "$COPY" ]] || {
		echo "the container's parent $mon is not our monitor" >&2
		return 1
	}
	kill -KILL "$mon"
	for i in 1 2 3 4 5; do
		run md exec victim /attack/evil
	done
	finish_grabber
	[[ "$(sha256sum <"$COPY")" == "$COPY_SUM" ]] || {
		echo "mydocker was overwritten from the container" >&2
		return 1
	}
	"$COPY" --version >/dev/null 2>&1 || true
	[[ ! -e "$ATTACK/pwned" ]]
	[[ "$(result_count overwrote)" == 0 ]]
	[[ "$(result_count watched)" -ge 1 ]]
}

@test "mydocker exec: with SYS_PTRACE nothing of the host is reachable through /proc/PID/root or cwd" {
	md run -d --name watcher --cap-add SYS_PTRACE -v "$ATTACK:/attack" busybox /attack/grabber root /attack 60
	wait_for test -e "$ATTACK/ready"
	local i
	for i in $(seq 1 50); do
		md exec watcher true
	done
	finish_grabber
	[[ "$(result_count escapes)" == 0 ]]
	[[ "$(result_count watched)" -ge 1 ]]
}
