#!/usr/bin/env bats
# Arguments, env, labels and output may be any bytes (issue 19.4): invalid UTF-8 must never
# abort the engine. The process gets its bytes as given; the records and JSON show U+FFFD for
# a bad sequence, as docker's Go encoder writes it.

load engine_helpers

setup() { engine_setup; }
teardown() { engine_teardown; }

@test "run with invalid UTF-8 in an argument: the process gets the bytes, the engine does not abort" {
	run md run --rm --network none busybox echo $'a\xffb'
	[[ "$status" -eq 0 ]] || fail "exit $status (134 was std::terminate): $output"
	[[ "$output" == $'a\xffb' ]] || fail "unexpected output: $(printf %s "$output" | od -c)"
}

@test "invalid UTF-8 in env and labels: inspect, ps --format json and logs show U+FFFD; rm works" {
	md run -d --network none --name odd -l $'k=\xfe' -e $'E=\xff' busybox sh -c 'echo "$E"; sleep 100'
	run md inspect odd
	assert_success
	jq -e '.[0].Config.Labels.k == "\ufffd"' <<<"$output" >/dev/null || fail "label not U+FFFD: $output"
	jq -e '.[0].Config.Env | index("E=\ufffd") != null' <<<"$output" >/dev/null || fail "env not U+FFFD: $output"
	run md ps --format json
	assert_success
	jq -e '.Labels.k == "\ufffd"' <<<"$output" >/dev/null || fail "ps json: $output"
	wait_for sh -c '"$MYDOCKER" logs odd | grep -q .'
	run md logs odd
	assert_success
	# The json-file log holds U+FFFD for it, as docker's does.
	[[ "$output" == $'\xef\xbf\xbd' ]] || fail "logs: $(printf %s "$output" | od -c)"
	md rm -f odd >/dev/null
}

@test "usage errors: prefixed 'mydocker:', exit 125; --cpus outside docker's range; labels without a name" {
	run md no-such-command
	[[ "$status" -eq 125 && "$output" == "mydocker: "* ]] || fail "unknown command ($status): $output"
	run md run --no-such-flag busybox true
	[[ "$status" -eq 125 && "$output" == "mydocker: "* ]] || fail "unknown flag ($status): $output"
	local n
	n="$(nproc)"
	run md create --network none --cpus "$((n + 1))" busybox true
	[[ "$status" -eq 125 && "$output" == *"--cpus"*"from 0.01 to $n.00"* ]] || fail "--cpus $((n + 1)) ($status): $output"
	run md create --network none --cpus 0.001 busybox true
	[[ "$status" -eq 125 && "$output" == *"--cpus"* ]] || fail "--cpus 0.001 ($status): $output"
	for l in '' '=v'; do
		run md create --network none -l "$l" busybox true
		[[ "$status" -eq 125 && "$output" == *"--label"* ]] || fail "-l '$l' ($status): $output"
	done
	[[ -z "$("$MYDOCKER" ps -aq)" ]] || fail "a refused create left a container: $("$MYDOCKER" ps -a)"
}
