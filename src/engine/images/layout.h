// The OCI image layout under <root>/images and the unpacked layers under <root>/layers.
//
//   images/oci-layout             {"imageLayoutVersion": "1.0.0"}
//   images/index.json             one manifest descriptor per name, the name in the
//                                 annotation org.opencontainers.image.ref.name ("repo:tag");
//                                 an image without a name (dangling) keeps one descriptor
//                                 with no annotation, so its blobs stay reachable
//   images/blobs/sha256/<hex>     manifests, configs, layers (uncompressed tars: digest ==
//                                 diff_id)
//   images/repodigests.json       {"<image id>": ["repo@sha256:<manifest digest>", ...]}: the
//                                 digests an image was pulled or pushed as (docker's
//                                 RepoDigests; the store rewrites manifests, so a registry's
//                                 digest is no blob here)
//   images/distribution.json      diff_id -> the compressed blobs registries hold for that
//                                 layer (docker's v2metadata; distribution.h)
//   images/lock                   flock held around every write of the store
//   images/tmp/                   blobs being written (renamed into blobs/ when complete),
//                                 archives being loaded
//   layers/<diff_id hex>/         each layer unpacked once, overlayfs whiteouts
//   layers/.tmp-*                 a layer being unpacked (renamed into place when complete)
//   images/tmp/<hex>.lock         a pull's claim on layer <hex> (LayerClaim): flock held while
//   images/tmp/<hex>.blob         it streams into these two stagings, which are committed
//   layers/.pull-<hex>/           under the lock (renames) or removed
//
// Readers take no lock: index.json is replaced atomically and a blob or layer dir appears
// only complete (rename), so a reader sees the old store or the new one. Writers take the
// lock and re-read the index under it. Whatever is in tmp/ or .tmp-* when the lock is taken
// was left by a writer that died, and is removed; so is a layer's staging whose claim nobody
// holds (a pull downloads without the store's lock, so a long pull blocks no other command).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/context.h"
#include "engine/images/digest.h"
#include "engine/images/store.h"
#include "sys/error.h"
#include "sys/fd.h"
#include "sys/lock.h"

namespace mydocker::engine::images {

/// An OCI content descriptor.
struct Descriptor {
    std::string media_type;
    std::string digest;  // "sha256:<hex>"
    int64_t size = 0;
};

/// One descriptor of index.json: a manifest and the name it carries (empty: dangling).
struct IndexEntry {
    Descriptor manifest;
    std::string name;
};

/// Image id -> its RepoDigests.
using RepoDigests = std::map<std::string, std::vector<std::string>>;

/// An image as stored: the engine's view plus the blobs behind it.
struct StoredImage {
    Image image;
    Descriptor manifest;
    Descriptor config;
    std::vector<Descriptor> layers;  // bottom first, same order as image.diff_ids
    std::string config_text;         // the config blob, byte for byte (its digest is the id)
};

/// Proof that the store's write lock is held; the layout's write operations take it.
class WriteLock {
public:
    WriteLock(WriteLock&&) = default;
    WriteLock& operator=(WriteLock&&) = default;

private:
    friend class Layout;
    explicit WriteLock(sys::FileLock lock) : lock_(std::move(lock)) {}
    sys::FileLock lock_;
};

/// A blob being written to images/tmp/ while its sha256 is computed; `commit` moves it into
/// blobs/. Destroyed uncommitted, the temp file is removed.
class BlobWriter {
public:
    BlobWriter(BlobWriter&& o) noexcept;
    BlobWriter& operator=(BlobWriter&&) = delete;
    ~BlobWriter();

    /// Append to the blob and its digest.
    sys::Result<void> write(std::string_view data);
    /// Stop writing and compute the digest (idempotent); the temp file stays readable.
    sys::Result<Descriptor> finish(std::string media_type);
    /// The temp file (for unpacking a layer before it is committed).
    const std::string& temp_path() const { return tmp_; }
    /// finish() if needed, then rename into blobs/ (an existing equal blob is kept).
    sys::Result<Descriptor> commit(std::string media_type);

private:
    friend class Layout;
    BlobWriter(std::string tmp, std::string blobs_dir, sys::UniqueFd fd, Sha256 hash)
        : tmp_(std::move(tmp)),
          blobs_dir_(std::move(blobs_dir)),
          fd_(std::move(fd)),
          hash_(std::move(hash)) {}
    std::string tmp_;
    std::string blobs_dir_;
    sys::UniqueFd fd_;
    Sha256 hash_;
    std::optional<Descriptor> done_;
    int64_t size_ = 0;
    bool committed_ = false;
};

/// A pull's claim on one layer: the flock on images/tmp/<hex>.lock, held while the layer
/// streams into its staging. A second pull of the same layer waits for it and then finds the
/// layer stored; Layout::lock() leaves a held claim's staging alone. Released on destruction,
/// its lock file removed first (a waiter on the old file sees it gone and takes a new one).
class LayerClaim {
public:
    LayerClaim(LayerClaim&&) = default;
    LayerClaim& operator=(LayerClaim&&) = delete;
    ~LayerClaim();
    /// The layer's diff_id.
    const std::string& diff_id() const { return diff_id_; }

private:
    friend class Layout;
    LayerClaim(std::string path, sys::UniqueFd fd, std::string diff_id)
        : path_(std::move(path)), fd_(std::move(fd)), diff_id_(std::move(diff_id)) {}
    std::string path_;
    sys::UniqueFd fd_;
    std::string diff_id_;
};

class Layout {
public:
    explicit Layout(const Context& ctx) : images_(ctx.images_dir()), layers_(ctx.layers_dir()) {}

    const std::string& images_dir() const { return images_; }
    const std::string& layers_dir() const { return layers_; }
    std::string tmp_dir() const;
    /// blobs/sha256/<hex> for a checked digest.
    sys::Result<std::string> blob_path(std::string_view digest) const;
    /// layers/<hex> for a checked diff_id.
    sys::Result<std::string> layer_dir(std::string_view diff_id) const;

    /// index.json; a store that does not exist yet has an empty index.
    sys::Result<std::vector<IndexEntry>> read_index() const;
    sys::Result<std::string> read_blob(std::string_view digest) const;
    /// Read one image (manifest + config) without its names.
    sys::Result<StoredImage> read_image(const Descriptor& manifest) const;
    /// Every image in the index with its names; an entry whose blobs vanished under a
    /// concurrent remove is skipped.
    sys::Result<std::vector<StoredImage>> read_all() const;

    /// Create the store if needed, take its lock, remove what dead writers left.
    sys::Result<WriteLock> lock() const;
    sys::Result<void> write_index(const WriteLock&, const std::vector<IndexEntry>& entries) const;
    /// repodigests.json: image id -> "repo@sha256:..." list; none yet: empty.
    sys::Result<RepoDigests> read_repo_digests() const;
    /// Replace repodigests.json (ids with an empty list are dropped).
    sys::Result<void> write_repo_digests(const WriteLock&, const RepoDigests& digests) const;
    /// Record that image `id` is `repo_digest` ("repo@sha256:...") in its registry.
    sys::Result<void> add_repo_digest(const WriteLock&, const std::string& id,
                                      const std::string& repo_digest) const;
    sys::Result<BlobWriter> new_blob(const WriteLock&) const;
    sys::Result<Descriptor> write_blob(const WriteLock&, std::string_view data,
                                       std::string media_type) const;
    /// Unpack layer `diff_id` from its blob unless layers/<hex> exists.
    sys::Result<void> ensure_layer(const WriteLock&, std::string_view diff_id) const;
    /// Unpack the plain tar `tar_path` as layer `diff_id` unless layers/<hex> exists.
    sys::Result<void> install_layer(const WriteLock&, const std::string& tar_path,
                                    std::string_view diff_id) const;
    /// Claim layer `diff_id` for a pull, waiting while another process holds it. The store's
    /// directories must exist (lock() once before).
    sys::Result<LayerClaim> claim_layer(std::string_view diff_id) const;
    /// The claimed layer's blob, written to images/tmp/<hex>.blob (no store lock needed).
    sys::Result<BlobWriter> new_staged_blob(const LayerClaim& claim) const;
    /// The claimed layer's unpack dir, layers/.pull-<hex> (not created here).
    std::string staging_dir(const LayerClaim& claim) const;
    /// Move a claimed layer's finished blob and its unpacked staging dir into the store (a
    /// layer dir already there is kept, the staging removed).
    sys::Result<Descriptor> commit_staged_layer(const WriteLock&, const LayerClaim& claim,
                                                BlobWriter& blob) const;
    /// Write manifest + config for `layers` and register the image under `names` (an empty
    /// list: dangling). `config_text` is stored byte for byte. Returns the stored image.
    sys::Result<StoredImage> add_image(const WriteLock&, const std::string& config_text,
                                       const std::vector<Descriptor>& layers,
                                       const std::vector<std::string>& names) const;

private:
    /// Under the lock: remove what dead writers left in tmp/ and layers/ (staging.cpp).
    sys::Result<void> sweep_leftovers() const;

    std::string images_;
    std::string layers_;
};

/// Build the manifest document for a config and its layers.
std::string manifest_json(const Descriptor& config, const std::vector<Descriptor>& layers);
/// Point `name` at `manifest` in `entries`: a name belongs to one image, and an image losing
/// its last name keeps a dangling entry; an image gaining a name loses its dangling entry.
void set_name(std::vector<IndexEntry>& entries, const Descriptor& manifest,
              const std::string& name);

}  // namespace mydocker::engine::images
