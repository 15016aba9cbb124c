#!/usr/bin/env bats
# podman 4.3 (+ conmon, its per-container monitor) drives the runtime under test:
#   RUNTIME=runc bats tests/integration/podman.bats      # reference
#   RUNTIME=build/mydocker-runc bats tests/integration/podman.bats
#
# podman runs with everything under one temp dir (storage, runroot, libpod tmpdir, file locks,
# network config, events log, the runtime's --root), the cgroupfs manager, a cgroup parent
# of our own, and no network. The image is imported from a busybox tarball: no registry.
#
# What podman asks of the runtime (podman 4.3.1 / conmon 2.1.6, captured with an argv logger):
#   [--log-format=json --log <userdata>/oci-log] --root <dir> create --bundle <userdata>
#       --pid-file <runroot>/.../pidfile [--console-socket /tmp/conmon-term.XXXXXX] <id>
#   [--root <dir>] start <id>
#   [--log-format=json --log <exec dir>/oci-log] --root <dir> exec --pid-file <exec dir>/exec_pid
#       --process <exec dir>/exec-process-NNN --detach [--console-socket ...] <id>
#   --root <dir> kill <id> 15 / kill <id> 9     (signal as a number, after the id)
#   --root <dir> pause <id>, resume <id>, delete --force <id>
# The JSON log flags come only when the runtime's name is in runtime_supports_json, which the
# containers.conf below arranges; podman then reads runc-style {"level","msg"} error lines.

load clients_helpers

PODMAN_IMAGE=localhost/busybox:latest


# pm_run ARGS...: `podman run` with no network and our cgroup parent.
pm_run() {
	pm run --network none --cgroup-parent "/$CLIENTS_CGROUP" "$@"
}

# The runtime's own view: ids of the containers it has state for whose bundle is ours.
# podman 4.3 does not pass --runtime-flag to `podman container cleanup` (conmon's exit
# command), so a --root given that way is missing from the `delete` of a container that
# exits by itself: the runtime must run with its default --root, shared with the host.
runtime_ids() {
	"$RUNTIME" list --format json | jq -r --arg t "$CLIENTS_TMP/" \
		'.[]? | select(.bundle | startswith($t)) | .id'
}

container_status() {
	pm inspect --format '{{.State.Status}}' "$1"
}

status_is() { # ID STATUS
	[ "$(container_status "$1")" = "$2" ]
}

setup_file() {
	clients_prereqs podman:podman conmon:conmon
	[ -z "$CLIENTS_SKIP" ] || return 0
	clients_setup_tmp podman
	# Paths podman and the runtime touch outside $CLIENTS_TMP whatever they are told: c/image's
	# blob info cache, and the runtime's default state root (/run/runc, /run/crun, ...).
	clients_note_host_paths /var/lib/containers /var/lib/containers/cache \
		/var/lib/containers/cache/blob-info-cache-v1.boltdb "/run/$(basename "$RUNTIME")"
	mkdir -p "$CLIENTS_TMP"/{tmp,net,libpod}

	# containers.conf: see scripts/podman-conf for why each setting is there.
	"$BATS_TEST_DIRNAME/../../scripts/podman-conf" "$CLIENTS_TMP" "$(basename "$RUNTIME")"

	clients_busybox_rootfs --tar "$CLIENTS_TMP/busybox.tar"
	# overlay is the realistic driver; vfs (plain copies) if this kernel/fs refuses overlay.
	local driver
	for driver in overlay vfs; do
		cat >"$CLIENTS_TMP/storage.conf" <<-EOF
			[storage]
			driver = "$driver"
			graphroot = "$CLIENTS_TMP/storage"
			runroot = "$CLIENTS_TMP/runroot"
		EOF
		export PODMAN_DRIVER="$driver"
		if pm import "$CLIENTS_TMP/busybox.tar" "$PODMAN_IMAGE" >"$CLIENTS_TMP/import.log" 2>&1; then
			return 0
		fi
		pm system reset --force >/dev/null 2>&1 || true
		clients_unmount_under "$CLIENTS_TMP/storage"
		rm -rf "$CLIENTS_TMP/storage" "$CLIENTS_TMP/runroot"
	done
	cat "$CLIENTS_TMP/import.log" >&2
	return 1
}

teardown_file() {
	[ -n "${CLIENTS_TMP:-}" ] || return 0
	pm rm --all --force --time 0 >/dev/null 2>&1 || true
	pm unmount --all >/dev/null 2>&1 || true
	local id
	for id in $(runtime_ids); do
		"$RUNTIME" delete --force "$id" || true
	done
	clients_teardown_tmp
}

setup() {
	clients_skip_unless_ready
}

teardown() {
	[ -z "${CLIENTS_SKIP:-}" ] || return 0
	pm rm --all --force --time 0 >/dev/null 2>&1 || true
	# conmon and `podman container cleanup` (conmon's exit command) finish asynchronously.
	wait_until 20 clients_no_pids clients_pids_mentioning "$CLIENTS_TMP/storage"
	run runtime_ids
	[ -z "$output" ] || {
		echo "runtime still has state for: $output" >&2
		return 1
	}
	# Every container cgroup (libpod-<id>) is gone; only conmon's may stay until teardown_file.
	[ -z "$(clients_cgroup_children "$CLIENTS_CGROUP" -name 'libpod-*')" ]
	# podman's unmount after rm --force is asynchronous too (see the rm test): bounded wait,
	# long enough for a machine busy with a build (10 s was not, once).
	wait_until 30 clients_no_pids clients_mounts_under "$CLIENTS_TMP/storage"
}

@test "podman run --rm prints the container's output and removes it" {
	run pm_run --rm "$PODMAN_IMAGE" echo hello
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
	run pm ps --all --quiet
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "podman run passes the exit code through" {
	run pm_run --rm "$PODMAN_IMAGE" sh -c 'exit 42'
	[ "$status" -eq 42 ]
	run pm_run --rm "$PODMAN_IMAGE" false
	[ "$status" -eq 1 ]
}

@test "podman run: the command is PID 1 in its own namespaces, with the rlimits asked for" {
	run pm_run --rm "$PODMAN_IMAGE" sh -c 'echo $$; ulimit -n; ulimit -Hn; hostname'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "1" ]
	[ "${lines[1]}" = "20000" ]
	[ "${lines[2]}" = "20000" ]
	[ "${lines[3]}" != "$(hostname)" ]
}

@test "podman run -t gives the container a terminal (console socket)" {
	run pm_run --rm -t "$PODMAN_IMAGE" tty </dev/null
	[ "$status" -eq 0 ]
	[ "${output%$'\r'}" = "/dev/pts/0" ]
}

@test "podman run -d, ps, exec: sleep is PID 1 and exec sees it" {
	run pm_run -d -e FROM_RUN=1 "$PODMAN_IMAGE" sleep 1000
	[ "$status" -eq 0 ]
	id="$output"
	wait_until 10 status_is "$id" running

	run pm ps --format '{{.ID}} {{.Status}}'
	[ "$status" -eq 0 ]
	[[ "$output" == "${id:0:12} Up"* ]]

	# The runtime's own state agrees.
	run "$RUNTIME" state "$id"
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = running ]
	[ "$(jq -r .pid <<<"$output")" = "$(pm inspect --format '{{.State.Pid}}' "$id")" ]

	run pm exec "$id" sh -c "tr '\\0' ' ' </proc/1/cmdline"
	[ "$status" -eq 0 ]
	[ "$output" = "sleep 1000 " ]

	run pm exec "$id" ps -o pid,args
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" =~ ^[[:space:]]*1[[:space:]]+sleep\ 1000$ ]]

	run pm exec -e FOO=bar "$id" env
	[ "$status" -eq 0 ]
	[[ "$output" == *"FOO=bar"* ]]
	[[ "$output" == *"FROM_RUN=1"* ]]

	run pm exec "$id" sh -c 'exit 5'
	[ "$status" -eq 5 ]
}

@test "podman logs shows what a detached container wrote" {
	run pm_run -d "$PODMAN_IMAGE" sh -c 'echo to-stdout; echo to-stderr >&2'
	[ "$status" -eq 0 ]
	id="$output"
	run pm wait "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "0" ]
	run pm logs "$id"
	[ "$status" -eq 0 ]
	[[ "$output" == *"to-stdout"* ]]
	[[ "$output" == *"to-stderr"* ]]
}

@test "podman stop: SIGTERM reaches the container, SIGKILL after the timeout" {
	# A shell that exits 3 on SIGTERM: stop must deliver it, well before the timeout.
	run pm_run -d "$PODMAN_IMAGE" sh -c 'trap "exit 3" TERM; sleep 1000 & wait'
	[ "$status" -eq 0 ]
	id="$output"
	wait_until 10 status_is "$id" running
	run pm stop --time 10 "$id"
	[ "$status" -eq 0 ]
	[ "$(pm inspect --format '{{.State.ExitCode}}' "$id")" = 3 ]

	# PID 1 ignores a SIGTERM it has no handler for: stop -t 1 must fall back to SIGKILL.
	run pm_run -d "$PODMAN_IMAGE" sleep 1000
	[ "$status" -eq 0 ]
	id="$output"
	wait_until 10 status_is "$id" running
	run pm stop --time 1 "$id"
	[ "$status" -eq 0 ]
	[ "$(container_status "$id")" = exited ]
	[ "$(pm inspect --format '{{.State.ExitCode}}' "$id")" = 137 ]
}

@test "podman kill sends the signal asked for" {
	run pm_run -d "$PODMAN_IMAGE" sh -c 'trap "exit 10" USR1; sleep 1000 & wait'
	[ "$status" -eq 0 ]
	id="$output"
	wait_until 10 status_is "$id" running
	run pm kill --signal USR1 "$id"
	[ "$status" -eq 0 ]
	run pm wait "$id"
	[ "$output" = 10 ]

	run pm_run -d "$PODMAN_IMAGE" sleep 1000
	id="$output"
	wait_until 10 status_is "$id" running
	run pm kill "$id"
	[ "$status" -eq 0 ]
	run pm wait "$id"
	[ "$output" = 137 ]
}

@test "podman pause and unpause freeze and thaw the container" {
	run pm_run -d "$PODMAN_IMAGE" sleep 1000
	[ "$status" -eq 0 ]
	id="$output"
	wait_until 10 status_is "$id" running
	run pm pause "$id"
	[ "$status" -eq 0 ]
	[ "$(container_status "$id")" = paused ]
	[ "$("$RUNTIME" state "$id" | jq -r .status)" = paused ]
	run pm unpause "$id"
	[ "$status" -eq 0 ]
	[ "$(container_status "$id")" = running ]
	run pm exec "$id" true
	[ "$status" -eq 0 ]
}

@test "podman rm removes the container, its runtime state, cgroup and mounts" {
	run pm_run -d "$PODMAN_IMAGE" sleep 1000
	[ "$status" -eq 0 ]
	id="$output"
	wait_until 10 status_is "$id" running
	[ -n "$(clients_mounts_under "$CLIENTS_TMP/storage")" ]
	[[ "$(runtime_ids)" == *"$id"* ]]

	# A running container cannot be removed without --force.
	run pm rm "$id"
	[ "$status" -ne 0 ]
	run pm rm --force --time 0 "$id"
	[ "$status" -eq 0 ]

	run pm ps --all --quiet
	[ -z "$output" ]
	[[ "$(runtime_ids)" != *"$id"* ]]
	[ -z "$(clients_cgroup_children "$CLIENTS_CGROUP" -name "libpod-$id")" ]
	# podman's own unmount can come a moment after `rm --force` returns (conmon's exit runs
	# `podman container cleanup`, which holds the storage while it works; seen once right at
	# this line). So the mounts must go within a bound; wait_until names any that stay.
	wait_until 10 clients_no_pids clients_mounts_under "$CLIENTS_TMP/storage"
}
