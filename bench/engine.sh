#!/usr/bin/env bash
# bench/engine.sh PATH-TO-MYDOCKER [PATH-TO-MYDOCKER-RUNC]
#
# Times the engine (`mydocker`) against crun on an equivalent prepared bundle and against
# podman (driving crun), and measures what a detached container's monitor costs in memory:
#   run        ONE hyperfine run: `mydocker run --rm busybox true` vs `crun run` of a busybox
#              bundle (/bin/true) vs `podman --runtime crun run --rm --network none busybox
#              true` (and, informational, `mydocker-runc run` of the same bundle)
#   detached   ONE hyperfine run, each timed run a batch of BENCH_BATCH (50) back-to-back
#              starts: `mydocker run -d busybox sleep 600` vs `crun run --detach` (distinct
#              ids and cgroups); hyperfine's --prepare removes the previous batch
#   memory     BENCH_BATCH detached `mydocker run -d busybox sleep 600`: the average PSS of
#              their monitor processes (/proc/PID/smaps_rollup), and the same for the conmon
#              of BENCH_BATCH `podman run -d` containers
# then prints the ratios next to the targets with MET / MISSED.
#
# Everything lives under one temp dir (the engine's --root, the bundles, podman's storage,
# runroot, tmpdir, network config, events log) and one cgroup parent named after it. The
# runtimes' state (crun's and mydocker-runc's --root, the engine's --runroot) is on a tmpfs
# mounted in that dir, as their defaults (/run/crun, /run/mydocker) are on a real host.
# On exit, whatever happened, the trap removes the containers (mydocker rm -f, crun delete -f,
# podman rm -f), unmounts, removes the cgroups and the temp dir, and fails listing anything it
# found left behind (mounts, cgroups, processes).
#
# Host quirk (see bench/runtime.sh): crun 1.8 refuses this host's hybrid cgroup layout, so the
# script re-executes itself in a private mount namespace with an empty tmpfs over
# /sys/fs/cgroup/unified; mydocker, crun and podman all see the same plain v1 host there.
#
# Environment: CRUN, PODMAN (defaults: on PATH or next to mydocker; a missing one is left out),
# MYDOCKER_RUNC (default: the second argument, or next to mydocker, or on PATH; informational),
# BENCH_RUNS (default 100), BENCH_WARMUP (default 10) for `run`; BENCH_BATCH (default 50),
# BENCH_BATCH_RUNS (default 5), BENCH_BATCH_WARMUP (default 1) for `detached`; BENCH_CONMON=0
# skips podman's conmon in `memory`; BENCH_OUT=DIR keeps hyperfine's JSON exports;
# BENCH_SHOW_OUTPUT=1 shows the commands' output (hyperfine only says which one failed). Root.
set -euo pipefail

usage() {
	echo "usage: $0 PATH-TO-MYDOCKER [PATH-TO-MYDOCKER-RUNC]   (e.g. build/mydocker)" >&2
	exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
case "$1" in -h | --help) usage ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

# shellcheck source=bench/lib.sh
. "$here/lib.sh"

# find_bin NAME OVERRIDE: OVERRIDE if set, else NAME next to mydocker, else NAME on PATH.
find_bin() {
	local name="$1" override="${2:-}"
	if [ -n "$override" ]; then
		abspath "$override"
		return
	fi
	abspath "$(dirname "$md")/$name" 2>/dev/null || abspath "$name"
}

# --- stage 1: on the host, check and re-execute in a private mount namespace -------------

if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || die "needs root (containers need namespaces, mounts and cgroups)"
	command -v hyperfine >/dev/null || die "hyperfine not found: install it (scripts/setup)"
	command -v jq >/dev/null || die "jq not found: install it (scripts/setup)"
	command -v unshare >/dev/null || die "unshare not found (util-linux)"
	md="$(abspath "$1")" || die "'$1' is not an executable file (build mydocker first)"
	args=("$md")
	if [ $# -eq 2 ]; then
		mdr="$(abspath "$2")" || die "'$2' is not an executable file (build mydocker-runc first)"
		args+=("$mdr")
	fi
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --mount --propagation private -- "$0" "${args[@]}"
fi

# --- stage 2: in the private mount namespace ------------------------------------------------

md="$1"
runs="${BENCH_RUNS:-100}"
warmup="${BENCH_WARMUP:-10}"
batch="${BENCH_BATCH:-50}"
batch_runs="${BENCH_BATCH_RUNS:-5}"
batch_warmup="${BENCH_BATCH_WARMUP:-1}"
want_conmon="${BENCH_CONMON:-1}"
# hyperfine hides the commands' output; BENCH_SHOW_OUTPUT=1 shows it (to see why one failed).
hf_output=(--output null)
[ "${BENCH_SHOW_OUTPUT:-0}" = 0 ] || hf_output=(--show-output)

# mountinfo: "ID PARENT DEV ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS".
hidden=""
cgroup_mounts() { # prints "MOUNTPOINT FSTYPE" for the cgroup v1 and v2 mounts (not $hidden)
	awk -v h="$hidden" '{ t = ""; for (i = 7; i < NF; i++) if ($i == "-") { t = $(i + 1); break }
	       if ((t == "cgroup" || t == "cgroup2") && $5 != h) print $5, t }' /proc/self/mountinfo
}

if cgroup_mounts | grep -qx '/sys/fs/cgroup/unified cgroup2'; then
	# Hybrid host: hide the cgroup2 mount from everything alike (see the header).
	# (The runtimes then make their "unified" dirs in that tmpfs: gone with the namespace.)
	mount -t tmpfs -o mode=0755,size=1m mydocker-bench-no-cgroup2 /sys/fs/cgroup/unified
	hidden=/sys/fs/cgroup/unified
	layout="hybrid (cgroup2 at /sys/fs/cgroup/unified hidden by a tmpfs in a private mount ns)"
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	layout="unified (cgroup v2)"
else
	layout="legacy (cgroup v1)"
fi

crun_bin="$(find_bin crun "${CRUN:-}" 2>/dev/null)" || crun_bin=""
mdr_bin="$(find_bin mydocker-runc "${2:-${MYDOCKER_RUNC:-}}" 2>/dev/null)" || mdr_bin=""
podman_bin="$(find_bin podman "${PODMAN:-}" 2>/dev/null)" || podman_bin=""
notes=()
[ -n "$crun_bin" ] || notes+=("crun not found: the crun columns and the ratios to crun are left out")
[ -n "$mdr_bin" ] || notes+=("mydocker-runc not found: its informational columns are left out")
# use_podman: podman takes part (podman_bin alone: cleanup may have podman state to remove).
use_podman=""
if [ -z "$podman_bin" ]; then
	notes+=("podman not found: left out")
elif ! command -v conmon >/dev/null; then
	notes+=("podman found but conmon is not (Debian package conmon): podman is left out")
elif [ -z "$crun_bin" ]; then
	notes+=("podman is left out: it is benchmarked with --runtime crun, and crun is missing")
else
	use_podman=1
fi

# m ARGS...: mydocker with its root in the temp dir (stdin closed: nothing reads a terminal).
m() { "$md" --root "$work/md" --runroot "$run_dir/md" "$@" </dev/null; }
md_ids() { m ps -aq --no-trunc 2>/dev/null || true; }

# pm ARGS...: podman confined to the temp dir exactly as in tests/integration/podman.bats.
pm_env=()   # set once the temp dir exists
pm_flags=() # set once podman's storage driver is chosen
pm() { env "${pm_env[@]}" "$podman_bin" "${pm_flags[@]}" "$@" </dev/null; }

# The OCI runtimes: NAME -> binary, each with its own --root.
declare -A rt_bin=()
[ -n "$crun_bin" ] && rt_bin[crun]="$crun_bin"
[ -n "$mdr_bin" ] && rt_bin[mydocker-runc]="$mdr_bin"
rt() { # NAME ARGS...
	local name="$1"
	shift
	"${rt_bin[$name]}" --root "$run_dir/root-$name" "$@" </dev/null
}

# Mount points at or below DIR, deepest first (mktemp paths need no mountinfo unescaping).
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print length($5) "\t" $5 }' \
		/proc/self/mountinfo | sort -rn | cut -f2- | uniq
}

# The mounts under the temp dir that a command left. Not counted: the home of podman's overlay
# storage driver (it bind-mounts storage/overlay on itself, private, while podman uses it).
mounts_left() { mounts_under "$work" | grep -vxF -e "$work/podman/storage/overlay" -e "$work/run" || true; }

cgroup_dirs() { # our cgroup parent in every hierarchy where it exists
	local mnt
	while read -r mnt; do
		[ -d "$mnt/$cgroup" ] && echo "$mnt/$cgroup"
	done < <(cgroup_mounts | cut -d' ' -f1 | sort -u)
	return 0
}

cgroup_pids() {
	local d
	for d in $(cgroup_dirs); do
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -un
}

# PIDs other than ours whose command line mentions the temp dir: mydocker's monitors, conmon,
# `podman container cleanup`, crun's containers are in our cgroups.
pids_mentioning_work() {
	local p args
	for p in /proc/[0-9]*; do
		p="${p#/proc/}"
		[ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
		mapfile -d '' args 2>/dev/null <"/proc/$p/cmdline" || continue
		[[ "${args[*]}" == *"$work"* ]] && echo "$p"
	done
	return 0
}

our_pids() { { cgroup_pids; pids_mentioning_work; } | sort -un | grep -v "^$$\$" || true; }

wait_no_pids() { # SECONDS: until no process of ours is left (bounded)
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		[ -z "$(our_pids)" ] && return 0
		sleep 0.05
	done
	return 1
}

# Host paths podman and crun touch whatever they are told (c/image's blob info cache, crun's
# default state root, used by podman's cleanup): the ones created here are removed on exit.
host_paths=(/var/lib/containers /var/lib/containers/cache
	/var/lib/containers/cache/blob-info-cache-v1.boltdb /run/crun)
host_paths_before=()
for p in "${host_paths[@]}"; do
	[ -e "$p" ] && host_paths_before+=("$p")
done

# crun containers in crun's default root whose bundle is ours (podman's, if its cleanup failed).
crun_default_ids() {
	[ -n "$crun_bin" ] || return 0
	"$crun_bin" list --format json 2>/dev/null | jq -r --arg t "$work/" \
		'.[]? | select(.bundle | startswith($t)) | .id' 2>/dev/null || true
}

words() { tr '\n' ' ' | sed 's/ *$//'; } # one line

describe_pids() { # PID...: "PID STAT ARGS" of each, one indented line per process
	ps -o pid=,stat=,args= -p "$(echo "$@" | tr ' \n' ',,' | sed 's/,*$//')" 2>/dev/null |
		sed 's/^ */    /' || true
}

# The cgroups below ours that the commands left. Not counted: the intermediate parents (ours,
# podman's), and podman's conmon cgroup, which podman leaves by design (as in podman.bats).
cgroups_left() {
	local d
	for d in $(cgroup_dirs); do
		find "$d" -mindepth 1 -type d ! -path "$d/podman" ! -path "$d/podman/conmon"
	done
}

cleanup() {
	local status=$? id name p d i left=()
	trap - EXIT INT TERM
	set +e
	# The polite way first: each tool removes its own containers.
	for id in $(md_ids); do
		m rm -f -v "$id" >/dev/null 2>&1 || echo "bench: cleanup: mydocker rm -f $id failed" >&2
	done
	# The default bridge of the bench's root: its device and nft table.
	[ ! -d "$work/md/networks" ] || m network rm bridge >/dev/null 2>&1 ||
		echo "bench: cleanup: mydocker network rm bridge failed" >&2
	for name in "${!rt_bin[@]}"; do
		for id in $(rt "$name" list --format json 2>/dev/null | jq -r '.[]?.id' 2>/dev/null); do
			rt "$name" delete --force "$id" >/dev/null 2>&1 ||
				echo "bench: cleanup: $name delete --force $id failed" >&2
		done
	done
	if [ -n "$podman_bin" ] && [ "${#pm_flags[@]}" -gt 0 ]; then
		pm rm --all --force --time 0 >/dev/null 2>&1
		pm unmount --all >/dev/null 2>&1
	fi
	# The monitors, conmon and `podman container cleanup` finish asynchronously.
	wait_no_pids 20
	for id in $(crun_default_ids); do
		left+=("crun state in its default root: $id")
		"$crun_bin" delete --force "$id" >/dev/null 2>&1
	done
	# Then what they left behind is listed, and removed by force. Processes by PID (thawed
	# first: a frozen task never dies).
	p="$(our_pids)"
	if [ -n "$p" ]; then
		left+=("processes:"$'\n'"$(describe_pids "$p")")
		for d in $(cgroup_dirs); do
			find "$d" -name freezer.state -exec sh -c 'echo THAWED >"$1"' _ {} \; 2>/dev/null
		done
		mapfile -t pids <<<"$p"
		kill -KILL "${pids[@]}" 2>/dev/null
		wait_no_pids 10
	fi
	p="$(mounts_left)"
	[ -z "$p" ] || left+=("mounts: $(words <<<"$p")")
	if [ -n "$(mounts_under "$work")" ]; then
		while read -r p; do
			umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null
		done < <(mounts_under "$work")
	fi
	p="$(cgroups_left)"
	[ -z "$p" ] || left+=("cgroups: $(words <<<"$p")")
	for d in $(cgroup_dirs); do
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	# Host paths made here, deepest first (a directory after what it holds).
	for ((i = ${#host_paths[@]} - 1; i >= 0; i--)); do
		p="${host_paths[$i]}"
		[[ " ${host_paths_before[*]} " == *" $p "* ]] && continue
		if [ -d "$p" ] && [ ! -L "$p" ]; then
			rmdir -- "$p" 2>/dev/null
		elif [ -e "$p" ]; then
			rm -f -- "$p"
		fi
	done
	# What even that could not remove.
	p="$(mounts_under "$work"; cgroup_dirs; our_pids)"
	[ -z "$p" ] || left+=("NOT REMOVED: $(words <<<"$p")")
	[ -n "$(mounts_under "$work")" ] || rm -rf -- "$work"
	if [ "${#left[@]}" -gt 0 ]; then
		echo "bench: the benchmarked commands left these behind (removed by force):" >&2
		printf '  %s\n' "${left[@]}" >&2
		status=1
	fi
	exit "$status"
}
# Short path: the engine's overlay mount options hold paths under it (page-size limit), and
# conmon's sockets live under podman's runroot (sun_path holds 108 bytes).
work="$(mktemp -d /tmp/mydocker-bench.XXXXXX)"
run_dir="$work/run" # a tmpfs, see below
trap cleanup EXIT
cgroup="$(basename "$work")"
mkdir -p "$work/md"
# Runtime state where each tool keeps it by default: on a tmpfs (crun's /run/crun, our
# /run/mydocker), one mounted here in the private mount namespace. The engine's store (images,
# records, logs, overlay upper dirs) stays on the disk, as /var/lib/mydocker does.
mkdir -p "$run_dir"
mount -t tmpfs -o mode=0700,size=64m mydocker-bench-run "$run_dir"
pm_env=(CONTAINERS_CONF="$work/podman/containers.conf"
	CONTAINERS_STORAGE_CONF="$work/podman/storage.conf" TMPDIR="$work/podman/tmp")
trap 'exit 130' INT
trap 'exit 143' TERM

# --- preparation ------------------------------------------------------------------------------

echo "== mydocker engine benchmark: $(uname -r), $(nproc) CPUs, cgroups $layout"
printf '   %-14s %s  (%s)\n' mydocker "$md" "$("$md" --version 2>/dev/null | head -n1)"
[ -z "$crun_bin" ] || printf '   %-14s %s  (%s)\n' crun "$crun_bin" "$("$crun_bin" --version | head -n1)"
[ -z "$mdr_bin" ] || printf '   %-14s %s  (%s)\n' mydocker-runc "$mdr_bin" \
	"$("$mdr_bin" --version 2>/dev/null | head -n1)"
[ -z "$use_podman" ] || printf '   %-14s %s  (%s, conmon %s)\n' podman "$podman_bin" \
	"$("$podman_bin" --version | head -n1)" "$(conmon --version | head -n1 | awk '{ print $3 }')"

# The engine builds its busybox image on first use: this run does it, untimed, and checks
# that the engine works at all (a failure is an error, not a fast data point).
# --network none: crun's bundle gets an empty network namespace too; the bridge's own cost is
# the separate `network` scenario.
# BENCH_SECCOMP=0: no seccomp filter on either side (the engine's containers unconfined).
md_sec=()
[ "${BENCH_SECCOMP:-1}" != 0 ] || md_sec=(--security-opt seccomp=unconfined)
md_run=(run --rm --network none "${md_sec[@]}" --cgroup-parent "$cgroup" busybox true)
md_bridge=(run --rm --network bridge "${md_sec[@]}" --cgroup-parent "$cgroup" busybox true)
md_detached=(run -d --network none "${md_sec[@]}" --cgroup-parent "$cgroup" busybox sleep 600)
out="$(m "${md_run[@]}" 2>&1)" || die "mydocker cannot run busybox: mydocker ${md_run[*]}: $out"
out="$(m "${md_bridge[@]}" 2>&1)" || die "mydocker cannot run busybox on the bridge: mydocker ${md_bridge[*]}: $out"
[ -z "$(md_ids)" ] || die "mydocker run --rm left the container behind: $(md_ids)"

# The OCI bundles: one busybox rootfs (read-only, shared), one config.json per container
# (each its own cgroupsPath below ours), from runc's or crun's `spec` as in bench/runtime.sh.
rootfs="$work/rootfs"
"$repo/scripts/busybox-rootfs" --dir "$rootfs"
spec_bin="$(command -v runc || true)"
spec_bin="${spec_bin:-${crun_bin:-$mdr_bin}}"
if [ -n "$spec_bin" ]; then
	mkdir -p "$work/spec"
	(cd "$work/spec" && "$spec_bin" spec) || die "'$spec_bin spec' failed"
fi
# The engine confines its containers with docker's default seccomp profile, as docker and
# podman do: the bundles get the very filter it gave a container (from that container's
# config.json), so crun runs under the same confinement. BENCH_SECCOMP=0 leaves it out.
seccomp_json=null
if [ "${BENCH_SECCOMP:-1}" != 0 ]; then
	sid="$(m run -d --network none --cgroup-parent "$cgroup" busybox sleep 600)" ||
		die "mydocker cannot run a detached container"
	seccomp_json="$(jq -c '.linux.seccomp // null' "$run_dir/md/containers/$sid/config.json")" ||
		die "no config.json for the engine's container $sid"
	m rm -f "$sid" >/dev/null
fi
make_bundle() { # DIR CGROUP-NAME ARG...
	local dir="$1" cg="$2"
	shift 2
	mkdir -p "$dir"
	# jq: the file before --args, after which every argument is a positional string.
	jq --arg root "$rootfs" --arg cg "/$cgroup/$cg" --argjson sc "$seccomp_json" \
		'.root.path = $root | .process.args = $ARGS.positional | .process.terminal = false
		 | .linux.cgroupsPath = $cg
		 | if $sc != null then .linux.seccomp = $sc else . end' "$work/spec/config.json" --args "$@" >"$dir/config.json"
}
for name in "${!rt_bin[@]}"; do
	mkdir -p "$run_dir/root-$name"
	make_bundle "$work/bundles/$name-run" "$name-run" /bin/true
	for ((i = 0; i < batch; i++)); do
		make_bundle "$work/bundles/$name-d$i" "$name-d$i" sleep 600
	done
done

# Each runtime runs the bundle once, and a detached container once, before anything is timed:
# crun's failure is an error, mydocker-runc's (informational) leaves it out.
rt_check() { # NAME: prints what failed
	local name="$1"
	if ! out="$(rt "$name" run --bundle "$work/bundles/$name-run" bench-run 2>&1)"; then
		echo "$name cannot run the bundle: $out"
		return 1
	fi
	# --detach: the container keeps the runtime's stdio, which must not be a pipe of ours.
	if ! rt "$name" run --detach --bundle "$work/bundles/$name-d0" bench-d0 >"$work/out" 2>&1; then
		echo "$name cannot run a detached container: $(cat "$work/out")"
		return 1
	fi
	if ! rt "$name" delete --force bench-d0 >"$work/out" 2>&1; then
		echo "$name cannot delete --force a running container: $(cat "$work/out")"
		return 1
	fi
}
for name in "${!rt_bin[@]}"; do
	if ! out="$(rt_check "$name")"; then
		[ "$name" = mydocker-runc ] || die "$out"
		notes+=("mydocker-runc left out: $out")
		rt "$name" delete --force bench-d0 >/dev/null 2>&1 || true
		unset 'rt_bin[mydocker-runc]'
		mdr_bin=""
	fi
done

# podman, confined like tests/integration/podman.bats; the image is imported from the same
# busybox rootfs as a tarball (no registry).
podman_image=localhost/busybox:latest
if [ -n "$use_podman" ]; then
	pdir="$work/podman"
	mkdir -p "$pdir"/{tmp,net,libpod}
	"$repo/scripts/podman-conf" "$pdir"
	"$repo/scripts/busybox-rootfs" --tar "$pdir/busybox.tar"
	pm_ok=""
	for driver in overlay vfs; do
		cat >"$pdir/storage.conf" <<-EOF
			[storage]
			driver = "$driver"
			graphroot = "$pdir/storage"
			runroot = "$pdir/runroot"
		EOF
		pm_flags=(--root "$pdir/storage" --runroot "$pdir/runroot" --tmpdir "$pdir/libpod"
			--network-config-dir "$pdir/net" --runtime "$crun_bin" --cgroup-manager cgroupfs
			--events-backend file --storage-driver "$driver")
		if pm import "$pdir/busybox.tar" "$podman_image" >"$work/out" 2>&1; then
			pm_ok=1
			break
		fi
		pm system reset --force >/dev/null 2>&1 || true
		while read -r p; do umount "$p" 2>/dev/null || umount -l "$p"; done < <(mounts_under "$pdir")
		rm -rf "$pdir/storage" "$pdir/runroot"
	done
	pm_run=(run --rm --network none --cgroup-parent "/$cgroup/podman" "$podman_image" true)
	if [ -z "$pm_ok" ]; then
		notes+=("podman left out: podman import failed: $(tail -n3 "$work/out")")
		use_podman=""
	elif ! out="$(pm "${pm_run[@]}" 2>&1)"; then
		notes+=("podman left out: podman ${pm_run[*]} failed: $out")
		use_podman=""
	else
		podman_driver="$driver"
	fi
fi

# phase_check PHASE: notes what PHASE left behind (the trap removes it at the end).
phase_check() {
	local p
	wait_no_pids 20 || notes+=("after $1, still running:"$'\n'"$(describe_pids "$(our_pids)")")
	p="$(md_ids | words)"
	[ -z "$p" ] || notes+=("after $1, mydocker containers left: $p")
	p="$(mounts_left | words)"
	[ -z "$p" ] || notes+=("after $1, mounts left: $p")
	p="$(cgroups_left | words)"
	[ -z "$p" ] || notes+=("after $1, cgroups left: $p")
}
phase_check preparation

out_dir="${BENCH_OUT:-$work/out.d}"
mkdir -p "$out_dir"
hf_failed="a benchmarked command failed (hyperfine names it above)"
[ "${BENCH_SHOW_OUTPUT:-0}" != 0 ] || hf_failed+="; BENCH_SHOW_OUTPUT=1 shows its error"
q() { # ARGS...: quoted for sh, space-separated
	local s
	s="$(printf '%q ' "$@")"
	echo "${s% }"
}

# --- 1. run --rm: one hyperfine run -----------------------------------------------------------

echo
echo "== run: $runs runs after $warmup warm-up runs per command"
args=(-n mydocker "$(q "$md" --root "$work/md" --runroot "$run_dir/md" "${md_run[@]}")")
[ -z "$crun_bin" ] ||
	args+=(-n crun "$(q "$crun_bin" --root "$run_dir/root-crun" run --bundle "$work/bundles/crun-run" bench-run)")
[ -z "$mdr_bin" ] ||
	args+=(-n mydocker-runc "$(q "$mdr_bin" --root "$run_dir/root-mydocker-runc" run \
		--bundle "$work/bundles/mydocker-runc-run" bench-run)")
[ -z "$use_podman" ] || args+=(-n podman "$(q "$podman_bin" "${pm_flags[@]}" "${pm_run[@]}")")
# podman's environment (its config files, TMPDIR) is hyperfine's: nothing else reads it.
env "${pm_env[@]}" hyperfine -N --warmup "$warmup" --runs "$runs" "${hf_output[@]}" \
	--export-json "$out_dir/run.json" "${args[@]}" </dev/null || die "$hf_failed"
phase_check run

# --- 1b. network: the default bridge against no network, one hyperfine run -------------------

echo
echo "== network: $runs runs after $warmup warm-up runs per command"
hyperfine -N --warmup "$warmup" --runs "$runs" "${hf_output[@]}" --export-json "$out_dir/network.json" \
	-n bridge "$(q "$md" --root "$work/md" --runroot "$run_dir/md" "${md_bridge[@]}")" \
	-n none "$(q "$md" --root "$work/md" --runroot "$run_dir/md" "${md_run[@]}")" </dev/null || die "$hf_failed"
phase_check network

# --- 2. detached: batches of $batch back-to-back starts, one hyperfine run ---------------------

# Each timed run starts $batch containers; each command's --prepare (before every run) removes
# the previous batch, --cleanup (one for all) the last one. Shell mode: the loops are sh's, and
# hyperfine subtracts the shell's start-up.
# Errors go to a file (hyperfine discards them), shown if a command fails.
err_log="$work/detached.log"
q_log="$(q "$err_log")"
loop() { # BODY with $i: a POSIX sh loop over 0..batch-1 that stops at the first failure
	echo "i=0; while [ \$i -lt $batch ]; do $1 >/dev/null 2>>$q_log || exit 1; i=\$((i + 1)); done"
}
q_md="$(q "$md" --root "$work/md" --runroot "$run_dir/md")"
rm_all=("{ ids=\$($q_md ps -aq --no-trunc) && { [ -z \"\$ids\" ] || $q_md rm -f \$ids >/dev/null; }; } 2>>$q_log")
args=(-n mydocker --prepare "${rm_all[0]}" "$(loop "$q_md $(q "${md_detached[@]}")")")
for name in crun mydocker-runc; do
	[ -n "${rt_bin[$name]:-}" ] || continue
	q_rt="$(q "${rt_bin[$name]}" --root "$run_dir/root-$name")"
	rm_all+=("{ for id in \$($q_rt list --format json | jq -r '.[]?.id'); do $q_rt delete --force \$id; done; } 2>>$q_log")
	args+=(-n "$name" --prepare "${rm_all[-1]}"
		"$(loop "$q_rt run --detach --bundle $(q "$work/bundles/$name")-d\$i bench-d\$i")")
done
cleanup_cmd="$(printf '%s; ' "${rm_all[@]}")"
echo
echo "== detached: $batch_runs runs after $batch_warmup warm-up runs per command, each $batch starts"
hyperfine --warmup "$batch_warmup" --runs "$batch_runs" "${hf_output[@]}" --cleanup "$cleanup_cmd" \
	--export-json "$out_dir/detached.json" "${args[@]}" </dev/null ||
	die "$hf_failed$([ ! -s "$err_log" ] || printf '\nstderr of the commands and of --prepare:\n%s' "$(tail -n 20 "$err_log")")"
phase_check detached

# --- 3. memory: the monitors of $batch detached containers -------------------------------------

# smaps_rollup SUM-FIELD PID...: prints "SUM COUNT" of the field (kB) over the PIDs.
smaps_sum() {
	local field="$1" p total=0 n=0 v
	shift
	for p in "$@"; do
		v="$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$p/smaps_rollup")" ||
			die "cannot read /proc/$p/smaps_rollup"
		total=$((total + v))
		n=$((n + 1))
	done
	echo "$total $n"
}

echo
echo "== memory: $batch detached containers (sleep 600)"
ids=()
for ((i = 0; i < batch; i++)); do
	id="$(m "${md_detached[@]}")" || die "mydocker ${md_detached[*]} failed"
	ids+=("$id")
done
mon_pids=()
for id in "${ids[@]}"; do
	p="$(m inspect -f '{{.State.MonitorPid}}' "$id")" || die "mydocker inspect $id failed"
	if ! [[ "$p" =~ ^[1-9][0-9]*$ ]] || [ ! -r "/proc/$p/smaps_rollup" ]; then
		die "container $id: MonitorPid '$p' is not a live process"
	fi
	mon_pids+=("$p")
done
[ "$(printf '%s\n' "${mon_pids[@]}" | sort -u | wc -l)" -eq "$batch" ] ||
	die "the $batch containers do not have $batch distinct monitors: ${mon_pids[*]}"
read -r md_pss n < <(smaps_sum Pss "${mon_pids[@]}")
read -r md_rss n < <(smaps_sum Rss "${mon_pids[@]}")
echo "   mydocker monitors: $n processes, Pss $md_pss kB, Rss $md_rss kB in all"
m rm -f "${ids[@]}" >/dev/null

conmon_pss=""
if [ -z "$use_podman" ]; then
	notes+=("conmon memory: skipped, podman is left out")
elif [ "$want_conmon" = 0 ]; then
	notes+=("conmon memory: skipped (BENCH_CONMON=0)")
else
	pids=()
	for ((i = 0; i < batch; i++)); do
		id="$(pm run -d --network none --cgroup-parent "/$cgroup/podman" "$podman_image" sleep 600)" ||
			die "podman run -d failed"
		p="$(pm inspect -f '{{.State.ConmonPid}}' "$id")" || die "podman inspect $id failed"
		if ! [[ "$p" =~ ^[1-9][0-9]*$ ]] || [ ! -r "/proc/$p/smaps_rollup" ]; then
			die "podman container $id: ConmonPid '$p' is not a live process"
		fi
		pids+=("$p")
	done
	read -r conmon_pss n < <(smaps_sum Pss "${pids[@]}")
	read -r conmon_rss n < <(smaps_sum Rss "${pids[@]}")
	echo "   podman's conmon:   $n processes, Pss $conmon_pss kB, Rss $conmon_rss kB in all"
	pm rm --all --force --time 0 >/dev/null
fi
phase_check memory

# --- report -----------------------------------------------------------------------------------

median_ms() { # SCENARIO NAME: the median in ms, or 0 if NAME was not run
	jq -r --arg n "$2" '[.results[] | select(.command == $n) | .median * 1000] | first // 0' \
		"$out_dir/$1.json"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.3f", a / b; else print "-" }'; }  # 3 decimals: 0.503 is no 0.50

verdict() { # A B OP LIMIT: is A/B OP LIMIT? Judged on the exact ratio, not the rounded one shown
	awk -v a="$1" -v b="$2" -v op="$3" -v l="$4" 'BEGIN {
		if (!(a > 0 && b > 0)) { print "n/a"; exit }
		r = a / b
		print ((op == "<=" ? r <= l : op == "<" ? r < l : r >= l) ? "MET" : "MISSED") }'
}

fmt_ms() { awk -v v="$1" 'BEGIN { if (v > 0) printf "%.2f ms", v; else print "-" }'; }
mib() { awk -v kb="$1" -v n="$2" 'BEGIN { if (n > 0 && kb != "") printf "%.3f", kb / n / 1024; else print "-" }'; }

md_r="$(median_ms run mydocker)"
cr_r="$(median_ms run crun)"
mr_r="$(median_ms run mydocker-runc)"
pm_r="$(median_ms run podman)"
md_d="$(median_ms detached mydocker)"
nb_r="$(median_ms network bridge)"
nn_r="$(median_ms network none)"
r4="$(ratio "$nb_r" "$nn_r")"
cr_d="$(median_ms detached crun)"
mr_d="$(median_ms detached mydocker-runc)"
r1="$(ratio "$md_r" "$cr_r")"
r2="$(ratio "$pm_r" "$md_r")"
r3="$(ratio "$md_d" "$cr_d")"
md_mib="$(mib "$md_pss" "$batch")"
cm_mib="$(mib "$conmon_pss" "$batch")"

echo
echo "== summary (medians of the hyperfine runs; PSS averaged over $batch containers)"
row() { printf '%-30s %12s %12s %14s %12s   %s\n' "$@"; }
row measure mydocker crun mydocker-runc podman "ratio: target"
row "run --rm busybox true" "$(fmt_ms "$md_r")" "$(fmt_ms "$cr_r")" "$(fmt_ms "$mr_r")" \
	"$(fmt_ms "$pm_r")" "mydocker/crun ${r1}x <= 1.0x: $(verdict "$md_r" "$cr_r" '<=' 1.0)"
row "" "" "" "" "" "podman/mydocker ${r2}x >= 10x: $(verdict "$pm_r" "$md_r" '>=' 10)"
row "run --rm --network bridge" "$(fmt_ms "$nb_r")" "-" "-" "-" \
	"bridge/none ${r4}x < 1.5x: $(verdict "$nb_r" "$nn_r" '<' 1.5)"
row "run --rm --network none" "$(fmt_ms "$nn_r")" "-" "-" "-" ""
row "$batch x run -d (batch)" "$(fmt_ms "$md_d")" "$(fmt_ms "$cr_d")" "$(fmt_ms "$mr_d")" "-" \
	"mydocker/crun ${r3}x <= 0.5x: $(verdict "$md_d" "$cr_d" '<=' 0.5)"
per() { awk -v v="$1" -v n="$batch" 'BEGIN { if (v > 0) printf "%.2f ms", v / n; else print "-" }'; }
row "  per start" "$(per "$md_d")" "$(per "$cr_d")" "$(per "$mr_d")" "-" ""
row "monitor PSS per container" "$md_mib MiB" "-" "-" \
	"$([ "$cm_mib" = - ] && echo - || echo "$cm_mib MiB")" \
	"mydocker $md_mib MiB <= 0.3 MiB: $(verdict "$md_pss" "$((batch * 1024))" '<=' 0.3)"
echo "   (podman column of the PSS row: conmon, podman's per-container monitor;" \
	"podman storage driver: ${podman_driver:-n/a})"
for n in "${notes[@]}"; do
	echo "note: $n"
done
[ -z "${BENCH_OUT:-}" ] || echo "hyperfine JSON exports: $out_dir"
