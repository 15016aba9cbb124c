// Store: rmi and image prune. Both decide under the write lock, on the index they re-read
// there, and then delete the blobs and layer dirs no remaining image refers to.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>

#include "engine/images/distribution.h"
#include "engine/images/internal.h"
#include "engine/images/layout.h"
#include "engine/images/names.h"
#include "engine/images/store.h"
#include "sys/files.h"

namespace mydocker::engine::images {

namespace {

// Every blob digest and "layer:<diff_id>" that `images` refer to, but those of `gone` ids.
std::set<std::string> referenced(const std::vector<StoredImage>& images,
                                 const std::set<std::string>& gone) {
    std::set<std::string> keep;
    for (const auto& other : images) {
        if (gone.count(other.image.id)) continue;
        keep.insert(other.image.manifest_digest);
        keep.insert(other.config.digest);
        for (const auto& l : other.layers) keep.insert(l.digest);
        for (const auto& d : other.image.diff_ids) keep.insert("layer:" + d);
    }
    return keep;
}

// The distribution metadata keeps the layers in `keep` only ("layer:<diff_id>"). A cache:
// failing to rewrite it leaves stale entries, which push checks with the registry anyway.
void prune_layer_sources(const sys::Logger& log, const Layout& lay, const WriteLock& lk,
                         const std::set<std::string>& keep) {
    std::vector<std::string> diff_ids;
    for (const auto& k : keep)
        if (k.starts_with("layer:")) diff_ids.push_back(k.substr(6));
    if (auto r = prune_distribution(lay, lk, diff_ids); !r)
        log.warn("prune the distribution metadata: " + r.error().message());
}

// Remove the blob `digest` unless kept; its size is added to `freed`.
sys::Result<void> drop_blob(const Layout& lay, const std::set<std::string>& keep,
                            const std::string& digest, uint64_t& freed) {
    if (keep.count(digest)) return {};
    std::string p = MD_TRY(lay.blob_path(digest));
    struct stat st;
    if (::stat(p.c_str(), &st) == 0) freed += static_cast<uint64_t>(st.st_size);
    if (::unlink(p.c_str()) < 0 && errno != ENOENT) return sys::fail_errno("remove \"" + p + "\"");
    return {};
}

// Delete the blobs and layer dirs of `si` that `keep` does not hold; `keep` gains the layers
// removed (an image may hold one twice). Appends "<deleted>sha256:<id>" and one line per layer.
sys::Result<void> drop_image(const Layout& lay, std::set<std::string>& keep, const StoredImage& si,
                             const std::string& deleted, PruneReport& rep) {
    const Image& img = si.image;
    MD_TRY(drop_blob(lay, keep, img.manifest_digest, rep.reclaimed));
    MD_TRY(drop_blob(lay, keep, si.config.digest, rep.reclaimed));
    rep.lines.push_back(deleted + "sha256:" + img.id);
    for (size_t i = 0; i < si.layers.size(); i++) {
        MD_TRY(drop_blob(lay, keep, si.layers[i].digest, rep.reclaimed));
        const std::string& diff = img.diff_ids[i];
        if (keep.count("layer:" + diff)) continue;
        keep.insert("layer:" + diff);
        std::string dir = MD_TRY(lay.layer_dir(diff));
        if (!sys::path_exists(dir)) continue;
        MD_TRY_CTX(sys::remove_all(dir), "remove layer " + diff);
        rep.lines.push_back(deleted + diff);
    }
    return {};
}

// The RepoDigests an untag of `name` takes along: docker drops an image's digest references of
// a repository together with its last tag there.
std::vector<std::string> digests_going_with(const Image& img, const std::string& name) {
    std::string repo = split_name(name).repo;
    for (const auto& n : img.names)
        if (n != name && split_name(n).repo == repo) return {};
    std::vector<std::string> out;
    for (const auto& d : img.repo_digests)
        if (repo_of_digest(d) == repo) out.push_back(d);
    return out;
}

}  // namespace

sys::Result<std::vector<std::string>> Store::remove(std::string_view ref, bool force,
                                                    const std::set<std::string>& in_use) {
    Layout lay(ctx_);
    auto lk = MD_TRY(lay.lock());
    auto images = MD_TRY(lay.read_all());
    auto idx = MD_TRY(find_image(images, ref));
    if (!idx) return sys::fail(sys::Error::not_found("no such image \"" + std::string(ref) + "\""));
    const StoredImage& si = images[*idx];
    const Image& img = si.image;
    bool used = in_use.count(img.id) > 0;
    auto rd = MD_TRY(parse_repo_digest(ref));
    std::optional<std::string> name;
    if (!rd) {
        if (auto n = normalize_name(ref)) name = std::move(*n);
    }
    bool by_name = name && std::find(img.names.begin(), img.names.end(), *name) != img.names.end();
    bool by_digest = rd && std::find(img.repo_digests.begin(), img.repo_digests.end(), *rd) !=
                               img.repo_digests.end();
    size_t refs = img.names.size() + img.repo_digests.size();

    std::vector<std::string> untag, untag_digests;
    if (by_name || by_digest) {
        const std::string& shown = by_name ? *name : *rd;
        if (refs == 1 && used && !force)
            return sys::fail(sys::Error::bad_state(
                "conflict: unable to remove repository reference \"" + shown +
                "\" (must force): image " + short_id(img.id) + " is used by a container"));
        if (by_name) {
            untag.push_back(*name);
            untag_digests = digests_going_with(img, *name);
        } else {
            untag_digests.push_back(*rd);
        }
    } else {
        if (used && !force)
            return sys::fail(
                sys::Error::bad_state("conflict: unable to delete " + short_id(img.id) +
                                      " (must be forced): image is used by a container"));
        if (img.names.size() > 1 && !force)
            return sys::fail(sys::Error::bad_state(
                "conflict: unable to delete " + short_id(img.id) +
                " (must be forced): image is referenced in multiple repositories"));
        untag = img.names;
        untag_digests = img.repo_digests;
    }

    std::vector<std::string> lines;
    auto entries = MD_TRY(lay.read_index());
    for (const auto& n : untag) {
        std::erase_if(entries, [&](const IndexEntry& e) { return e.name == n; });
        lines.push_back("Untagged: " + n);
    }
    auto digests = MD_TRY(lay.read_repo_digests());
    auto& mine = digests[img.id];
    for (const auto& d : untag_digests) {
        std::erase(mine, d);
        lines.push_back("Untagged: " + d);
    }
    bool named =
        !mine.empty() || std::any_of(entries.begin(), entries.end(), [&](const IndexEntry& e) {
            return e.manifest.digest == img.manifest_digest && !e.name.empty();
        });
    // An image a container uses keeps its blobs and layers even when forced: the container's
    // overlay stands on those layer dirs. It stays as a dangling image.
    bool remove_image = !named && !used;
    bool listed = std::any_of(entries.begin(), entries.end(), [&](const IndexEntry& e) {
        return e.manifest.digest == img.manifest_digest;
    });
    if (!named && used && !listed) entries.push_back(IndexEntry{si.manifest, ""});
    if (remove_image)
        std::erase_if(
            entries, [&](const IndexEntry& e) { return e.manifest.digest == img.manifest_digest; });
    MD_TRY(lay.write_index(lk, entries));
    if (!untag_digests.empty()) MD_TRY(lay.write_repo_digests(lk, digests));
    if (!remove_image) return lines;

    // Blobs and layer dirs no other image refers to go with it.
    auto keep = referenced(images, {img.id});
    prune_layer_sources(ctx_.log, lay, lk, keep);
    PruneReport rep;
    rep.lines = std::move(lines);
    MD_TRY(drop_image(lay, keep, si, "Deleted: ", rep));
    return rep.lines;
}

sys::Result<PruneReport> Store::prune(bool all, const std::set<std::string>& in_use) {
    Layout lay(ctx_);
    auto lk = MD_TRY(lay.lock());
    auto images = MD_TRY(lay.read_all());
    std::set<std::string> gone;
    for (const auto& si : images) {
        const Image& img = si.image;
        if (in_use.count(img.id)) continue;
        // As docker: an image without a tag is dangling, though it may keep a digest (repo:<none>).
        bool dangling = img.names.empty();
        if (dangling || all) gone.insert(img.id);
    }
    auto entries = MD_TRY(lay.read_index());
    std::set<std::string> gone_manifests;
    for (const auto& si : images)
        if (gone.count(si.image.id)) gone_manifests.insert(si.image.manifest_digest);
    std::erase_if(entries,
                  [&](const IndexEntry& e) { return gone_manifests.count(e.manifest.digest) > 0; });
    MD_TRY(lay.write_index(lk, entries));
    // RepoDigests of images no longer here (pruned now, or removed by hand) go too.
    std::set<std::string> kept_ids;
    for (const auto& si : images)
        if (!gone.count(si.image.id)) kept_ids.insert(si.image.id);
    auto digests = MD_TRY(lay.read_repo_digests());
    std::erase_if(digests, [&](const auto& kv) { return !kept_ids.count(kv.first); });
    MD_TRY(lay.write_repo_digests(lk, digests));

    PruneReport rep;
    auto keep = referenced(images, gone);
    prune_layer_sources(ctx_.log, lay, lk, keep);
    for (const auto& si : images) {
        if (!gone.count(si.image.id)) continue;
        for (const auto& n : si.image.names) rep.lines.push_back("untagged: " + n);
        for (const auto& d : si.image.repo_digests) rep.lines.push_back("untagged: " + d);
        MD_TRY(drop_image(lay, keep, si, "deleted: ", rep));
    }
    // What no image refers to: blobs and layers a crash or a hand-edited index left behind.
    // Only full digests are ours; temp files and dirs are the lock's to clean (layout.h).
    std::string blobs = sys::path_join(lay.images_dir(), "blobs/sha256");
    if (sys::path_exists(blobs)) {
        for (const auto& hex : MD_TRY(sys::list_dir(blobs)))
            if (is_hex64(hex)) MD_TRY(drop_blob(lay, keep, "sha256:" + hex, rep.reclaimed));
    }
    if (sys::path_exists(lay.layers_dir())) {
        for (const auto& hex : MD_TRY(sys::list_dir(lay.layers_dir()))) {
            if (!is_hex64(hex) || keep.count("layer:sha256:" + hex)) continue;
            MD_TRY_CTX(sys::remove_all(sys::path_join(lay.layers_dir(), hex)),
                       "remove layer sha256:" + hex);
        }
    }
    return rep;
}

}  // namespace mydocker::engine::images
