#!/usr/bin/env bash
# bench/runtime.sh PATH-TO-MYDOCKER-RUNC
#
# Times our OCI runtime against crun and runc with hyperfine, all three in ONE hyperfine run
# per scenario, on the same busybox bundle (process.args ["/bin/true"], terminal false):
#   run                   `rt run --bundle B id` (run deletes the container when it exits)
#   create+start+delete   `rt create; rt start; rt delete --force` (start returns before
#                         /bin/true has exited: delete --force covers either order)
#   --version             process start-up alone (what linking costs before main)
# then prints ours/crun and ours/runc ratios of the medians next to the targets, and the
# peak RSS of the runtime process tree for `run` (GNU time's %M; skipped if absent).
#
# Host quirk: crun 1.8 refuses a hybrid cgroup layout (v1 controllers + a cgroup2 mount at
# /sys/fs/cgroup/unified) with "cgroups in hybrid mode not supported". So the benchmark
# re-executes itself in a private mount namespace and mounts an empty tmpfs over
# /sys/fs/cgroup/unified there; the host's mounts are untouched. (A bare umount would not do:
# crun would then create its "unified" dirs in the host's /sys/fs/cgroup tmpfs.)
#
# Environment: CRUN, RUNC (defaults: crun and runc on PATH; a missing one is left out),
# BENCH_RUNS (default 100), BENCH_WARMUP (default 10), BENCH_RSS_RUNS (default 20),
# BENCH_OUT=DIR keeps hyperfine's JSON exports there. Needs root.
set -euo pipefail

usage() {
	echo "usage: $0 PATH-TO-MYDOCKER-RUNC   (e.g. build/mydocker-runc, or /usr/sbin/runc)" >&2
	exit 2
}
[ $# -eq 1 ] || usage
case "$1" in -h | --help) usage ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

# shellcheck source=bench/lib.sh
. "$here/lib.sh"

# --- stage 1: on the host, check and re-execute in a private mount namespace -------------

if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || die "needs root (runtimes create namespaces and cgroups)"
	command -v hyperfine >/dev/null || die "hyperfine not found: install it (scripts/setup)"
	command -v jq >/dev/null || die "jq not found: install it (scripts/setup)"
	command -v unshare >/dev/null || die "unshare not found (util-linux)"
	ours="$(abspath "$1")" || die "'$1' is not an executable file (build mydocker-runc first)"
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --mount --propagation private -- "$0" "$ours"
fi

# --- stage 2: in the private mount namespace ------------------------------------------------

ours="$1"
runs="${BENCH_RUNS:-100}"
warmup="${BENCH_WARMUP:-10}"
rss_runs="${BENCH_RSS_RUNS:-20}"

# mountinfo: "ID PARENT DEV ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS".
cgroup_mounts() { # prints "MOUNTPOINT FSTYPE" for the cgroup v1 and v2 mounts
	awk '{ t = ""; for (i = 7; i < NF; i++) if ($i == "-") { t = $(i + 1); break }
	       if (t == "cgroup" || t == "cgroup2") print $5, t }' /proc/self/mountinfo
}

if cgroup_mounts | grep -qx '/sys/fs/cgroup/unified cgroup2'; then
	# Hybrid host: hide the cgroup2 mount from every runtime alike (see the header).
	mount -t tmpfs -o mode=0755,size=1m mydocker-bench-no-cgroup2 /sys/fs/cgroup/unified
	layout="hybrid (cgroup2 at /sys/fs/cgroup/unified hidden by a tmpfs in a private mount ns)"
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	layout="unified (cgroup v2)"
else
	layout="legacy (cgroup v1)"
fi

work="$(mktemp -d /tmp/mydocker-bench.XXXXXX)"
cgroup="$(basename "$work")"
id=bench

# Labels, binaries and per-runtime state roots, ours first.
names=("ours")
bins=("$ours")
crun_bin="$(abspath "${CRUN:-crun}" 2>/dev/null)" || crun_bin=""
runc_bin="$(abspath "${RUNC:-runc}" 2>/dev/null)" || runc_bin=""
[ -n "$crun_bin" ] && names+=(crun) && bins+=("$crun_bin")
[ -n "$runc_bin" ] && names+=(runc) && bins+=("$runc_bin")

cleanup() {
	local i
	for i in "${!bins[@]}"; do
		"${bins[$i]}" --root "$work/root-${names[$i]}" delete --force "$id" >/dev/null 2>&1 || true
	done
	# The containers' cgroup (cgroupsPath "/$cgroup"), if a failed run left it: rmdir only.
	local mnt
	while read -r mnt; do
		[ -d "$mnt/$cgroup" ] && find "$mnt/$cgroup" -depth -type d -exec rmdir {} \; 2>/dev/null
	done < <(cgroup_mounts | cut -d' ' -f1)
	rm -rf -- "$work"
}
trap cleanup EXIT

# --- the bundle ---------------------------------------------------------------------------

bundle="$work/bundle"
"$repo/scripts/busybox-rootfs" --dir "$bundle/rootfs"
# One config.json for all three, from a reference runtime's `spec` (the runc/crun default:
# pid, net, ipc, uts and mount namespaces, masked and read-only paths, default caps).
spec_bin="${runc_bin:-${crun_bin:-$ours}}"
(cd "$bundle" && "$spec_bin" spec) || die "'$spec_bin spec' failed"
jq --arg cg "/$cgroup" \
	'.process.args = ["/bin/true"] | .process.terminal = false | .linux.cgroupsPath = $cg' \
	"$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

for i in "${!bins[@]}"; do
	mkdir -p "$work/root-${names[$i]}"
done

rt() { # INDEX ARGS...: the command line of runtime INDEX with its own --root
	printf '%q --root %q' "${bins[$1]}" "$work/root-${names[$1]}"
}

# Each runtime must run the bundle once before it is timed: a failure is an error, not a
# fast data point.
for i in "${!bins[@]}"; do
	if ! out="$(eval "$(rt "$i") run --bundle $(printf %q "$bundle") $id" 2>&1 </dev/null)"; then
		die "${names[$i]} (${bins[$i]}) cannot run the bundle: $out"
	fi
done

# --- timing ---------------------------------------------------------------------------------

echo "== mydocker-runc benchmark: $(uname -r), cgroups $layout"
for i in "${!bins[@]}"; do
	printf '   %-5s %s  (%s)\n' "${names[$i]}" "${bins[$i]}" \
		"$("${bins[$i]}" --version 2>/dev/null | head -n1)"
done
echo "   $runs runs after $warmup warm-up runs per command; bundle: busybox, /bin/true"

out_dir="${BENCH_OUT:-$work/out}"
mkdir -p "$out_dir"

# bench_scenario NAME SHELL-MODE COMMAND-TEMPLATE: one hyperfine run over every runtime.
# In the template, each {rt} stands for the runtime's command line (binary --root DIR).
bench_scenario() {
	local scenario="$1" shell_mode="$2" template="$3" i args=() cmd
	for i in "${!bins[@]}"; do
		cmd="$(rt "$i")"
		args+=(-n "${names[$i]}" "${template//\{rt\}/$cmd}")
	done
	echo
	echo "== $scenario"
	local mode=()
	[ "$shell_mode" = none ] && mode=(-N)
	hyperfine "${mode[@]}" --warmup "$warmup" --runs "$runs" --output null \
		--export-json "$out_dir/$scenario.json" "${args[@]}"
}

q_bundle="$(printf %q "$bundle")"
bench_scenario run none "{rt} run --bundle $q_bundle $id"
# start returns once /bin/true is exec'd; delete --force stops it if it still runs.
bench_scenario create-start-delete shell \
	"{rt} create --bundle $q_bundle $id && {rt} start $id && {rt} delete --force $id"
bench_scenario version none "{rt} --version"

# --- peak RSS ---------------------------------------------------------------------------------

declare -A rss=()
gnu_time=""
if [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1; then
	gnu_time=/usr/bin/time
fi
if [ -n "$gnu_time" ]; then
	for i in "${!bins[@]}"; do
		samples=()
		for ((n = 0; n < rss_runs; n++)); do
			# %M: the largest max RSS of the runtime and the processes it waited for, in KiB.
			samples+=("$("$gnu_time" -f %M -o "$work/rss" \
				"${bins[$i]}" --root "$work/root-${names[$i]}" run --bundle "$bundle" "$id" \
				</dev/null >/dev/null 2>&1 && cat "$work/rss")")
		done
		rss[${names[$i]}]="$(printf '%s\n' "${samples[@]}" | sort -n |
			awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
	done
fi

# --- report -----------------------------------------------------------------------------------

median_ms() { # SCENARIO NAME
	jq -r --arg n "$2" '.results[] | select(.command == $n) | .median * 1000' \
		"$out_dir/$1.json"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

verdict() { # A B LIMIT: is A/B <= LIMIT? Judged on the exact ratio, not the rounded one shown
	awk -v a="$1" -v b="$2" -v l="$3" 'BEGIN { if (!(b > 0) || a == "") print "n/a"; else print (a / b <= l ? "MET" : "MISSED") }'
}

echo
echo "== summary (medians; ratios are ours / reference)"
printf '%-22s %10s %10s %10s %10s %10s   %s\n' scenario ours crun runc ours/crun ours/runc \
	"target"
for scenario in run create-start-delete version; do
	o="$(median_ms "$scenario" ours)"
	c="$( [ -n "$crun_bin" ] && median_ms "$scenario" crun || echo 0)"
	r="$( [ -n "$runc_bin" ] && median_ms "$scenario" runc || echo 0)"
	rc="$(ratio "$o" "$c")"
	rr="$(ratio "$o" "$r")"
	case "$scenario" in
	run | create-start-delete) target="ours <= 0.50x crun: $(verdict "$o" "$c" 0.5)" ;;
	*) target="(informational)" ;;
	esac
	fmt() { awk -v v="$1" 'BEGIN { if (v > 0) printf "%.2f ms", v; else print "-" }'; }
	printf '%-22s %10s %10s %10s %10s %10s   %s\n' "$scenario" "$(fmt "$o")" "$(fmt "$c")" \
		"$(fmt "$r")" "${rc}x" "${rr}x" "$target"
done

if [ -n "$gnu_time" ]; then
	kib() { [ -n "${1:-}" ] && echo "$1 KiB" || echo -; }
	rc="$(ratio "${rss[ours]}" "${rss[crun]:-0}")"
	rr="$(ratio "${rss[ours]}" "${rss[runc]:-0}")"
	printf '%-22s %10s %10s %10s %10s %10s   %s\n' "peak RSS (run)" "$(kib "${rss[ours]}")" \
		"$(kib "${rss[crun]:-}")" "$(kib "${rss[runc]:-}")" "${rc}x" "${rr}x" \
		"ours <= crun: $(verdict "${rss[ours]}" "${rss[crun]:-0}" 1.0)"
	echo "   (median of $rss_runs runs of GNU time %M: max RSS of the runtime or any process it reaped)"
else
	echo "peak RSS: skipped, GNU time (/usr/bin/time, Debian package 'time') is not installed"
fi
[ -n "$crun_bin" ] || echo "note: crun not found, left out"
[ -n "$runc_bin" ] || echo "note: runc not found, left out"
[ -z "${BENCH_OUT:-}" ] || echo "hyperfine JSON exports: $out_dir"
