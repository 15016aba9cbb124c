#include "engine/images/distribution.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/images/digest.h"
#include "sys/files.h"
#include "sys/json_text.h"

namespace mydocker::engine::images {

namespace {

using json = nlohmann::json;

constexpr const char* kFile = "distribution.json";

std::string file_path(const Layout& lay) {
    return sys::path_join(lay.images_dir(), kFile);
}

bool same_place(const LayerSource& a, const LayerSource& b) {
    return a.blob.digest == b.blob.digest && a.registry == b.registry &&
           a.repository == b.repository;
}

sys::Result<void> write_distribution(const Layout& lay, const WriteLock&,
                                     const DistributionMetadata& meta) {
    return sys::write_file_atomic(file_path(lay), distribution_json(meta), 0644);
}

}  // namespace

sys::Result<DistributionMetadata> parse_distribution(const std::string& text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return sys::fail_invalid("not a JSON object");
    DistributionMetadata out;
    for (const auto& [diff_id, list] : j.items()) {
        MD_TRY(digest_hex(diff_id, "layer " + diff_id));
        if (!list.is_array()) return sys::fail_invalid(diff_id + ": not an array");
        for (const auto& e : list) {
            const std::string what = diff_id + ": an entry";
            if (!e.is_object()) return sys::fail_invalid(what + " is not an object");
            auto str = [&](const char* key) -> sys::Result<std::string> {
                auto it = e.find(key);
                if (it == e.end() || !it->is_string() || it->get<std::string>().empty())
                    return sys::fail_invalid(what + " has no string \"" + key + "\"");
                return it->get<std::string>();
            };
            LayerSource s;
            s.blob.digest = MD_TRY(str("digest"));
            MD_TRY(digest_hex(s.blob.digest, what));
            s.blob.media_type = MD_TRY(str("mediaType"));
            s.registry = MD_TRY(str("registry"));
            s.repository = MD_TRY(str("repository"));
            auto size = e.find("size");
            if (size == e.end() || !size->is_number_integer() || size->get<int64_t>() < 0)
                return sys::fail_invalid(what + " has no size");
            s.blob.size = size->get<int64_t>();
            out[diff_id].push_back(std::move(s));
        }
    }
    return out;
}

std::string distribution_json(const DistributionMetadata& meta) {
    json j = json::object();
    for (const auto& [diff_id, list] : meta) {
        if (list.empty()) continue;
        json a = json::array();
        for (const auto& s : list)
            a.push_back({{"digest", s.blob.digest},
                         {"mediaType", s.blob.media_type},
                         {"size", s.blob.size},
                         {"registry", s.registry},
                         {"repository", s.repository}});
        j[diff_id] = std::move(a);
    }
    return sys::json_text(j);
}

sys::Result<DistributionMetadata> read_distribution(const Layout& lay) {
    const std::string path = file_path(lay);
    auto text = sys::read_file(path);
    if (!text) {
        if (text.error().err() == ENOENT) return DistributionMetadata{};
        return sys::fail(std::move(text.error()));
    }
    return MD_TRY_CTX(parse_distribution(*text), "\"" + path + "\"");
}

sys::Result<void> record_layer_source(const Layout& lay, const WriteLock& lock,
                                      const std::string& diff_id, const Descriptor& compressed,
                                      const std::string& registry, const std::string& repository) {
    MD_TRY(digest_hex(diff_id, "layer"));
    MD_TRY(digest_hex(compressed.digest, "blob of layer " + diff_id));
    if (registry.empty() || repository.empty())
        return sys::fail_invalid("layer " + diff_id +
                                 ": a source needs a registry and a repository");
    // A cache: a file that does not parse is started afresh rather than blocking the push.
    auto meta = read_distribution(lay);
    if (!meta && meta.error().code() != sys::ErrorCode::invalid_argument)
        return sys::fail(std::move(meta.error()));
    DistributionMetadata all = meta ? std::move(*meta) : DistributionMetadata{};
    LayerSource src{compressed, registry, repository};
    auto& list = all[diff_id];
    std::erase_if(list, [&](const LayerSource& s) { return same_place(s, src); });
    list.insert(list.begin(), std::move(src));
    if (list.size() > kMaxLayerSources) list.resize(kMaxLayerSources);
    return write_distribution(lay, lock, all);
}

std::vector<LayerSource> lookup_layer_sources(const Layout& lay, const std::string& diff_id,
                                              const std::string& registry,
                                              const std::string& repository) {
    auto meta = read_distribution(lay);
    if (!meta) return {};
    auto it = meta->find(diff_id);
    if (it == meta->end()) return {};
    std::vector<LayerSource> out;
    for (const auto& s : it->second)
        if (s.registry == registry) out.push_back(s);
    std::stable_partition(out.begin(), out.end(),
                          [&](const LayerSource& s) { return s.repository == repository; });
    return out;
}

sys::Result<void> prune_distribution(const Layout& lay, const WriteLock& lock,
                                     const std::vector<std::string>& diff_ids) {
    auto meta = read_distribution(lay);
    if (!meta) {
        if (meta.error().code() != sys::ErrorCode::invalid_argument)
            return sys::fail(std::move(meta.error()));
        meta = DistributionMetadata{};
    }
    const std::set<std::string> keep(diff_ids.begin(), diff_ids.end());
    const size_t before = meta->size();
    std::erase_if(*meta, [&](const auto& kv) { return !keep.contains(kv.first); });
    if (meta->size() == before) return {};
    return write_distribution(lay, lock, *meta);
}

}  // namespace mydocker::engine::images
