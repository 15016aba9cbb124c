// Image commands: images, rmi, tag, import, save, load, pull, push.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/docker/cli.h"
#include "engine/containers/containers.h"
#include "engine/images/format.h"
#include "engine/images/names.h"
#include "engine/images/progress.h"
#include "engine/images/pull.h"
#include "engine/images/push.h"
#include "engine/images/store.h"
#include "sys/json_text.h"

namespace mydocker::cli {

namespace ei = engine::images;

namespace {

struct ImagesArgs {
    bool quiet = false;
    bool no_trunc = false;
    bool digests = false;
    std::string format = "table";
    std::string filter;  // REPO[:TAG]
};

// One row of `images`: an image under one of its names (or <none>:<none>).
struct Row {
    std::string repo, tag, digest = "<none>", id, created_since, created_at, size;
};

// The RepoDigest of `img` in repository `repo` (docker shows the first), "<none>" if none.
std::string digest_in(const ei::Image& img, const std::string& repo) {
    for (const auto& d : img.repo_digests)
        if (ei::repo_of_digest(d) == repo) return d.substr(d.find('@') + 1);
    return "<none>";
}

// Columns as Docker's tabwriter lays them out: at least 10 wide, 3 spaces between.
std::string table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& r : rows) {
        for (size_t i = 0; i < r.size(); i++) {
            if (width.size() <= i) width.push_back(10);
            width[i] = std::max(width[i], r[i].size() + 3);
        }
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); i++) {
            line += r[i];
            if (i + 1 < r.size()) line.append(width[i] - r[i].size(), ' ');
        }
        out += line + "\n";
    }
    return out;
}

sys::Result<int> list_images(engine::Context& ctx, const ImagesArgs& a) {
    if (a.format != "table" && a.format != "json")
        return sys::fail_invalid("--format: unknown format \"" + a.format + "\" (table, json)");
    std::optional<ei::NameParts> want;
    if (!a.filter.empty()) {
        std::string norm = MD_TRY(ei::normalize_name(a.filter));
        want = ei::split_name(norm);
        // "busybox" lists every tag; "busybox:1" only that one. A colon before the last '/'
        // belongs to a registry port, not to a tag.
        auto colon = a.filter.rfind(':');
        auto slash = a.filter.rfind('/');
        bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
        if (!has_tag) want->tag.clear();
    }
    ei::Store store(ctx);
    auto images = MD_TRY(store.list());
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    std::vector<Row> rows;
    for (const auto& img : images) {
        auto created = ei::parse_rfc3339(img.created);
        Row base;
        base.id = a.no_trunc ? "sha256:" + img.id : img.id.substr(0, 12);
        base.created_since = created ? ei::human_duration(now - *created) + " ago" : "N/A";
        base.created_at = created ? ei::format_docker_time(*created) : "";
        base.size = ei::human_size(img.size);
        if (img.names.empty() && img.repo_digests.empty()) {
            if (want) continue;
            Row r = base;
            r.repo = r.tag = "<none>";
            rows.push_back(r);
        }
        std::set<std::string> repos_tagged;
        for (const auto& n : img.names) {
            auto parts = ei::split_name(n);
            repos_tagged.insert(parts.repo);
            if (want &&
                (parts.repo != want->repo || (!want->tag.empty() && parts.tag != want->tag)))
                continue;
            Row r = base;
            r.repo = parts.repo;
            r.tag = parts.tag;
            r.digest = digest_in(img, r.repo);
            rows.push_back(r);
        }
        // Pulled by digest alone: docker lists "repo <none>" with its digest.
        for (const auto& d : img.repo_digests) {
            std::string repo(ei::repo_of_digest(d));
            if (!repos_tagged.insert(repo).second) continue;
            if (want && (repo != want->repo || !want->tag.empty())) continue;
            Row r = base;
            r.repo = repo;
            r.tag = "<none>";
            r.digest = d.substr(d.find('@') + 1);
            rows.push_back(r);
        }
    }
    if (a.quiet) {
        std::set<std::string> seen;
        for (const auto& r : rows) {
            if (seen.insert(r.id).second) println(r.id);
        }
        return 0;
    }
    if (a.format == "json") {
        for (const auto& r : rows) {
            nlohmann::json j = {{"Containers", "N/A"},
                                {"CreatedAt", r.created_at},
                                {"CreatedSince", r.created_since},
                                {"Digest", r.digest},
                                {"ID", r.id},
                                {"Repository", r.repo},
                                {"SharedSize", "N/A"},
                                {"Size", r.size},
                                {"Tag", r.tag},
                                {"UniqueSize", "N/A"},
                                {"VirtualSize", r.size}};
            println(sys::json_text(j));
        }
        return 0;
    }
    std::vector<std::vector<std::string>> cells;
    if (a.digests) {
        cells.push_back({"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"});
        for (const auto& r : rows) cells.push_back({r.repo, r.tag, r.digest, r.id, r.created_since, r.size});
    } else {
        cells.push_back({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
        for (const auto& r : rows) cells.push_back({r.repo, r.tag, r.id, r.created_since, r.size});
    }
    std::string out = table(cells);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

// The engine's ImageConfig as docker's Config object.
nlohmann::ordered_json config_json(const ei::ImageConfig& c) {
    using J = nlohmann::ordered_json;
    auto list_or_null = [](const std::vector<std::string>& v) { return v.empty() ? J(nullptr) : J(v); };
    auto set_or_null = [](const std::vector<std::string>& v) {
        if (v.empty()) return J(nullptr);
        J o = J::object();
        for (const auto& k : v) o[k] = J::object();
        return o;
    };
    return {{"User", c.user},
            {"ExposedPorts", set_or_null(c.exposed_ports)},
            {"Env", list_or_null(c.env)},
            {"Cmd", list_or_null(c.cmd)},
            {"Volumes", set_or_null(c.volumes)},
            {"WorkingDir", c.working_dir},
            {"Entrypoint", list_or_null(c.entrypoint)},
            {"Labels", c.labels.empty() ? J(nullptr) : J(c.labels)},
            {"StopSignal", c.stop_signal}};
}

sys::Result<int> prune_images(engine::Context& ctx, bool all) {
    auto in_use = MD_TRY(engine::containers::images_in_use(ctx));
    auto rep = MD_TRY(ei::Store(ctx).prune(all, in_use));
    if (!rep.lines.empty()) {
        println("Deleted Images:");
        for (const auto& l : rep.lines) println(l);
        println("");
    }
    println("Total reclaimed space: " + ei::human_size(rep.reclaimed));
    return 0;
}

}  // namespace

sys::Result<nlohmann::ordered_json> image_inspect_json(engine::Context& ctx, const std::string& ref) {
    using J = nlohmann::ordered_json;
    auto img = MD_TRY(ei::Store(ctx).find(ref));
    return J{{"Id", "sha256:" + img.id},
             {"RepoTags", img.names},
             {"RepoDigests", img.repo_digests},
             {"Parent", ""},
             {"Comment", img.comment},
             {"Created", img.created},
             {"Author", img.author},
             {"Config", config_json(img.config)},
             {"Size", img.size},
             {"RootFS", {{"Type", "layers"}, {"Layers", img.diff_ids}}}};
}

void register_images(CLI::App& app, Globals& g) {
    if (g.wants("images")) {
        // images
        auto images_args = std::make_shared<ImagesArgs>();
        auto* images = app.add_subcommand("images", "list images");
        images->add_flag("-q,--quiet", images_args->quiet, "only show image ids");
        images->add_flag("--no-trunc", images_args->no_trunc, "show full image ids");
        images->add_flag("--digests", images_args->digests, "show the digests images were pulled or pushed as");
        images->add_option("--format", images_args->format,
                           "output format: table or json (one object per line)");
        images->add_option("REPOSITORY", images_args->filter, "only images of REPO[:TAG]");
        images->callback([&g, images_args] {
            g.action = [images_args](engine::Context& ctx) { return list_images(ctx, *images_args); };
        });
    }

    if (g.wants("image")) {
        // image inspect / image prune
        auto* image = app.add_subcommand("image", "manage images");
        auto ia = std::make_shared<std::pair<std::vector<std::string>, std::string>>();
        auto* inspect = image->add_subcommand("inspect", "show images as JSON");
        inspect->add_option("IMAGE", ia->first, "image names or ids")->required();
        inspect->add_option("-f,--format", ia->second, "print one field: {{.RepoDigests}} or .Id");
        inspect->callback([&g, ia] {
            g.action = [ia](engine::Context& ctx) -> sys::Result<int> {
                return print_inspect(
                    ia->first, ia->second,
                    [&](const std::string& r) -> sys::Result<nlohmann::ordered_json> {
                        auto j = image_inspect_json(ctx, r);
                        if (!j && j.error().code() == sys::ErrorCode::not_found)
                            return sys::fail(sys::Error::not_found("no such image: " + r));
                        return j;
                    },
                    [](const nlohmann::ordered_json& j) -> sys::Result<nlohmann::ordered_json> { return j; });
            };
        });
        auto pa = std::make_shared<std::pair<bool, bool>>(false, false);
        auto* prune = image->add_subcommand("prune", "remove unused images, then blobs and layers none refers to");
        // As container and network prune: we never ask, so a script without a terminal never hangs.
        prune->add_flag("-f,--force", pa->first, "do not ask (we never ask)");
        prune->add_flag("-a,--all", pa->second, "also every tagged image no container uses");
        prune->callback([&g, pa] {
            g.action = [pa](engine::Context& ctx) { return prune_images(ctx, pa->second); };
        });
    }

    if (g.wants("rmi")) {
        // rmi
        auto rmi_args = std::make_shared<std::pair<bool, std::vector<std::string>>>();
        auto* rmi = app.add_subcommand("rmi", "remove images");
        rmi->add_flag("-f,--force", rmi_args->first,
                      "remove images used by containers (they stay, untagged)");
        rmi->add_option("IMAGE", rmi_args->second, "image names or ids")->required();
        rmi->callback([&g, rmi_args] {
            g.action = [rmi_args](engine::Context& ctx) -> sys::Result<int> {
                auto in_use = MD_TRY(engine::containers::images_in_use(ctx));
                ei::Store store(ctx);
                std::optional<sys::Error> last;
                for (const auto& ref : rmi_args->second) {
                    auto lines = store.remove(ref, rmi_args->first, in_use);
                    if (!lines) {
                        // Like docker: report each failure and go on with the others.
                        if (last) print_error(last->message());
                        last = std::move(lines.error());
                        continue;
                    }
                    for (const auto& l : *lines) println(l);
                }
                if (last) return sys::fail(std::move(*last));
                return 0;
            };
        });
    }

    if (g.wants("tag")) {
        // tag
        auto tag_args = std::make_shared<std::pair<std::string, std::string>>();
        auto* tag = app.add_subcommand("tag", "give an image another name");
        tag->add_option("SOURCE", tag_args->first, "image name or id")->required();
        tag->add_option("TARGET", tag_args->second, "new name REPO[:TAG]")->required();
        tag->callback([&g, tag_args] {
            g.action = [tag_args](engine::Context& ctx) -> sys::Result<int> {
                MD_TRY(ei::Store(ctx).tag(tag_args->first, tag_args->second));
                return 0;
            };
        });
    }

    if (g.wants("import")) {
        // import
        auto import_args = std::make_shared<std::pair<std::string, std::string>>();
        auto* imp = app.add_subcommand("import", "create an image from a rootfs tarball");
        imp->add_option("FILE", import_args->first, "tarball (plain, gzip, zstd, xz) or - for stdin")
            ->required();
        imp->add_option("REPOSITORY", import_args->second, "name REPO[:TAG] for the image");
        imp->callback([&g, import_args] {
            g.action = [import_args](engine::Context& ctx) -> sys::Result<int> {
                std::optional<std::string> name;
                if (!import_args->second.empty()) name = import_args->second;
                auto img = MD_TRY(ei::Store(ctx).import_tar(import_args->first, name, {}));
                println("sha256:" + img.id);
                return 0;
            };
        });
    }

    if (g.wants("save")) {
        // save
        struct SaveArgs {
            std::string output = "-";
            std::string format = "docker-archive";
            std::vector<std::string> refs;
        };
        auto save_args = std::make_shared<SaveArgs>();
        auto* save = app.add_subcommand("save", "write images to a tar archive (stdout by default)");
        save->add_option("-o,--output", save_args->output, "write to a file instead of stdout");
        save->add_option("--format", save_args->format, "docker-archive (default) or oci-archive");
        save->add_option("IMAGE", save_args->refs, "image names or ids")->required();
        save->callback([&g, save_args] {
            g.action = [save_args](engine::Context& ctx) -> sys::Result<int> {
                ei::ArchiveFormat f;
                if (save_args->format == "docker-archive" || save_args->format == "docker")
                    f = ei::ArchiveFormat::docker;
                else if (save_args->format == "oci-archive" || save_args->format == "oci")
                    f = ei::ArchiveFormat::oci;
                else
                    return sys::fail_invalid("--format: unknown format \"" + save_args->format +
                                             "\" (docker-archive, oci-archive)");
                MD_TRY(ei::Store(ctx).save(save_args->refs, save_args->output, f));
                return 0;
            };
        });
    }

    if (g.wants("pull")) {
        // pull
        struct PullArgs {
            std::string ref, platform;
            bool quiet = false;
        };
        auto pull_args = std::make_shared<PullArgs>();
        auto* pull = app.add_subcommand("pull", "pull an image from a registry");
        pull->add_option("NAME", pull_args->ref, "NAME[:TAG|@DIGEST]")->required();
        pull->add_flag("-q,--quiet", pull_args->quiet, "print only the image's name");
        pull->add_option("--platform", pull_args->platform, "os/arch[/variant] of a multi-platform image");
        pull->callback([&g, pull_args] {
            g.action = [pull_args](engine::Context& ctx) -> sys::Result<int> {
                ei::PullOptions o;
                o.platform = pull_args->platform;
                // docker's drawing on a terminal (a line per layer, redrawn in place); plain
                // lines elsewhere.
                auto shown = std::make_shared<ei::ProgressRenderer>(::isatty(STDOUT_FILENO) == 1, [](std::string_view d) {
                    std::fwrite(d.data(), 1, d.size(), stdout);
                    std::fflush(stdout);
                });
                if (!pull_args->quiet) {
                    o.progress = [shown](const std::string& line) { shown->message(line); };
                    o.layer_progress = [shown](const std::string& id, const std::string& status, int64_t cur, int64_t total) {
                        shown->layer(id, status, cur, total);
                    };
                }
                auto r = ei::pull(ctx, pull_args->ref, o);
                if (!r) {
                    // docker pull exits 1 on any failure (not the 125 of run's own errors).
                    std::fflush(stdout);
                    print_error(r.error().message());
                    return 1;
                }
                println(r->name);
                return 0;
            };
        });
    }

    if (g.wants("push")) {
        // push
        auto push_args = std::make_shared<std::pair<std::string, bool>>("", false);
        auto* push = app.add_subcommand("push", "push an image to a registry");
        push->add_option("NAME", push_args->first, "NAME[:TAG]")->required();
        push->add_flag("-q,--quiet", push_args->second, "print only the image's name");
        push->callback([&g, push_args] {
            g.action = [push_args](engine::Context& ctx) -> sys::Result<int> {
                ei::PushOptions o;
                if (!push_args->second) o.progress = [](const std::string& line) { println(line); };
                auto r = ei::push(ctx, push_args->first, o);
                if (!r) {
                    // docker push exits 1 on any failure, as pull does.
                    std::fflush(stdout);
                    print_error(r.error().message());
                    return 1;
                }
                if (push_args->second) println(r->name);
                return 0;
            };
        });
    }

    if (g.wants("load")) {
        // load
        auto load_args = std::make_shared<std::pair<std::string, bool>>("-", false);
        auto* load = app.add_subcommand("load", "load images from a tar archive (stdin by default)");
        load->add_option("-i,--input", load_args->first, "read from a file instead of stdin");
        load->add_flag("-q,--quiet", load_args->second,
                       "no progress output (there is none: accepted for docker)");
        load->callback([&g, load_args] {
            g.action = [load_args](engine::Context& ctx) -> sys::Result<int> {
                auto loaded = MD_TRY(ei::Store(ctx).load(load_args->first));
                for (const auto& n : loaded)
                    println(n.starts_with("sha256:") ? "Loaded image ID: " + n : "Loaded image: " + n);
                return 0;
            };
        });
    }
}

}  // namespace mydocker::cli
