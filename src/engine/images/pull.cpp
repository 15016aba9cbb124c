// pull: reference -> registry -> manifest (an index picks the platform) -> config (small, in
// memory) -> the layers, three at a time, each streamed through pull_layer.h into the store
// -> the image registered under the store's write lock.
#include "engine/images/pull.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <tuple>

#include "engine/images/config.h"
#include "engine/images/digest.h"
#include "engine/images/distribution.h"
#include "engine/images/http.h"
#include "engine/images/layout.h"
#include "engine/images/names.h"
#include "engine/images/pull_layer.h"
#include "engine/images/reference.h"
#include "engine/images/registry_client.h"
#include "engine/images/store.h"
#include "engine/images/write.h"
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

/// A config blob (small: read into memory), checked against its digest and size.
sys::Result<std::string> fetch_config(RegistryClient& reg, const std::string& digest, int64_t size) {
    MD_TRY(digest_hex(digest, "config"));
    auto resp = MD_TRY(reg.get("blobs/" + digest, {}));
    if (resp.status != 200) return sys::fail_invalid(registry_status_error(resp, "config " + digest));
    if (size > 0 && static_cast<int64_t>(resp.body.size()) != size)
        return sys::fail_invalid("config " + digest + ": " + std::to_string(resp.body.size()) + " bytes, its manifest says " +
                                 std::to_string(size));
    if ("sha256:" + MD_TRY(sha256_hex(resp.body)) != digest)
        return sys::fail_invalid("config " + digest + ": content does not match its digest");
    return std::move(resp.body);
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

/// The image config: from the store when it is there, else from the registry.
sys::Result<std::string> load_config(const Layout& lay, RegistryClient& reg, const json& manifest) {
    const json& desc = manifest["config"];
    if (!desc.is_object()) return sys::fail_invalid("the manifest's config is not a descriptor");
    std::string digest = desc.value("digest", "");
    if (auto have = lay.read_blob(digest); have && "sha256:" + MD_TRY(sha256_hex(*have)) == digest) return std::move(*have);
    return fetch_config(reg, digest, desc.value("size", int64_t{0}));
}

/// The layers of `manifest`, bottom first, each with its diff_id from the config.
sys::Result<std::vector<LayerJob>> layer_jobs(const json& manifest, const std::string& config_text) {
    json cfg = json::parse(config_text, nullptr, false);
    if (!cfg.is_object() || !cfg.contains("rootfs") || !cfg["rootfs"].contains("diff_ids") ||
        !cfg["rootfs"]["diff_ids"].is_array())
        return sys::fail_invalid("the image config has no rootfs.diff_ids");
    const json& diff_ids = cfg["rootfs"]["diff_ids"];
    const json& layers = manifest["layers"];
    if (diff_ids.size() != layers.size())
        return sys::fail_invalid("the manifest has " + std::to_string(layers.size()) + " layers, its config " +
                                 std::to_string(diff_ids.size()) + " diff_ids");
    std::vector<LayerJob> out;
    for (size_t i = 0; i < layers.size(); ++i) {
        LayerJob job;
        job.diff_id = diff_ids[i].is_string() ? diff_ids[i].get<std::string>() : "";
        MD_TRY(digest_hex(job.diff_id, "rootfs.diff_ids"));
        if (!layers[i].is_object() || (layers[i].contains("size") && !layers[i]["size"].is_number_integer()))
            return sys::fail_invalid("a layer descriptor of the manifest is malformed");
        job.compressed = Descriptor{layers[i].value("mediaType", ""), layers[i].value("digest", ""), layers[i].value("size", int64_t{0})};
        job.short_id = MD_TRY(digest_hex(job.compressed.digest, "layer")).substr(0, 12);
        out.push_back(std::move(job));
    }
    return out;
}

/// Under the store's lock: the image of `config_text` and `layers` (each checked still there:
/// rmi or prune may have removed one since it was fetched) under `names`, with its RepoDigest.
sys::Result<void> register_image(const Layout& lay, const std::string& config_text, const std::vector<LayerJob>& layers,
                                 const std::vector<std::string>& names, const std::string& repo_dig) {
    auto lk = MD_TRY(lay.lock());
    std::vector<Descriptor> stored;
    for (const auto& job : layers) {
        std::string blob = MD_TRY(lay.blob_path(job.diff_id));
        struct stat st;
        if (::stat(blob.c_str(), &st) < 0 || !sys::path_exists(MD_TRY(lay.layer_dir(job.diff_id))))
            return sys::fail(sys::Error::bad_state("layer " + job.diff_id + " was removed while the image was pulled: pull again"));
        stored.push_back(Descriptor{kMediaLayer, job.diff_id, st.st_size});
    }
    auto si = MD_TRY(lay.add_image(lk, config_text, stored, names));
    // docker's RepoDigests: the registry's digest, which differs from the manifest we store.
    return lay.add_repo_digest(lk, si.image.id, repo_dig);
}

// How many layers are fetched at once (docker's max-concurrent-downloads).
constexpr size_t kParallelLayers = 3;

/// Fetch `jobs` with kParallelLayers workers, each with its own copy of `reg` (its scheme and
/// token as the manifest fetch left them: a RegistryClient is not shared between threads).
/// The first failure stops the others; it is the error returned.
sys::Result<void> fetch_layers(const Layout& lay, const RegistryClient& reg, const std::vector<LayerJob>& jobs,
                               const std::function<void(const LayerJob&, const std::string&, int64_t, int64_t)>& status) {
    std::atomic<size_t> next{0};
    std::atomic<bool> cancel{false};
    std::mutex mu;
    std::optional<sys::Error> first_error;
    auto work = [&](RegistryClient client) {
        for (size_t i; !cancel && (i = next++) < jobs.size();) {
            const LayerJob& job = jobs[i];
            auto r = fetch_layer(lay, client, job, [&](const std::string& s, int64_t cur, int64_t total) { status(job, s, cur, total); },
                                 cancel);
            if (!r) {
                std::lock_guard g(mu);
                if (!first_error) first_error = std::move(r.error());
                cancel = true;
                return;
            }
            status(job, *r == LayerOutcome::fetched ? "Pull complete" : "Already exists", -1, -1);
        }
    };
    std::vector<std::thread> workers;
    try {
        for (size_t w = 1; w < std::min(kParallelLayers, jobs.size()); ++w) workers.emplace_back(work, reg);
    } catch (const std::system_error& e) {
        cancel = true;
        for (auto& t : workers) t.join();
        return sys::fail(sys::Error::from_errno(e.code().value(), "start a download thread"));
    }
    work(reg);  // this thread is a worker too
    for (auto& t : workers) t.join();
    if (first_error) return sys::fail(std::move(*first_error));
    return {};
}

}  // namespace

sys::Result<PullResult> pull(const Context& ctx, const std::string& ref_text, const PullOptions& opts) {
    Reference ref = MD_TRY(parse_reference(ref_text));
    const bool default_tag = !ref.tag && !ref.digest;
    ref = ref.normalized();
    std::mutex say_mu;
    auto say = [&](const std::string& line) {
        std::lock_guard g(say_mu);
        if (opts.progress) opts.progress(line);
    };
    auto layer_status = [&](const std::string& id, const std::string& status, int64_t cur, int64_t total) {
        std::lock_guard g(say_mu);
        if (opts.layer_progress)
            opts.layer_progress(id, status, cur, total);
        else if (opts.progress && status != "Downloading" && status != "Extracting" && status != "Retrying")
            opts.progress(id + ": " + status);
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
    // Creates the store if needed and sweeps what a pull that died left (a pull holds the lock
    // only for its commits).
    { auto lk = MD_TRY(lay.lock()); }

    std::string config_text = MD_TRY_CTX(load_config(lay, reg, manifest), "pull " + shown);
    std::vector<LayerJob> all = MD_TRY_CTX(layer_jobs(manifest, config_text), "pull " + shown);
    const std::string cfg_digest = "sha256:" + MD_TRY(sha256_hex(config_text));

    // Already here under this name with the same config: nothing to fetch.
    if (!res.store_name.empty()) {
        for (const auto& e : MD_TRY(lay.read_index())) {
            if (e.name != res.store_name) continue;
            auto si = lay.read_image(e.manifest);
            if (si && "sha256:" + si->image.id == cfg_digest) res.up_to_date = true;
        }
    }
    std::vector<LayerJob> jobs;
    for (const auto& job : all) {
        if (sys::path_exists(MD_TRY(lay.blob_path(job.diff_id))) && sys::path_exists(MD_TRY(lay.layer_dir(job.diff_id)))) {
            if (!res.up_to_date) layer_status(job.short_id, "Already exists", -1, -1);
            continue;
        }
        bool dup = std::any_of(jobs.begin(), jobs.end(), [&](const LayerJob& j) { return j.diff_id == job.diff_id; });
        if (dup) continue;  // the same layer twice in one image: fetched once
        layer_status(job.short_id, "Waiting", -1, -1);
        jobs.push_back(job);
    }
    MD_TRY_CTX(fetch_layers(lay, reg, jobs,
                            [&](const LayerJob& j, const std::string& s, int64_t cur, int64_t total) { layer_status(j.short_id, s, cur, total); }),
               "pull " + shown);

    std::vector<std::string> names;
    if (!res.store_name.empty()) names.push_back(res.store_name);
    MD_TRY_CTX(register_image(lay, config_text, all, names, MD_TRY(repo_digest(ref.familiar_name(), digest))), "pull " + shown);
    // Distribution metadata (a cache for push: which compressed blob of this registry and
    // repository each layer is), also for the layers that were here already.
    auto recorded = [&]() -> sys::Result<void> {
        auto lk = MD_TRY(lay.lock());
        for (const auto& job : all) MD_TRY(record_layer_source(lay, lk, job.diff_id, job.compressed, ref.domain, ref.path));
        return {};
    }();
    if (!recorded) ctx.log.warn("pull " + shown + ": record the layers' sources: " + recorded.error().message());
    say("Digest: " + digest);
    say(std::string("Status: ") + (res.up_to_date ? "Image is up to date for " : "Downloaded newer image for ") + shown);
    return res;
}

}  // namespace mydocker::engine::images
