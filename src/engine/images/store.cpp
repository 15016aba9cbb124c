// Store: resolve, list, tag and remove. Reads take no lock (see layout.h); tag and remove
// re-read the index under the lock and decide there.
#include "engine/images/store.h"

#include <algorithm>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "engine/images/config.h"
#include "engine/images/internal.h"
#include "engine/images/layout.h"
#include "engine/images/names.h"
#include "sys/files.h"

namespace mydocker::engine::images {

namespace {

sys::Error no_such_image(std::string_view ref) {
    return sys::Error::not_found("unable to find image \"" + std::string(ref) + "\"");
}

// Make sure every layer of `si` is unpacked (a layer dir deleted by hand is unpacked again
// from its blob).
sys::Result<void> ensure_layers(const Layout& lay, const StoredImage& si) {
    bool missing = std::any_of(si.image.layer_dirs.begin(), si.image.layer_dirs.end(),
                               [](const std::string& d) { return !sys::path_exists(d); });
    if (!missing) return {};
    auto lk = MD_TRY(lay.lock());
    for (const auto& d : si.image.diff_ids)
        MD_TRY_CTX(lay.ensure_layer(lk, d), "image " + short_id(si.image.id));
    return {};
}

}  // namespace

sys::Result<std::optional<size_t>> find_image(const std::vector<StoredImage>& images,
                                              std::string_view ref) {
    auto by_prefix = [&](std::string_view prefix) -> sys::Result<std::optional<size_t>> {
        std::optional<size_t> found;
        size_t count = 0;
        for (size_t i = 0; i < images.size(); i++) {
            if (images[i].image.id.starts_with(prefix)) {
                found = i;
                count++;
            }
        }
        if (count > 1)
            return sys::fail_invalid("image id prefix \"" + std::string(prefix) +
                                     "\" is ambiguous: it matches " + std::to_string(count) +
                                     " images");
        return found;
    };
    if (auto rd = MD_TRY(parse_repo_digest(ref))) {
        for (size_t i = 0; i < images.size(); i++) {
            const auto& d = images[i].image.repo_digests;
            if (std::find(d.begin(), d.end(), *rd) != d.end()) return i;
        }
        return std::nullopt;
    }
    if (ref.starts_with("sha256:")) {
        std::string_view hex = ref.substr(7);
        if (!is_hex(hex) || hex.size() > 64)
            return sys::fail_invalid("invalid image id \"" + std::string(ref) + "\"");
        return by_prefix(hex);
    }
    if (is_hex64(ref)) {
        for (size_t i = 0; i < images.size(); i++) {
            if (images[i].image.id == ref) return i;
        }
    }
    auto name = normalize_name(ref);
    if (name) {
        for (size_t i = 0; i < images.size(); i++) {
            const auto& n = images[i].image.names;
            if (std::find(n.begin(), n.end(), *name) != n.end()) return i;
        }
    }
    if (is_hex(ref) && ref.size() < 64) return by_prefix(ref);
    if (!name && !is_hex(ref)) return sys::fail(std::move(name.error()));
    return std::nullopt;
}

namespace {

// The image that `ref` names, read alone: a name that is no id (prefix) can match nothing else
// (find_image), and every `run` resolves one, so it need not read every image in the store.
// Empty if no index entry has that name, or its blobs are gone (find_image then decides, as
// for any other reference).
sys::Result<std::optional<StoredImage>> read_named(const Layout& lay, std::string_view ref) {
    if (ref.starts_with("sha256:") || is_hex(ref)) return std::nullopt;
    auto name = normalize_name(ref);
    if (!name) return std::nullopt;
    auto entries = MD_TRY(lay.read_index());
    auto it = std::find_if(entries.begin(), entries.end(), [&](const IndexEntry& e) { return e.name == *name; });
    if (it == entries.end()) return std::nullopt;
    auto si = lay.read_image(it->manifest);
    if (!si) {
        if (si.error().code() == sys::ErrorCode::not_found) return std::nullopt;
        return sys::fail(std::move(si.error()));
    }
    for (const auto& e : entries)
        if (e.manifest.digest == it->manifest.digest && !e.name.empty()) si->image.names.push_back(e.name);
    auto digests = MD_TRY(lay.read_repo_digests());
    if (auto d = digests.find(si->image.id); d != digests.end()) si->image.repo_digests = d->second;
    return std::move(*si);
}

}  // namespace

sys::Result<Image> Store::resolve(std::string_view ref) {
    Layout lay(ctx_);
    if (auto named = MD_TRY(read_named(lay, ref))) {
        MD_TRY(ensure_layers(lay, *named));
        return std::move(named->image);
    }
    auto images = MD_TRY(lay.read_all());
    auto idx = MD_TRY(find_image(images, ref));
    if (idx) {
        MD_TRY(ensure_layers(lay, images[*idx]));
        return images[*idx].image;
    }
    auto name = normalize_name(ref);
    if (!name || *name != kBusyboxName) return sys::fail(no_such_image(ref));
    // First use of busybox: build it, once. The lock serialises the racers; whoever gets it
    // first builds, the others find the image when they re-read the index under the lock.
    auto lk = MD_TRY(lay.lock());
    images = MD_TRY(lay.read_all());
    idx = MD_TRY(find_image(images, kBusyboxName));
    if (idx) {
        for (const auto& d : images[*idx].image.diff_ids) MD_TRY(lay.ensure_layer(lk, d));
        return images[*idx].image;
    }
    auto si = MD_TRY(build_busybox(lay, lk, ctx_.log));
    return si.image;
}

sys::Result<Image> Store::find(std::string_view ref) {
    Layout lay(ctx_);
    auto images = MD_TRY(lay.read_all());
    auto idx = MD_TRY(find_image(images, ref));
    if (!idx) return sys::fail(no_such_image(ref));
    return std::move(images[*idx].image);
}

sys::Result<std::vector<Image>> Store::list() {
    Layout lay(ctx_);
    auto images = MD_TRY(lay.read_all());
    std::vector<std::pair<int64_t, Image>> sorted;
    for (auto& si : images) {
        int64_t t = parse_rfc3339_nanos(si.image.created).value_or(0);
        sorted.emplace_back(t, std::move(si.image));
    }
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first > b.first;
        return a.second.id < b.second.id;
    });
    std::vector<Image> out;
    for (auto& [t, img] : sorted) out.push_back(std::move(img));
    return out;
}

sys::Result<void> Store::tag(std::string_view ref, std::string_view name) {
    std::string target = MD_TRY(normalize_name(name));
    Image img = MD_TRY(resolve(ref));
    Layout lay(ctx_);
    auto lk = MD_TRY(lay.lock());
    auto entries = MD_TRY(lay.read_index());
    auto it = std::find_if(entries.begin(), entries.end(), [&](const IndexEntry& e) {
        return e.manifest.digest == img.manifest_digest;
    });
    if (it == entries.end()) return sys::fail(no_such_image(ref).wrap("tag"));
    Descriptor manifest = it->manifest;
    set_name(entries, manifest, target);
    return lay.write_index(lk, entries);
}

}  // namespace mydocker::engine::images
