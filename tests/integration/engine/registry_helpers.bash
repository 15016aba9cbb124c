# A local registry for the engine's registry tests (issue 17): Debian's `docker-registry`
# (distribution 2.8) on 127.0.0.1 at a free port, its storage, config, certificates and log in
# the test's temp dir; images pushed into it with skopeo (the reference client). Load it after
# engine_helpers (it uses fail and wait_for):
#
#   load engine_helpers
#   load registry_helpers
#   setup() { engine_setup; registry_start tls+basic; }
#   teardown() { registry_stop; engine_teardown; }
#
# registry_start MODE exports:
#   REGISTRY          host:port (127.0.0.1:PORT), what goes in an image reference
#   REGISTRY_URL      http://… or https://…
#   REGISTRY_CA       the CA certificate (tls modes; empty otherwise)
#   REGISTRY_CERT_DIR a directory holding only ca.crt, for skopeo's --cert-dir (tls modes)
#   REGISTRY_USER / REGISTRY_PASS  the one account (basic and token modes; empty otherwise)
#   REGISTRY_AUTH_FILE skopeo's auth file, in the temp dir, so no test reads or writes root's
#   REGISTRY_TOKEN_REALM (token modes) the token server's URL, as the registry announces it
#
# REGISTRY_ACCESSLOG=1 (set in the test's shell, not exported) before registry_start: the
# registry logs every request (method, path, status: Apache's combined format) to its log,
# $REGISTRY_DIR/registry.log.
#
# Modes: plain (HTTP), tls (a CA made here with openssl; a server certificate for 127.0.0.1
# and localhost), basic (htpasswd, bcrypt), token (a JWT token server,
# registry_token_server.py), and tls+basic, tls+token. Call registry_start in the test's own
# shell (setup or the test body), never under `run`: it records the pids registry_stop stops.
#
# REGISTRY_ADDR (default 127.0.0.1), set before registry_start: the IPv4 address the registry
# listens on, e.g. one the test put on a veth interface to have a registry that is not on
# loopback; the tls modes' certificate names it too. REGISTRY_PORT: a fixed port (as 80 on
# such an address) instead of a free one.
#
# Nothing here sleeps to synchronize: every wait is a bounded poll.

REGISTRY_HELPERS_DIR="$BATS_TEST_DIRNAME"
# Processes started by registry_start ("pid:starttime"), stopped by registry_stop.
REGISTRY_PROCS=()
# (-g: bats' `load` sources this file inside a function.)
declare -gA REGISTRY_PROC_LOGS=() # pid -> its log file
# Debian's python3: the token server needs its python3-jwt and python3-cryptography, which a
# python3 earlier in PATH (pyenv, a venv) may not have.
REGISTRY_PYTHON="${REGISTRY_PYTHON:-/usr/bin/python3}"

# proc_starttime PID: the process's start time (field 22 of /proc/PID/stat), which tells a
# process from a later one that got the same pid.
proc_starttime() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }" # the command name may hold spaces and parentheses
	# shellcheck disable=SC2086
	set -- $stat
	echo "${20}"
}

# proc_alive PID STARTTIME: true while that very process runs (a zombie counts as gone).
proc_alive() {
	local stat want="$2"
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	# shellcheck disable=SC2086
	set -- $stat
	[[ "$1" != Z && "${20}" == "$want" ]]
}

# registry_free_port: a port nobody listens on now. Another process may take it before the
# registry binds it; registry_start retries on "address already in use".
registry_free_port() {
	"$REGISTRY_PYTHON" -c 'import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "${REGISTRY_ADDR:-127.0.0.1}"
}

# registry_make_certs DIR: a CA and a server certificate it signs for 127.0.0.1 and localhost
# (subjectAltName: Go ignores the CN). EC keys: made in milliseconds.
registry_make_certs() {
	local d="$1"
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=mydocker test CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		2>"$d/openssl.log" || return 1
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=127.0.0.1" 2>>"$d/openssl.log" || return 1
	local san="IP:127.0.0.1,DNS:localhost"
	[[ "${REGISTRY_ADDR:-127.0.0.1}" == 127.0.0.1 ]] || san+=",IP:$REGISTRY_ADDR"
	printf '%s\n' "subjectAltName=$san" "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-out "$d/server.crt" -days 2 -extfile "$d/server.ext" 2>>"$d/openssl.log" || return 1
	mkdir -p "$d/certs.d"
	cp "$d/ca.crt" "$d/certs.d/ca.crt"
}

# registry_make_client_cert DIR NAME: a client certificate NAME.cert and its key NAME.key in
# DIR, signed by the registry's CA (tls modes; for REGISTRY_CLIENT_CERTS=1).
registry_make_client_cert() {
	local out="$1" name="$2" d="$REGISTRY_DIR"
	mkdir -p "$out"
	openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$out/$name.key" -out "$d/$name.csr" -subj "/CN=mydocker test client" 2>>"$d/openssl.log" || return 1
	printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=clientAuth" >"$d/$name.ext"
	openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-out "$out/$name.cert" -days 2 -extfile "$d/$name.ext" 2>>"$d/openssl.log"
}

# registry_write_config FILE PORT MODE: distribution's YAML config.
registry_write_config() {
	local file="$1" port="$2" mode="$3" d="$REGISTRY_DIR"
	{
		cat <<-EOF
			version: 0.1
			log:
			  level: warn
			  formatter: text
			  accesslog:
			    disabled: $([[ -n "${REGISTRY_ACCESSLOG:-}" ]] && echo false || echo true)
			storage:
			  filesystem:
			    rootdirectory: $d/storage
			  delete:
			    enabled: true
			  maintenance:
			    uploadpurging:
			      enabled: false
			http:
			  addr: ${REGISTRY_ADDR:-127.0.0.1}:$port
			  secret: mydocker-test-secret
		EOF
		if [[ "$mode" == tls* ]]; then
			cat <<-EOF
				  tls:
				    certificate: $d/server.crt
				    key: $d/server.key
			EOF
			# REGISTRY_CLIENT_CERTS=1: the registry wants a client certificate its CA signed.
			if [[ "${REGISTRY_CLIENT_CERTS:-}" == 1 ]]; then
				cat <<-EOF
					    clientcas:
					      - $d/ca.crt
				EOF
			fi
		fi
		case "$mode" in
		*basic)
			cat <<-EOF
				auth:
				  htpasswd:
				    realm: mydocker-test
				    path: $d/htpasswd
			EOF
			;;
		*token)
			cat <<-EOF
				auth:
				  token:
				    realm: $REGISTRY_TOKEN_REALM
				    service: mydocker-test-registry
				    issuer: mydocker-test-issuer
				    rootcertbundle: $d/token.crt
			EOF
			;;
		esac
	} >"$file"
}

# registry_token_server_start: a key and certificate for signing tokens (the certificate is
# the registry's rootcertbundle) and registry_token_server.py on a port it picks itself; sets
# REGISTRY_TOKEN_REALM.
registry_token_server_start() {
	local d="$REGISTRY_DIR"
	openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$d/token.key" -out "$d/token.crt" -days 2 -subj "/CN=mydocker test token issuer" \
		2>"$d/openssl-token.log" || fail "registry_start: openssl: $(cat "$d/openssl-token.log")" || return
	registry_spawn "$d/token.log" "$REGISTRY_PYTHON" "$REGISTRY_HELPERS_DIR/registry_token_server.py" \
		"$d/token.key" "$d/token.port" "$REGISTRY_USER" "$REGISTRY_PASS" mydocker-test-issuer \
		${REGISTRY_TOKEN_ANONYMOUS_PULL:+anonymous-pull}
	local pid=$SPAWNED_PID st="${REGISTRY_PROCS[-1]#*:}" i
	for ((i = 0; i < 200; i++)); do
		[[ -s "$d/token.port" ]] && break
		proc_alive "$pid" "$st" || break
		sleep 0.05
	done
	[[ -s "$d/token.port" ]] || fail "registry_start: the token server did not start; log: $(cat "$d/token.log")" || return
	REGISTRY_TOKEN_REALM="http://127.0.0.1:$(cat "$d/token.port")/token"
}

# registry_answers: true once GET /v2/ answers 200 or 401 (auth modes).
registry_answers() {
	local code
	# A short bound: the port may belong to someone else who accepts and never answers.
	code="$(registry_curl --max-time 2 -o /dev/null -w '%{http_code}' "$REGISTRY_URL/v2/" 2>/dev/null)" || return 1
	[[ "$code" == 200 || "$code" == 401 ]]
}

# registry_curl ARGS...: curl trusting the test's CA, never a proxy, bounded.
registry_curl() {
	local ca=()
	[[ -n "${REGISTRY_CA:-}" ]] && ca=(--cacert "$REGISTRY_CA")
	[[ -f "${REGISTRY_DIR:-}/client/client.cert" ]] &&
		ca+=(--cert "$REGISTRY_DIR/client/client.cert" --key "$REGISTRY_DIR/client/client.key")
	curl -sS --noproxy '*' --max-time 10 "${ca[@]}" "$@"
}

# registry_spawn LOG CMD...: start CMD in the background (stdio to LOG, fd 3 closed so bats
# does not wait for it) and record it for registry_stop. Sets SPAWNED_PID.
registry_spawn() {
	local log="$1"
	shift
	"$@" </dev/null >>"$log" 2>&1 3>&- &
	SPAWNED_PID=$!
	local st
	st="$(proc_starttime "$SPAWNED_PID")" || st=gone
	REGISTRY_PROCS+=("$SPAWNED_PID:$st")
	REGISTRY_PROC_LOGS[$SPAWNED_PID]="$log"
}

# registry_start [plain|tls|basic|tls+basic|token|tls+token]: start a registry; see the top.
registry_start() {
	local mode="${1:-plain}"
	case "$mode" in
	plain | tls | basic | tls+basic | token | tls+token) ;;
	*) fail "registry_start: unknown mode '$mode'" || return ;;
	esac
	command -v docker-registry >/dev/null || fail "docker-registry is not installed (run scripts/setup)" || return
	export REGISTRY_DIR="$BATS_TEST_TMPDIR/registry"
	mkdir -p "$REGISTRY_DIR/storage"
	export REGISTRY_AUTH_FILE="$BATS_TEST_TMPDIR/registry-auth.json"
	export REGISTRY_CA="" REGISTRY_CERT_DIR="" REGISTRY_USER="" REGISTRY_PASS="" REGISTRY_URL="" REGISTRY=""
	local scheme=http
	if [[ "$mode" == tls* ]]; then
		registry_make_certs "$REGISTRY_DIR" || fail "registry_start: openssl: $(cat "$REGISTRY_DIR/openssl.log")" || return
		scheme=https
		REGISTRY_CA="$REGISTRY_DIR/ca.crt"
		REGISTRY_CERT_DIR="$REGISTRY_DIR/certs.d"
		if [[ "${REGISTRY_CLIENT_CERTS:-}" == 1 ]]; then
			# The helpers' own client certificate (curl, and skopeo through --cert-dir).
			registry_make_client_cert "$REGISTRY_DIR/client" client ||
				fail "registry_start: openssl: $(cat "$REGISTRY_DIR/openssl.log")" || return
			cp "$REGISTRY_DIR/client/client.cert" "$REGISTRY_DIR/client/client.key" "$REGISTRY_CERT_DIR/"
		fi
	fi
	if [[ "$mode" == *basic || "$mode" == *token ]]; then
		REGISTRY_USER=tester
		REGISTRY_PASS="pw-$RANDOM-$RANDOM"
	fi
	if [[ "$mode" == *basic ]]; then
		# -B: bcrypt, the only scheme distribution accepts.
		htpasswd -Bbc "$REGISTRY_DIR/htpasswd" "$REGISTRY_USER" "$REGISTRY_PASS" 2>/dev/null ||
			fail "registry_start: htpasswd -B failed" || return
	fi
	if [[ "$mode" == *token ]]; then
		registry_token_server_start || return
	fi

	local attempt port log="$REGISTRY_DIR/registry.log"
	for ((attempt = 1; attempt <= 5; attempt++)); do
		port="${REGISTRY_PORT:-$(registry_free_port)}" || fail "registry_start: no free port" || return
		REGISTRY="${REGISTRY_ADDR:-127.0.0.1}:$port"
		REGISTRY_URL="$scheme://$REGISTRY"
		registry_write_config "$REGISTRY_DIR/config.yml" "$port" "$mode"
		: >"$log"
		# distribution reads REGISTRY_* variables as config overrides (REGISTRY_AUTH_FILE would
		# be auth.file): the helpers' own variables must not reach it.
		local unset_vars=() v
		for v in $(compgen -e REGISTRY_); do unset_vars+=(-u "$v"); done
		registry_spawn "$log" env "${unset_vars[@]}" docker-registry serve "$REGISTRY_DIR/config.yml"
		REGISTRY_PID=$SPAWNED_PID
		local i st="${REGISTRY_PROCS[-1]#*:}"
		# (proc_alive, not kill -0: a registry that exited stays a zombie until waited for.)
		for ((i = 0; i < 200; i++)); do
			proc_alive "$REGISTRY_PID" "$st" || break
			registry_answers && return 0
			sleep 0.05
		done
		if proc_alive "$REGISTRY_PID" "$st"; then
			fail "registry_start: $REGISTRY_URL/v2/ did not answer in 10 s; log: $(cat "$log")"
			return
		fi
		wait "$REGISTRY_PID" 2>/dev/null || true
		unset 'REGISTRY_PROCS[-1]'
		grep -q "address already in use" "$log" && continue
		fail "registry_start: docker-registry exited; log: $(cat "$log")"
		return
	done
	fail "registry_start: port taken 5 times in a row"
}

# registry_stop: stop what registry_start started (SIGTERM, a bounded wait, then SIGKILL) and
# fail when a process had died before (a crash during the test) or would not stop.
registry_stop() {
	local entry pid st rc=0 i
	for entry in "${REGISTRY_PROCS[@]}"; do
		pid="${entry%%:*}" st="${entry#*:}"
		if ! proc_alive "$pid" "$st"; then
			echo "registry_stop: process $pid exited before teardown; its log ${REGISTRY_PROC_LOGS[$pid]}:" >&2
			tail -n 20 "${REGISTRY_PROC_LOGS[$pid]}" >&2
			wait "$pid" 2>/dev/null || true # reap it
			rc=1
			continue
		fi
		kill -TERM "$pid"
		for ((i = 0; i < 100; i++)); do
			proc_alive "$pid" "$st" || break
			sleep 0.05
		done
		if proc_alive "$pid" "$st"; then
			echo "registry_stop: process $pid ignored SIGTERM for 5 s; killed" >&2
			kill -KILL "$pid"
			rc=1
		fi
		wait "$pid" 2>/dev/null || true # its status is SIGTERM's
	done
	REGISTRY_PROCS=()
	return "$rc"
}

# registry_skopeo_flags src|dest: skopeo's TLS and credential flags for $REGISTRY, one a line.
registry_skopeo_flags() {
	local side="$1"
	if [[ -n "$REGISTRY_CERT_DIR" ]]; then
		echo "--$side-tls-verify=true"
		echo "--$side-cert-dir=$REGISTRY_CERT_DIR"
	else
		echo "--$side-tls-verify=false"
	fi
	[[ -n "$REGISTRY_USER" ]] && echo "--$side-creds=$REGISTRY_USER:$REGISTRY_PASS"
	true
}

# reg_skopeo_copy SRC REF [SKOPEO-FLAGS...]: skopeo copy SRC into $REGISTRY/REF; the manifest's
# digest goes to $BATS_TEST_TMPDIR/pushed.digest (and PUSHED_DIGEST).
reg_skopeo_copy() {
	local src="$1" ref="$2" flags
	shift 2
	mapfile -t flags < <(registry_skopeo_flags dest)
	skopeo copy -q "${flags[@]}" --digestfile "$BATS_TEST_TMPDIR/pushed.digest" "$@" \
		"$src" "docker://$REGISTRY/$ref" || return
	# shellcheck disable=SC2034 # read by the tests
	PUSHED_DIGEST="$(cat "$BATS_TEST_TMPDIR/pushed.digest")"
}

# reg_skopeo_inspect REF [SKOPEO-FLAGS...]: skopeo inspect of $REGISTRY/REF.
reg_skopeo_inspect() {
	local ref="$1" flags=() f
	shift
	# inspect names its flags without the src- prefix.
	while read -r f; do flags+=("--${f#--src-}"); done < <(registry_skopeo_flags src)
	skopeo inspect "${flags[@]}" "$@" "docker://$REGISTRY/$ref"
}

# registry_push_image NAME REF [SKOPEO-FLAGS...]: push the engine's image NAME (saved by
# `mydocker save --format oci-archive`) to $REGISTRY/REF with skopeo.
registry_push_image() {
	local name="$1" ref="$2" archive
	shift 2
	archive="$BATS_TEST_TMPDIR/save-$RANDOM.tar"
	"$MYDOCKER" save --format oci-archive -o "$archive" "$name" || fail "mydocker save $name failed" || return
	reg_skopeo_copy "oci-archive:$archive" "$ref" "$@"
}

# registry_push_zstd NAME REF: as registry_push_image, with the layers recompressed to zstd
# (an OCI manifest: Docker's schema 2 has no zstd media type).
registry_push_zstd() {
	registry_push_image "$1" "$2" --format oci --dest-compress-format zstd
}

# oci_blob DIR FILE MEDIATYPE: move FILE into DIR's blobs; prints its descriptor (JSON).
oci_blob() {
	local dir="$1" file="$2" mt="$3" hex size
	hex="$(sha256sum "$file" | cut -d' ' -f1)"
	size="$(stat -c %s "$file")"
	mv "$file" "$dir/blobs/sha256/$hex"
	jq -cn --arg mt "$mt" --arg d "sha256:$hex" --argjson s "$size" '{mediaType: $mt, digest: $d, size: $s}'
}

# registry_make_multiplatform DIR: an OCI layout in DIR whose tag "latest" is an image index
# of two images, linux/amd64 and linux/arm64, each one small gzip layer holding /platform
# (its own name) and a config naming its platform. Written by hand (jq, tar, sha256sum): no
# engine or client is trusted to make what the tests check.
registry_make_multiplatform() {
	local dir="$1" arch manifests=() tmp layer_desc config_desc diff_id
	mkdir -p "$dir/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	tmp="$(mktemp -d "$BATS_TEST_TMPDIR/mp.XXXXXX")"
	for arch in amd64 arm64; do
		mkdir -p "$tmp/$arch/root"
		echo "linux/$arch" >"$tmp/$arch/root/platform"
		tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/$arch/root" \
			-cf "$tmp/$arch/layer.tar" platform
		diff_id="sha256:$(sha256sum "$tmp/$arch/layer.tar" | cut -d' ' -f1)"
		gzip -n "$tmp/$arch/layer.tar"
		layer_desc="$(oci_blob "$dir" "$tmp/$arch/layer.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)"
		jq -cn --arg a "$arch" --arg d "$diff_id" \
			'{architecture: $a, os: "linux", config: {Cmd: ["cat", "/platform"]},
			  rootfs: {type: "layers", diff_ids: [$d]}}' >"$tmp/$arch/config.json"
		config_desc="$(oci_blob "$dir" "$tmp/$arch/config.json" application/vnd.oci.image.config.v1+json)"
		jq -cn --argjson c "$config_desc" --argjson l "$layer_desc" \
			'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
			  config: $c, layers: [$l]}' >"$tmp/$arch/manifest.json"
		manifests+=("$(oci_blob "$dir" "$tmp/$arch/manifest.json" application/vnd.oci.image.manifest.v1+json |
			jq -c --arg a "$arch" '. + {platform: {architecture: $a, os: "linux"}}')")
	done
	printf '%s\n' "${manifests[@]}" | jq -cs \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: .}' \
		>"$tmp/index.json"
	oci_blob "$dir" "$tmp/index.json" application/vnd.oci.image.index.v1+json |
		jq -c '{schemaVersion: 2, manifests: [. + {annotations: {"org.opencontainers.image.ref.name": "latest"}}]}' \
			>"$dir/index.json"
	rm -rf "$tmp"
}

# registry_push_multiplatform REF: make the two-platform layout and push the whole index
# (skopeo copy --all) to $REGISTRY/REF.
registry_push_multiplatform() {
	local dir="$BATS_TEST_TMPDIR/multiplatform"
	registry_make_multiplatform "$dir" || return
	reg_skopeo_copy "oci:$dir:latest" "$1" --all
}

# registry_setup / registry_teardown: the setup and teardown of a file that pulls and pushes:
# the test's own store ($MYDOCKER_ROOT) and a second, empty one ($PULL_ROOT, used through
# mdp) that pulls, so every blob comes from the registry. Teardown stops the registry, tears
# both stores down (and the stores named in EXTRA_ROOTS), and fails on anything left mounted
# under the test's dir.
registry_setup() {
	engine_setup
	command -v skopeo >/dev/null || fail "skopeo is not installed (run scripts/setup)"
	PULL_ROOT="$BATS_TEST_TMPDIR/p"
	mkdir -p "$PULL_ROOT"
	EXTRA_ROOTS=()
}

registry_teardown() {
	local rc=0 r
	registry_stop || rc=1
	for r in "$PULL_ROOT" "${EXTRA_ROOTS[@]}"; do
		engine_teardown_root "$r" || rc=1
	done
	if awk -v r="$BATS_TEST_TMPDIR" 'index($5, r) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
		echo "teardown: mounts left under $BATS_TEST_TMPDIR" >&2
		rc=1
	fi
	engine_teardown || rc=1
	return "$rc"
}

# mdp ARGS...: mydocker on the pulling store.
mdp() { MYDOCKER_ROOT="$PULL_ROOT" md "$@"; }
