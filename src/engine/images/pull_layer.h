// One layer of a pull, in one pass (pull.cpp runs three at a time): the compressed stream is
// hashed as it arrives and piped to a decompressing thread, whose output (hashed: the diff_id)
// goes to the layer's staged blob and is piped to an unpacking thread. A broken transfer is
// resumed with a Range request. The staging is committed under the store's lock only when the
// digest, size and diff_id all match; otherwise it is removed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "engine/images/layout.h"
#include "engine/images/registry_client.h"
#include "sys/error.h"

namespace mydocker::engine::images {

/// A layer to fetch: its manifest descriptor and its diff_id from the config.
struct LayerJob {
    Descriptor compressed;  // mediaType, digest and size in the manifest
    std::string diff_id;
    std::string short_id;   // the 12 hex digits docker shows
};

/// A layer's status ("Downloading", ...) with bytes so far and the total (-1: none).
using LayerStatusFn = std::function<void(const std::string& status, int64_t current, int64_t total)>;

/// How a fetch ended.
enum class LayerOutcome { fetched, already_exists };

/// Fetch `job` into the store of `lay` unless it is there (waiting for another pull that
/// fetches it). `cancel` set by another worker's failure stops the transfer.
sys::Result<LayerOutcome> fetch_layer(const Layout& lay, RegistryClient& reg, const LayerJob& job,
                                      const LayerStatusFn& status, const std::atomic<bool>& cancel);

}  // namespace mydocker::engine::images
