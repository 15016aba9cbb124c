// load: a docker-archive (manifest.json: Docker's `save`, podman's, which names layers
// <hex>.tar) or an OCI image archive (oci-layout + index.json + blobs). The archive is read
// once, its regular files written to a temp dir while hashed; names inside it never become
// paths (links are resolved by name, inside the archive). Every layer is checked against the
// diff_id its config declares before it enters the store.
#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/images/config.h"
#include "engine/images/internal.h"
#include "engine/images/write.h"
#include "sys/cleanup.h"
#include "sys/files.h"

namespace mydocker::engine::images {

using nlohmann::json;

namespace {

// One file of the archive: a regular file stored at `file` with its sha256, or a link to
// another member.
struct Member {
    std::string file;
    std::string digest;  // "sha256:<hex>" of the content
    int64_t size = 0;
    std::string link;  // hard link target (archive path) or symlink target (as written)
    bool symlink = false;
    bool hardlink = false;
};

class ArchiveFiles {
public:
    ArchiveFiles(std::string what, std::string tmp)
        : what_(std::move(what)), tmp_(std::move(tmp)) {}

    sys::Result<void> extract(int fd) {
        auto reader = MD_TRY(TarReader::open(fd, what_));
        int counter = 0;
        for (;;) {
            auto e = MD_TRY(reader->next());
            if (!e) break;
            std::string path = MD_TRY_CTX(clean_entry_path(e->path), "read \"" + what_ + "\"");
            if (path.empty()) continue;
            Member m;
            if (e->hardlink) {
                m.hardlink = true;
                m.link = MD_TRY_CTX(clean_entry_path(e->linkname), "read \"" + what_ + "\"");
            } else if (e->type == S_IFLNK) {
                m.symlink = true;
                m.link = e->linkname;
            } else if (e->type == S_IFREG) {
                m.file = sys::path_join(tmp_, "m" + std::to_string(counter++));
                auto out = MD_TRY(sys::open_file(m.file, O_WRONLY | O_CREAT | O_EXCL, 0600));
                auto hash = MD_TRY(Sha256::create());
                MD_TRY(reader->read_data([&](std::string_view d) -> sys::Result<void> {
                    hash.update(d);
                    m.size += static_cast<int64_t>(d.size());
                    return sys::write_all(out.get(), d);
                }));
                m.digest = "sha256:" + hash.finish();
            } else {
                continue;  // directories (and anything else) carry nothing we read
            }
            members_[path] = std::move(m);
        }
        return {};
    }

    bool has(const std::string& name) const { return members_.count(name) > 0; }

    /// The regular file behind archive path `name`, links followed inside the archive.
    sys::Result<const Member*> get(const std::string& name) const {
        std::string cur = MD_TRY_CTX(clean_entry_path(name), "\"" + what_ + "\"");
        for (int hops = 0; hops < 32; hops++) {
            auto it = members_.find(cur);
            if (it == members_.end())
                return sys::fail(
                    sys::Error::not_found("\"" + what_ + "\" has no file \"" + name + "\""));
            const Member& m = it->second;
            if (m.hardlink) {
                cur = m.link;
            } else if (m.symlink) {
                // Docker's legacy format links a repeated layer to the first copy:
                // "<id>/layer.tar -> ../<other id>/layer.tar". Resolved by name, in the archive.
                if (m.link.starts_with('/'))
                    return sys::fail_invalid("\"" + what_ + "\": \"" + cur +
                                             "\" links to an absolute path");
                auto slash = cur.rfind('/');
                std::string joined =
                    (slash == std::string::npos ? "" : cur.substr(0, slash + 1)) + m.link;
                cur = MD_TRY(lexical_clean(joined, name));
            } else {
                return &m;
            }
        }
        return sys::fail_invalid("\"" + what_ + "\": too many links resolving \"" + name + "\"");
    }

    /// The text of a (small) member.
    sys::Result<std::string> text(const std::string& name) const {
        const Member* m = MD_TRY(get(name));
        return sys::read_file(m->file);
    }

private:
    sys::Result<std::string> lexical_clean(const std::string& p, const std::string& name) const {
        std::vector<std::string> parts;
        size_t start = 0;
        while (start <= p.size()) {
            size_t slash = p.find('/', start);
            if (slash == std::string::npos) slash = p.size();
            std::string c = p.substr(start, slash - start);
            start = slash + 1;
            if (c.empty() || c == ".") continue;
            if (c == "..") {
                if (parts.empty())
                    return sys::fail_invalid("\"" + what_ + "\": \"" + name +
                                             "\" links outside the archive");
                parts.pop_back();
                continue;
            }
            parts.push_back(c);
        }
        std::string out;
        for (const auto& c : parts) out += (out.empty() ? "" : "/") + c;
        return out;
    }

    std::string what_;
    std::string tmp_;
    std::map<std::string, Member> members_;
};

struct Loader {
    const Layout& lay;
    const WriteLock& lk;
    const ArchiveFiles& files;
    std::string what;
    std::map<std::string, Descriptor> done;  // diff_id -> stored layer

    // Layer `diff_id` from archive member `name`: uncompressed members whose digest is the
    // diff_id are moved into the store as they are; anything else is decompressed (and must
    // then hash to the diff_id).
    sys::Result<Descriptor> layer(const std::string& name, const std::string& diff_id) {
        MD_TRY(digest_hex(diff_id, "rootfs.diff_ids"));
        if (auto it = done.find(diff_id); it != done.end()) return it->second;
        std::string blob = MD_TRY(lay.blob_path(diff_id));
        std::string dir = MD_TRY(lay.layer_dir(diff_id));
        struct stat st;
        if (::stat(blob.c_str(), &st) == 0 && sys::path_exists(dir)) {
            Descriptor d{kMediaLayer, diff_id, st.st_size};
            return done[diff_id] = d;
        }
        const Member* m = MD_TRY(files.get(name));
        Descriptor d;
        if (m->digest == diff_id) {
            MD_TRY(lay.install_layer(lk, m->file, diff_id));
            ::chmod(m->file.c_str(), 0644);  // blobs are world-readable, like the ones we write
            if (!sys::path_exists(blob) && ::link(m->file.c_str(), blob.c_str()) < 0 &&
                errno != EEXIST)
                return sys::fail_errno("link \"" + m->file + "\" to \"" + blob + "\"");
            d = Descriptor{kMediaLayer, diff_id, m->size};
        } else {
            auto fd = MD_TRY(sys::open_file(m->file, O_RDONLY));
            d = MD_TRY(add_layer_from_fd(lay, lk, fd.get(), what + ": " + name, diff_id));
        }
        return done[diff_id] = d;
    }

    // Config member `name`, checked against `want_digest` when the archive names one.
    sys::Result<std::pair<std::string, Image>> config(const std::string& name,
                                                      const std::string& want_digest) {
        const Member* m = MD_TRY(files.get(name));
        if (!want_digest.empty() && m->digest != want_digest)
            return sys::fail_invalid("\"" + what + "\": config \"" + name +
                                     "\" does not match its digest " + want_digest);
        std::string text = MD_TRY(sys::read_file(m->file));
        Image img;
        MD_TRY_CTX(parse_config_blob(text, img), "\"" + what + "\": config \"" + name + "\"");
        return std::make_pair(std::move(text), std::move(img));
    }

    sys::Result<std::string> image(const std::string& config_name, const std::string& config_digest,
                                   const std::vector<std::string>& layer_names,
                                   const std::vector<std::string>& names) {
        auto [text, img] = MD_TRY(config(config_name, config_digest));
        if (img.diff_ids.size() != layer_names.size())
            return sys::fail_invalid("\"" + what + "\": image with config \"" + config_name +
                                     "\" has " + std::to_string(layer_names.size()) +
                                     " layers but " + std::to_string(img.diff_ids.size()) +
                                     " diff_ids");
        std::vector<Descriptor> layers;
        for (size_t i = 0; i < layer_names.size(); i++)
            layers.push_back(MD_TRY(layer(layer_names[i], img.diff_ids[i])));
        auto si = MD_TRY(lay.add_image(lk, text, layers, names));
        return si.image.id;
    }
};

sys::Result<std::vector<std::string>> names_of(const json& tags, const std::string& what) {
    std::vector<std::string> out;
    if (tags.is_null()) return out;
    if (!tags.is_array()) return sys::fail_invalid("\"" + what + "\": RepoTags is not an array");
    for (const auto& t : tags) {
        if (!t.is_string())
            return sys::fail_invalid("\"" + what + "\": RepoTags holds a non-string");
        out.push_back(MD_TRY_CTX(normalize_name(t.get<std::string>()), "\"" + what + "\""));
    }
    return out;
}

sys::Result<std::vector<std::string>> load_docker(Loader& ld, const ArchiveFiles& files) {
    json manifest = json::parse(MD_TRY(files.text("manifest.json")), nullptr, false);
    if (manifest.is_discarded() || !manifest.is_array())
        return sys::fail_invalid("\"" + ld.what + "\": manifest.json is not a JSON array");
    std::vector<std::string> loaded;
    for (const auto& item : manifest) {
        if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string())
            return sys::fail_invalid("\"" + ld.what + "\": manifest.json: an entry without Config");
        std::vector<std::string> layers;
        if (auto l = item.find("Layers"); l != item.end() && l->is_array()) {
            for (const auto& x : *l) {
                if (!x.is_string())
                    return sys::fail_invalid("\"" + ld.what +
                                             "\": manifest.json: Layers holds a non-string");
                layers.push_back(x.get<std::string>());
            }
        }
        auto names = MD_TRY(names_of(item.value("RepoTags", json(nullptr)), ld.what));
        std::string id = MD_TRY(ld.image(item["Config"].get<std::string>(), "", layers, names));
        if (names.empty()) loaded.push_back("sha256:" + id);
        for (auto& n : names) loaded.push_back(std::move(n));
    }
    return loaded;
}

// The name an OCI index entry gives its image: containerd's full name, else ref.name when it
// is a whole reference (some tools write only the tag there, which names nothing).
std::optional<std::string> oci_name(const json& desc) {
    auto a = desc.find("annotations");
    if (a == desc.end() || !a->is_object()) return std::nullopt;
    for (const char* key : {kAnnotationContainerdName, kAnnotationRefName}) {
        auto n = a->find(key);
        if (n == a->end() || !n->is_string()) continue;
        std::string s = n->get<std::string>();
        if (std::string(key) == kAnnotationRefName && s.find_first_of(":/") == std::string::npos)
            continue;
        if (auto norm = normalize_name(s)) return *norm;
    }
    return std::nullopt;
}

sys::Result<void> oci_manifests(const ArchiveFiles& files, const std::string& what,
                                const json& index, int depth,
                                std::vector<std::pair<json, std::optional<std::string>>>& out) {
    if (depth > 4) return sys::fail_invalid("\"" + what + "\": image indexes nested too deep");
    auto m = index.find("manifests");
    if (m == index.end() || !m->is_array())
        return sys::fail_invalid("\"" + what + "\": index without manifests");
    for (const auto& d : *m) {
        if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string()) continue;
        std::string mt = d.value("mediaType", "");
        // Attestations and other non-images (buildkit writes platform unknown/unknown).
        if (auto p = d.find("platform");
            p != d.end() && p->is_object() && p->value("os", "") == "unknown")
            continue;
        if (mt == kMediaIndex ||
            mt == "application/vnd.docker.distribution.manifest.list.v2+json") {
            std::string hex =
                MD_TRY(digest_hex(d["digest"].get<std::string>(), "\"" + what + "\": index"));
            const Member* mem = MD_TRY(files.get("blobs/sha256/" + hex));
            if (mem->digest != d["digest"])
                return sys::fail_invalid("\"" + what + "\": blob " + hex +
                                         " does not match its digest");
            json nested = json::parse(MD_TRY(sys::read_file(mem->file)), nullptr, false);
            if (nested.is_discarded())
                return sys::fail_invalid("\"" + what + "\": index " + hex + " is not JSON");
            std::vector<std::pair<json, std::optional<std::string>>> inner;
            MD_TRY(oci_manifests(files, what, nested, depth + 1, inner));
            // A multi-platform index: this machine's image, else the first one.
            auto name = oci_name(d);
            const std::pair<json, std::optional<std::string>>* pick = nullptr;
            for (const auto& x : inner) {
                const json& p = x.first.value("platform", json::object());
                if (p.is_object() && p.value("architecture", "") == host_architecture()) {
                    pick = &x;
                    break;
                }
            }
            if (!pick && !inner.empty()) pick = &inner.front();
            if (pick) out.emplace_back(pick->first, name ? name : pick->second);
            continue;
        }
        out.emplace_back(d, oci_name(d));
    }
    return {};
}

sys::Result<std::vector<std::string>> load_oci(Loader& ld, const ArchiveFiles& files) {
    json index = json::parse(MD_TRY(files.text("index.json")), nullptr, false);
    if (index.is_discarded() || !index.is_object())
        return sys::fail_invalid("\"" + ld.what + "\": index.json is not a JSON object");
    std::vector<std::pair<json, std::optional<std::string>>> manifests;
    MD_TRY(oci_manifests(files, ld.what, index, 0, manifests));
    std::vector<std::string> loaded;
    std::map<std::string, std::string> ids;  // manifest digest -> image id (one image per manifest)
    for (const auto& [desc, name] : manifests) {
        std::string digest = desc["digest"].get<std::string>();
        std::string hex = MD_TRY(digest_hex(digest, "\"" + ld.what + "\": manifest"));
        auto known = ids.find(digest);
        if (known == ids.end()) {
            const Member* mem = MD_TRY(files.get("blobs/sha256/" + hex));
            if (mem->digest != digest)
                return sys::fail_invalid("\"" + ld.what + "\": manifest " + hex +
                                         " does not match its digest");
            json m = json::parse(MD_TRY(sys::read_file(mem->file)), nullptr, false);
            if (m.is_discarded() || !m.is_object() || !m.contains("config"))
                return sys::fail_invalid("\"" + ld.what + "\": manifest " + hex +
                                         " is not an image manifest");
            std::string cfg_digest = m["config"].value("digest", "");
            std::string cfg_hex = MD_TRY(digest_hex(cfg_digest, "\"" + ld.what + "\": config"));
            std::vector<std::string> layers;
            if (auto l = m.find("layers"); l != m.end() && l->is_array()) {
                for (const auto& x : *l) {
                    std::string lhex =
                        MD_TRY(digest_hex(x.value("digest", ""), "\"" + ld.what + "\": layer"));
                    layers.push_back("blobs/sha256/" + lhex);
                }
            }
            std::vector<std::string> names;
            if (name) names.push_back(*name);
            std::string id = MD_TRY(ld.image("blobs/sha256/" + cfg_hex, cfg_digest, layers, names));
            known = ids.emplace(digest, id).first;
            if (!name) loaded.push_back("sha256:" + id);
        } else if (name) {
            // The same image under a second name.
            auto entries = MD_TRY(ld.lay.read_index());
            auto all = MD_TRY(ld.lay.read_all());
            for (const auto& si : all) {
                if (si.image.id == known->second) set_name(entries, si.manifest, *name);
            }
            MD_TRY(ld.lay.write_index(ld.lk, entries));
        }
        if (name) loaded.push_back(*name);
    }
    return loaded;
}

}  // namespace

sys::Result<std::vector<std::string>> Store::load(const std::string& in_path) {
    sys::UniqueFd owned;
    int fd = 0;
    std::string what = in_path == "-" ? "stdin" : in_path;
    if (in_path != "-") {
        owned = MD_TRY_CTX(sys::open_file(in_path, O_RDONLY), "load");
        fd = owned.get();
    } else if (::isatty(0)) {
        return sys::fail_invalid(
            "load: refusing to read an archive from a terminal: use -i FILE or redirect stdin");
    }
    Layout lay(ctx_);
    auto lk = MD_TRY(lay.lock());
    std::string tmp = sys::path_join(lay.tmp_dir(), "load.XXXXXX");
    if (!::mkdtemp(tmp.data()))
        return sys::fail_errno("load: mkdtemp in \"" + lay.tmp_dir() + "\"");
    sys::CleanupStack undo;
    undo.push([tmp] { (void)sys::remove_all(tmp); });
    ArchiveFiles files(what, tmp);
    MD_TRY_CTX(files.extract(fd), "load");
    Loader ld{lay, lk, files, what, {}};
    std::vector<std::string> loaded;
    if (files.has("manifest.json"))
        loaded = MD_TRY_CTX(load_docker(ld, files), "load");
    else if (files.has("index.json"))
        loaded = MD_TRY_CTX(load_oci(ld, files), "load");
    else
        return sys::fail_invalid("load \"" + what +
                                 "\": not an image archive (no manifest.json or index.json)");
    return loaded;
}

}  // namespace mydocker::engine::images
