// Distribution metadata (docker's v2metadata): for each layer of the store (kept uncompressed,
// by diff_id), the compressed blobs a registry is known to hold for it: what push uploaded or
// mounted and, once pull records them, what pull downloaded. Push looks here before it
// compresses a layer: a known blob is checked with HEAD or mounted from the repository it was
// seen in, so a second push uploads nothing and gives the same manifest digest.
//
//   images/distribution.json   {"sha256:<diff_id>": [{"digest", "mediaType", "size",
//                                                     "registry", "repository"}, ...]}
//
// A cache: written under the store's write lock (temp + rename); an entry may be stale (the
// registry deleted the blob, the layer left the store) since every use checks the registry
// first; a corrupt file reads as empty and is replaced at the next record.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/images/layout.h"
#include "sys/error.h"

namespace mydocker::engine::images {

/// A compressed blob of a layer, and where it was seen.
struct LayerSource {
    Descriptor blob;         // its digest, media type and size (compressed)
    std::string registry;    // host[:port] as in a reference ("docker.io" for the hub)
    std::string repository;  // path in that registry: "library/busybox"
};

/// diff_id -> its known compressed blobs, the most recently recorded first.
using DistributionMetadata = std::map<std::string, std::vector<LayerSource>>;

/// At most this many blobs are kept per layer (the oldest go first).
inline constexpr size_t kMaxLayerSources = 16;

/// Parse distribution.json's text; an error names what is wrong.
sys::Result<DistributionMetadata> parse_distribution(const std::string& text);
/// The document for `meta` (what parse_distribution reads back).
std::string distribution_json(const DistributionMetadata& meta);

/// images/distribution.json of the store; none yet: empty; unreadable or corrupt: an error.
sys::Result<DistributionMetadata> read_distribution(const Layout& lay);

/// Record that `registry`/`repository` holds `compressed` as a blob of layer `diff_id`
/// (pull calls this for each layer it downloads, push for each it uploads or mounts). A
/// corrupt file is replaced.
sys::Result<void> record_layer_source(const Layout& lay, const WriteLock& lock,
                                      const std::string& diff_id, const Descriptor& compressed,
                                      const std::string& registry, const std::string& repository);

/// The known blobs of `diff_id` in `registry`, the most recent first, those in `repository`
/// before the others; none (or no readable file): empty.
std::vector<LayerSource> lookup_layer_sources(const Layout& lay, const std::string& diff_id,
                                              const std::string& registry,
                                              const std::string& repository);

/// Drop the entries of layers not in `diff_ids` (image removal and prune).
sys::Result<void> prune_distribution(const Layout& lay, const WriteLock& lock,
                                     const std::vector<std::string>& diff_ids);

}  // namespace mydocker::engine::images
