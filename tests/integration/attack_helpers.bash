# Shared by escapes.bats (the runtime) and engine/escapes.bats: the attacker's kit for
# tests/tools/exe_grabber, run as a process of a container.
#
# prepare_attack: $ATTACK, a host dir bound into the container at /attack, with the grabber,
# `evil` (a `#!/proc/self/exe` script) and `payload` (what an overwritten binary would run
# on the host: it leaves $ATTACK/pwned).
prepare_attack() {
	ATTACK="$BATS_TEST_TMPDIR/attack"
	mkdir -p "$ATTACK"
	cp "$GRABBER" "$ATTACK/grabber"
	printf '#!/proc/self/exe\n' >"$ATTACK/evil"
	chmod 755 "$ATTACK/evil"
	printf '#!/bin/sh\necho pwned >%s/pwned\n' "$ATTACK" >"$ATTACK/payload"
}

# finish_grabber: stop the watch and wait (bounded) for its result.
finish_grabber() {
	touch "$ATTACK/stop"
	WAIT_TRIES=100 wait_for test -e "$ATTACK/result"
	echo "grabber result:" >&2
	cat "$ATTACK/result" >&2
}

# result_count KEY: a count from the grabber's result (watched, grabbed, overwrote, ...).
result_count() { awk -v k="$1" '$1 == k { print $2 }' "$ATTACK/result"; }
