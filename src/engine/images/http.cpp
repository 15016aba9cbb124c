#include "engine/images/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
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
    int64_t sent = 0;       // of the body_fd or body_source
    bool redirect = false;  // the response being read is a 3xx: its body is not the caller's
    long code = 0;          // of the response whose headers are being read
    std::optional<sys::Error> read_error;
};

// Feeds the upload from body_fd; pread keeps the fd's own offset untouched.
size_t on_read(char* buf, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    if (t->req->body_source) {
        auto got = t->req->body_source(buf, size * n);
        if (!got) {
            t->read_error = std::move(got.error()).wrap("the body of " + t->req->url);
            return CURL_READFUNC_ABORT;
        }
        t->sent += static_cast<int64_t>(*got);
        return *got;
    }
    int64_t left = t->req->body_size - t->sent;
    if (left <= 0) return 0;
    size_t want = std::min<size_t>(size * n, static_cast<size_t>(left));
    for (;;) {
        ssize_t got = ::pread(t->req->body_fd, buf, want, t->sent);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            t->read_error = got < 0 ? sys::Error::from_errno(errno, "read the body of " + t->req->url)
                                    : sys::Error::from_errno(EIO, "read the body of " + t->req->url + ": file shorter than " +
                                                                      std::to_string(t->req->body_size) + " bytes");
            return CURL_READFUNC_ABORT;
        }
        t->sent += got;
        return static_cast<size_t>(got);
    }
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view chunk(data, size * n);
    if (t->redirect) return chunk.size();
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
    if (line.starts_with("HTTP/")) {
        t->resp->headers.clear();
        auto sp = line.find(' ');
        int code = sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
        t->redirect = code >= 300 && code < 400 && code != 304;
        t->code = code;
    }
    // The blank line ending a final response's headers.
    if ((line == "\r\n" || line == "\n") && t->req->on_response && !t->redirect && t->code >= 200) {
        if (auto r = t->req->on_response(t->code, t->resp->headers); !r) {
            t->sink_error = std::move(r.error());
            return 0;  // aborts the transfer
        }
        return size * n;
    }
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

/// scheme, host (IPv6 with its brackets) and port of an absolute http(s) URL.
struct UrlHost {
    std::string scheme, host, port;
};

UrlHost url_host(const std::string& url) {
    UrlHost u;
    auto sep = url.find("://");
    if (sep == std::string::npos) return u;
    u.scheme = url.substr(0, sep);
    std::string auth = url.substr(sep + 3, url.find_first_of("/?#", sep + 3) - (sep + 3));
    if (auto at = auth.rfind('@'); at != std::string::npos) auth = auth.substr(at + 1);
    auto colon = auth.rfind(':');
    if (colon != std::string::npos && auth.find(']', colon) == std::string::npos) {
        u.host = auth.substr(0, colon);
        u.port = auth.substr(colon + 1);
    } else {
        u.host = auth;
    }
    if (u.port.empty()) u.port = u.scheme == "https" ? "443" : "80";
    return u;
}

// The host's addresses for curl's CURLOPT_RESOLVE ("host:port:addr,..."), or "" when curl needs
// none (an IP address, localhost). mydocker is static and dlopen()s libcurl, whose resolver
// runs getaddrinfo in a thread of the libc.so.6 loaded beside ours, which was never set up:
// it crashes. So names are resolved here, by the libc linked in, and curl only connects.
sys::Result<std::string> resolve_entry(const UrlHost& u) {
    std::string bare = u.host.starts_with("[") ? u.host.substr(1, u.host.size() - 2) : u.host;
    unsigned char buf[sizeof(struct in6_addr)];
    if (bare.empty() || bare == "localhost" || ::inet_pton(AF_INET, bare.c_str(), buf) == 1 ||
        ::inet_pton(AF_INET6, bare.c_str(), buf) == 1)
        return std::string();
    struct addrinfo hints = {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(bare.c_str(), nullptr, &hints, &res); rc != 0)
        return sys::fail(sys::Error::from_errno(EIO, "resolve \"" + bare + "\": " + ::gai_strerror(rc)));
    std::string addrs;
    for (auto* a = res; a; a = a->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        const void* src = a->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                                                  : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
        if (!::inet_ntop(a->ai_family, src, text, sizeof text)) continue;
        std::string one = a->ai_family == AF_INET6 ? "[" + std::string(text) + "]" : std::string(text);
        if (addrs.find(one) != std::string::npos) continue;
        addrs += (addrs.empty() ? "" : ",") + one;
    }
    ::freeaddrinfo(res);
    if (addrs.empty()) return sys::fail(sys::Error::from_errno(EIO, "resolve \"" + bare + "\": no address"));
    return bare + ":" + u.port + ":" + addrs;
}

/// One request, no redirect followed.
sys::Result<HttpResponse> perform(const HttpRequest& req) {
    const LibCurl* c = MD_TRY(libcurl());
    std::string resolve = MD_TRY_CTX(resolve_entry(url_host(req.url)), req.method + " " + req.url);
    CURL* h = c->easy_init();
    if (!h) return sys::fail(sys::Error::from_errno(ENOMEM, "curl_easy_init"));
    curl_slist* resolves = resolve.empty() ? nullptr : c->slist_append(nullptr, resolve.c_str());
    if (resolves) c->easy_setopt(h, CURLOPT_RESOLVE, resolves);
    curl_slist* headers = nullptr;
    for (const auto& hd : req.headers) headers = c->slist_append(headers, hd.c_str());
    HttpResponse resp;
    Transfer t{&req, &resp, std::nullopt, false, 0, false, 0, std::nullopt};
    char errbuf[CURL_ERROR_SIZE] = {};
    c->easy_setopt(h, CURLOPT_URL, req.url.c_str());
    c->easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.method == "HEAD") c->easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (req.body_source) {
        c->easy_setopt(h, CURLOPT_UPLOAD, 1L);
        c->easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        c->easy_setopt(h, CURLOPT_READDATA, &t);
        // -1: unknown length, so curl sends it chunked (HTTP/1.1).
        c->easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(-1));
    } else if (req.body_fd >= 0) {
        c->easy_setopt(h, CURLOPT_UPLOAD, 1L);
        c->easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        c->easy_setopt(h, CURLOPT_READDATA, &t);
        c->easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_size));
    } else if (req.send_body) {
        c->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        c->easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    }
    c->easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    c->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    c->easy_setopt(h, CURLOPT_WRITEDATA, &t);
    c->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    c->easy_setopt(h, CURLOPT_HEADERDATA, &t);
    c->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    // Redirects are followed by http_request, each host resolved there (see resolve_entry).
    c->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    c->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    c->easy_setopt(h, CURLOPT_TIMEOUT, req.timeout_seconds);
    c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, req.connect_timeout_seconds);
    c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    c->easy_setopt(h, CURLOPT_USERAGENT, "mydocker/" MYDOCKER_VERSION);
    if (!req.ca_file.empty()) c->easy_setopt(h, CURLOPT_CAINFO, req.ca_file.c_str());
    if (!req.client_cert.empty()) {
        c->easy_setopt(h, CURLOPT_SSLCERT, req.client_cert.c_str());
        c->easy_setopt(h, CURLOPT_SSLKEY, req.client_key.c_str());
    }
    if (!req.verify_tls) {
        c->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        c->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode rc = c->easy_perform(h);
    c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
    char* url = nullptr;
    if (c->easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) resp.effective_url = url;
    c->easy_cleanup(h);
    c->slist_free_all(headers);
    if (resolves) c->slist_free_all(resolves);
    if (t.sink_error) return sys::fail(std::move(*t.sink_error));
    if (t.read_error) return sys::fail(std::move(*t.read_error));
    if (t.too_big) return sys::fail_invalid("GET " + req.url + ": response larger than " + std::to_string(req.max_body) + " bytes");
    if (rc != CURLE_OK) {
        std::string why = errbuf[0] ? errbuf : c->easy_strerror(rc);
        // The error code rides along as a negative errno-like value for is_tls_error.
        sys::Error e(sys::ErrorCode::system, req.method + " " + req.url + ": " + why,
                     rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ? EPROTO : EIO);
        return sys::fail(std::move(e));
    }
    return resp;
}

}  // namespace

sys::Result<HttpResponse> http_request(const HttpRequest& req) {
    // Blobs are often redirected to storage elsewhere (GET and HEAD only: an upload is not).
    // The Authorization header is dropped when the host changes, as curl would do.
    HttpRequest hop = req;
    for (int redirects = 0;; ++redirects) {
        auto resp = MD_TRY(perform(hop));
        const bool redirect = resp.status >= 300 && resp.status < 400 && resp.status != 304;
        if (!redirect || (hop.method != "GET" && hop.method != "HEAD") || resp.headers["location"].empty())
            return resp;
        if (redirects == 10) return sys::fail(sys::Error::from_errno(EIO, req.method + " " + req.url + ": more than 10 redirects"));
        std::string next = resp.headers["location"];
        UrlHost from = url_host(hop.url);
        if (!next.starts_with("http://") && !next.starts_with("https://")) {
            if (!next.starts_with("/")) return sys::fail_invalid(req.method + " " + req.url + ": unsupported redirect to \"" + next + "\"");
            next = from.scheme + "://" + hop.url.substr(from.scheme.size() + 3, hop.url.find('/', from.scheme.size() + 3) - from.scheme.size() - 3) + next;
        }
        UrlHost to = url_host(next);
        if (to.host != from.host || to.port != from.port || to.scheme != from.scheme)
            std::erase_if(hop.headers, [](const std::string& hd) {
                return hd.size() >= 14 && ::strncasecmp(hd.c_str(), "authorization:", 14) == 0;
            });
        hop.url = next;
    }
}

bool is_tls_error(const sys::Error& e) { return e.err() == EPROTO; }

}  // namespace mydocker::engine::images
