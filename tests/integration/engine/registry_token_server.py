#!/usr/bin/env python3
"""A token server for the registry tests (distribution's "token" auth, as Docker Hub does it).

    registry_token_server.py KEY PORT_FILE USER PASSWORD ISSUER

Listens on 127.0.0.1 at a port of the kernel's choosing (written to PORT_FILE once it
listens: no race for the port) and answers GET /token?service=S&scope=repository:NAME:ACTIONS
with a JWT signed ES256 by KEY (a PEM EC P-256 key whose certificate the registry has as its
rootcertbundle). The header's "kid" is libtrust's key id of that key, which is how
distribution 2.8 finds the key among the bundle's. With USER:PASSWORD in Basic auth every
requested action is granted; anonymous requests get a token granting nothing; a wrong
password gets 401. Debian's python3-jwt and python3-cryptography do the signing.
"""

import base64
import hashlib
import http.server
import json
import os
import sys
import time
import urllib.parse

import jwt
from cryptography.hazmat.primitives import serialization


def libtrust_key_id(public_key):
    """libtrust's keyIDFromCryptoKey: base32 of the first 240 bits of the SHA-256 of the
    PKIX DER public key, in groups of 4 joined by ':'."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i : i + 4] for i in range(0, len(s), 4))


def main():
    key_path, port_file, user, password, issuer = sys.argv[1:6]
    # "anonymous-pull": anonymous callers may pull (as from a public repository of Docker Hub).
    anonymous_pull = len(sys.argv) > 6 and sys.argv[6] == "anonymous-pull"
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    kid = libtrust_key_id(key.public_key())
    good_auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/token":
                return self.reply(404, {"error": "not found"})
            query = urllib.parse.parse_qs(url.query)
            auth = self.headers.get("Authorization")
            if auth is not None and auth != good_auth:
                return self.reply(401, {"error": "wrong credentials"})
            access = []
            if auth is not None or anonymous_pull:
                for scope in query.get("scope", []):
                    # TYPE:NAME:ACTIONS, e.g. repository:library/busybox:pull,push
                    kind, _, rest = scope.partition(":")
                    name, _, actions = rest.rpartition(":")
                    granted = actions.split(",")
                    if auth is None:
                        granted = [a for a in granted if a == "pull"]
                    if kind and name and granted:
                        access.append({"type": kind, "name": name, "actions": granted})
            now = int(time.time())
            claims = {
                "iss": issuer,
                "sub": user if auth else "",
                "aud": query.get("service", [""])[0],
                "exp": now + 600,
                "nbf": now - 60,
                "iat": now,
                "jti": base64.b16encode(os.urandom(8)).decode(),
                "access": access,
            }
            token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})
            self.reply(200, {"token": token, "access_token": token, "expires_in": 600})

        def log_message(self, fmt, *args):
            sys.stderr.write("token: " + (fmt % args) + "\n")
            sys.stderr.flush()

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
