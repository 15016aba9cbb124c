// volume create / ls / inspect / rm / prune
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli/docker/cli.h"
#include "engine/containers/containers.h"
#include "engine/volumes/volumes.h"
#include "sys/json_text.h"
#include "sys/units.h"

namespace mydocker::cli {

namespace {

namespace volumes = engine::volumes;
using nlohmann::json;

// Docker's (go-units) HumanSize: decimal units, four significant digits, "1.024kB".
std::string human_size(uint64_t bytes) {
    return sys::human_size(static_cast<double>(bytes), 4);
}

std::string joined_labels(const std::map<std::string, std::string>& labels) {
    std::string out;
    for (const auto& [k, v] : labels) {
        if (!out.empty()) out += ',';
        out += k + "=" + v;
    }
    return out;
}

// What `docker volume inspect` prints for a volume.
json inspect_json(const volumes::Volume& v) {
    return json{{"CreatedAt", v.created},
                {"Driver", v.driver},
                {"Labels", v.labels.empty() ? json(nullptr) : json(v.labels)},
                {"Mountpoint", v.mountpoint},
                {"Name", v.name},
                {"Options", nullptr},
                {"Scope", "local"}};
}

// What `docker volume ls --format json` prints for a volume (one object per line).
json ls_json(const volumes::Volume& v) {
    return json{{"Availability", "N/A"}, {"Driver", v.driver},
                {"Group", "N/A"},        {"Labels", joined_labels(v.labels)},
                {"Links", "N/A"},        {"Mountpoint", v.mountpoint},
                {"Name", v.name},        {"Scope", "local"},
                {"Size", "N/A"},         {"Status", "N/A"}};
}

// A field as Go's text/template prints it: strings bare, maps as "map[k:v]".
std::string template_value(const json& j) {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_null()) return "<no value>";
    if (j.is_object()) {
        std::string out = "map[";
        bool first = true;
        for (const auto& [k, v] : j.items()) {
            if (!first) out += ' ';
            first = false;
            out += k + ":" + template_value(v);
        }
        return out + "]";
    }
    return sys::json_text(j);
}

// The part of Go templates that scripts use with volumes: {{.Field}}, {{json .}}, {{json .Field}}.
sys::Result<std::string> render(const std::string& format, const json& obj) {
    std::string out;
    size_t pos = 0;
    while (pos < format.size()) {
        size_t open = format.find("{{", pos);
        if (open == std::string::npos) {
            out += format.substr(pos);
            break;
        }
        out += format.substr(pos, open - pos);
        size_t close = format.find("}}", open + 2);
        if (close == std::string::npos)
            return sys::fail_invalid("--format \"" + format + "\": unclosed \"{{\"");
        std::string action = format.substr(open + 2, close - open - 2);
        auto trim = [](std::string s) {
            s.erase(0, s.find_first_not_of(' '));
            s.erase(s.find_last_not_of(' ') + 1);
            return s;
        };
        action = trim(action);
        bool as_json = action.starts_with("json ");
        if (as_json) action = trim(action.substr(5));
        const json* value = nullptr;
        if (action == ".") {
            value = &obj;
        } else if (action.size() > 1 && action[0] == '.' && obj.contains(action.substr(1))) {
            value = &obj.at(action.substr(1));
        }
        if (!value)
            return sys::fail_invalid(
                "--format \"" + format + "\": unsupported \"{{" + action +
                "}}\" (use {{.Name}}, {{.Driver}}, {{.Mountpoint}}, {{json .}}, ...)");
        out += as_json ? value->dump() : template_value(*value);
        pos = close + 2;
    }
    // As docker's formatter: a literal \t or \n in the flag means the character.
    std::string unescaped;
    for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\\' && i + 1 < out.size() && (out[i + 1] == 't' || out[i + 1] == 'n')) {
            unescaped += out[++i] == 't' ? '\t' : '\n';
        } else {
            unescaped += out[i];
        }
    }
    return unescaped;
}

sys::Result<std::map<std::string, std::string>> parse_labels(const std::vector<std::string>& args) {
    std::map<std::string, std::string> labels;
    for (const auto& arg : args) {
        auto eq = arg.find('=');
        std::string key = arg.substr(0, eq);
        if (key.empty())
            return sys::fail_invalid("--label \"" + arg + "\": a label needs a key (key=value)");
        labels[key] = eq == std::string::npos ? "" : arg.substr(eq + 1);
    }
    return labels;
}

// `volume ls --filter`: dangling=true|false, name=SUBSTRING, label=KEY[=VALUE], driver=NAME.
class Filters {
  public:
    static sys::Result<Filters> parse(const std::vector<std::string>& args) {
        Filters f;
        for (const auto& arg : args) {
            auto eq = arg.find('=');
            if (eq == std::string::npos)
                return sys::fail_invalid("--filter \"" + arg + "\": want key=value");
            std::string key = arg.substr(0, eq), value = arg.substr(eq + 1);
            if (key == "dangling") {
                if (value == "true" || value == "1")
                    f.dangling_ = true;
                else if (value == "false" || value == "0")
                    f.dangling_ = false;
                else
                    return sys::fail_invalid("--filter \"" + arg + "\": dangling is true or false");
            } else if (key == "name") {
                f.names_.push_back(value);
            } else if (key == "label") {
                f.labels_.push_back(value);
            } else if (key == "driver") {
                f.drivers_.push_back(value);
            } else {
                return sys::fail_invalid("--filter \"" + arg + "\": unknown filter \"" + key +
                                         "\" (dangling, name, label, driver)");
            }
        }
        return f;
    }

    bool needs_in_use() const { return dangling_.has_value(); }

    bool match(const volumes::Volume& v, const std::set<std::string>& in_use) const {
        if (dangling_ && *dangling_ == in_use.contains(v.name)) return false;
        auto any = [](const std::vector<std::string>& wanted, auto pred) {
            if (wanted.empty()) return true;
            for (const auto& w : wanted)
                if (pred(w)) return true;
            return false;
        };
        if (!any(names_, [&](const std::string& w) { return v.name.find(w) != std::string::npos; }))
            return false;
        if (!any(drivers_, [&](const std::string& w) { return v.driver == w; })) return false;
        for (const auto& l : labels_) {  // every label filter must hold, as in docker
            auto eq = l.find('=');
            auto it = v.labels.find(l.substr(0, eq));
            if (it == v.labels.end()) return false;
            if (eq != std::string::npos && it->second != l.substr(eq + 1)) return false;
        }
        return true;
    }

  private:
    std::optional<bool> dangling_;
    std::vector<std::string> names_, labels_, drivers_;
};

void register_create(CLI::App& vol, Globals& g) {
    struct Args {
        std::string name;
        std::string driver = "local";
        std::vector<std::string> labels;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = vol.add_subcommand("create", "create a volume (a random name if none is given)");
    cmd->add_option("name", a->name, "volume name");
    cmd->add_option("--name", a->name, "volume name")->excludes(cmd->get_option("name"));
    cmd->add_option("-d,--driver", a->driver, "volume driver (only \"local\")");
    cmd->add_option("--label", a->labels, "set a label, key=value")->allow_extra_args(false);
    cmd->callback([&g, a] {
        g.action = [a](engine::Context& ctx) -> sys::Result<int> {
            if (a->driver != "local")
                return sys::fail_invalid("--driver \"" + a->driver +
                                         "\": only the \"local\" driver is supported");
            auto labels = MD_TRY(parse_labels(a->labels));
            auto v = MD_TRY(volumes::Store(ctx).create(a->name, labels));
            println(v.name);
            return 0;
        };
    });
}

void register_ls(CLI::App& vol, Globals& g) {
    struct Args {
        bool quiet = false;
        std::string format = "table";
        std::vector<std::string> filters;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = vol.add_subcommand("ls", "list volumes");
    cmd->alias("list");
    cmd->add_flag("-q,--quiet", a->quiet, "print only the names");
    cmd->add_option("--format", a->format, "table, json, or a template such as {{.Name}}");
    cmd->add_option("-f,--filter", a->filters, "dangling=true|false, name=, label=k[=v], driver=")
        ->allow_extra_args(false);
    cmd->callback([&g, a] {
        g.action = [a](engine::Context& ctx) -> sys::Result<int> {
            auto filters = MD_TRY(Filters::parse(a->filters));
            std::set<std::string> in_use;
            if (filters.needs_in_use()) in_use = MD_TRY(engine::containers::volumes_in_use(ctx));
            auto all = MD_TRY(volumes::Store(ctx).list());
            std::vector<volumes::Volume> shown;
            for (auto& v : all)
                if (filters.match(v, in_use)) shown.push_back(std::move(v));

            if (a->quiet) {
                for (const auto& v : shown) println(v.name);
                return 0;
            }
            if (a->format == "json") {
                for (const auto& v : shown) println(sys::json_text(ls_json(v)));
                return 0;
            }
            if (a->format == "table" || a->format.empty()) {
                // Docker's tabwriter: a column is its widest cell + 3, at least 10.
                size_t width = 10;
                for (const auto& v : shown) width = std::max(width, v.driver.size() + 3);
                std::printf("%-*s%s\n", static_cast<int>(width), "DRIVER", "VOLUME NAME");
                for (const auto& v : shown)
                    std::printf("%-*s%s\n", static_cast<int>(width), v.driver.c_str(),
                                v.name.c_str());
                return 0;
            }
            for (const auto& v : shown) println(MD_TRY(render(a->format, ls_json(v))));
            return 0;
        };
    });
}

void register_inspect(CLI::App& vol, Globals& g) {
    struct Args {
        std::vector<std::string> names;
        std::string format;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = vol.add_subcommand("inspect", "show volumes as JSON");
    cmd->add_option("name", a->names, "volume names")->required();
    cmd->add_option("-f,--format", a->format, "a template such as {{.Mountpoint}}");
    cmd->callback([&g, a] {
        g.action = [a](engine::Context& ctx) -> sys::Result<int> {
            volumes::Store store(ctx);
            auto arr = json::array();
            int rc = 0;
            std::vector<std::string> errors;
            for (const auto& name : a->names) {
                auto v = store.get(name);
                if (!v) {
                    // Docker prints what it found, then the errors, and exits 1.
                    errors.push_back(v.error().message());
                    rc = 1;
                    continue;
                }
                arr.push_back(inspect_json(*v));
            }
            if (a->format.empty()) {
                println(sys::json_text(arr, 4));
            } else {
                for (const auto& j : arr) println(MD_TRY(render(a->format, j)));
            }
            std::fflush(stdout);
            for (const auto& e : errors) print_error(e);
            return rc;
        };
    });
}

void register_rm(CLI::App& vol, Globals& g) {
    struct Args {
        std::vector<std::string> names;
        bool force = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = vol.add_subcommand("rm", "remove volumes");
    cmd->alias("remove");
    cmd->add_option("name", a->names, "volume names")->required();
    cmd->add_flag("-f,--force", a->force, "remove even if in use; a missing volume is no error");
    cmd->callback([&g, a] {
        g.action = [a](engine::Context& ctx) -> sys::Result<int> {
            auto in_use = MD_TRY(engine::containers::volumes_in_use(ctx));
            volumes::Store store(ctx);
            int rc = 0;
            for (const auto& name : a->names) {
                if (auto r = store.remove(name, a->force, in_use); !r) {
                    print_error(r.error().message());
                    rc = 1;
                    continue;
                }
                println(name);
            }
            return rc;
        };
    });
}

void register_prune(CLI::App& vol, Globals& g) {
    struct Args {
        bool force = false;
        bool all = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = vol.add_subcommand("prune", "remove every volume no container uses");
    cmd->add_flag("-f,--force", a->force, "do not ask for confirmation");
    cmd->add_flag("-a,--all", a->all,
                  "accepted for docker compatibility: named volumes are pruned too");
    cmd->callback([&g, a] {
        g.action = [a](engine::Context& ctx) -> sys::Result<int> {
            if (!a->force) {
                std::fputs(
                    "WARNING! This will remove all local volumes not used by at least one "
                    "container.\n"
                    "Are you sure you want to continue? [y/N] ",
                    stdout);
                std::fflush(stdout);
                std::string answer;
                std::getline(std::cin, answer);
                if (answer != "y" && answer != "Y" && answer != "yes") return 0;
            }
            auto in_use = MD_TRY(engine::containers::volumes_in_use(ctx));
            auto report = MD_TRY(volumes::Store(ctx).prune_report(in_use));
            if (!report.removed.empty()) {
                println("Deleted Volumes:");
                for (const auto& name : report.removed) println(name);
                println("");
            }
            println("Total reclaimed space: " + human_size(report.reclaimed));
            return 0;
        };
    });
}

}  // namespace

void register_volumes(CLI::App& app, Globals& g) {
    if (!g.wants("volume")) return;
    auto* vol = app.add_subcommand("volume", "manage volumes");
    vol->require_subcommand(1);
    register_create(*vol, g);
    register_ls(*vol, g);
    register_inspect(*vol, g);
    register_rm(*vol, g);
    register_prune(*vol, g);
}

}  // namespace mydocker::cli
