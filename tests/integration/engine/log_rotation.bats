#!/usr/bin/env bats
# --log-opt max-size / max-file (json-file rotation, as docker's) and --log-driver none.

load engine_helpers
bats_require_minimum_version 1.5.0

setup() { engine_setup; }
teardown() { engine_teardown; }

# seq_lines FIRST LAST: "line N" for each N, one a line (what the containers below print).
seq_lines() {
	local i
	for ((i = $1; i <= $2; i++)); do echo "line $i"; done
}

# The record of one "line NNN\n" is about 80 bytes: a file may pass max-size by one record.
RECORD_MAX=120

@test "a log larger than max-size*max-file keeps max-file files of at most max-size, and logs reads across them" {
	run md run --name rot --log-opt max-size=2k --log-opt max-file=3 busybox \
		sh -c 'i=0; while [ $i -lt 400 ]; do echo "line $i"; i=$((i+1)); done'
	assert_success
	run md inspect rot
	assert_success
	echo "$output" | jq -e '.[0].HostConfig.LogConfig | .Type == "json-file" and .Config["max-size"] == "2k" and .Config["max-file"] == "3"' >/dev/null
	local log f total=0
	log="$(field rot .LogPath)"
	[[ -s "$log" && -s "$log.1" && -s "$log.2" ]]
	[[ ! -e "$log.3" ]]
	for f in "$log" "$log.1" "$log.2"; do
		local size
		size="$(stat -c %s "$f")"
		((size <= 2000 + RECORD_MAX)) || {
			echo "$f is $size bytes" >&2
			return 1
		}
		total=$((total + size))
	done
	# 400 records are ~32 KB: the oldest went.
	((total < 3 * (2000 + RECORD_MAX)))
	run md logs rot
	assert_success
	local first
	first="$(head -n1 <<<"$output" | cut -d' ' -f2)"
	((first > 0))
	[[ "$output" == "$(seq_lines "$first" 399)" ]]
	run md logs --tail 5 rot
	[[ "$output" == "$(seq_lines 395 399)" ]]
	# --tail across the files: more than the current file holds.
	run md logs --tail 40 rot
	[[ "$output" == "$(seq_lines 360 399)" ]]
}

@test "logs -f follows a container's log across rotations" {
	md run -d --name fol --log-opt max-size=1k --log-opt max-file=2 busybox \
		sh -c 'echo ready; while [ ! -e /go ]; do usleep 20000; done; i=0; while [ $i -lt 150 ]; do echo "line $i"; i=$((i+1)); usleep 3000; done'
	local out="$BATS_TEST_TMPDIR/follow.out"
	timeout 60 "$MYDOCKER" logs -f fol >"$out" 2>&1 &
	local follower=$!
	wait_for grep -q ready "$out"
	md exec fol touch /go
	local rc=0
	wait "$follower" || rc=$?
	[[ "$rc" -eq 0 ]] || {
		echo "logs -f: exit $rc: $(cat "$out")" >&2
		return 1
	}
	local log
	log="$(field fol .LogPath)"
	[[ -e "$log.1" ]] # it did rotate (150 records are ~12 KB)
	[[ "$(cat "$out")" == "ready"$'\n'"$(seq_lines 0 149)" ]]
}

@test "--log-driver none keeps no log, and logs says it cannot read it" {
	run md run --name quiet --log-driver none busybox echo hello
	assert_success
	[[ "$output" == "hello" ]]
	[[ "$(field quiet .LogPath)" == "" ]]
	[[ "$(md inspect -f '{{.HostConfig.LogConfig.Type}}' quiet)" == "none" ]]
	local id
	id="$(field quiet .Id)"
	[[ -z "$(find "$MYDOCKER_ROOT/containers/$id" -name '*json.log*')" ]]
	run md logs quiet
	[[ "$status" -ne 0 ]]
	assert_output_contains "configured logging driver does not support reading"
}

@test "bad --log-opt and --log-driver values fail with exit 125 naming the option, and leave nothing" {
	local bad
	for bad in "--log-opt max-size=abc|max-size" "--log-opt max-size=0|max-size" "--log-opt max-file=0|max-file" \
		"--log-opt max-file=x|max-file" "--log-opt colour=red|colour" "--log-opt max-size|--log-opt" \
		"--log-driver syslog|--log-driver" "--log-driver none --log-opt max-size=1m|--log-opt"; do
		# shellcheck disable=SC2086
		run md run --name badlog ${bad%%|*} busybox true
		assert_status 125
		assert_output_contains "${bad##*|}"
		run md create --name badlog ${bad%%|*} busybox true
		assert_status 125
		[[ -z "$(md ps -aq)" ]]
	done
	[[ -z "$(find "$MYDOCKER_ROOT/containers" -mindepth 1 -maxdepth 1 ! -name names ! -name '.new-*')" ]]
	[[ -z "$(ls -A "$MYDOCKER_ROOT/containers/names" 2>/dev/null)" ]]
	run md run --name badlog busybox true
	assert_success
}
