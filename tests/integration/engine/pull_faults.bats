#!/usr/bin/env bats
# mydocker pull under load and faults (issue 17, the pull engine): layers fetched three at a
# time and unpacked as they arrive; a registry killed mid-blob; a connection broken mid-blob
# (resumed with Range); two pulls of one image at once; a full disk; mydocker killed mid-layer.
# Images are written by hand (tar, gzip, jq) as OCI layouts and pushed with skopeo; a small
# proxy (pull_proxy.py) in front of the registry logs every request, slows blobs down and
# breaks a connection on demand. In every failure the store must hold nothing half-made.

load engine_helpers
load registry_helpers
bats_require_minimum_version 1.5.0

setup() {
	registry_setup
	SMALL_MNT=""
	BG_PULLS=()
}

teardown() {
	local rc=0 e
	for e in "${BG_PULLS[@]}"; do
		if proc_alive "${e%%:*}" "${e#*:}"; then
			echo "teardown: a background pull (pid ${e%%:*}) was still running; killed" >&2
			kill -KILL "${e%%:*}"
			rc=1
		fi
		wait "${e%%:*}" 2>/dev/null || true
	done
	if [[ -n "$SMALL_MNT" ]] && mountpoint -q "$SMALL_MNT"; then
		echo "teardown: the test left its tmpfs mounted at $SMALL_MNT" >&2
		umount "$SMALL_MNT" || rc=1
		rc=1
	fi
	registry_teardown || rc=1
	return "$rc"
}

# bg_pull OUT REF: `pull REF` on the pulling store in the background, its output to OUT; sets
# BG_PID. Teardown kills (and fails on) one still running.
bg_pull() {
	MYDOCKER_ROOT="$PULL_ROOT" "$MYDOCKER" pull "$2" >"$1" 2>&1 3>&- &
	BG_PID=$!
	BG_PULLS+=("$BG_PID:$(proc_starttime "$BG_PID" || echo gone)")
}

# faults_image DIR SPEC...: an OCI layout in DIR, tag "latest", one gzip layer per SPEC:
# "bb" the host's static busybox as /bin/busybox and /bin/sh, "N" N MiB of random data,
# "bb+N" both, "files:N" N one-byte files (a page each once unpacked, a 1 KiB in the tar). Prints nothing; the layers' digests go to DIR/layers.
faults_image() {
	local dir="$1" spec tmp n=0 diff_ids=() layers=() arch i
	shift
	mkdir -p "$dir/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	tmp="$(mktemp -d "$BATS_TEST_TMPDIR/img.XXXXXX")"
	for spec in "$@"; do
		n=$((n + 1))
		mkdir -p "$tmp/$n/root"
		if [[ "$spec" == files:* ]]; then
			mkdir -p "$tmp/$n/root/many"
			(cd "$tmp/$n/root/many" && for ((i = 0; i < ${spec#files:}; i++)); do echo >"f$i"; done)
			spec=""
		fi
		if [[ "$spec" == bb* ]]; then
			mkdir -p "$tmp/$n/root/bin"
			cp "${MYDOCKER_BUSYBOX:-/bin/busybox}" "$tmp/$n/root/bin/busybox"
			ln -s busybox "$tmp/$n/root/bin/sh"
			spec="${spec#bb}"
			spec="${spec#+}"
		fi
		[[ -z "$spec" ]] || head -c "$((spec << 20))" /dev/urandom >"$tmp/$n/root/data$n"
		tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/$n/root" -cf "$tmp/$n/layer.tar" .
		diff_ids+=("sha256:$(sha256sum "$tmp/$n/layer.tar" | cut -d' ' -f1)")
		gzip -1 -n "$tmp/$n/layer.tar"
		layers+=("$(oci_blob "$dir" "$tmp/$n/layer.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)")
	done
	arch="$(dpkg --print-architecture)"
	jq -cn --arg a "$arch" '{architecture: $a, os: "linux", config: {Cmd: ["/bin/sh"]},
		rootfs: {type: "layers", diff_ids: $ARGS.positional}}' --args "${diff_ids[@]}" >"$tmp/config.json"
	local config_desc
	config_desc="$(oci_blob "$dir" "$tmp/config.json" application/vnd.oci.image.config.v1+json)"
	printf '%s\n' "${layers[@]}" | jq -cs --argjson c "$config_desc" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: .}' \
		>"$tmp/manifest.json"
	printf '%s\n' "${layers[@]}" | jq -r .digest >"$dir/layers"
	oci_blob "$dir" "$tmp/manifest.json" application/vnd.oci.image.manifest.v1+json |
		jq -c '{schemaVersion: 2, manifests: [. + {annotations: {"org.opencontainers.image.ref.name": "latest"}}]}' \
			>"$dir/index.json"
	rm -rf "$tmp"
}

# push_faults_image REF SPEC...: faults_image, pushed to $REGISTRY/REF; its layer digests in
# $BATS_TEST_TMPDIR/img/layers.
push_faults_image() {
	local ref="$1"
	shift
	faults_image "$BATS_TEST_TMPDIR/img" "$@" || return
	reg_skopeo_copy "oci:$BATS_TEST_TMPDIR/img:latest" "$ref"
}

# proxy_start [OPTIONS...]: pull_proxy.py in front of $REGISTRY; sets PROXY (host:port) and
# PROXY_LOG. Stopped (and checked alive) by registry_stop.
proxy_start() {
	local d="$BATS_TEST_TMPDIR/proxy" i
	mkdir -p "$d"
	: >"$d/log"
	registry_spawn "$d/proxy.out" "$REGISTRY_PYTHON" "$BATS_TEST_DIRNAME/pull_proxy.py" "$REGISTRY" "$d/port" "$d/log" "$@"
	for ((i = 0; i < 200; i++)); do
		[[ -s "$d/port" ]] && break
		sleep 0.05
	done
	[[ -s "$d/port" ]] || fail "pull_proxy.py did not start: $(cat "$d/proxy.out")" || return
	PROXY="127.0.0.1:$(cat "$d/port")"
	PROXY_LOG="$d/log"
}

# registry_kill: SIGKILL the registry registry_start started (and forget it: registry_stop
# would call it a crash).
registry_kill() {
	local keep=() e
	kill -KILL "$REGISTRY_PID"
	wait "$REGISTRY_PID" 2>/dev/null || true
	for e in "${REGISTRY_PROCS[@]}"; do
		[[ "${e%%:*}" == "$REGISTRY_PID" ]] || keep+=("$e")
	done
	REGISTRY_PROCS=("${keep[@]}")
}

# registry_restart: the registry again, same config (port) and storage.
registry_restart() {
	local unset_vars=() v i
	for v in $(compgen -e REGISTRY_); do unset_vars+=(-u "$v"); done
	registry_spawn "$REGISTRY_DIR/registry.log" env "${unset_vars[@]}" docker-registry serve "$REGISTRY_DIR/config.yml"
	REGISTRY_PID=$SPAWNED_PID
	for ((i = 0; i < 200; i++)); do
		registry_answers && return 0
		sleep 0.05
	done
	fail "registry_restart: $REGISTRY_URL/v2/ did not answer in 10 s; log: $(cat "$REGISTRY_DIR/registry.log")"
}

# staged_bytes ROOT: the size of the layer blob being staged in store ROOT (0 if none).
staged_bytes() {
	local f
	for f in "$1"/images/tmp/*.blob; do
		[[ -f "$f" ]] && stat -c %s "$f" && return
	done
	echo 0
}

# staging_past ROOT BYTES: true once the staged blob in ROOT holds more than BYTES.
staging_past() { (($(staged_bytes "$1") > $2)); }

# wait_staging ROOT BYTES: poll (bounded, 30 s) until a layer blob being staged passes BYTES.
wait_staging() {
	local i
	for ((i = 0; i < 600; i++)); do
		staging_past "$1" "$2" && return 0
		sleep 0.05
	done
	fail "no layer staged past $2 bytes in $1 in 30 s"
}

# store_empty ROOT: no image, no blob, no layer, nothing in tmp (or names what is there).
store_empty() {
	local r="$1" left
	left="$(
		ls -A "$r/images/blobs/sha256" "$r/images/tmp" "$r/layers" 2>/dev/null | grep -v '^$' | grep -v ':$'
		true
	)"
	[[ -z "$left" ]] || fail "store $r is not empty: $left" || return
	[[ -z "$(MYDOCKER_ROOT="$r" "$MYDOCKER" images -q)" ]] || fail "store $r lists images"
}

# no_leftovers ROOT: nothing staged or temporary in ROOT.
no_leftovers() {
	local r="$1" left
	left="$(ls -A "$r/images/tmp")$(ls -A "$r/layers" | grep '^\.' || true)"
	[[ -z "$left" ]] || fail "leftovers in $r: $left"
}

# max_parallel_layer_gets LOG LAYERS: the most GETs of the layer blobs listed in the file
# LAYERS (digests, one a line) the proxy had open at once.
max_parallel_layer_gets() {
	awk 'FNR == NR { layer[$1] = 1; next }
		{ n = split($4, p, "/"); d = p[n] }
		$3 == "GET" && (d in layer) { if ($1 == "open") { c++; if (c > m) m = c } else if ($1 == "close") c-- }
		END { print m + 0 }' "$2" "$1"
}

@test "five layers download three at a time, each unpacked as it arrives; peak RSS stays small" {
	registry_start plain
	push_faults_image test/five:1 bb 3 3 3 3
	proxy_start --delay-ms 20
	run /usr/bin/time -f "maxrss=%M" env MYDOCKER_ROOT="$PULL_ROOT" "$MYDOCKER" pull "$PROXY/test/five:1"
	assert_success
	[[ "$(grep -c ': Pull complete' <<<"$output")" == 5 ]] || fail "not 5 layers pulled: $output"
	local par rss
	par="$(max_parallel_layer_gets "$PROXY_LOG" "$BATS_TEST_TMPDIR/img/layers")"
	[[ "$par" == 3 ]] || fail "blob GETs open at once: $par, want 3; proxy log: $(cat "$PROXY_LOG")"
	rss="$(grep -o 'maxrss=[0-9]*' <<<"$output" | cut -d= -f2)"
	((rss <= 32768)) || fail "peak RSS of the pull: $rss KiB"
	run mdp run --rm --network none "$PROXY/test/five:1" /bin/busybox echo five-ran
	assert_success
	assert_output_contains five-ran
	no_leftovers "$PULL_ROOT"
}

# staged_file ROOT PATH: true once PATH exists in a layer's unpack staging in ROOT.
staged_file() {
	local d
	for d in "$1"/layers/.pull-*; do
		[[ -e "$d/$2" ]] && return 0
	done
	return 1
}

@test "a slow pull unpacks as the layer arrives and holds the store's lock for no other command" {
	registry_start plain
	push_faults_image test/slow:1 bb+20
	proxy_start --delay-ms 10
	bg_pull "$BATS_TEST_TMPDIR/pull.out" "$PROXY/test/slow:1"
	local pid=$BG_PID st=0 total
	wait_staging "$PULL_ROOT" $((1 << 20))
	# The tar's first entries are unpacked while its last bytes are still on the way.
	wait_for staged_file "$PULL_ROOT" bin/busybox
	total="$(stat -c %s "$BATS_TEST_TMPDIR/img/blobs/sha256/$(head -1 "$BATS_TEST_TMPDIR/img/layers" | cut -d: -f2)")"
	(($(staged_bytes "$PULL_ROOT") < total)) || fail "the layer was whole before its first file was unpacked"
	# A command that takes the store's write lock does not wait for the pull.
	mkdir -p "$BATS_TEST_TMPDIR/rootfs"
	echo hi >"$BATS_TEST_TMPDIR/rootfs/hi"
	tar -C "$BATS_TEST_TMPDIR/rootfs" -cf "$BATS_TEST_TMPDIR/rootfs.tar" .
	run mdp import "$BATS_TEST_TMPDIR/rootfs.tar" test/imported:1
	assert_success
	proc_alive "$pid" "${BG_PULLS[-1]#*:}" || fail "the pull ended before the import did: $(cat "$BATS_TEST_TMPDIR/pull.out")"
	wait "$pid" || st=$?
	[[ "$st" == 0 ]] || fail "pull exited $st: $(cat "$BATS_TEST_TMPDIR/pull.out")"
	run mdp run --rm --network none "$PROXY/test/slow:1" /bin/busybox echo slow-ran
	assert_success
	assert_output_contains slow-ran
	no_leftovers "$PULL_ROOT"
}

@test "registry killed mid-blob: exit 1, a clear error, nothing stored; after a restart the pull completes" {
	registry_start plain
	push_faults_image test/big:1 bb+50
	proxy_start --delay-ms 10
	bg_pull "$BATS_TEST_TMPDIR/pull.out" "$PROXY/test/big:1"
	local pid=$BG_PID st=0
	wait_staging "$PULL_ROOT" $((2 << 20))
	registry_kill
	wait "$pid" || st=$?
	output="$(cat "$BATS_TEST_TMPDIR/pull.out")"
	[[ "$st" == 1 ]] || fail "pull exited $st: $output"
	assert_output_contains "pull $PROXY/test/big:1: layer $(head -1 "$BATS_TEST_TMPDIR/img/layers")"
	refute grep -q "Status: Downloaded" <<<"$output"
	store_empty "$PULL_ROOT"
	registry_restart
	run /usr/bin/time -f "maxrss=%M" env MYDOCKER_ROOT="$PULL_ROOT" "$MYDOCKER" pull "$PROXY/test/big:1"
	assert_success
	assert_output_contains "Status: Downloaded newer image for $PROXY/test/big:1"
	# Streamed: a 50 MiB layer never sits in memory.
	local rss
	rss="$(grep -o 'maxrss=[0-9]*' <<<"$output" | cut -d= -f2)"
	((rss <= 32768)) || fail "peak RSS of the pull: $rss KiB"
	run mdp run --rm --network none "$PROXY/test/big:1" /bin/busybox echo big-ran
	assert_success
	assert_output_contains big-ran
	no_leftovers "$PULL_ROOT"
}

@test "a connection broken mid-blob is resumed with a Range request" {
	registry_start plain
	push_faults_image test/resume:1 bb+4
	proxy_start --break-after 1000000
	run mdp pull "$PROXY/test/resume:1"
	assert_success
	local layer
	layer="$(head -1 "$BATS_TEST_TMPDIR/img/layers")"
	grep -q "^break .* GET /v2/test/resume/blobs/$layer after=1000000" "$PROXY_LOG" ||
		fail "the proxy broke no transfer: $(cat "$PROXY_LOG")"
	grep -q "^open .* GET /v2/test/resume/blobs/$layer range=bytes=1000000-$" "$PROXY_LOG" ||
		fail "no resume from byte 1000000: $(cat "$PROXY_LOG")"
	grep -q "^close .* GET /v2/test/resume/blobs/$layer status=206 " "$PROXY_LOG" ||
		fail "the resume got no 206: $(cat "$PROXY_LOG")"
	run mdp run --rm --network none "$PROXY/test/resume:1" /bin/busybox echo resumed-ran
	assert_success
	assert_output_contains resumed-ran
	no_leftovers "$PULL_ROOT"
}

@test "a resumed transfer answered whole (200, Range ignored) skips what it has" {
	registry_start plain
	push_faults_image test/whole:1 bb+4
	proxy_start --break-after 1000000 --ignore-range
	run mdp pull "$PROXY/test/whole:1"
	assert_success
	local layer size last
	layer="$(head -1 "$BATS_TEST_TMPDIR/img/layers")"
	size="$(stat -c %s "$BATS_TEST_TMPDIR/img/blobs/sha256/${layer#sha256:}")"
	grep -q "^open .* GET /v2/test/whole/blobs/$layer range=bytes=1000000-$" "$PROXY_LOG" ||
		fail "no resume from byte 1000000: $(cat "$PROXY_LOG")"
	last="$(grep "^close .* GET /v2/test/whole/blobs/$layer " "$PROXY_LOG" | tail -1)"
	[[ "$last" == *" status=200 bytes=$size" ]] || fail "the resume was not answered 200 whole: $(cat "$PROXY_LOG")"
	run mdp run --rm --network none "$PROXY/test/whole:1" /bin/busybox echo whole-ran
	assert_success
	assert_output_contains whole-ran
	no_leftovers "$PULL_ROOT"
}

@test "two pulls of one image at once both succeed and fetch each layer once" {
	registry_start plain
	push_faults_image test/twice:1 bb 2 2
	proxy_start --delay-ms 20
	bg_pull "$BATS_TEST_TMPDIR/a.out" "$PROXY/test/twice:1"
	local a=$BG_PID
	bg_pull "$BATS_TEST_TMPDIR/b.out" "$PROXY/test/twice:1"
	local b=$BG_PID sa=0 sb=0 layer n
	wait "$a" || sa=$?
	wait "$b" || sb=$?
	[[ "$sa" == 0 && "$sb" == 0 ]] || fail "pulls exited $sa and $sb: $(cat "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out")"
	while read -r layer; do
		n="$(grep -c "^open .* GET /v2/test/twice/blobs/$layer " "$PROXY_LOG")" || true
		[[ "$n" == 1 ]] || fail "layer $layer fetched $n times; proxy log: $(cat "$PROXY_LOG")"
	done <"$BATS_TEST_TMPDIR/img/layers"
	grep -q "Already exists" "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out" ||
		fail "neither pull found a layer the other fetched"
	[[ "$(mdp images -q | wc -l)" == 1 ]] || fail "images: $(mdp images)"
	run mdp run --rm --network none "$PROXY/test/twice:1" /bin/busybox echo twice-ran
	assert_success
	no_leftovers "$PULL_ROOT"
}

@test "disk full while unpacking: exit 1, a no-space error, nothing half-made" {
	registry_start plain
	SMALL_MNT="$BATS_TEST_TMPDIR/small"
	mkdir -p "$SMALL_MNT"
	mount -t tmpfs -o size=24m mydocker-test "$SMALL_MNT"
	local root="$SMALL_MNT/root"
	# A big layer: its blob and its files fill the disk together.
	push_faults_image test/full:1 bb+16
	run env MYDOCKER_ROOT="$root" "$MYDOCKER" pull "$REGISTRY/test/full:1"
	assert_status 1
	assert_output_contains "No space left on device"
	store_empty "$root"
	# 12000 tiny files: a 12 MiB blob, files that take a page each (48 MiB). The blob and the
	# files are written at once (one pass): either may be the write that finds the disk full.
	rm -rf "$BATS_TEST_TMPDIR/img"
	push_faults_image test/many:1 files:12000
	run env MYDOCKER_ROOT="$root" "$MYDOCKER" pull "$REGISTRY/test/many:1"
	assert_status 1
	assert_output_contains "No space left on device"
	store_empty "$root"
	rm -rf "$root"
	umount "$SMALL_MNT"
}

@test "mydocker killed mid-layer: the next pull sweeps the leftovers and completes" {
	registry_start plain
	push_faults_image test/killed:1 bb+30
	proxy_start --delay-ms 10
	bg_pull "$BATS_TEST_TMPDIR/pull.out" "$PROXY/test/killed:1"
	local pid=$BG_PID
	wait_staging "$PULL_ROOT" $((2 << 20))
	kill -KILL "$pid"
	wait "$pid" || true
	# What the dead pull left: its staging.
	[[ -n "$(ls -A "$PULL_ROOT/images/tmp")" ]] || fail "the killed pull left no staging (did it die mid-layer?)"
	run mdp pull "$PROXY/test/killed:1"
	assert_success
	assert_output_contains "Status: Downloaded newer image for $PROXY/test/killed:1"
	no_leftovers "$PULL_ROOT"
	run mdp run --rm --network none "$PROXY/test/killed:1" /bin/busybox echo killed-ran
	assert_success
	assert_output_contains killed-ran
}

@test "on a terminal each layer is one line redrawn in place, with docker's bars" {
	registry_start plain
	push_faults_image test/tty:1 bb 2
	proxy_start --delay-ms 20
	# script(1) gives the pull a pseudo-terminal as stdout.
	run script -qec "env MYDOCKER_ROOT='$PULL_ROOT' '$MYDOCKER' pull '$PROXY/test/tty:1'" /dev/null
	assert_success
	[[ "$output" == *$'\e['[0-9]'A'$'\r\e[2K'* ]] || fail "no in-place redraw (cursor up, erase line): $output"
	assert_output_contains "Downloading ["
	assert_output_contains "] "
	assert_output_contains ": Pull complete"
	assert_output_contains "Status: Downloaded newer image for $PROXY/test/tty:1"
	# Without a terminal (bats' pipe): plain lines, no escape sequence.
	mdp rmi "$PROXY/test/tty:1" >/dev/null
	run mdp pull "$PROXY/test/tty:1"
	assert_success
	[[ "$output" != *$'\e'* ]] || fail "escape sequences in plain output: $output"
}
