# in_stray_cgroupfs CMD...: run CMD in a private mount namespace whose /sys/fs/cgroup is a fresh
# tmpfs holding binds of the host's mounted hierarchies (v1 and the cgroup2 "unified") plus
# plain directories other tools leave behind: hugetlb, net_cls, net_prio, perf_event, rdma,
# misc (each only where the host has no mount of that name). The host's mounts are untouched
# (the namespace and its mounts go when CMD exits). Afterwards $BATS_TEST_TMPDIR/stray-left
# lists anything found inside the stray directories (nothing must be).
#
# Loaded by tests/integration/cgroup_stray.bats and engine/cgroup_stray.bats.
in_stray_cgroupfs() {
	local saved="$BATS_TEST_TMPDIR/cgroup-orig"
	mkdir -p "$saved"
	unshare --mount --propagation private -- bash -c '
		set -e
		saved="$1"; left="$2"; shift 2
		mount --rbind /sys/fs/cgroup "$saved"
		hierarchies=()
		while read -r mp; do
			name="${mp#/sys/fs/cgroup/}"
			[[ "$name" != */* && "$name" != "$mp" ]] && hierarchies+=("$name")
		done < <(awk '\''{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }'\'' /proc/self/mountinfo | grep "^/sys/fs/cgroup/" | sort -u)
		links=()
		for e in /sys/fs/cgroup/*; do [[ -L "$e" ]] && links+=("$(basename "$e"):$(readlink "$e")"); done
		mount -t tmpfs -o mode=0755 stray-cgroupfs /sys/fs/cgroup
		for h in "${hierarchies[@]}"; do
			mkdir -p "/sys/fs/cgroup/$h"
			mount --rbind "$saved/$h" "/sys/fs/cgroup/$h"
		done
		for l in "${links[@]}"; do ln -s "${l#*:}" "/sys/fs/cgroup/${l%%:*}"; done
		stray=()
		for s in hugetlb net_cls net_prio perf_event rdma misc; do
			[[ -e "/sys/fs/cgroup/$s" ]] || { mkdir "/sys/fs/cgroup/$s"; stray+=("$s"); }
		done
		[[ ${#stray[@]} -gt 0 ]] || { echo "in_stray_cgroupfs: no stray directory could be made" >&2; exit 99; }
		rc=0
		"$@" || rc=$?
		: >"$left"
		for s in "${stray[@]}"; do find "/sys/fs/cgroup/$s" -mindepth 1 >>"$left"; done
		exit "$rc"
	' bash "$saved" "$BATS_TEST_TMPDIR/stray-left" "$@"
}
