#include "engine/images/config.h"

namespace mydocker::engine::images {

using nlohmann::json;

json config_to_json(const ImageConfig& c) {
    json j = json::object();
    if (!c.user.empty()) j["User"] = c.user;
    if (!c.env.empty()) j["Env"] = c.env;
    if (!c.entrypoint.empty()) j["Entrypoint"] = c.entrypoint;
    if (!c.cmd.empty()) j["Cmd"] = c.cmd;
    if (!c.working_dir.empty()) j["WorkingDir"] = c.working_dir;
    if (!c.labels.empty()) j["Labels"] = c.labels;
    if (!c.exposed_ports.empty()) {
        json ports = json::object();
        for (const auto& p : c.exposed_ports) ports[p] = json::object();
        j["ExposedPorts"] = std::move(ports);
    }
    if (!c.volumes.empty()) {
        json vols = json::object();
        for (const auto& v : c.volumes) vols[v] = json::object();
        j["Volumes"] = std::move(vols);
    }
    if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
    return j;
}

namespace {

// Images in the wild write null for an empty field; treat null and absent alike.
sys::Result<void> get_string(const json& j, const char* key, std::string& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return {};
    if (!it->is_string()) return sys::fail_invalid(std::string("config.") + key + ": not a string");
    out = it->get<std::string>();
    return {};
}

sys::Result<void> get_strings(const json& j, const char* key, std::vector<std::string>& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return {};
    // Docker accepts a bare string for Cmd/Entrypoint in some old configs.
    if (it->is_string()) {
        out = {it->get<std::string>()};
        return {};
    }
    if (!it->is_array())
        return sys::fail_invalid(std::string("config.") + key + ": not an array of strings");
    for (const auto& v : *it) {
        if (!v.is_string())
            return sys::fail_invalid(std::string("config.") + key + ": not an array of strings");
        out.push_back(v.get<std::string>());
    }
    return {};
}

sys::Result<void> get_keys(const json& j, const char* key, std::vector<std::string>& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return {};
    if (!it->is_object())
        return sys::fail_invalid(std::string("config.") + key + ": not an object");
    for (auto e = it->begin(); e != it->end(); ++e) out.push_back(e.key());
    return {};
}

}  // namespace

sys::Result<ImageConfig> config_from_json(const json& j) {
    ImageConfig c;
    if (j.is_null()) return c;
    if (!j.is_object()) return sys::fail_invalid("config: not an object");
    MD_TRY(get_string(j, "User", c.user));
    MD_TRY(get_strings(j, "Env", c.env));
    MD_TRY(get_strings(j, "Entrypoint", c.entrypoint));
    MD_TRY(get_strings(j, "Cmd", c.cmd));
    MD_TRY(get_string(j, "WorkingDir", c.working_dir));
    MD_TRY(get_keys(j, "ExposedPorts", c.exposed_ports));
    MD_TRY(get_keys(j, "Volumes", c.volumes));
    MD_TRY(get_string(j, "StopSignal", c.stop_signal));
    if (auto it = j.find("Labels"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) return sys::fail_invalid("config.Labels: not an object");
        for (auto e = it->begin(); e != it->end(); ++e) {
            if (!e->is_string())
                return sys::fail_invalid("config.Labels." + e.key() + ": not a string");
            c.labels[e.key()] = e->get<std::string>();
        }
    }
    return c;
}

sys::Result<void> parse_config_blob(const std::string& text, Image& img) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return sys::fail_invalid("image config is not a JSON object");
    MD_TRY(get_string(j, "created", img.created));
    MD_TRY(get_string(j, "author", img.author));
    MD_TRY(get_string(j, "comment", img.comment));
    if (img.comment.empty()) {
        // OCI configs have no top-level comment; commit and import record it in history.
        if (auto h = j.find("history"); h != j.end() && h->is_array() && !h->empty()) {
            const json& last = h->back();
            if (last.is_object() && last.contains("comment") && last["comment"].is_string())
                img.comment = last["comment"].get<std::string>();
        }
    }
    if (auto c = j.find("config"); c != j.end()) img.config = MD_TRY(config_from_json(*c));
    auto rootfs = j.find("rootfs");
    if (rootfs == j.end() || !rootfs->is_object())
        return sys::fail_invalid("image config: no rootfs");
    auto ids = rootfs->find("diff_ids");
    if (ids != rootfs->end() && !ids->is_null()) {
        if (!ids->is_array())
            return sys::fail_invalid("image config: rootfs.diff_ids is not an array");
        for (const auto& d : *ids) {
            if (!d.is_string())
                return sys::fail_invalid("image config: rootfs.diff_ids holds a non-string");
            img.diff_ids.push_back(d.get<std::string>());
        }
    }
    return {};
}

const char* host_architecture() {
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__i386__)
    return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#else
    return "unknown";
#endif
}

}  // namespace mydocker::engine::images
