#!/usr/bin/env bats
# containerd 1.6 (+ containerd-shim-runc-v2, driven through ctr) runs the runtime under test:
#   RUNTIME=runc bats tests/integration/containerd.bats      # reference
#   RUNTIME=build/mydocker-runc bats tests/integration/containerd.bats
#
# A private containerd runs for this file only: its root, state, temp dir and gRPC socket are
# in a temp dir, the CRI plugin and the snapshotters that need other tooling are disabled, and
# it is stopped by its PID. Containers use `ctr run --rootfs` on a busybox directory (no image,
# no registry), `--runc-binary $RUNTIME`, a runtime --root in the temp dir and a cgroup below a
# parent of our own.
#
# What the shim asks of the runtime (containerd 1.6.20, captured with an argv logger); every
# call carries: --root <runc-root>/<namespace> --log <bundle>/log.json --log-format json
#   create --bundle <bundle> --pid-file <bundle>/init.pid [--console-socket <sock>] <id>
#   start <id>
#   exec --process <temp>/runc-processNNN --detach --pid-file <bundle>/<exec-id>.pid
#        [--console-socket <sock>] <id>
#   ps --format json <id>          (ctr task ps, and to find an exec'd process)
#   pause <id>, resume <id>
#   kill <id> 15, kill --all <id> 9   (signal as a number, after the id)
#   delete <id> after the task exited, then delete --force <id>
# The shim reads the runtime's JSON log lines to report errors, and is the subreaper of what
# the runtime starts: the container's init and exec'd processes must be descendants of the
# runtime process the shim ran, or the shim never sees them exit.

load clients_helpers

CTD_NS=mydocker-test
CTD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

cr() {
	ctr --address "$CLIENTS_TMP/containerd.sock" --namespace "$CTD_NS" "$@"
}

# cr_run [CTR-RUN-OPTIONS...] ID CMD [ARG...]: `ctr run` on the busybox rootfs with the
# runtime under test, its state and FIFOs in our temp dir, cgroup /$CLIENTS_CGROUP/ID.
# Options with a value are written --opt=value. (With --rootfs there is no image config, so
# PATH has to be given.)
cr_run() {
	local opts=()
	while [ $# -gt 0 ] && [[ "$1" == -* ]]; do
		opts+=("$1")
		shift
	done
	local id="$1"
	shift
	cr run --rootfs --runc-binary "$RUNTIME" --runc-root "$CLIENTS_TMP/runc-root" \
		--fifo-dir "$CLIENTS_TMP/fifo" --env "PATH=$CTD_PATH" \
		--cgroup "/$CLIENTS_CGROUP/$id" "${opts[@]}" "$CLIENTS_TMP/rootfs" "$id" "$@"
}

cr_exec() { # ID EXEC-ID CMD...
	local id="$1" exec_id="$2"
	shift 2
	cr task exec --fifo-dir "$CLIENTS_TMP/fifo" --exec-id "$exec_id" "$id" "$@"
}

# The runtime's own view of the containers under the shim's --root.
runtime_ids() {
	"$RUNTIME" --root "$CLIENTS_TMP/runc-root/$CTD_NS" list -q
}

runtime_state() {
	"$RUNTIME" --root "$CLIENTS_TMP/runc-root/$CTD_NS" state "$1"
}

task_status() { # ID: RUNNING, PAUSED, STOPPED, ... from `ctr task ls`
	cr task ls | awk -v id="$1" '$1 == id { print $3 }'
}

task_status_is() { [ "$(task_status "$1")" = "$2" ]; }

task_pid() {
	cr task ls | awk -v id="$1" '$1 == id { print $2 }'
}

containerd_pid() {
	local pid
	pid="$(cat "$CLIENTS_TMP/containerd.pid" 2>/dev/null)" || return 1
	# Only ever signal the containerd this file started: check its command line first.
	[[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$CLIENTS_TMP/config.toml"* ]] ||
		return 1
	echo "$pid"
}

pid_gone() { # PID: exited (a zombie waiting for its new parent to reap it counts)
	[ ! -e "/proc/$1" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]
}

shims_gone() {
	clients_no_pids clients_pids_mentioning "$CLIENTS_TMP/containerd.sock"
}

# Kills and deletes every task and container in our namespace.
remove_all_containers() {
	local id
	for id in $(cr container ls --quiet 2>/dev/null); do
		if [ -n "$(task_status "$id")" ]; then
			# A frozen task cannot act on SIGKILL until it is thawed.
			if task_status_is "$id" PAUSED; then
				cr task resume "$id" >/dev/null 2>&1 || true
			fi
			cr task kill --all --signal SIGKILL "$id" >/dev/null 2>&1 || true
			wait_until 10 task_status_is "$id" STOPPED || true
			cr task delete --force "$id" >/dev/null 2>&1 || true
		fi
		cr container rm "$id" >/dev/null 2>&1 || true
	done
}

setup_file() {
	clients_prereqs containerd:containerd ctr:containerd containerd-shim-runc-v2:containerd
	[ -z "$CLIENTS_SKIP" ] || return 0
	clients_setup_tmp containerd
	# The shim's sockets go to /run/containerd/s whatever the config says; ctr's FIFOs default
	# to /run/containerd/fifo.
	clients_note_host_paths /run/containerd /run/containerd/s /run/containerd/fifo
	mkdir -p "$CLIENTS_TMP"/{tmp,fifo,runc-root}
	clients_busybox_rootfs --dir "$CLIENTS_TMP/rootfs"

	cat >"$CLIENTS_TMP/config.toml" <<-EOF
		version = 2
		root = "$CLIENTS_TMP/root"
		state = "$CLIENTS_TMP/state"
		temp = "$CLIENTS_TMP/tmp"
		# No CRI (needs CNI and images), no /opt/containerd, no snapshotters needing tools.
		disabled_plugins = [
		  "io.containerd.grpc.v1.cri",
		  "io.containerd.internal.v1.opt",
		  "io.containerd.snapshotter.v1.aufs",
		  "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.zfs",
		  "io.containerd.tracing.processor.v1.otlp",
		  "io.containerd.internal.v1.tracing",
		]

		[grpc]
		  address = "$CLIENTS_TMP/containerd.sock"

		[ttrpc]
		  address = "$CLIENTS_TMP/containerd.sock.ttrpc"

		[debug]
		  address = ""
		  level = "info"

		[metrics]
		  address = ""
	EOF

	# fd 3 is bats' output channel: a daemon holding it would keep bats waiting.
	containerd --config "$CLIENTS_TMP/config.toml" \
		</dev/null >"$CLIENTS_TMP/containerd.log" 2>&1 3>&- &
	echo $! >"$CLIENTS_TMP/containerd.pid"
	if ! wait_until 30 ctr --address "$CLIENTS_TMP/containerd.sock" version; then
		cat "$CLIENTS_TMP/containerd.log" >&2
		return 1
	fi
}

# A shim that is killed (rather than told to shut down) leaves its socket behind, at
# /run/containerd/s/sha256("<containerd address>/<namespace>/<container id>") (containerd
# 1.6 runtime/v2/shim.SocketAddress). Removes those of our containers; run after the shims died.
remove_shim_sockets() {
	local dir hash
	for dir in "$CLIENTS_TMP/state/io.containerd.runtime.v2.task/$CTD_NS"/*; do
		[ -d "$dir" ] || continue
		hash="$(printf '%s' "$CLIENTS_TMP/containerd.sock/$CTD_NS/$(basename "$dir")" |
			sha256sum | cut -d' ' -f1)"
		[ -S "/run/containerd/s/$hash" ] && rm -f "/run/containerd/s/$hash"
	done
	return 0
}

teardown_file() {
	[ -n "${CLIENTS_TMP:-}" ] || return 0
	local pid
	if pid="$(containerd_pid)"; then
		remove_all_containers
		kill -TERM "$pid" 2>/dev/null || true
		wait_until 20 pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	fi
	clients_kill_leftovers
	remove_shim_sockets
	clients_teardown_tmp
}

setup() {
	clients_skip_unless_ready
}

teardown() {
	[ -z "${CLIENTS_SKIP:-}" ] || return 0
	remove_all_containers
	wait_until 20 shims_gone
	run runtime_ids
	[ -z "$output" ] || {
		echo "runtime still has state for: $output" >&2
		return 1
	}
	# Each container's cgroup is gone; only our parent may stay until teardown_file.
	[ -z "$(clients_cgroup_children "$CLIENTS_CGROUP")" ]
	[ -z "$(clients_mounts_under "$CLIENTS_TMP")" ]
}

@test "ctr run --rm prints the container's output and removes it" {
	run cr_run --rm c1 echo hello
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
	run cr container ls --quiet
	[ -z "$output" ]
	[ -z "$(runtime_ids)" ]
}

@test "ctr run passes the exit code through" {
	run cr_run --rm c1 sh -c 'exit 3'
	[ "$status" -eq 3 ]
	run cr_run --rm c1 false
	[ "$status" -eq 1 ]
}

@test "ctr run: the command is PID 1, in its own namespaces" {
	run cr_run --rm c1 sh -c 'echo $$; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" != "$(readlink /proc/self/ns/pid)" ]
	[ "${lines[2]}" != "$(readlink /proc/self/ns/mnt)" ]
}

@test "ctr run -t gives the container a terminal (console socket)" {
	# ctr wants a terminal on its own stdin: script(1) provides one.
	run script -qec "ctr --address '$CLIENTS_TMP/containerd.sock' --namespace '$CTD_NS' run \
		--rootfs --runc-binary '$RUNTIME' --runc-root '$CLIENTS_TMP/runc-root' \
		--fifo-dir '$CLIENTS_TMP/fifo' --env PATH=$CTD_PATH --cgroup /$CLIENTS_CGROUP/c1 \
		--rm -t '$CLIENTS_TMP/rootfs' c1 tty" /dev/null </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"/dev/pts/0"* ]]
}

@test "ctr run -d, task ls, task exec: sleep is PID 1 and exec sees it" {
	run cr_run -d --env=FROM_RUN=1 c1 sleep 1000
	[ "$status" -eq 0 ]
	wait_until 10 task_status_is c1 RUNNING
	pid="$(task_pid c1)"
	[ -n "$pid" ]
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 1000 " ]

	# The runtime's own state agrees with containerd's.
	run runtime_state c1
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = running ]
	[ "$(jq -r .pid <<<"$output")" = "$pid" ]

	run cr_exec c1 e1 sh -c "tr '\\0' ' ' </proc/1/cmdline"
	[ "$status" -eq 0 ]
	[ "$output" = "sleep 1000 " ]

	run cr_exec c1 e2 ps -o pid,args
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" =~ ^[[:space:]]*1[[:space:]]+sleep\ 1000$ ]]

	run cr_exec c1 e3 env
	[ "$status" -eq 0 ]
	[[ "$output" == *"FROM_RUN=1"* ]]

	run cr_exec c1 e4 sh -c 'exit 5'
	[ "$status" -eq 5 ]

	# task ps goes through the runtime's `ps --format json`.
	run cr task ps c1
	[ "$status" -eq 0 ]
	[[ "$output" == *"$pid"* ]]
}

@test "ctr task pause and resume freeze and thaw the container" {
	run cr_run -d c1 sleep 1000
	[ "$status" -eq 0 ]
	wait_until 10 task_status_is c1 RUNNING
	run cr task pause c1
	[ "$status" -eq 0 ]
	[ "$(task_status c1)" = PAUSED ]
	[ "$(runtime_state c1 | jq -r .status)" = paused ]
	run cr task resume c1
	[ "$status" -eq 0 ]
	[ "$(task_status c1)" = RUNNING ]
	run cr_exec c1 e1 true
	[ "$status" -eq 0 ]
}

@test "ctr task kill sends the signal; kill --all reaches exec'd processes too" {
	# SIGTERM (the default) reaches a shell that traps it.
	run cr_run -d c1 sh -c 'trap "exit 3" TERM; sleep 1000 & wait'
	[ "$status" -eq 0 ]
	wait_until 10 task_status_is c1 RUNNING
	run cr task kill c1
	[ "$status" -eq 0 ]
	wait_until 10 task_status_is c1 STOPPED
	# ctr reports a non-zero exit code as a warning when it deletes the task.
	run cr task delete c1
	[ "$status" -eq 0 ]
	[[ "$output" == *"exit code 3"* ]]

	# kill --all: the init and a detached exec'd process both die.
	run cr_run -d c2 sleep 1000
	[ "$status" -eq 0 ]
	wait_until 10 task_status_is c2 RUNNING
	run cr task exec --detach --fifo-dir "$CLIENTS_TMP/fifo" --exec-id extra c2 sleep 999
	[ "$status" -eq 0 ]
	wait_until 10 sh -c "ctr --address '$CLIENTS_TMP/containerd.sock' -n '$CTD_NS' task ps c2 | grep -q extra"
	extra_pid="$(cr task ps c2 | awk '/extra/ { print $1 }')"
	[ -n "$extra_pid" ]
	run cr task kill --all --signal SIGKILL c2
	[ "$status" -eq 0 ]
	wait_until 10 task_status_is c2 STOPPED
	wait_until 10 pid_gone "$extra_pid"
	run cr task delete c2
	[ "$status" -eq 0 ]
	[[ "$output" == *"exit code 137"* ]]
}

@test "ctr task delete and container rm remove runtime state, cgroup and shim" {
	run cr_run -d c1 sleep 1000
	[ "$status" -eq 0 ]
	wait_until 10 task_status_is c1 RUNNING
	[[ "$(runtime_ids)" == *c1* ]]
	[ -n "$(clients_cgroup_children "$CLIENTS_CGROUP" -name c1)" ]

	# A running task cannot be deleted without --force.
	run cr task delete c1
	[ "$status" -ne 0 ]
	run cr task kill --signal SIGKILL c1
	[ "$status" -eq 0 ]
	wait_until 10 task_status_is c1 STOPPED
	run cr task delete c1
	[ "$status" -eq 0 ]
	run cr container rm c1
	[ "$status" -eq 0 ]

	[ -z "$(cr container ls --quiet)" ]
	[ -z "$(runtime_ids)" ]
	[ -z "$(clients_cgroup_children "$CLIENTS_CGROUP" -name c1)" ]
	wait_until 10 shims_gone
}
