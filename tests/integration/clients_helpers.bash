# Shared by podman.bats and containerd.bats: real clients (podman + conmon, containerd + ctr +
# containerd-shim-runc-v2) driving the OCI runtime under test.
#
# RUNTIME selects the runtime (a path or a name on $PATH); it defaults to $MYDOCKER_RUNC, which
# ctest sets to the built mydocker-runc. `RUNTIME=runc bats tests/integration/podman.bats` runs
# the same tests against Debian's runc as a reference: a test that fails on runc is a test bug.
#
# Every client is confined to one temp dir ($CLIENTS_TMP): its storage, state, sockets, locks,
# the runtime's --root, and a cgroup parent named after that dir ($CLIENTS_CGROUP). teardown
# removes what the clients made there (containers, mounts, cgroups, processes) and checks that
# nothing is left behind.

CLIENTS_REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"

# --- preconditions -------------------------------------------------------------------------

# clients_prereqs CMD:PACKAGE...: checks root, the client commands and the runtime, resolving
# $RUNTIME (default $MYDOCKER_RUNC) to an absolute path. Sets CLIENTS_SKIP to the reason the
# tests cannot run, or to "" when they can. bats 1.8 cannot skip from setup_file, so
# setup_file calls this and every test's setup calls clients_skip_unless_ready.
clients_prereqs() {
	CLIENTS_SKIP=""
	export CLIENTS_SKIP
	if [ "$(id -u)" -ne 0 ]; then
		CLIENTS_SKIP="needs root: podman and containerd as root drive the runtime directly"
		return 0
	fi
	local spec cmd
	for spec in "$@"; do
		cmd="${spec%%:*}"
		if ! command -v "$cmd" >/dev/null 2>&1; then
			CLIENTS_SKIP="'$cmd' not found: install Debian package '${spec#*:}' (scripts/setup)"
			return 0
		fi
	done
	local r="${RUNTIME:-${MYDOCKER_RUNC:-}}"
	if [ -z "$r" ]; then
		CLIENTS_SKIP="no runtime under test: set RUNTIME (e.g. RUNTIME=runc) or MYDOCKER_RUNC"
		return 0
	fi
	if [[ "$r" != */* ]] && ! r="$(command -v "$r")"; then
		CLIENTS_SKIP="runtime '${RUNTIME:-${MYDOCKER_RUNC:-}}' not found on PATH"
		return 0
	fi
	if [ ! -f "$r" ] || [ ! -x "$r" ]; then
		CLIENTS_SKIP="runtime '$r' is not an executable file (build mydocker-runc first?)"
		return 0
	fi
	[[ "$r" == /* ]] || r="$PWD/$r"
	RUNTIME="$r"
	export RUNTIME
}

clients_skip_unless_ready() {
	if [ -n "${CLIENTS_SKIP:-}" ]; then
		skip "$CLIENTS_SKIP"
	fi
}

# --- synchronisation -----------------------------------------------------------------------

# wait_until TIMEOUT_SECONDS CMD [ARG...]: runs CMD until it succeeds (status 0) or the timeout
# passes, polling every 50 ms. Fails, printing CMD and its last output, on timeout. This is the
# only way these tests wait: never a bare sleep standing in for "it is probably done by now".
wait_until() {
	local timeout="$1"
	shift
	local now deadline out
	now="${EPOCHREALTIME/./}"
	deadline=$((now + timeout * 1000000))
	while :; do
		if out="$("$@" 2>&1)"; then
			return 0
		fi
		now="${EPOCHREALTIME/./}"
		if ((now >= deadline)); then
			echo "wait_until: '$*' did not succeed within ${timeout}s; last output: $out" >&2
			return 1
		fi
		sleep 0.05
	done
}

# --- temp dir, rootfs ----------------------------------------------------------------------

# Creates $CLIENTS_TMP (short path: unix sockets live there and sun_path holds 108 bytes) and
# the cgroup parent name derived from it. Call from setup_file; the exports reach every test.
clients_setup_tmp() {
	CLIENTS_TMP="$(mktemp -d /tmp/mydocker-"$1".XXXXXX)"
	CLIENTS_CGROUP="$(basename "$CLIENTS_TMP")"
	export CLIENTS_TMP CLIENTS_CGROUP
}

# clients_busybox_rootfs [--dir DIR] [--tar FILE]: scripts/busybox-rootfs.
clients_busybox_rootfs() {
	"$CLIENTS_REPO_ROOT/scripts/busybox-rootfs" "$@"
}

# --- what a client may leave behind --------------------------------------------------------

# Mount points at or below DIR, deepest first. DIR comes from mktemp, so it has none of the
# characters mountinfo escapes (space, tab, newline, backslash).
clients_mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print length($5) "\t" $5 }' \
		/proc/self/mountinfo | sort -rn | cut -f2- | uniq
}

# Unmounts everything at or below DIR (the clients' overlay, shm and bind mounts).
clients_unmount_under() {
	local m
	while read -r m; do
		[ -n "$m" ] || continue
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done < <(clients_mounts_under "$1")
}

# Mount points of the cgroup hierarchies (v1 and v2). In mountinfo the filesystem type is
# the field after the "-" that ends the variable-length optional fields.
clients_cgroup_mounts() {
	awk '{ t = ""; for (i = 7; i < NF; i++) if ($i == "-") { t = $(i + 1); break }
	       if (t == "cgroup" || t == "cgroup2") print $5 }' /proc/self/mountinfo | sort -u
}

# Directories of cgroup NAME (absolute from each hierarchy's root), one per mounted hierarchy.
clients_cgroup_dirs() {
	local name="$1" mnt
	while read -r mnt; do
		[ -d "$mnt/$name" ] && echo "$mnt/$name"
	done < <(clients_cgroup_mounts)
	return 0
}

# clients_cgroup_children NAME [FIND-TESTS...]: the cgroups below NAME, in every hierarchy,
# that match FIND-TESTS (e.g. -name 'libpod-*').
clients_cgroup_children() {
	local name="$1" d
	shift
	for d in $(clients_cgroup_dirs "$name"); do
		find "$d" -mindepth 1 -type d "$@"
	done
	return 0
}

# PIDs in cgroup NAME or below, in any hierarchy.
clients_cgroup_pids() {
	local d
	for d in $(clients_cgroup_dirs "$1"); do
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -un
}

# PIDs (other than this shell's) whose command line mentions DIR: conmon, the shim,
# containerd and podman helpers all carry their state dir in argv.
clients_pids_mentioning() {
	local dir="$1" p args
	for p in /proc/[0-9]*; do
		p="${p#/proc/}"
		[ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
		mapfile -d '' args <"/proc/$p/cmdline" 2>/dev/null || continue
		[[ "${args[*]}" == *"$dir"* ]] && echo "$p"
	done
	return 0
}

clients_no_pids() { [ -z "$("$@")" ]; }

# Last-resort cleanup after a failed test: SIGKILL, by PID, the processes in our cgroup and
# those naming our temp dir, thaw our freezer cgroups (a frozen task never dies), wait for
# them to go, then remove our cgroups, deepest first (rmdir only, never a write to a cgroup
# we did not create).
clients_kill_leftovers() {
	local d pids
	for d in $(clients_cgroup_dirs "$CLIENTS_CGROUP"); do
		find "$d" -name freezer.state -exec sh -c 'echo THAWED >"$1"' _ {} \; 2>/dev/null || true
	done
	pids="$(clients_cgroup_pids "$CLIENTS_CGROUP") $(clients_pids_mentioning "$CLIENTS_TMP")"
	for d in $pids; do
		kill -KILL "$d" 2>/dev/null || true
	done
	wait_until 10 clients_no_pids clients_cgroup_pids "$CLIENTS_CGROUP" || true
	wait_until 10 clients_no_pids clients_pids_mentioning "$CLIENTS_TMP" || true
}

clients_remove_cgroups() {
	local d
	for d in $(clients_cgroup_dirs "$CLIENTS_CGROUP"); do
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
}

# Fails, listing them, if any mount, cgroup or process of ours is left.
clients_assert_clean() {
	local mounts cgroups pids
	mounts="$(clients_mounts_under "$CLIENTS_TMP")"
	cgroups="$(clients_cgroup_dirs "$CLIENTS_CGROUP")"
	pids="$(clients_pids_mentioning "$CLIENTS_TMP") $(clients_cgroup_pids "$CLIENTS_CGROUP")"
	pids="${pids// /}"
	if [ -n "$mounts$cgroups$pids" ]; then
		echo "left behind: mounts [$mounts] cgroups [$cgroups] pids [$pids]" >&2
		return 1
	fi
}

# Files and dirs outside $CLIENTS_TMP that a client creates on first use whatever flags it is
# given (containerd's shim sockets under /run/containerd/s, ctr's fifo dir, c/image's blob info
# cache). clients_note_host_paths records which of them exist before the tests;
# clients_remove_host_paths removes those that did not, directories only once empty.
clients_note_host_paths() {
	local p
	: >"$CLIENTS_TMP/host-paths-before"
	for p in "$@"; do
		[ -e "$p" ] && echo "$p" >>"$CLIENTS_TMP/host-paths-before"
	done
	printf '%s\n' "$@" >"$CLIENTS_TMP/host-paths"
}

clients_remove_host_paths() {
	local p
	[ -f "$CLIENTS_TMP/host-paths" ] || return 0
	# Deepest first, so a parent dir is tried after its children.
	while read -r p; do
		[ -n "$p" ] || continue
		grep -qxF -- "$p" "$CLIENTS_TMP/host-paths-before" && continue
		if [ -d "$p" ] && [ ! -L "$p" ]; then
			rmdir -- "$p" 2>/dev/null || true
		elif [ -e "$p" ] || [ -L "$p" ]; then
			rm -f -- "$p"
		fi
	done < <(awk '{ print length($0) "\t" $0 }' "$CLIENTS_TMP/host-paths" | sort -rn | cut -f2-)
}

# The whole teardown_file: kill, unmount, remove cgroups and host paths, then the temp dir.
# Prints what had to be cleaned up by force, and fails if anything could not be removed.
clients_teardown_tmp() {
	[ -n "${CLIENTS_TMP:-}" ] && [ -d "$CLIENTS_TMP" ] || return 0
	local status=0
	clients_kill_leftovers
	clients_unmount_under "$CLIENTS_TMP"
	clients_remove_cgroups
	clients_remove_host_paths
	clients_assert_clean || status=1
	if [ -z "$(clients_mounts_under "$CLIENTS_TMP")" ]; then
		rm -rf -- "$CLIENTS_TMP"
	fi
	return $status
}

# --- podman -----------------------------------------------------------------------------------

# pm ARGS...: podman confined to $CLIENTS_TMP (its config files and $PODMAN_DRIVER are the
# caller's setup_file's), driving $RUNTIME.
pm() {
	CONTAINERS_CONF="$CLIENTS_TMP/containers.conf" \
		CONTAINERS_STORAGE_CONF="$CLIENTS_TMP/storage.conf" \
		TMPDIR="$CLIENTS_TMP/tmp" \
		podman \
		--root "$CLIENTS_TMP/storage" \
		--runroot "$CLIENTS_TMP/runroot" \
		--tmpdir "$CLIENTS_TMP/libpod" \
		--network-config-dir "$CLIENTS_TMP/net" \
		--runtime "$RUNTIME" \
		--cgroup-manager cgroupfs \
		--events-backend file \
		--storage-driver "$PODMAN_DRIVER" \
		"$@"
}
