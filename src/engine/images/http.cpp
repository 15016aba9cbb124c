#include "engine/images/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

#include "sys/dynlib.h"

namespace mydocker::engine::images {

namespace {

constexpr const char* kSoname = "libcurl.so.4";

struct LibCurl {
    CURLcode (*global_init)(long);
    CURL* (*easy_init)();
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
    CURLcode (*easy_perform)(CURL*);
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
    void (*easy_cleanup)(CURL*);
    const char* (*easy_strerror)(CURLcode);
    curl_slist* (*slist_append)(curl_slist*, const char*);
    void (*slist_free_all)(curl_slist*);
};

sys::Result<const LibCurl*> libcurl() {
    static LibCurl lib;
    static sys::Result<void> status = []() -> sys::Result<void> {
        void* h = MD_TRY(sys::open_library(kSoname, "libcurl4"));
        MD_TRY(sys::bind_symbol(h, kSoname, "curl_global_init", lib.global_init));
        MD_TRY(sys::bind_symbol(h, kSoname, "curl_easy_init", lib.easy_init));
        MD_TRY(sys::bind_symbol(h, kSoname, "curl_easy_setopt", lib.easy_setopt));
        MD_TRY(sys::bind_symbol(h, kSoname, "curl_easy_perform", lib.easy_perform));
        MD_TRY(sys::bind_symbol(h, kSoname, "curl_easy_getinfo", lib.easy_getinfo));
        MD_TRY(sys::bind_symbol(h, kSoname, "curl_easy_cleanup", lib.easy_cleanup));
        MD_TRY(sys::bind_symbol(h, kSoname, "curl_easy_strerror", lib.easy_strerror));
        MD_TRY(sys::bind_symbol(h, kSoname, "curl_slist_append", lib.slist_append));
        MD_TRY(sys::bind_symbol(h, kSoname, "curl_slist_free_all", lib.slist_free_all));
        if (CURLcode rc = lib.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
            return sys::fail(sys::Error::from_errno(EIO, std::string("curl_global_init: ") + lib.easy_strerror(rc)));
        return {};
    }();
    if (!status) return sys::fail(status.error());
    return &lib;
}

// What the transfer callbacks share.
struct Transfer {
    const HttpRequest* req;
    HttpResponse* resp;
    std::optional<sys::Error> sink_error;
    bool too_big = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view chunk(data, size * n);
    if (t->req->sink) {
        if (auto r = t->req->sink(chunk); !r) {
            t->sink_error = std::move(r.error());
            return 0;  // aborts the transfer
        }
        return chunk.size();
    }
    if (t->resp->body.size() + chunk.size() > t->req->max_body) {
        t->too_big = true;
        return 0;
    }
    t->resp->body.append(chunk);
    return chunk.size();
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(data, size * n);
    // A new response (after a redirect or a 100): forget the previous one's headers.
    if (line.starts_with("HTTP/")) t->resp->headers.clear();
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
            value.remove_suffix(1);
        t->resp->headers[name] = std::string(value);
    }
    return size * n;
}

/// scheme, host (brackets kept for IPv6) and port of an absolute URL.
struct UrlParts {
    std::string scheme, host;
    int port = 0;
};

sys::Result<UrlParts> split_url(const std::string& url) {
    UrlParts u;
    auto colon = url.find("://");
    if (colon == std::string::npos) return sys::fail_invalid("\"" + url + "\" is not an absolute URL");
    u.scheme = url.substr(0, colon);
    std::string authority = url.substr(colon + 3, url.find_first_of("/?#", colon + 3) - colon - 3);
    if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
    auto close = authority.rfind(']');
    auto port_colon = authority.rfind(':');
    if (port_colon != std::string::npos && (close == std::string::npos || port_colon > close)) {
        u.host = authority.substr(0, port_colon);
        u.port = std::atoi(authority.c_str() + port_colon + 1);
    } else {
        u.host = authority;
    }
    if (u.port == 0) u.port = u.scheme == "https" ? 443 : 80;
    if (u.host.empty()) return sys::fail_invalid("\"" + url + "\" has no host");
    return u;
}

/// "host:port:address" for CURLOPT_RESOLVE, resolved by our own (static) libc: libcurl's
/// threaded resolver, running on the dlopen()ed libc beside the static one, crashes. Empty
/// for an address literal (nothing to resolve).
sys::Result<std::string> resolve_entry(const UrlParts& u) {
    if (u.host.front() == '[') return std::string();
    struct in_addr a4;
    if (::inet_pton(AF_INET, u.host.c_str(), &a4) == 1) return std::string();
    struct addrinfo hints = {};
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(u.host.c_str(), nullptr, &hints, &res); rc != 0 || !res)
        return sys::fail(sys::Error(sys::ErrorCode::system, "cannot resolve host \"" + u.host + "\": " + ::gai_strerror(rc)));
    std::string addrs;
    for (auto* p = res; p; p = p->ai_next) {
        char buf[INET6_ADDRSTRLEN] = {};
        const void* src = p->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(p->ai_addr)->sin_addr)
                                                  : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(p->ai_addr)->sin6_addr);
        if (!::inet_ntop(p->ai_family, src, buf, sizeof buf)) continue;
        std::string a = p->ai_family == AF_INET6 ? "[" + std::string(buf) + "]" : std::string(buf);
        if (addrs.find(a) != std::string::npos) continue;
        addrs += (addrs.empty() ? "" : ",") + a;
    }
    ::freeaddrinfo(res);
    if (addrs.empty()) return sys::fail(sys::Error(sys::ErrorCode::system, "cannot resolve host \"" + u.host + "\""));
    return u.host + ":" + std::to_string(u.port) + ":" + addrs;
}

/// The absolute URL a Location header points to, from `base`.
std::string join_location(const std::string& base, const std::string& location) {
    if (location.find("://") != std::string::npos) return location;
    auto scheme_end = base.find("://");
    auto path_start = base.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    std::string origin = path_start == std::string::npos ? base : base.substr(0, path_start);
    if (location.starts_with("/")) return origin + location;
    std::string dir = path_start == std::string::npos ? origin + "/" : base.substr(0, base.rfind('/') + 1);
    return dir + location;
}

sys::Result<HttpResponse> perform_once(const LibCurl* c, const HttpRequest& req);

}  // namespace

sys::Result<HttpResponse> http_request(const HttpRequest& req) {
    const LibCurl* c = MD_TRY(libcurl());
    // Redirects are followed here, not by curl: every host is resolved by us (resolve_entry),
    // and the Authorization header goes only to the host it was meant for.
    HttpRequest hop = req;
    const std::string first_host = MD_TRY(split_url(req.url)).host;
    for (int redirects = 0;; ++redirects) {
        auto resp = MD_TRY(perform_once(c, hop));
        bool redirect = resp.status == 301 || resp.status == 302 || resp.status == 303 || resp.status == 307 ||
                        resp.status == 308;
        auto loc = resp.headers.find("location");
        if (!redirect || loc == resp.headers.end()) return resp;
        if (redirects >= 10) return sys::fail_invalid(req.method + " " + req.url + ": too many redirects");
        hop.url = join_location(hop.url, loc->second);
        auto next = MD_TRY(split_url(hop.url));
        if (next.scheme != "http" && next.scheme != "https")
            return sys::fail_invalid(req.method + " " + req.url + ": redirected to \"" + hop.url + "\"");
        if (next.host != first_host)
            std::erase_if(hop.headers, [](const std::string& h) { return h.size() > 14 && ::strncasecmp(h.c_str(), "authorization:", 14) == 0; });
        if (resp.status == 303) hop.method = "GET";
    }
}

namespace {

sys::Result<HttpResponse> perform_once(const LibCurl* c, const HttpRequest& req) {
    CURL* h = c->easy_init();
    if (!h) return sys::fail(sys::Error::from_errno(ENOMEM, "curl_easy_init"));
    curl_slist* headers = nullptr;
    for (const auto& hd : req.headers) headers = c->slist_append(headers, hd.c_str());
    HttpResponse resp;
    Transfer t{&req, &resp, std::nullopt, false};
    char errbuf[CURL_ERROR_SIZE] = {};
    c->easy_setopt(h, CURLOPT_URL, req.url.c_str());
    c->easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.method == "HEAD") c->easy_setopt(h, CURLOPT_NOBODY, 1L);
    c->easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    c->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    c->easy_setopt(h, CURLOPT_WRITEDATA, &t);
    c->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    c->easy_setopt(h, CURLOPT_HEADERDATA, &t);
    c->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    c->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    std::string entry = MD_TRY(resolve_entry(MD_TRY(split_url(req.url))));
    curl_slist* resolve = entry.empty() ? nullptr : c->slist_append(nullptr, entry.c_str());
    if (resolve) c->easy_setopt(h, CURLOPT_RESOLVE, resolve);
    c->easy_setopt(h, CURLOPT_TIMEOUT, req.timeout_seconds);
    c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, req.connect_timeout_seconds);
    c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    c->easy_setopt(h, CURLOPT_USERAGENT, "mydocker/" MYDOCKER_VERSION);
    if (!req.ca_file.empty()) c->easy_setopt(h, CURLOPT_CAINFO, req.ca_file.c_str());
    CURLcode rc = c->easy_perform(h);
    c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
    char* url = nullptr;
    if (c->easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) resp.effective_url = url;
    c->easy_cleanup(h);
    c->slist_free_all(headers);
    if (resolve) c->slist_free_all(resolve);
    if (t.sink_error) return sys::fail(std::move(*t.sink_error));
    if (t.too_big) return sys::fail_invalid("GET " + req.url + ": response larger than " + std::to_string(req.max_body) + " bytes");
    if (rc != CURLE_OK) {
        std::string why = errbuf[0] ? errbuf : c->easy_strerror(rc);
        // EPROTO marks a failed TLS handshake for is_tls_error.
        sys::Error e(sys::ErrorCode::system, req.method + " " + req.url + ": " + why,
                     rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ? EPROTO : 0);
        return sys::fail(std::move(e));
    }
    return resp;
}

}  // namespace

bool is_tls_error(const sys::Error& e) { return e.err() == EPROTO; }

}  // namespace mydocker::engine::images
