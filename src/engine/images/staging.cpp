// A pull's layer stagings (LayerClaim, layout.h) and the sweep of what dead writers left.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "engine/images/config.h"
#include "engine/images/layout.h"
#include "sys/files.h"

namespace mydocker::engine::images {

namespace {

constexpr std::string_view kLockSuffix = ".lock";
constexpr std::string_view kBlobSuffix = ".blob";
constexpr std::string_view kStagingPrefix = ".pull-";

/// The layer hex of a staging entry of tmp/ ("<hex>.lock", "<hex>.blob"), or "".
std::string staged_key(std::string_view name) {
    for (auto suffix : {kLockSuffix, kBlobSuffix}) {
        if (name.ends_with(suffix) && is_hex64(name.substr(0, name.size() - suffix.size())))
            return std::string(name.substr(0, 64));
    }
    return "";
}

sys::Result<void> flock_retry(int fd, int op, const std::string& path) {
    int rc;
    do {
        rc = ::flock(fd, op);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return sys::fail_errno("lock \"" + path + "\"");
    return {};
}

}  // namespace

LayerClaim::~LayerClaim() {
    // Unlinked while still locked: whoever waits on this file sees it gone once it gets the
    // lock, and claims a new one (claim_layer).
    if (fd_.valid()) ::unlink(path_.c_str());
}

sys::Result<LayerClaim> Layout::claim_layer(std::string_view diff_id) const {
    std::string hex = MD_TRY(digest_hex(diff_id, "layer diff_id"));
    std::string path = sys::path_join(tmp_dir(), hex + std::string(kLockSuffix));
    for (;;) {
        auto fd = MD_TRY(sys::open_file(path, O_RDWR | O_CREAT, 0600));
        MD_TRY(flock_retry(fd.get(), LOCK_EX, path));
        struct stat held, now;
        if (::fstat(fd.get(), &held) < 0) return sys::fail_errno("stat \"" + path + "\"");
        if (::stat(path.c_str(), &now) == 0 && now.st_ino == held.st_ino && now.st_dev == held.st_dev)
            return LayerClaim(path, std::move(fd), std::string(diff_id));
        // Its holder finished (or a sweep removed it) while we waited: claim afresh.
    }
}

sys::Result<BlobWriter> Layout::new_staged_blob(const LayerClaim& claim) const {
    auto hash = MD_TRY(Sha256::create());
    std::string hex = MD_TRY(digest_hex(claim.diff_id(), "layer diff_id"));
    std::string path = sys::path_join(tmp_dir(), hex + std::string(kBlobSuffix));
    auto fd = MD_TRY(sys::open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    return BlobWriter(path, sys::path_join(images_, "blobs/sha256"), std::move(fd), std::move(hash));
}

std::string Layout::staging_dir(const LayerClaim& claim) const {
    return sys::path_join(layers_, std::string(kStagingPrefix) + claim.diff_id().substr(7));
}

sys::Result<Descriptor> Layout::commit_staged_layer(const WriteLock&, const LayerClaim& claim,
                                                    BlobWriter& blob) const {
    std::string dir = MD_TRY(layer_dir(claim.diff_id()));
    std::string staging = staging_dir(claim);
    if (sys::path_exists(dir)) {
        MD_TRY(sys::remove_all(staging));  // the same layer, unpacked by an earlier command
    } else if (::rename(staging.c_str(), dir.c_str()) < 0) {
        return sys::fail_errno("rename \"" + staging + "\" to \"" + dir + "\"");
    }
    return blob.commit(kMediaLayer);
}

sys::Result<void> Layout::sweep_leftovers() const {
    // Every writer but a pull holds the lock: what is in the temp places now belongs to a dead
    // one. A pull's stagings are spared while their claim is held.
    std::set<std::string> keys;
    for (const auto& n : MD_TRY(sys::list_dir(tmp_dir())))
        if (auto k = staged_key(n); !k.empty()) keys.insert(k);
    for (const auto& n : MD_TRY(sys::list_dir(layers_)))
        if (n.starts_with(kStagingPrefix) && is_hex64(n.substr(kStagingPrefix.size())))
            keys.insert(n.substr(kStagingPrefix.size()));
    for (const auto& k : keys) {
        std::string lock_path = sys::path_join(tmp_dir(), k + std::string(kLockSuffix));
        auto fd = MD_TRY(sys::open_file(lock_path, O_RDWR | O_CREAT, 0600));
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
            if (errno != EWOULDBLOCK && errno != EINTR) return sys::fail_errno("lock \"" + lock_path + "\"");
            continue;  // a live pull's
        }
        // Ours now: removed while locked, so a claimant waiting on this file starts over.
        MD_TRY(sys::remove_all(sys::path_join(tmp_dir(), k + std::string(kBlobSuffix))));
        MD_TRY(sys::remove_all(sys::path_join(layers_, std::string(kStagingPrefix) + k)));
        ::unlink(lock_path.c_str());
    }
    for (const auto& n : MD_TRY(sys::list_dir(tmp_dir()))) {
        if (!staged_key(n).empty()) continue;  // a staging: only ever removed under its claim
        MD_TRY(sys::remove_all(sys::path_join(tmp_dir(), n)));
    }
    for (const auto& n : MD_TRY(sys::list_dir(images_))) {
        if (n.starts_with("index.json.tmp.")) MD_TRY(sys::remove_all(sys::path_join(images_, n)));
    }
    for (const auto& n : MD_TRY(sys::list_dir(layers_))) {
        if (n.starts_with(".tmp-")) MD_TRY(sys::remove_all(sys::path_join(layers_, n)));
    }
    return {};
}

}  // namespace mydocker::engine::images
