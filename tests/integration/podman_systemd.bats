#!/usr/bin/env bats
# podman --cgroup-manager systemd --runtime <runtime under test>: podman passes
# --systemd-cgroup and cgroupsPath "machine.slice:libpod:<id>", and the container must run in
# the scope machine.slice/libpod-<id>.scope. Needs systemd as PID 1 and cgroup v2
# (MYDOCKER_GUEST_STAGE2=init-systemd tests/guest/run boots one); skipped elsewhere. Set-up as podman.bats.

load clients_helpers

PODMAN_IMAGE=localhost/busybox:latest

# pm_sd ARGS...: podman with the systemd cgroup manager (pm's --cgroup-manager cgroupfs comes
# first; podman takes the last).
pm_sd() { pm --cgroup-manager systemd "$@"; }

setup_file() {
	clients_prereqs podman:podman conmon:conmon
	[ -z "$CLIENTS_SKIP" ] || return 0
	if [ "$(cat /proc/1/comm)" != systemd ] || [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
		CLIENTS_SKIP="needs systemd as PID 1 and cgroup v2 (MYDOCKER_GUEST_STAGE2=init-systemd tests/guest/run)"
		return 0
	fi
	clients_setup_tmp podman-systemd
	clients_note_host_paths /var/lib/containers /var/lib/containers/cache \
		/var/lib/containers/cache/blob-info-cache-v1.boltdb "/run/$(basename "$RUNTIME")"
	mkdir -p "$CLIENTS_TMP"/{tmp,net,libpod}
	cat >"$CLIENTS_TMP/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

		[network]
		network_backend = "cni"
		network_config_dir = "$CLIENTS_TMP/net"

		[engine]
		cgroup_manager = "systemd"
		events_logger = "file"
		events_logfile_path = "$CLIENTS_TMP/libpod/events.log"
		lock_type = "file"
		runtime_supports_json = ["crun", "runc", "$(basename "$RUNTIME")"]
	EOF
	clients_busybox_rootfs --tar "$CLIENTS_TMP/busybox.tar"
	cat >"$CLIENTS_TMP/storage.conf" <<-EOF
		[storage]
		driver = "overlay"
		graphroot = "$CLIENTS_TMP/storage"
		runroot = "$CLIENTS_TMP/runroot"
	EOF
	export PODMAN_DRIVER=overlay
	pm import "$CLIENTS_TMP/busybox.tar" "$PODMAN_IMAGE" >&2
}

teardown_file() {
	[ -n "${CLIENTS_TMP:-}" ] || return 0
	pm_sd rm --all --force --time 0 >/dev/null 2>&1 || true
	pm unmount --all >/dev/null 2>&1 || true
	clients_teardown_tmp
}

setup() {
	clients_skip_unless_ready
}

@test "podman --cgroup-manager systemd: the container in machine.slice/libpod-ID.scope, gone after rm" {
	run pm_sd run -d --network none --memory 64m "$PODMAN_IMAGE" sleep 1000
	echo "$output" >&2
	[ "$status" -eq 0 ]
	local id="${lines[-1]}" unit
	unit="libpod-$id.scope"
	systemctl is-active -q "$unit"
	[ "$(systemctl show "$unit" -p MemoryMax --value)" = 67108864 ]
	[ "$(cat "/sys/fs/cgroup/machine.slice/$unit/memory.max")" = 67108864 ]
	local pid
	pid="$(pm_sd inspect --format '{{.State.Pid}}' "$id")"
	grep -qx "$pid" "/sys/fs/cgroup/machine.slice/$unit/cgroup.procs"
	run pm_sd rm -f --time 0 "$id"
	[ "$status" -eq 0 ]
	if systemctl is-active -q "$unit"; then
		echo "$unit still active after rm" >&2
		return 1
	fi
	[ ! -d "/sys/fs/cgroup/machine.slice/$unit" ]
}

@test "podman --cgroup-manager systemd run --rm prints the container's output" {
	run pm_sd run --rm --network none "$PODMAN_IMAGE" echo hello
	echo "$output" >&2
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = hello ]
}
