// See pull_layer.h. Three threads per layer, joined by two socketpairs (send with
// MSG_NOSIGNAL: a stage that fails closes its end, and the one feeding it gets EPIPE instead
// of a SIGPIPE that would kill mydocker):
//
//   this thread: GET blobs/<digest> -> sha256, size --A--> decompress thread: gunzip/unzstd
//   -> sha256 (diff_id) + staged blob --B--> unpack thread: tar -> layers/.pull-<hex>
//
// Each socket buffer bounds what is in memory; a slow disk slows the download.
#include "engine/images/pull_layer.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <system_error>
#include <thread>

#include "engine/images/config.h"
#include "engine/images/tar.h"
#include "sys/cleanup.h"
#include "sys/files.h"

namespace mydocker::engine::images {

namespace {

// A broken transfer is resumed this many times (each with a Range request) before the pull
// fails; the waits between attempts double from kRetryFirstWait.
constexpr int kMaxRetries = 5;
constexpr auto kRetryFirstWait = std::chrono::milliseconds(250);

/// One stage's outcome; `downstream_gone` marks a failure that only echoes the next stage's
/// (its end of the pipe closed), so the error shown is the one that caused it.
struct StageResult {
    std::optional<sys::Error> error;
    bool downstream_gone = false;
};

/// A stage's own failure on the system (no space, ...), not on the data: the download stops.
void note_failure(const StageResult& r, std::atomic<bool>& hard_stop) {
    if (r.error && !r.downstream_gone && r.error->code() == sys::ErrorCode::system) hard_stop = true;
}

sys::Result<void> send_all(int fd, std::string_view d, bool& gone) {
    while (!d.empty()) {
        ssize_t n = ::send(fd, d.data(), d.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            gone = errno == EPIPE || errno == ECONNRESET;
            return sys::fail_errno("pipe a layer's stream");
        }
        d.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

sys::Result<std::pair<sys::UniqueFd, sys::UniqueFd>> stream_pair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return sys::fail_errno("socketpair");
    // One way only: the reader's end never writes.
    ::shutdown(sv[0], SHUT_WR);
    return std::make_pair(sys::UniqueFd(sv[0]), sys::UniqueFd(sv[1]));
}

/// The compressed blob's bytes on their way to `out` (the decompressor), across the attempts
/// of one download: hashed and counted, a resumed response (206) appended, a whole one (200)
/// skipped up to what is already here. When the reader of `out` fails on bad data (it closes
/// its end), the rest is still read and hashed, so a tampered blob is named as such rather than
/// by the error its garbage made downstream; when it fails on the system (`hard_stop`: no
/// space, ...), the transfer stops at once and `gone` says the error only echoes that failure.
class BlobStream {
public:
    BlobStream(const LayerJob& job, int out, const LayerStatusFn& status, const std::atomic<bool>& cancel,
               const std::atomic<bool>& hard_stop, Sha256 hash)
        : digest_(job.compressed.digest), size_(job.compressed.size), out_(out), status_(status), cancel_(cancel),
          hard_stop_(hard_stop), hash_(std::move(hash)), step_(std::max<int64_t>(size_ / 100, 256 << 10)) {}

    /// The next attempt's request: a Range from what we have.
    HttpRequest request() {
        fatal_ = false;
        HttpRequest req;
        req.timeout_seconds = 3600;
        if (got_ > 0) req.headers.push_back("Range: bytes=" + std::to_string(got_) + "-");
        req.on_response = [this](long code, const std::map<std::string, std::string>& h) { return on_response(code, h); };
        req.sink = [this](std::string_view d) { return on_body(d); };
        return req;
    }
    int64_t got() const { return got_; }
    /// The last attempt failed for a reason a retry cannot mend.
    bool fatal() const { return fatal_; }
    bool gone() const { return gone_; }
    /// An HTTP error's body (the registry's message).
    const std::string& error_body() const { return err_body_; }
    /// All of it, checked against the manifest's size and digest.
    sys::Result<void> finish() {
        if (size_ > 0 && got_ != size_)
            return sys::fail_invalid("blob " + digest_ + ": " + std::to_string(got_) + " bytes, its manifest says " +
                                     std::to_string(size_));
        if ("sha256:" + hash_.finish() != digest_) return sys::fail_invalid("blob " + digest_ + ": content does not match its digest");
        return {};
    }

private:
    sys::Result<void> on_response(long code, const std::map<std::string, std::string>& headers) {
        err_body_.clear();
        skip_ = 0;
        body_ok_ = code == 200 || (code == 206 && got_ > 0);
        if (code == 206 && got_ > 0) {
            auto cr = headers.find("content-range");
            if (cr == headers.end() || !cr->second.starts_with("bytes " + std::to_string(got_) + "-")) {
                fatal_ = true;
                return sys::fail_invalid("blob " + digest_ + ": a resumed transfer from byte " + std::to_string(got_) +
                                         " answered with another range");
            }
        }
        // The whole blob again (a server that ignores Range): what we have is skipped; the
        // digest at the end checks every byte that went through.
        if (code == 200) skip_ = got_;
        return {};
    }

    sys::Result<void> on_body(std::string_view d) {
        if (!body_ok_) {
            if (err_body_.size() < (64 << 10)) err_body_.append(d);
            return {};
        }
        if (cancel_) {
            fatal_ = true;
            return sys::fail(sys::Error::bad_state("cancelled"));
        }
        size_t k = static_cast<size_t>(std::min<int64_t>(skip_, static_cast<int64_t>(d.size())));
        d.remove_prefix(k);
        skip_ -= static_cast<int64_t>(k);
        if (d.empty()) return {};
        got_ += static_cast<int64_t>(d.size());
        if (size_ > 0 && got_ > size_) {
            fatal_ = true;
            return sys::fail_invalid("blob " + digest_ + " is larger than its " + std::to_string(size_) + " bytes");
        }
        hash_.update(d);
        if (!reader_gone_) {
            if (auto r = send_all(out_, d, reader_gone_); !r && (!reader_gone_ || hard_stop_)) {
                fatal_ = true;
                gone_ = reader_gone_;
                return r;
            }
        } else if (hard_stop_) {
            fatal_ = gone_ = true;
            return sys::fail(sys::Error::from_errno(EPIPE, "pipe a layer's stream"));
        }
        if (got_ - shown_ >= step_ || got_ == size_) {
            shown_ = got_;
            status_("Downloading", got_, size_);
        }
        return {};
    }

    const std::string& digest_;
    const int64_t size_;
    const int out_;
    const LayerStatusFn& status_;
    const std::atomic<bool>& cancel_;
    const std::atomic<bool>& hard_stop_;
    Sha256 hash_;
    const int64_t step_;  // of the progress shown
    int64_t got_ = 0, shown_ = -1, skip_ = 0;
    bool reader_gone_ = false, gone_ = false, body_ok_ = false, fatal_ = false;
    std::string err_body_;
};

/// The compressed blob to `out` (see BlobStream), resumed with Range after a broken transfer,
/// kMaxRetries times at most. `gone`: the error only echoes the reader's.
sys::Result<void> download(RegistryClient& reg, const LayerJob& job, int out, const LayerStatusFn& status,
                           const std::atomic<bool>& cancel, const std::atomic<bool>& hard_stop, bool& gone) {
    const std::string& digest = job.compressed.digest;
    const int64_t size = job.compressed.size;
    BlobStream stream(job, out, status, cancel, hard_stop, MD_TRY(Sha256::create()));
    for (int attempt = 0;; ++attempt) {
        auto resp = reg.request(stream.request(), "blobs/" + digest);
        if (resp && resp->status != 200 && resp->status != 206) {
            resp->body = stream.error_body();
            return sys::fail_invalid(registry_status_error(*resp, "blob " + digest));
        }
        if (resp && (size <= 0 || stream.got() == size)) break;
        // A transport error, or a body that ended early: resume, a bounded number of times.
        if (!resp && stream.fatal()) {
            gone = stream.gone();
            return sys::fail(std::move(resp.error()));
        }
        if (!resp && size > 0 && stream.got() == size) break;  // broke after the last byte
        if (attempt == kMaxRetries) {
            if (!resp)
                return sys::fail(std::move(resp.error()).wrap("download broken off " + std::to_string(kMaxRetries + 1) + " times"));
            break;  // finish() names the short count
        }
        status("Retrying", stream.got(), size);
        std::this_thread::sleep_for(kRetryFirstWait * (1 << attempt));
        if (cancel) return sys::fail(sys::Error::bad_state("cancelled"));
    }
    return stream.finish();
}

/// The error to show of the three stages': a stage's own failure before an echo of another's.
sys::Error pick_error(StageResult& dl, StageResult& dec, StageResult& unp) {
    for (StageResult* s : {&dl, &dec, &unp})
        if (s->error && !s->downstream_gone) return std::move(*s->error);
    for (StageResult* s : {&dl, &dec, &unp})
        if (s->error) return std::move(*s->error);
    return sys::Error::bad_state("no error");
}

}  // namespace

sys::Result<LayerOutcome> fetch_layer(const Layout& lay, RegistryClient& reg, const LayerJob& job,
                                      const LayerStatusFn& status, const std::atomic<bool>& cancel) {
    const std::string what = "layer " + job.compressed.digest;
    auto claim = MD_TRY(lay.claim_layer(job.diff_id));
    if (sys::path_exists(MD_TRY(lay.blob_path(job.diff_id))) && sys::path_exists(MD_TRY(lay.layer_dir(job.diff_id))))
        return LayerOutcome::already_exists;  // fetched by another pull while we waited
    auto blob = MD_TRY(lay.new_staged_blob(claim));
    const std::string staging = lay.staging_dir(claim);
    MD_TRY(sys::remove_all(staging));
    if (::mkdir(staging.c_str(), 0755) < 0) return sys::fail_errno("mkdir \"" + staging + "\"");
    sys::CleanupStack undo;
    undo.push([staging] { (void)sys::remove_all(staging); });

    auto [a_in, a_out] = MD_TRY(stream_pair());
    auto [b_in, b_out] = MD_TRY(stream_pair());
    StageResult dl, dec, unp;
    std::atomic<bool> hard_stop{false};
    std::thread unpacker, decompressor;
    try {
        unpacker = std::thread([&, in = std::move(b_in)]() mutable {
            // unpack_tar works relative to the cwd (archive_write_disk): this thread gets a cwd
            // of its own, so the layers unpacking beside it keep theirs.
            if (::unshare(CLONE_FS) < 0) {
                unp.error = sys::Error::from_errno(errno, "unshare(CLONE_FS)");
                return;
            }
            if (auto r = unpack_tar(in.get(), staging, what); !r) {
                unp.error = std::move(r.error());
                note_failure(unp, hard_stop);
                return;  // closing `in` stops the decompressor
            }
            // The tar's end may come before the stream's (padding): read the rest.
            char buf[16384];
            while (::read(in.get(), buf, sizeof buf) > 0) {
            }
        });
        decompressor = std::thread([&, in = std::move(a_in), out = std::move(b_out)]() mutable {
            auto r = decompress(in.get(), what, [&](std::string_view d) -> sys::Result<void> {
                MD_TRY(blob.write(d));
                return send_all(out.get(), d, dec.downstream_gone);
            });
            if (!r) dec.error = std::move(r.error());
            note_failure(dec, hard_stop);
        });
    } catch (const std::system_error& e) {
        a_out.reset();
        b_out.reset();
        if (decompressor.joinable()) decompressor.join();
        if (unpacker.joinable()) unpacker.join();
        return sys::fail(sys::Error::from_errno(e.code().value(), "start a thread for " + what));
    }
    status("Downloading", 0, job.compressed.size);
    if (auto r = download(reg, job, a_out.get(), status, cancel, hard_stop, dl.downstream_gone); !r) dl.error = std::move(r.error());
    a_out.reset();  // the end of the stream, or its abort
    if (!dl.error) status("Extracting", job.compressed.size, job.compressed.size);
    decompressor.join();
    unpacker.join();
    if (dl.error || dec.error || unp.error) return sys::fail(pick_error(dl, dec, unp).wrap(what));
    Descriptor d = MD_TRY(blob.finish(kMediaLayer));
    if (d.digest != job.diff_id)
        return sys::fail_invalid(what + ": its content has diff_id " + d.digest + " but the image config says " + job.diff_id);
    auto lk = MD_TRY(lay.lock());
    MD_TRY(lay.commit_staged_layer(lk, claim, blob));
    undo.commit();
    return LayerOutcome::fetched;
}

}  // namespace mydocker::engine::images
