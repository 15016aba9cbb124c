// A small HTTP client for the registry API over libcurl, loaded with dlopen() on first use
// (DESIGN "Fast by design": only pull loads it). One request at a time, bodies streamed to a
// sink, bounded in time; TLS with the system's CAs plus a registry's own CA.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sys/error.h"

namespace mydocker::engine::images {

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    std::string ca_file;               // extra CA for TLS, or ""
    std::string client_cert, client_key;  // a client certificate (PEM) and its key, or ""
    bool verify_tls = true;            // false: an insecure registry, its certificate unchecked
    // Receives the body as it arrives; an error aborts the transfer. Unset: the body is
    // kept in HttpResponse::body (up to max_body bytes).
    std::function<sys::Result<void>(std::string_view)> sink;
    size_t max_body = 4 << 20;
    // Called once the headers of the final response (not a redirect, not a 100) are in,
    // before its body reaches `sink`: a ranged download learns whether it got 206 or 200.
    // An error aborts the transfer as a sink's does.
    std::function<sys::Result<void>(long status, const std::map<std::string, std::string>& headers)>
        on_response;
    // The request body (PUT, POST, PATCH): `body_fd` >= 0 streams `body_size` bytes of that
    // file from offset 0 (pread: a retried request sends it again whole; a layer is never
    // held in memory); else `body` is sent when `send_body` is set.
    bool send_body = false;
    std::string body;
    int body_fd = -1;
    int64_t body_size = 0;
    // Or a body of unknown length, sent chunked (Transfer-Encoding: chunked): called for the
    // next bytes into the buffer, returns how many (0: the end). Read once: it must not be
    // used where the request could be sent again (a redirect, a first 401).
    std::function<sys::Result<size_t>(char*, size_t)> body_source;
    long timeout_seconds = 600;        // the whole transfer
    long connect_timeout_seconds = 15;
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // lowercase names; the last of a repeated one
    std::string body;
    std::string effective_url;
};

/// Perform `req`. A transport failure (refused, TLS, timeout) is an error naming the URL; an
/// HTTP error status is not: the caller reads `status`.
sys::Result<HttpResponse> http_request(const HttpRequest& req);

/// Whether a transport error of http_request was the TLS handshake (the server speaks plain
/// HTTP), for the insecure-registry fallback.
bool is_tls_error(const sys::Error& e);

}  // namespace mydocker::engine::images
