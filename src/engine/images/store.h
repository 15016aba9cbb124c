// The image store: OCI image layout under <root>/images (oci-layout, index.json,
// blobs/sha256/<hex>), each layer unpacked once under <root>/layers/<diff-id hex>/ and shared
// by every image and container that uses it. Reading an image (resolve, list) needs no
// libarchive or libcrypto; writing one (busybox, import, commit, load) dlopen()s them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/context.h"
#include "sys/error.h"

namespace mydocker::engine::images {

/// The parts of an OCI image config ("config" object) the engine honours.
struct ImageConfig {
    std::string user;
    std::vector<std::string> env;         // "KEY=value"
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::string working_dir;
    std::map<std::string, std::string> labels;
    std::vector<std::string> exposed_ports;  // "80/tcp"
    std::vector<std::string> volumes;        // "/data"
    std::string stop_signal;
};

struct Image {
    std::string id;                  // hex sha256 of the config blob (64 chars), as `docker images` shows
    std::vector<std::string> names;  // "busybox:latest", ... (empty for a dangling image)
    std::string created;             // RFC 3339
    std::string author;
    std::string comment;
    ImageConfig config;
    std::vector<std::string> diff_ids;    // "sha256:<hex>", bottom layer first
    std::vector<std::string> layer_dirs;  // absolute unpacked dirs, bottom layer first
    uint64_t size = 0;                    // bytes of the layers (their uncompressed tars)
    std::string manifest_digest;          // "sha256:<hex>"
    std::vector<std::string> repo_digests;  // "repo@sha256:<hex>" it was pulled or pushed as
};

struct CommitOptions {
    std::string upper_dir;          // the container's overlay upper dir (overlay whiteouts)
    std::string parent_id;          // the image the container was created from
    ImageConfig config;             // config of the new image (the container's, merged)
    std::optional<std::string> name;  // "repo[:tag]" (tag defaults to latest), or none: dangling
    std::string author;
    std::string comment;
};

/// What `image prune` did: docker's "untagged: X" / "deleted: sha256:Y" lines and the bytes
/// of the blobs it removed.
struct PruneReport {
    std::vector<std::string> lines;
    uint64_t reclaimed = 0;
};

enum class ArchiveFormat { docker, oci };

/// Normalise "repo[:tag]" to "repo:tag" (tag "latest" when absent); rejects bad names with
/// an error naming the reference.
sys::Result<std::string> normalize_name(std::string_view ref);

class Store {
public:
    explicit Store(const Context& ctx) : ctx_(ctx) {}

    /// Find an image by "name[:tag]", full id, unique id prefix, or "sha256:<id>". The name
    /// busybox[:latest] is built from the host's static busybox on first use. Not found:
    /// error code not_found, message `unable to find image "REF"`.
    sys::Result<Image> resolve(std::string_view ref);
    /// Find an image as resolve() does, but never build busybox nor unpack layers (inspect).
    sys::Result<Image> find(std::string_view ref);
    /// Every image, newest first.
    sys::Result<std::vector<Image>> list();
    /// A new image: the parent's layers plus one layer made from `upper_dir`.
    sys::Result<Image> commit(const CommitOptions& opts);
    /// Give image `ref` the name `name` ("repo[:tag]"); moves the name from any other image.
    sys::Result<void> tag(std::string_view ref, std::string_view name);
    /// Untag / delete. A name ref removes that name (and the image when it was the last);
    /// an id removes the image. `in_use` holds ids of images containers use: refused for
    /// those unless `force`. Returns docker-like "Untagged: X" / "Deleted: sha256:Y" lines.
    sys::Result<std::vector<std::string>> remove(std::string_view ref, bool force,
                                                 const std::set<std::string>& in_use);
    /// Delete unused images (untagged ones; with `all`, every image no container uses) and
    /// then every blob and layer dir no remaining image refers to. `in_use`: ids containers use.
    sys::Result<PruneReport> prune(bool all, const std::set<std::string>& in_use);
    /// A one-layer image from a rootfs tarball (plain or compressed).
    sys::Result<Image> import_tar(const std::string& tar_path, std::optional<std::string> name,
                                  const ImageConfig& config);
    /// docker save / podman save: docker-archive (manifest.json + repositories) or an OCI
    /// archive (oci-layout + index.json), written to `out_path` ("-" = stdout).
    sys::Result<void> save(const std::vector<std::string>& refs, const std::string& out_path, ArchiveFormat format);
    /// docker load: either archive form; returns the loaded names (or ids when untagged).
    sys::Result<std::vector<std::string>> load(const std::string& in_path);

private:
    const Context& ctx_;
};

/// Write `dir` (a container's merged rootfs) as a plain tar to `out_fd` (`export`).
sys::Result<void> export_tree(const std::string& dir, int out_fd);

}  // namespace mydocker::engine::images
