#include "engine/images/write.h"

#include "engine/images/config.h"
#include "sys/json_text.h"

namespace mydocker::engine::images {

using nlohmann::json;

sys::Result<Descriptor> add_layer_from_fd(const Layout& lay, const WriteLock& lk, int fd,
                                          const std::string& what,
                                          const std::optional<std::string>& want_diff_id) {
    auto blob = MD_TRY(lay.new_blob(lk));
    MD_TRY(decompress(fd, what, [&](std::string_view d) { return blob.write(d); }));
    Descriptor d = MD_TRY(blob.finish(kMediaLayer));
    if (want_diff_id && *want_diff_id != d.digest)
        return sys::fail_invalid("layer \"" + what + "\" has digest " + d.digest +
                                 " but the image config says " + *want_diff_id +
                                 " (a corrupt or tampered archive)");
    MD_TRY(lay.install_layer(lk, blob.temp_path(), d.digest));
    return blob.commit(kMediaLayer);
}

sys::Result<Descriptor> add_layer_built(const Layout& lay, const WriteLock& lk,
                                        const std::function<sys::Result<void>(TarWriter&)>& build) {
    auto blob = MD_TRY(lay.new_blob(lk));
    {
        auto tar = MD_TRY(TarWriter::open([&](std::string_view d) { return blob.write(d); }));
        MD_TRY(build(*tar));
        MD_TRY(tar->close());
    }
    Descriptor d = MD_TRY(blob.finish(kMediaLayer));
    MD_TRY(lay.install_layer(lk, blob.temp_path(), d.digest));
    return blob.commit(kMediaLayer);
}

std::string make_config_text(const json& parent, const ImageConfig& config,
                             const std::vector<std::string>& diff_ids, const HistoryStep& step) {
    json j = parent.is_object() ? parent : json::object();
    if (!j.contains("architecture")) j["architecture"] = host_architecture();
    if (!j.contains("os")) j["os"] = "linux";
    j["created"] = step.created;
    if (!step.author.empty())
        j["author"] = step.author;
    else
        j.erase("author");
    if (!step.comment.empty())
        j["comment"] = step.comment;
    else
        j.erase("comment");
    j["config"] = config_to_json(config);
    j["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
    json h = {{"created", step.created}, {"created_by", step.created_by}};
    if (!step.author.empty()) h["author"] = step.author;
    if (!step.comment.empty()) h["comment"] = step.comment;
    if (!j.contains("history") || !j["history"].is_array()) j["history"] = json::array();
    j["history"].push_back(std::move(h));
    return sys::json_text(j);
}

}  // namespace mydocker::engine::images
