#include "runtime/state.h"

#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cgroups/manager.h"
#include "sys/files.h"
#include "sys/proc.h"
#include "sys/json_text.h"

namespace mydocker::runtime {

using nlohmann::json;

const char* status_name(Status s) {
    switch (s) {
        case Status::creating: return "creating";
        case Status::created: return "created";
        case Status::running: return "running";
        case Status::paused: return "paused";
        case Status::stopped: return "stopped";
    }
    return "unknown";
}

std::string state_dir(const Context& ctx, const std::string& id) { return sys::path_join(ctx.root, id); }

sys::Result<void> validate_id(const std::string& id) {
    if (id.empty()) return sys::fail_invalid("container id cannot be empty");
    if (id.size() > 1024) return sys::fail_invalid("container id \"" + id.substr(0, 32) + "...\" is too long");
    if (id == "." || id == "..") return sys::fail_invalid("invalid container id \"" + id + "\"");
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-' || c == '.' || c == '+';
        if (!ok) return sys::fail_invalid("invalid container id \"" + id + "\": only [a-zA-Z0-9_+.-] are allowed");
    }
    return {};
}

sys::Result<ContainerState> load_state(const Context& ctx, const std::string& id) {
    MD_TRY(validate_id(id));
    auto text = sys::read_file(sys::path_join(state_dir(ctx, id), "state.json"));
    if (!text) {
        if (text.error().err() == ENOENT)
            return sys::fail(sys::Error::not_found("container \"" + id + "\" does not exist"));
        return sys::fail(std::move(text.error()).wrap("load state of \"" + id + "\""));
    }
    try {
        // The recorded config is skipped: state, list and kill have no use for it.
        bool has_config = false;
        json j = json::parse(*text, [&](int depth, json::parse_event_t event, json& parsed) {
            if (depth == 1 && event == json::parse_event_t::key && parsed == "config") {
                has_config = true;
                return false;
            }
            return true;
        });
        ContainerState st;
        st.config_in_state = has_config;
        st.poststart_hooks = j.value("poststart_hooks", false);
        st.poststop_hooks = j.value("poststop_hooks", false);
        st.id = j.at("id").get<std::string>();
        st.pid = j.at("pid").get<pid_t>();
        st.pid_start = j.value("pid_start", uint64_t{0});
        st.bundle = j.value("bundle", "");
        st.rootfs = j.value("rootfs", "");
        st.created = j.value("created", "");
        st.cgroup_path = j.value("cgroup_path", "");
        st.systemd_cgroup = j.value("systemd_cgroup", "");
        st.owner = j.value("owner", "");
        st.no_pivot = j.value("no_pivot", false);
        if (j.contains("annotations")) st.annotations = j["annotations"].get<std::map<std::string, std::string>>();
        return st;
    } catch (const json::exception& e) {
        return sys::fail_invalid("state of \"" + id + "\" is corrupt: " + e.what());
    }
}

sys::Result<void> save_state(const Context& ctx, const ContainerState& st, std::string_view config) {
    json j = {{"id", st.id},         {"pid", st.pid},         {"pid_start", st.pid_start},
              {"bundle", st.bundle}, {"rootfs", st.rootfs},   {"created", st.created},
              {"cgroup_path", st.cgroup_path}, {"owner", st.owner}, {"no_pivot", st.no_pivot},
              {"annotations", st.annotations}};
    if (st.poststart_hooks) j["poststart_hooks"] = true;
    if (!st.systemd_cgroup.empty()) j["systemd_cgroup"] = st.systemd_cgroup;
    if (st.poststop_hooks) j["poststop_hooks"] = true;
    std::string text = sys::json_text(j);
    if (!config.empty()) {
        // Spliced in as it was read (it parsed as a spec): no second parse and dump of it.
        if (config.starts_with("\xEF\xBB\xBF")) config.remove_prefix(3);  // a BOM is only valid first
        text.pop_back();
        text += ",\"config\":";
        text += config;
        text += '}';
    }
    return sys::write_file_atomic(sys::path_join(state_dir(ctx, st.id), "state.json"), text, 0600);
}

sys::Result<std::string> load_config(const Context& ctx, const std::string& id) {
    MD_TRY(validate_id(id));
    std::string dir = state_dir(ctx, id);
    auto text = sys::read_file(sys::path_join(dir, "state.json"));
    if (!text) {
        if (text.error().err() == ENOENT)
            return sys::fail(sys::Error::not_found("container \"" + id + "\" does not exist"));
        return sys::fail(std::move(text.error()).wrap("load state of \"" + id + "\""));
    }
    try {
        json j = json::parse(*text);
        if (auto it = j.find("config"); it != j.end()) return it->dump();
    } catch (const json::exception& e) {
        return sys::fail_invalid("state of \"" + id + "\" is corrupt: " + e.what());
    }
    // Recorded by an older mydocker-runc: the config beside the state.
    return sys::read_file(sys::path_join(dir, "config.json"));
}

Status current_status(const Context& ctx, const ContainerState& st) {
    if (st.pid <= 0 || !sys::process_alive(st.pid, st.pid_start)) return Status::stopped;
    if (sys::path_exists(sys::path_join(state_dir(ctx, st.id), "exec.fifo"))) return Status::created;
    if (!st.cgroup_path.empty()) {
        cgroups::Config cfg{ctx.cgroup_root, st.cgroup_path};
        if (auto mgr = cgroups::make_manager(cfg, ctx.log)) {
            auto fs = (*mgr)->freezer_state();
            if (fs && *fs == cgroups::FreezerState::frozen) return Status::paused;
        }
    }
    return Status::running;
}

std::string oci_state_json(const ContainerState& st, Status status, bool pretty) {
    json j = {{"ociVersion", "1.2.0"},
              {"id", st.id},
              {"status", status_name(status)},
              {"pid", status == Status::stopped ? 0 : st.pid},
              {"bundle", st.bundle},
              {"rootfs", st.rootfs},
              {"created", st.created},
              {"owner", st.owner}};
    j["annotations"] = st.annotations;
    return pretty ? sys::json_text(j, 2) : sys::json_text(j);
}

sys::Result<sys::FileLock> lock_container(const Context& ctx, const std::string& id) {
    auto dir = state_dir(ctx, id);
    struct stat sb;
    if (::stat(dir.c_str(), &sb) < 0) return sys::fail(sys::Error::not_found("container \"" + id + "\" does not exist"));
    return sys::FileLock::acquire(dir);
}

sys::Result<std::vector<std::string>> list_ids(const Context& ctx) {
    if (!sys::path_exists(ctx.root)) return std::vector<std::string>{};
    auto ids = MD_TRY(sys::list_dir(ctx.root));
    std::erase_if(ids, [](const std::string& s) { return !validate_id(s); });
    std::sort(ids.begin(), ids.end());
    return ids;
}

}  // namespace mydocker::runtime
