// save: images as a docker-archive (what `docker load` and `podman load` read) or an OCI
// image archive (oci-layout + index.json + blobs, `podman load` / skopeo oci-archive:).
#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/images/config.h"
#include "engine/images/internal.h"
#include "engine/images/names.h"
#include "engine/images/tar.h"
#include "sys/cleanup.h"
#include "sys/files.h"
#include "sys/json_text.h"

namespace mydocker::engine::images {

using nlohmann::json;

namespace {

struct Saved {
    StoredImage si;
    std::vector<std::string> names;  // the names asked for (an image saved by id has none)
};

// "busybox:latest" -> "docker.io/library/busybox:latest": the full name containerd and
// Docker put in io.containerd.image.name.
std::string full_name(const std::string& name) {
    auto slash = name.find('/');
    if (slash != std::string::npos) {
        std::string first = name.substr(0, slash);
        if (first.find_first_of(".:") != std::string::npos || first == "localhost") return name;
        return "docker.io/" + name;
    }
    return "docker.io/library/" + name;
}

sys::Result<void> write_docker(TarWriter& tar, const Layout& lay,
                               const std::vector<Saved>& images) {
    json manifest = json::array();
    json repositories = json::object();
    std::set<std::string> written;
    const EntryMeta file{0644, 0, 0, 0};
    const EntryMeta dir{0755, 0, 0, 0};
    for (const auto& s : images) {
        const Image& img = s.si.image;
        std::string config_name = img.id + ".json";
        if (written.insert(config_name).second)
            MD_TRY(tar.add_data(config_name, s.si.config_text, file));
        json layers = json::array();
        for (const auto& l : s.si.layers) {
            std::string hex = l.digest.substr(7);
            std::string name = hex + "/layer.tar";
            if (written.insert(name).second) {
                MD_TRY(tar.add_dir(hex, dir));
                MD_TRY(tar.add_file(name, MD_TRY(lay.blob_path(l.digest)), file));
            }
            layers.push_back(name);
        }
        json tags = json::array();
        for (const auto& n : s.names) {
            tags.push_back(n);
            NameParts p = split_name(n);
            if (!s.si.layers.empty())
                repositories[p.repo][p.tag] = s.si.layers.back().digest.substr(7);
        }
        manifest.push_back({{"Config", config_name},
                            {"RepoTags", tags.empty() ? json(nullptr) : tags},
                            {"Layers", layers}});
    }
    MD_TRY(tar.add_data("manifest.json", sys::json_text(manifest), file));
    MD_TRY(tar.add_data("repositories", sys::json_text(repositories), file));
    return {};
}

sys::Result<void> write_oci(TarWriter& tar, const Layout& lay, const std::vector<Saved>& images) {
    const EntryMeta file{0644, 0, 0, 0};
    const EntryMeta dir{0755, 0, 0, 0};
    MD_TRY(tar.add_data("oci-layout", R"({"imageLayoutVersion":"1.0.0"})", file));
    MD_TRY(tar.add_dir("blobs", dir));
    MD_TRY(tar.add_dir("blobs/sha256", dir));
    std::set<std::string> written;
    auto blob = [&](const std::string& digest) -> sys::Result<void> {
        if (!written.insert(digest).second) return {};
        return tar.add_file("blobs/sha256/" + digest.substr(7), MD_TRY(lay.blob_path(digest)),
                            file);
    };
    json manifests = json::array();
    for (const auto& s : images) {
        for (const auto& l : s.si.layers) MD_TRY(blob(l.digest));
        MD_TRY(blob(s.si.config.digest));
        MD_TRY(blob(s.si.manifest.digest));
        json d = {{"mediaType", kMediaManifest},
                  {"digest", s.si.manifest.digest},
                  {"size", s.si.manifest.size}};
        if (s.names.empty()) manifests.push_back(d);
        for (const auto& n : s.names) {
            d["annotations"] = {{kAnnotationRefName, n}, {kAnnotationContainerdName, full_name(n)}};
            manifests.push_back(d);
        }
    }
    json index = {{"schemaVersion", 2}, {"mediaType", kMediaIndex}, {"manifests", manifests}};
    MD_TRY(tar.add_data("index.json", sys::json_text(index), file));
    return {};
}

}  // namespace

sys::Result<void> Store::save(const std::vector<std::string>& refs, const std::string& out_path,
                              ArchiveFormat format) {
    if (refs.empty()) return sys::fail_invalid("save: no image given");
    Layout lay(ctx_);
    std::vector<Saved> images;
    for (const auto& ref : refs) {
        Image img = MD_TRY_CTX(resolve(ref), "save");
        auto all = MD_TRY(lay.read_all());
        auto it = std::find_if(all.begin(), all.end(),
                               [&](const StoredImage& s) { return s.image.id == img.id; });
        if (it == all.end())
            return sys::fail(sys::Error::not_found("save: image \"" + ref + "\" was removed"));
        auto name = normalize_name(ref);
        bool by_name =
            name && std::find(img.names.begin(), img.names.end(), *name) != img.names.end();
        auto same = std::find_if(images.begin(), images.end(),
                                 [&](const Saved& s) { return s.si.image.id == img.id; });
        if (same == images.end()) {
            images.push_back(Saved{std::move(*it), {}});
            same = images.end() - 1;
        }
        if (by_name &&
            std::find(same->names.begin(), same->names.end(), *name) == same->names.end())
            same->names.push_back(*name);
    }

    sys::UniqueFd owned;
    int fd = 1;
    sys::CleanupStack undo;
    if (out_path == "-") {
        if (::isatty(1))
            return sys::fail_invalid(
                "save: refusing to write a tar archive to a terminal: use -o FILE or redirect "
                "stdout");
    } else {
        owned = MD_TRY_CTX(sys::open_file(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), "save");
        fd = owned.get();
        undo.push([out_path] { ::unlink(out_path.c_str()); });
    }
    auto tar = MD_TRY(TarWriter::open([fd](std::string_view d) { return sys::write_all(fd, d); }));
    if (format == ArchiveFormat::docker)
        MD_TRY_CTX(write_docker(*tar, lay, images), "save");
    else
        MD_TRY_CTX(write_oci(*tar, lay, images), "save");
    MD_TRY_CTX(tar->close(), "save");
    if (owned.valid() && ::fsync(fd) < 0 && errno != EINVAL)
        return sys::fail_errno("save: fsync \"" + out_path + "\"");
    undo.commit();
    return {};
}

}  // namespace mydocker::engine::images
