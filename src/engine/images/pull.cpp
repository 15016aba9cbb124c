// pull: reference -> registry -> manifest (an index picks the platform) -> config and layer
// blobs, each hashed as it streams into the store's temp dir, then the layers unpacked and
// the image registered under the store's write lock.
#include "engine/images/pull.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <tuple>

#include "engine/images/config.h"
#include "engine/images/digest.h"
#include "engine/images/http.h"
#include "engine/images/layout.h"
#include "engine/images/names.h"
#include "engine/images/reference.h"
#include "engine/images/registry_client.h"
#include "engine/images/store.h"
#include "engine/images/write.h"
#include "sys/cleanup.h"
#include "sys/files.h"
#include "sys/strings.h"

namespace mydocker::engine::images {

using nlohmann::json;

namespace {

constexpr const char* kAcceptManifests =
    "Accept: application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

bool is_index(const std::string& media_type) {
    return media_type == "application/vnd.oci.image.index.v1+json" ||
           media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}


/// A manifest (or index) by tag or digest; checked against the digest it was asked by.
sys::Result<std::pair<std::string, std::string>> fetch_manifest(RegistryClient& reg, const std::string& reference,
                                                                const std::string& shown) {
    auto resp = MD_TRY(reg.get("manifests/" + reference, {kAcceptManifests}));
    if (resp.status == 404)
        return sys::fail(sys::Error::not_found(registry_status_error(resp, "manifest for " + shown + " not found")));
    if (resp.status != 200) return sys::fail_invalid(registry_status_error(resp, "manifest for " + shown));
    auto hash = MD_TRY(Sha256::create());
    hash.update(resp.body);
    std::string digest = "sha256:" + hash.finish();
    if (reference.starts_with("sha256:") && digest != reference)
        return sys::fail_invalid("manifest for " + shown + ": content does not match its digest " + reference);
    return std::make_pair(resp.body, digest);
}

/// The manifest of an index that fits `os`/`arch`[/`variant`].
sys::Result<std::string> pick_platform(const json& index, const std::string& platform, const std::string& shown) {
    std::string os = "linux", arch = host_architecture(), variant;
    if (!platform.empty()) {
        auto parts = sys::split(platform, '/');
        if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
            return sys::fail_invalid("--platform: \"" + platform + "\" is not os/arch[/variant]");
        os = parts[0];
        arch = parts[1];
        if (parts.size() == 3) variant = parts[2];
    }
    if (index.contains("manifests") && index["manifests"].is_array()) {
        for (const auto& m : index["manifests"]) {
            if (!m.is_object() || !m.contains("platform") || !m["platform"].is_object()) continue;
            const json& p = m["platform"];
            if (p.value("os", "") != os || p.value("architecture", "") != arch) continue;
            if (!variant.empty() && p.value("variant", "") != variant) continue;
            std::string d = m.value("digest", "");
            MD_TRY(digest_hex(d, "manifest list entry"));
            return d;
        }
    }
    return sys::fail(sys::Error::not_found("no matching manifest for " + os + "/" + arch +
                                           (variant.empty() ? "" : "/" + variant) + " in the manifest list entries of " + shown));
}

/// A blob streamed into `path`, checked against `digest` and `size` (when known).
sys::Result<void> fetch_blob(RegistryClient& reg, const std::string& digest, int64_t size, const std::string& path) {
    MD_TRY(digest_hex(digest, "blob"));
    auto out = MD_TRY(sys::open_file(path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    auto hash = MD_TRY(Sha256::create());
    int64_t got = 0;
    auto resp = MD_TRY(reg.get("blobs/" + digest, {}, [&](std::string_view d) -> sys::Result<void> {
        got += static_cast<int64_t>(d.size());
        if (size > 0 && got > size) return sys::fail_invalid("blob " + digest + " is larger than its " + std::to_string(size) + " bytes");
        hash.update(d);
        return sys::write_all(out.get(), d);
    }));
    if (resp.status != 200) return sys::fail_invalid(registry_status_error(resp, "blob " + digest));
    if (size > 0 && got != size)
        return sys::fail_invalid("blob " + digest + ": " + std::to_string(got) + " bytes, its manifest says " + std::to_string(size));
    if ("sha256:" + hash.finish() != digest) return sys::fail_invalid("blob " + digest + ": content does not match its digest");
    return {};
}

/// The image manifest to pull (an index resolved to one platform), and its digest.
sys::Result<std::pair<json, std::string>> resolve_manifest(RegistryClient& reg, const Reference& ref,
                                                           const PullOptions& opts, const std::string& shown) {
    auto [text, digest] = MD_TRY(fetch_manifest(reg, ref.manifest_reference(), shown));
    json m = json::parse(text, nullptr, false);
    if (!m.is_object()) return sys::fail_invalid("manifest for " + shown + " is not JSON");
    std::string mt = m.value("mediaType", "");
    if (is_index(mt) || (mt.empty() && m.contains("manifests"))) {
        std::string pick = MD_TRY(pick_platform(m, opts.platform, shown));
        std::tie(text, digest) = MD_TRY(fetch_manifest(reg, pick, shown));
        m = json::parse(text, nullptr, false);
        if (!m.is_object()) return sys::fail_invalid("manifest " + pick + " is not JSON");
    }
    if (m.value("schemaVersion", 0) != 2 || !m.contains("config") || !m.contains("layers") || !m["layers"].is_array())
        return sys::fail_invalid("manifest for " + shown + ": not an image manifest (schema 2 or OCI)");
    return std::make_pair(std::move(m), digest);
}

}  // namespace

sys::Result<PullResult> pull(const Context& ctx, const std::string& ref_text, const PullOptions& opts) {
    Reference ref = MD_TRY(parse_reference(ref_text));
    const bool default_tag = !ref.tag && !ref.digest;
    ref = ref.normalized();
    auto say = [&](const std::string& line) {
        if (opts.progress) opts.progress(line);
    };
    const std::string shown = ref.familiar_string();
    if (default_tag) say("Using default tag: latest");
    say((ref.digest ? *ref.digest : *ref.tag) + ": Pulling from " + ref.path);
    RegistryClient reg(ref);
    auto [manifest, digest] = MD_TRY_CTX(resolve_manifest(reg, ref, opts, shown), "pull " + shown);

    PullResult res;
    res.name = ref.string();
    res.digest = digest;
    if (ref.tag) res.store_name = MD_TRY(normalize_name(ref.familiar_name() + ":" + *ref.tag));

    Layout lay(ctx);
    auto lk = MD_TRY(lay.lock());
    std::string tmp = sys::path_join(lay.tmp_dir(), "pull.XXXXXX");
    if (!::mkdtemp(tmp.data())) return sys::fail_errno("pull: mkdtemp in \"" + lay.tmp_dir() + "\"");
    sys::CleanupStack undo;
    undo.push([tmp] { (void)sys::remove_all(tmp); });

    const json& cfg_desc = manifest["config"];
    std::string cfg_digest = cfg_desc.value("digest", "");
    std::string cfg_path = sys::path_join(tmp, "config");
    MD_TRY_CTX(fetch_blob(reg, cfg_digest, cfg_desc.value("size", int64_t{0}), cfg_path), "pull " + shown + ": config");
    std::string config_text = MD_TRY(sys::read_file(cfg_path));
    json cfg = json::parse(config_text, nullptr, false);
    if (!cfg.is_object() || !cfg.contains("rootfs") || !cfg["rootfs"].contains("diff_ids") ||
        !cfg["rootfs"]["diff_ids"].is_array())
        return sys::fail_invalid("pull " + shown + ": config " + cfg_digest + " has no rootfs.diff_ids");
    const json& diff_ids = cfg["rootfs"]["diff_ids"];
    const json& layers = manifest["layers"];
    if (diff_ids.size() != layers.size())
        return sys::fail_invalid("pull " + shown + ": the manifest has " + std::to_string(layers.size()) +
                                 " layers, its config " + std::to_string(diff_ids.size()) + " diff_ids");

    // Already here under this name with the same config: nothing to fetch.
    if (!res.store_name.empty()) {
        for (const auto& e : MD_TRY(lay.read_index())) {
            if (e.name != res.store_name) continue;
            auto si = lay.read_image(e.manifest);
            if (si && "sha256:" + si->image.id == cfg_digest) res.up_to_date = true;
        }
    }
    std::vector<Descriptor> stored;
    for (size_t i = 0; i < layers.size(); ++i) {
        std::string diff_id = diff_ids[i].is_string() ? diff_ids[i].get<std::string>() : "";
        std::string hex = MD_TRY(digest_hex(diff_id, "pull " + shown + ": rootfs.diff_ids"));
        std::string blob_digest = layers[i].value("digest", "");
        std::string short_id = MD_TRY(digest_hex(blob_digest, "pull " + shown + ": layer")).substr(0, 12);
        std::string blob = MD_TRY(lay.blob_path(diff_id));
        struct stat st;
        if (::stat(blob.c_str(), &st) == 0 && sys::path_exists(MD_TRY(lay.layer_dir(diff_id)))) {
            if (!res.up_to_date) say(short_id + ": Already exists");
            stored.push_back(Descriptor{kMediaLayer, diff_id, st.st_size});
            continue;
        }
        std::string path = sys::path_join(tmp, hex);
        MD_TRY_CTX(fetch_blob(reg, blob_digest, layers[i].value("size", int64_t{0}), path), "pull " + shown);
        auto fd = MD_TRY(sys::open_file(path, O_RDONLY));
        // Decompressed (gzip, zstd or none) and checked against the diff_id on the way in.
        stored.push_back(MD_TRY(add_layer_from_fd(lay, lk, fd.get(), "pull " + shown + ": layer " + blob_digest, diff_id)));
        (void)::unlink(path.c_str());
        say(short_id + ": Pull complete");
    }
    std::vector<std::string> names;
    if (!res.store_name.empty()) names.push_back(res.store_name);
    auto si = MD_TRY(lay.add_image(lk, config_text, stored, names));
    // docker's RepoDigests: the registry's digest, which differs from the manifest we store.
    MD_TRY(lay.add_repo_digest(lk, si.image.id, MD_TRY(repo_digest(ref.familiar_name(), digest))));
    say("Digest: " + digest);
    say(std::string("Status: ") + (res.up_to_date ? "Image is up to date for " : "Downloaded newer image for ") + shown);
    return res;
}

}  // namespace mydocker::engine::images
