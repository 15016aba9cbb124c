// commit and import: images made here, from a container's upper dir or a rootfs tarball.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "engine/images/config.h"
#include "engine/images/internal.h"
#include "engine/images/write.h"
#include "sys/clock.h"
#include "sys/files.h"
#include "sys/proc.h"

namespace mydocker::engine::images {

using nlohmann::json;

sys::Result<Image> Store::commit(const CommitOptions& opts) {
    std::vector<std::string> names;
    if (opts.name) names.push_back(MD_TRY(normalize_name(*opts.name)));
    struct stat st;
    if (::stat(opts.upper_dir.c_str(), &st) < 0)
        return sys::fail_errno("commit: upper dir \"" + opts.upper_dir + "\"");
    Layout lay(ctx_);
    auto lk = MD_TRY(lay.lock());
    std::vector<Descriptor> layers;
    std::vector<std::string> diff_ids;
    json parent = nullptr;
    if (!opts.parent_id.empty()) {
        auto images = MD_TRY(lay.read_all());
        auto idx = MD_TRY(find_image(images, opts.parent_id));
        if (!idx)
            return sys::fail(
                sys::Error::not_found("commit: parent image \"" + opts.parent_id + "\" not found"));
        const StoredImage& p = images[*idx];
        layers = p.layers;
        diff_ids = p.image.diff_ids;
        parent = json::parse(p.config_text, nullptr, false);
        if (parent.is_discarded()) parent = nullptr;
    }
    auto layer = MD_TRY_CTX(
        add_layer_built(
            lay, lk, [&](TarWriter& w) { return w.add_tree(opts.upper_dir, Whiteouts::to_oci); }),
        "commit \"" + opts.upper_dir + "\"");
    layers.push_back(layer);
    diff_ids.push_back(layer.digest);
    HistoryStep step{sys::now_rfc3339(), "mydocker commit", opts.author, opts.comment};
    std::string text = make_config_text(parent, opts.config, diff_ids, step);
    auto si = MD_TRY(lay.add_image(lk, text, layers, names));
    return si.image;
}

sys::Result<Image> Store::import_tar(const std::string& tar_path, std::optional<std::string> name,
                                     const ImageConfig& config) {
    std::vector<std::string> names;
    if (name) names.push_back(MD_TRY(normalize_name(*name)));
    sys::UniqueFd owned;
    int fd = 0;
    std::string what = tar_path == "-" ? "stdin" : tar_path;
    if (tar_path != "-") {
        owned = MD_TRY_CTX(sys::open_file(tar_path, O_RDONLY), "import");
        fd = owned.get();
    } else if (::isatty(0)) {
        return sys::fail_invalid(
            "import: refusing to read a tarball from a terminal: give a file or redirect stdin");
    }
    Layout lay(ctx_);
    auto lk = MD_TRY(lay.lock());
    auto layer = MD_TRY_CTX(add_layer_from_fd(lay, lk, fd, what), "import \"" + what + "\"");
    HistoryStep step{sys::now_rfc3339(), "mydocker import", "", "imported from " + what};
    std::string text = make_config_text(nullptr, config, {layer.digest}, step);
    auto si = MD_TRY(lay.add_image(lk, text, {layer}, names));
    return si.image;
}

sys::Result<void> export_tree(const std::string& dir, int out_fd) {
    auto tar =
        MD_TRY(TarWriter::open([out_fd](std::string_view d) { return sys::write_all(out_fd, d); }));
    MD_TRY_CTX(tar->add_tree(dir, Whiteouts::keep), "export \"" + dir + "\"");
    return tar->close();
}

}  // namespace mydocker::engine::images
