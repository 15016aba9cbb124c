#!/usr/bin/env bash
# bench/pull.sh PATH-TO-MYDOCKER
#
# Times `mydocker pull` of a 5-layer image of about 100 MB (random content: it does not
# compress away) from a local registry (Debian's docker-registry on 127.0.0.1, plain HTTP,
# storage in a temp dir) against `podman pull` and `skopeo copy docker://… oci:…` of the same
# image from the same registry: ONE hyperfine run, every timed run on a cold store (each
# tool's store is emptied by hyperfine's --prepare). Then the peak RSS of `mydocker pull`
# (GNU time %M, the median of BENCH_RSS_RUNS cold pulls), the throughput in MB/s, and the
# disk's own sequential write speed (dd, conv=fdatasync) as the limit. Prints the ratios next
# to issue 17's targets (mydocker <= 0.5x podman's wall time; peak RSS <= 32 MiB) with MET or
# MISSED.
#
# Everything lives under one temp dir (the registry's storage, each tool's store) in a private
# mount namespace: what podman's storage driver mounts goes with it. The trap stops the
# registry and removes the dir.
#
# Environment: PODMAN, SKOPEO (default: on PATH; a missing one is left out), BENCH_RUNS
# (default 5), BENCH_WARMUP (default 1), BENCH_RSS_RUNS (default 3), BENCH_LAYERS (default 5),
# BENCH_LAYER_MB (default 20), BENCH_OUT=DIR keeps hyperfine's JSON export. Needs root,
# hyperfine, jq, docker-registry, python3 (a free port), GNU time for the RSS line.
set -euo pipefail

usage() {
	echo "usage: $0 PATH-TO-MYDOCKER   (e.g. build/mydocker)" >&2
	exit 2
}
if [ $# -ne 1 ]; then usage; fi
case "$1" in -h | --help) usage ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

if [ -z "${MYDOCKER_BENCH_IN_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || die "needs root (podman's and mydocker's stores, a private mount namespace)"
	for t in hyperfine jq docker-registry python3 unshare; do
		command -v "$t" >/dev/null || die "$t not found: install it (scripts/setup)"
	done
	md="$(abspath "$1")" || die "'$1' is not an executable file (build mydocker first)"
	export MYDOCKER_BENCH_IN_NS=1
	exec unshare --mount --propagation private -- "$0" "$md"
fi

md="$1"
runs="${BENCH_RUNS:-5}"
warmup="${BENCH_WARMUP:-1}"
rss_runs="${BENCH_RSS_RUNS:-3}"
nlayers="${BENCH_LAYERS:-5}"
layer_mb="${BENCH_LAYER_MB:-20}"
podman_bin="$(abspath "${PODMAN:-podman}" 2>/dev/null)" || podman_bin=""
skopeo_bin="$(abspath "${SKOPEO:-skopeo}" 2>/dev/null)" || skopeo_bin=""
notes=()
[ -n "$podman_bin" ] || notes+=("podman not found: left out (and with it the 0.5x target)")
[ -n "$skopeo_bin" ] || die "skopeo not found: it pushes the test image (scripts/setup)"

work="$(mktemp -d /var/tmp/mydocker-bench-pull.XXXXXX)"
registry_pid=""
cleanup() {
	if [ -n "$registry_pid" ]; then
		kill -TERM "$registry_pid" 2>/dev/null || true
		wait "$registry_pid" 2>/dev/null || true
	fi
	# podman's overlay driver may leave its home mounted: this namespace's mounts only.
	awk -v w="$work" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r p; do umount "$p" 2>/dev/null || umount -l "$p"; done
	rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the registry --------------------------------------------------------------------------

port="$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
registry="127.0.0.1:$port"
mkdir -p "$work/registry"
cat >"$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry/storage
http:
  addr: $registry
EOF
# (distribution reads REGISTRY_* variables as config overrides.)
env $(compgen -e REGISTRY_ | sed 's/^/-u /') docker-registry serve "$work/registry/config.yml" \
	</dev/null >"$work/registry/log" 2>&1 &
registry_pid=$!
for ((i = 0; i < 200; i++)); do
	curl -s --noproxy '*' --max-time 2 -o /dev/null "http://$registry/v2/" && break
	kill -0 "$registry_pid" 2>/dev/null || die "docker-registry exited: $(cat "$work/registry/log")"
	sleep 0.05
done
curl -s --noproxy '*' --max-time 2 -o /dev/null "http://$registry/v2/" ||
	die "docker-registry did not answer in 10 s: $(cat "$work/registry/log")"

# --- the image: an OCI layout of NLAYERS gzip layers of LAYER_MB random bytes each ----------

layout="$work/layout"
mkdir -p "$layout/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
blob() { # FILE MEDIATYPE: move FILE into the layout's blobs; print its descriptor
	local hex size
	hex="$(sha256sum "$1" | cut -d' ' -f1)"
	size="$(stat -c %s "$1")"
	mv "$1" "$layout/blobs/sha256/$hex"
	jq -cn --arg mt "$2" --arg d "sha256:$hex" --argjson s "$size" '{mediaType: $mt, digest: $d, size: $s}'
}
layers=() diff_ids=()
for ((n = 1; n <= nlayers; n++)); do
	d="$work/l$n"
	mkdir -p "$d/data"
	head -c "$((layer_mb * 1024 * 1024))" /dev/urandom >"$d/data/random-$n"
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$d/layer.tar" data
	diff_ids+=("sha256:$(sha256sum "$d/layer.tar" | cut -d' ' -f1)")
	gzip -1 -n "$d/layer.tar"
	layers+=("$(blob "$d/layer.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)")
	rm -rf "$d"
done
printf '%s\n' "${diff_ids[@]}" | jq -Rs --arg a "$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')" \
	'{architecture: $a, os: "linux", config: {Cmd: ["sh"]},
	  rootfs: {type: "layers", diff_ids: (split("\n") | map(select(. != "")))}}' >"$work/config.json"
config_desc="$(blob "$work/config.json" application/vnd.oci.image.config.v1+json)"
printf '%s\n' "${layers[@]}" | jq -s --argjson c "$config_desc" \
	'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: .}' \
	>"$work/manifest.json"
blob "$work/manifest.json" application/vnd.oci.image.manifest.v1+json |
	jq -c '{schemaVersion: 2, manifests: [. + {annotations: {"org.opencontainers.image.ref.name": "latest"}}]}' \
		>"$layout/index.json"
image="$registry/bench/random:latest"
"$skopeo_bin" copy -q --dest-tls-verify=false "oci:$layout:latest" "docker://$image" ||
	die "skopeo could not push the test image"
total_bytes="$(jq '[.layers[].size] | add' "$layout/blobs/sha256/$(jq -r '.manifests[0].digest' "$layout/index.json" | cut -d: -f2)")"
rm -rf "$layout"

# --- the tools, each with its own store under $work ------------------------------------------

mkdir -p "$work/md" "$work/sk"
md_cmd="MYDOCKER_ROOT=$work/md $md pull -q $image"
md_prepare="rm -rf $work/md && mkdir -p $work/md"
sk_cmd="$skopeo_bin copy -q --src-tls-verify=false docker://$image oci:$work/sk/out:latest"
sk_prepare="rm -rf $work/sk && mkdir -p $work/sk"
names=(mydocker) cmds=("$md_cmd") prepares=("$md_prepare")
if [ -n "$podman_bin" ]; then
	pdir="$work/podman"
	mkdir -p "$pdir/tmp"
	"$here/../scripts/podman-conf" "$pdir"
	pm="env CONTAINERS_CONF=$pdir/containers.conf TMPDIR=$pdir/tmp $podman_bin --root $pdir/storage --runroot $pdir/runroot --tmpdir $pdir/libpod --storage-driver overlay --cgroup-manager cgroupfs --events-backend file"
	# Every tool must pull once before anything is timed: a failure is an error.
	$pm pull -q --tls-verify=false "$image" >"$work/out" 2>&1 || die "podman pull failed: $(cat "$work/out")"
	names+=(podman) cmds+=("$pm pull -q --tls-verify=false $image")
	prepares+=("$pm rmi -a -f >/dev/null 2>&1; true")
fi
names+=(skopeo) cmds+=("$sk_cmd") prepares+=("$sk_prepare")
eval "$md_cmd" >"$work/out" 2>&1 || die "mydocker pull failed: $(cat "$work/out")"
eval "$sk_cmd" >"$work/out" 2>&1 || die "skopeo copy failed: $(cat "$work/out")"

echo "== mydocker pull benchmark: $(uname -r), $(nproc) CPUs"
echo "   image: $nlayers gzip layers of $layer_mb MiB random data ($((total_bytes / 1000000)) MB compressed) in docker-registry at $registry"
echo "   $runs runs after $warmup warm-up runs per command, each on a cold store"

out_dir="${BENCH_OUT:-$work/hf}"
mkdir -p "$out_dir"
args=()
for i in "${!names[@]}"; do
	args+=(--prepare "${prepares[$i]}" -n "${names[$i]}" "${cmds[$i]}")
done
hyperfine --warmup "$warmup" --runs "$runs" --output null --export-json "$out_dir/pull.json" "${args[@]}"

# --- peak RSS, disk speed ---------------------------------------------------------------------

rss=""
if [ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1; then
	samples=()
	for ((n = 0; n < rss_runs; n++)); do
		eval "$md_prepare"
		MYDOCKER_ROOT="$work/md" /usr/bin/time -f %M -o "$work/rss" "$md" pull -q "$image" >/dev/null 2>&1 ||
			die "mydocker pull failed under time"
		samples+=("$(cat "$work/rss")")
	done
	rss="$(printf '%s\n' "${samples[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
else
	notes+=("GNU time (/usr/bin/time) not found: no peak RSS")
fi
dd_line="$(dd if=/dev/zero of="$work/dd" bs=1M count=256 conv=fdatasync 2>&1 | tail -n1)"
dd_mbs="$(awk -v l="$dd_line" 'BEGIN { n = split(l, f, ", "); print f[n] }')"
rm -f "$work/dd"

# --- report -----------------------------------------------------------------------------------

median() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .median' "$out_dir/pull.json"; }
echo
echo "== summary (medians; cold store each run)"
printf '%-10s %10s %12s\n' tool seconds "MB/s"
for n in "${names[@]}"; do
	s="$(median "$n")"
	printf '%-10s %10.2f %12.1f\n' "$n" "$s" "$(awk -v b="$total_bytes" -v s="$s" 'BEGIN { print b / 1e6 / s }')"
done
echo "disk       sequential write (dd 256 MiB, fdatasync): $dd_mbs"
if [ -n "$podman_bin" ]; then
	a="$(median mydocker)" b="$(median podman)"
	printf 'mydocker / podman: %.2fx   target <= 0.50x: %s\n' "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')" \
		"$(awk -v a="$a" -v b="$b" 'BEGIN { print (a / b <= 0.5 ? "MET" : "MISSED") }')"
fi
if [ -n "$rss" ]; then
	printf 'peak RSS of mydocker pull: %d KiB (%.1f MiB)   target <= 32 MiB: %s\n' "$rss" \
		"$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "$(awk -v r="$rss" 'BEGIN { print (r <= 32768 ? "MET" : "MISSED") }')"
fi
for n in "${notes[@]}"; do echo "note: $n"; done
