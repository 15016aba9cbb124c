#include "engine/images/layout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "engine/images/config.h"
#include "engine/images/tar.h"
#include "sys/cleanup.h"
#include "sys/files.h"
#include "sys/json_text.h"

namespace mydocker::engine::images {

using nlohmann::json;

namespace {

sys::Result<Descriptor> parse_descriptor(const json& j, const std::string& what) {
    if (!j.is_object()) return sys::fail_invalid(what + ": not an object");
    Descriptor d;
    if (auto it = j.find("mediaType"); it != j.end() && it->is_string())
        d.media_type = it->get<std::string>();
    auto dg = j.find("digest");
    if (dg == j.end() || !dg->is_string()) return sys::fail_invalid(what + ": no digest");
    d.digest = dg->get<std::string>();
    MD_TRY(digest_hex(d.digest, what));
    if (auto it = j.find("size"); it != j.end() && it->is_number_integer())
        d.size = it->get<int64_t>();
    return d;
}

json descriptor_json(const Descriptor& d) {
    return json{{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
}

}  // namespace

// --- BlobWriter ------------------------------------------------------------------------------

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : tmp_(std::move(o.tmp_)),
      blobs_dir_(std::move(o.blobs_dir_)),
      fd_(std::move(o.fd_)),
      hash_(std::move(o.hash_)),
      done_(std::move(o.done_)),
      size_(o.size_),
      committed_(o.committed_) {
    o.committed_ = true;
}

BlobWriter::~BlobWriter() {
    if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

sys::Result<void> BlobWriter::write(std::string_view data) {
    if (done_) return sys::fail(sys::Error::bad_state("blob \"" + tmp_ + "\" is already finished"));
    MD_TRY_CTX(sys::write_all(fd_.get(), data), "write blob \"" + tmp_ + "\"");
    hash_.update(data);
    size_ += static_cast<int64_t>(data.size());
    return {};
}

sys::Result<Descriptor> BlobWriter::finish(std::string media_type) {
    if (!done_) {
        // The index will point at this blob: it must be on disk before the index is.
        if (::fsync(fd_.get()) < 0) return sys::fail_errno("fsync \"" + tmp_ + "\"");
        fd_.reset();
        done_ = Descriptor{std::move(media_type), "sha256:" + hash_.finish(), size_};
    } else {
        done_->media_type = std::move(media_type);
    }
    return *done_;
}

sys::Result<Descriptor> BlobWriter::commit(std::string media_type) {
    Descriptor d = MD_TRY(finish(std::move(media_type)));
    if (committed_) return d;
    std::string dest = sys::path_join(blobs_dir_, d.digest.substr(7));
    if (sys::path_exists(dest)) {
        ::unlink(tmp_.c_str());  // content-addressed: the blob we have is the same
    } else if (::rename(tmp_.c_str(), dest.c_str()) < 0) {
        return sys::fail_errno("rename \"" + tmp_ + "\" to \"" + dest + "\"");
    }
    committed_ = true;
    return d;
}

// --- Layout ----------------------------------------------------------------------------------

std::string Layout::tmp_dir() const {
    return sys::path_join(images_, "tmp");
}

sys::Result<std::string> Layout::blob_path(std::string_view digest) const {
    std::string hex = MD_TRY(digest_hex(digest, "blob"));
    return sys::path_join(images_, "blobs/sha256/" + hex);
}

sys::Result<std::string> Layout::layer_dir(std::string_view diff_id) const {
    std::string hex = MD_TRY(digest_hex(diff_id, "layer diff_id"));
    return sys::path_join(layers_, hex);
}

sys::Result<std::vector<IndexEntry>> Layout::read_index() const {
    std::string path = sys::path_join(images_, "index.json");
    auto text = sys::read_file(path);
    if (!text) {
        if (text.error().err() == ENOENT) return std::vector<IndexEntry>{};
        return sys::fail(std::move(text.error()));
    }
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return sys::fail_invalid("\"" + path + "\" is not a JSON object");
    std::vector<IndexEntry> out;
    auto m = j.find("manifests");
    if (m == j.end() || m->is_null()) return out;
    if (!m->is_array()) return sys::fail_invalid("\"" + path + "\": manifests is not an array");
    for (const auto& e : *m) {
        IndexEntry ie;
        ie.manifest = MD_TRY_CTX(parse_descriptor(e, "manifest descriptor"), "\"" + path + "\"");
        if (auto a = e.find("annotations"); a != e.end() && a->is_object()) {
            if (auto n = a->find(kAnnotationRefName); n != a->end() && n->is_string())
                ie.name = n->get<std::string>();
        }
        out.push_back(std::move(ie));
    }
    return out;
}

sys::Result<void> Layout::write_index(const WriteLock&,
                                      const std::vector<IndexEntry>& entries) const {
    json manifests = json::array();
    for (const auto& e : entries) {
        json d = descriptor_json(e.manifest);
        if (!e.name.empty()) d["annotations"] = {{kAnnotationRefName, e.name}};
        manifests.push_back(std::move(d));
    }
    json j = {
        {"schemaVersion", 2}, {"mediaType", kMediaIndex}, {"manifests", std::move(manifests)}};
    return sys::write_file_atomic(sys::path_join(images_, "index.json"), sys::json_text(j), 0644);
}

sys::Result<RepoDigests> Layout::read_repo_digests() const {
    std::string path = sys::path_join(images_, "repodigests.json");
    auto text = sys::read_file(path);
    if (!text) {
        if (text.error().err() == ENOENT) return RepoDigests{};
        return sys::fail(std::move(text.error()));
    }
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return sys::fail_invalid("\"" + path + "\" is not a JSON object");
    RepoDigests out;
    for (const auto& [id, list] : j.items()) {
        if (!list.is_array())
            return sys::fail_invalid("\"" + path + "\": " + id + " is not an array");
        for (const auto& d : list) {
            if (!d.is_string())
                return sys::fail_invalid("\"" + path + "\": " + id + " holds a non-string");
            out[id].push_back(d.get<std::string>());
        }
    }
    return out;
}

sys::Result<void> Layout::write_repo_digests(const WriteLock&, const RepoDigests& digests) const {
    json j = json::object();
    for (const auto& [id, list] : digests)
        if (!list.empty()) j[id] = list;
    return sys::write_file_atomic(sys::path_join(images_, "repodigests.json"), sys::json_text(j), 0644);
}

sys::Result<void> Layout::add_repo_digest(const WriteLock& lk, const std::string& id,
                                          const std::string& repo_digest) const {
    auto all = MD_TRY(read_repo_digests());
    auto& list = all[id];
    if (std::find(list.begin(), list.end(), repo_digest) != list.end()) return {};
    list.push_back(repo_digest);
    return write_repo_digests(lk, all);
}

sys::Result<std::string> Layout::read_blob(std::string_view digest) const {
    std::string path = MD_TRY(blob_path(digest));
    auto text = sys::read_file(path);
    if (!text && text.error().err() == ENOENT)
        return sys::fail(
            sys::Error::not_found("blob " + std::string(digest) + " is missing from the store"));
    return text;
}

sys::Result<StoredImage> Layout::read_image(const Descriptor& manifest) const {
    const std::string what = "manifest " + manifest.digest;
    std::string text = MD_TRY(read_blob(manifest.digest));
    json m = json::parse(text, nullptr, false);
    if (m.is_discarded() || !m.is_object()) return sys::fail_invalid(what + ": not a JSON object");
    StoredImage si;
    si.manifest = manifest;
    if (si.manifest.media_type.empty()) si.manifest.media_type = kMediaManifest;
    auto cfg = m.find("config");
    if (cfg == m.end()) return sys::fail_invalid(what + ": no config");
    si.config = MD_TRY(parse_descriptor(*cfg, what + ": config"));
    if (auto l = m.find("layers"); l != m.end() && l->is_array()) {
        for (const auto& d : *l) si.layers.push_back(MD_TRY(parse_descriptor(d, what + ": layer")));
    }
    si.config_text = MD_TRY(read_blob(si.config.digest));
    Image& img = si.image;
    img.id = si.config.digest.substr(7);
    img.manifest_digest = manifest.digest;
    MD_TRY_CTX(parse_config_blob(si.config_text, img), "image " + img.id.substr(0, 12));
    if (img.diff_ids.size() != si.layers.size())
        return sys::fail_invalid("image " + img.id.substr(0, 12) + ": " +
                                 std::to_string(si.layers.size()) + " layers but " +
                                 std::to_string(img.diff_ids.size()) + " diff_ids");
    for (size_t i = 0; i < img.diff_ids.size(); i++) {
        img.layer_dirs.push_back(
            MD_TRY_CTX(layer_dir(img.diff_ids[i]), "image " + img.id.substr(0, 12)));
        img.size += static_cast<uint64_t>(std::max<int64_t>(si.layers[i].size, 0));
    }
    return si;
}

sys::Result<std::vector<StoredImage>> Layout::read_all() const {
    auto entries = MD_TRY(read_index());
    std::vector<StoredImage> out;
    std::map<std::string, size_t> by_digest;
    for (const auto& e : entries) {
        auto it = by_digest.find(e.manifest.digest);
        if (it == by_digest.end()) {
            auto si = read_image(e.manifest);
            if (!si) {
                if (si.error().code() == sys::ErrorCode::not_found) continue;
                return sys::fail(std::move(si.error()));
            }
            it = by_digest.emplace(e.manifest.digest, out.size()).first;
            out.push_back(std::move(*si));
        }
        if (!e.name.empty()) out[it->second].image.names.push_back(e.name);
    }
    auto digests = MD_TRY(read_repo_digests());
    for (auto& si : out)
        if (auto d = digests.find(si.image.id); d != digests.end())
            si.image.repo_digests = d->second;
    return out;
}

sys::Result<WriteLock> Layout::lock() const {
    // Root-only (engine/store/perms.h): layers hold images' setuid files and device nodes.
    MD_TRY(sys::mkdir_all(images_, 0700));
    MD_TRY(sys::mkdir_all(sys::path_join(images_, "blobs/sha256")));
    MD_TRY(sys::mkdir_all(tmp_dir(), 0700));
    MD_TRY(sys::mkdir_all(layers_, 0700));
    auto fl = MD_TRY(sys::FileLock::acquire(sys::path_join(images_, "lock")));
    WriteLock lk(std::move(fl));
    std::string layout_file = sys::path_join(images_, "oci-layout");
    if (!sys::path_exists(layout_file))
        MD_TRY(sys::write_file_atomic(layout_file, R"({"imageLayoutVersion":"1.0.0"})", 0644));
    if (!sys::path_exists(sys::path_join(images_, "index.json"))) MD_TRY(write_index(lk, {}));
    MD_TRY(sweep_leftovers());
    return lk;
}

sys::Result<BlobWriter> Layout::new_blob(const WriteLock&) const {
    auto hash = MD_TRY(Sha256::create());
    std::string tmpl = sys::path_join(tmp_dir(), "blob.XXXXXX");
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) return sys::fail_errno("create a temp file in \"" + tmp_dir() + "\"");
    ::fchmod(fd, 0644);
    return BlobWriter(tmpl, sys::path_join(images_, "blobs/sha256"), sys::UniqueFd(fd),
                      std::move(hash));
}

sys::Result<Descriptor> Layout::write_blob(const WriteLock& lk, std::string_view data,
                                           std::string media_type) const {
    auto w = MD_TRY(new_blob(lk));
    MD_TRY(w.write(data));
    return w.commit(std::move(media_type));
}

sys::Result<void> Layout::ensure_layer(const WriteLock& lk, std::string_view diff_id) const {
    std::string dir = MD_TRY(layer_dir(diff_id));
    if (sys::path_exists(dir)) return {};
    std::string blob = MD_TRY(blob_path(diff_id));
    if (!sys::path_exists(blob))
        return sys::fail(sys::Error::not_found(
            "layer " + std::string(diff_id) +
            " is not unpacked and its blob is missing: remove the image and load it again"));
    return install_layer(lk, blob, diff_id);
}

sys::Result<void> Layout::install_layer(const WriteLock&, const std::string& tar_path,
                                        std::string_view diff_id) const {
    std::string dir = MD_TRY(layer_dir(diff_id));
    if (sys::path_exists(dir)) return {};
    std::string tmp = sys::path_join(
        layers_, ".tmp-" + dir.substr(dir.size() - 64) + "." + std::to_string(::getpid()));
    MD_TRY(sys::remove_all(tmp));
    if (::mkdir(tmp.c_str(), 0755) < 0) return sys::fail_errno("mkdir \"" + tmp + "\"");
    sys::CleanupStack undo;
    undo.push([tmp] { (void)sys::remove_all(tmp); });
    auto fd = MD_TRY(sys::open_file(tar_path, O_RDONLY));
    MD_TRY_CTX(unpack_tar(fd.get(), tmp, tar_path),
               "unpack layer " + std::string(diff_id).substr(0, 19));
    if (::rename(tmp.c_str(), dir.c_str()) < 0) {
        if (errno != EEXIST && errno != ENOTEMPTY)
            return sys::fail_errno("rename \"" + tmp + "\" to \"" + dir + "\"");
        return {};  // the undo removes our copy; the one in place is the same layer
    }
    undo.commit();
    return {};
}

std::string manifest_json(const Descriptor& config, const std::vector<Descriptor>& layers) {
    json ls = json::array();
    for (const auto& l : layers) ls.push_back(descriptor_json(l));
    json m = {{"schemaVersion", 2},
              {"mediaType", kMediaManifest},
              {"config", descriptor_json(config)},
              {"layers", std::move(ls)}};
    return sys::json_text(m);
}

void set_name(std::vector<IndexEntry>& entries, const Descriptor& manifest,
              const std::string& name) {
    auto refs = [&](const std::string& digest) {
        return std::count_if(entries.begin(), entries.end(),
                             [&](const IndexEntry& e) { return e.manifest.digest == digest; });
    };
    auto same = std::find_if(entries.begin(), entries.end(),
                             [&](const IndexEntry& e) { return e.name == name; });
    if (same != entries.end()) {
        if (same->manifest.digest == manifest.digest) return;
        std::string old = same->manifest.digest;
        Descriptor old_desc = same->manifest;
        entries.erase(same);
        if (refs(old) == 0) entries.push_back(IndexEntry{old_desc, ""});
    }
    std::erase_if(entries, [&](const IndexEntry& e) {
        return e.manifest.digest == manifest.digest && e.name.empty();
    });
    entries.push_back(IndexEntry{manifest, name});
}

sys::Result<StoredImage> Layout::add_image(const WriteLock& lk, const std::string& config_text,
                                           const std::vector<Descriptor>& layers,
                                           const std::vector<std::string>& names) const {
    Descriptor config = MD_TRY(write_blob(lk, config_text, kMediaConfig));
    Descriptor manifest = MD_TRY(write_blob(lk, manifest_json(config, layers), kMediaManifest));
    auto entries = MD_TRY(read_index());
    for (const auto& n : names) set_name(entries, manifest, n);
    bool present = std::any_of(entries.begin(), entries.end(), [&](const IndexEntry& e) {
        return e.manifest.digest == manifest.digest;
    });
    if (!present) entries.push_back(IndexEntry{manifest, ""});
    MD_TRY(write_index(lk, entries));
    auto si = MD_TRY(read_image(manifest));
    for (const auto& e : entries) {
        if (e.manifest.digest == manifest.digest && !e.name.empty())
            si.image.names.push_back(e.name);
    }
    return si;
}

}  // namespace mydocker::engine::images
