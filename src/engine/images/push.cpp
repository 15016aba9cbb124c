// push: name -> the stored image (manifest, config, layers) -> for each layer, a compressed
// blob the distribution metadata knows for this registry (HEAD: there already?, else a
// cross-repository mount from where it was seen), else gzip it on the fly into a chunked
// PATCH of an upload session and PUT its digest -> the config blob (HEAD, mount, PUT) -> a
// docker schema-2 manifest of the compressed layers, PUT under the tag. The store's images
// stay as they are; its distribution metadata learns what the registry now holds.
#include "engine/images/push.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "engine/images/config.h"
#include "engine/images/digest.h"
#include "engine/images/distribution.h"
#include "engine/images/gzip.h"
#include "engine/images/http.h"
#include "engine/images/layout.h"
#include "engine/images/names.h"
#include "engine/images/reference.h"
#include "engine/images/registry_client.h"
#include "engine/images/store.h"
#include "sys/files.h"
#include "sys/json_text.h"

namespace mydocker::engine::images {

namespace {

/// An HTTP status the registry answers when the credentials do not allow the push.
bool denied(long status) {
    return status == 401 || status == 403;
}

sys::Error push_error(const HttpResponse& resp, const std::string& what) {
    std::string msg = registry_status_error(resp, what);
    if (denied(resp.status))
        return sys::Error::from_errno(EACCES, msg + " (denied: is `mydocker login` needed?)");
    return sys::Error::from_errno(EIO, msg);
}

std::string escape_digest(const std::string& digest) {
    std::string out;
    for (char c : digest) out += c == ':' ? std::string("%3A") : std::string(1, c);
    return out;
}

// Docker's schema 2, not OCI's manifest: docker 20.10 pushes these, every registry and
// client since 2016 reads them (older registries and tools that predate OCI's types
// reject an OCI manifest), and the store's config and gzip layers fit it as they are. The
// store's own OCI manifest names uncompressed layers, so it is never what goes out.
constexpr const char* kMediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* kMediaDockerConfig = "application/vnd.docker.container.image.v1+json";
constexpr const char* kMediaDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

enum class BlobOutcome { exists, mounted, pushed };

/// Where a blob upload stands after its POST: mounted from another repository, or a session
/// to upload into.
struct UploadStart {
    bool mounted = false;
    std::string location;
};

/// POST blobs/uploads/, as a cross-repository mount of `digest` from `mount_from` when that
/// is not "" (a registry that cannot mount answers with an upload session instead); errors
/// name `what_up` ("blob sha256:...").
sys::Result<UploadStart> start_upload(RegistryClient& reg, const std::string& digest,
                                      const std::string& mount_from, const std::string& what_up) {
    HttpRequest post;
    post.method = "POST";
    post.send_body = true;
    std::string what = "blobs/uploads/";
    if (!mount_from.empty()) what += "?mount=" + escape_digest(digest) + "&from=" + mount_from;
    auto p = MD_TRY(reg.request(post, what));
    // A token without pull on the other repository refuses the mount: upload after all.
    if (denied(p.status) && !mount_from.empty()) p = MD_TRY(reg.request(post, "blobs/uploads/"));
    // 201: mounted; 202: an upload session (also what a registry that does not mount answers).
    if (p.status == 201 && !mount_from.empty()) return UploadStart{true, ""};
    if (p.status != 202) return sys::fail(push_error(p, "start the upload of " + what_up));
    std::string location = p.headers["location"];
    if (location.empty())
        return sys::fail_invalid("upload of " + what_up + ": the registry gave no Location");
    return UploadStart{false, location};
}

/// HEAD blobs/<digest>: whether the repository has it.
sys::Result<bool> has_blob(RegistryClient& reg, const std::string& digest) {
    HttpRequest head;
    head.method = "HEAD";
    auto h = MD_TRY(reg.request(head, "blobs/" + digest));
    if (h.status == 200) return true;
    if (h.status != 404) return sys::fail(push_error(h, "check blob " + digest));
    return false;
}

/// A blob the registry may hold already: there (HEAD), or mounted from `mount_from` ("":
/// only HEAD). None of the two: nullopt, and no upload session is left open.
sys::Result<std::optional<BlobOutcome>> reuse_blob(RegistryClient& reg, const std::string& digest,
                                                   const std::string& mount_from) {
    if (MD_TRY(has_blob(reg, digest))) return BlobOutcome::exists;
    if (mount_from.empty()) return std::nullopt;
    UploadStart up = MD_TRY(start_upload(reg, digest, mount_from, "blob " + digest));
    if (up.mounted) return BlobOutcome::mounted;
    // Not mounted (the source no longer has it): the session it opened instead is not ours
    // to fill, cancel it (as docker does); a failure only leaves it to the registry's purge.
    HttpRequest del;
    del.method = "DELETE";
    (void)reg.request(del, upload_url(reg.base(), up.location, ""));
    return std::nullopt;
}

/// The config (or any blob kept as is), from the store's file `path`: skipped when the
/// registry has it, mounted from `mount_from` (a repository of the same registry, or "")
/// when it can, else uploaded whole in one PUT.
sys::Result<BlobOutcome> push_blob(RegistryClient& reg, const Descriptor& d,
                                   const std::string& path, const std::string& mount_from) {
    if (MD_TRY(has_blob(reg, d.digest))) return BlobOutcome::exists;

    auto fd = MD_TRY(sys::open_file(path, O_RDONLY));
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) return sys::fail_errno("stat \"" + path + "\"");
    if (st.st_size != d.size)
        return sys::fail_invalid("blob " + d.digest + ": " + std::to_string(st.st_size) +
                                 " bytes in the store, its manifest says " +
                                 std::to_string(d.size));

    UploadStart up = MD_TRY(start_upload(reg, d.digest, mount_from, "blob " + d.digest));
    if (up.mounted) return BlobOutcome::mounted;
    // Monolithic: one PUT with the whole blob, streamed from its file.
    HttpRequest put;
    put.method = "PUT";
    put.headers = {"Content-Type: application/octet-stream"};
    put.body_fd = fd.get();
    put.body_size = d.size;
    auto r = MD_TRY(
        reg.request(put, upload_url(reg.base(), up.location, "digest=" + escape_digest(d.digest))));
    if (r.status != 201 && r.status != 204)
        return sys::fail(push_error(r, "upload blob " + d.digest));
    return BlobOutcome::pushed;
}

/// Compress the layer file `path` with gzip into a new upload session: one PATCH whose body
/// is the compressor's output (chunked: its length is known only at the end), then a PUT of
/// the digest counted on the way. Returns the compressed blob.
sys::Result<Descriptor> upload_gzip(RegistryClient& reg, const Descriptor& layer,
                                    const std::string& path) {
    auto fd = MD_TRY(sys::open_file(path, O_RDONLY));
    GzipStream gz = MD_TRY(GzipStream::open(fd.get(), path));
    UploadStart up = MD_TRY(start_upload(reg, "", "", "layer " + layer.digest));

    HttpRequest patch;
    patch.method = "PATCH";
    // "Expect:": no 100-continue round trip before the body.
    patch.headers = {"Content-Type: application/octet-stream", "Expect:"};
    patch.body_source = [&gz](char* buf, size_t n) { return gz.read(buf, n); };
    auto r = MD_TRY(reg.request(patch, upload_url(reg.base(), up.location, "")));
    if (r.status != 202) return sys::fail(push_error(r, "upload layer " + layer.digest));
    if (gz.digest().empty())
        return sys::fail(sys::Error::from_errno(
            EIO, "upload layer " + layer.digest + ": the compressed stream was cut short"));
    if (gz.input_size() != layer.size)
        return sys::fail_invalid("layer " + layer.digest + ": " + std::to_string(gz.input_size()) +
                                 " bytes in the store, its manifest says " +
                                 std::to_string(layer.size));
    // Each answer names where the session continues (distribution moves its _state there).
    std::string location = r.headers["location"].empty() ? up.location : r.headers["location"];
    Descriptor blob{kMediaDockerLayerGzip, gz.digest(), gz.size()};

    HttpRequest put;
    put.method = "PUT";
    put.send_body = true;
    auto done = MD_TRY(
        reg.request(put, upload_url(reg.base(), location, "digest=" + escape_digest(blob.digest))));
    if (done.status != 201 && done.status != 204)
        return sys::fail(push_error(done, "upload layer " + layer.digest + " as " + blob.digest));
    return blob;
}

/// What push_layer did with one layer.
struct LayerPushed {
    Descriptor blob;  // the compressed blob the manifest names
    BlobOutcome outcome;
    std::string from;  // the repository mounted from
};

bool is_gzip_layer(const std::string& media_type) {
    return media_type == kMediaDockerLayerGzip ||
           media_type == "application/vnd.oci.image.layer.v1.tar+gzip";
}

/// One layer (`layer`: the store's uncompressed blob at `path`, digest == diff_id) to the
/// repository of `ref`: a gzip blob known for it in this registry when one is still there or
/// mounts, else the layer compressed and uploaded; the distribution metadata records it.
sys::Result<LayerPushed> push_layer(const sys::Logger& log, const Layout& lay, RegistryClient& reg,
                                    const Reference& ref, const Descriptor& layer,
                                    const std::string& path, const std::string& names_from) {
    const std::string host = ref.domain, repo = ref.path;
    std::optional<LayerPushed> got;
    std::vector<std::string> tried;
    for (const auto& s : lookup_layer_sources(lay, layer.digest, host, repo)) {
        if (!is_gzip_layer(s.blob.media_type)) continue;  // schema 2 has no zstd
        tried.push_back(s.blob.digest);
        const std::string from = s.repository == repo ? "" : s.repository;
        if (auto o = MD_TRY(reuse_blob(reg, s.blob.digest, from))) {
            got = LayerPushed{{kMediaDockerLayerGzip, s.blob.digest, s.blob.size}, *o, from};
            break;
        }
    }
    // Nothing recorded, but the image has a name in another repository of this registry
    // (pulled from there before the metadata was kept, pushed by an older mydocker): the
    // layer compressed as we compress it may be there; counting its digest costs a
    // compression, a mount saves the upload.
    if (!got && !names_from.empty()) {
        auto fd = MD_TRY(sys::open_file(path, O_RDONLY));
        GzipStream gz = MD_TRY(GzipStream::open(fd.get(), path));
        MD_TRY(gz.drain());
        if (std::find(tried.begin(), tried.end(), gz.digest()) == tried.end())
            if (auto o = MD_TRY(reuse_blob(reg, gz.digest(), names_from)))
                got = LayerPushed{{kMediaDockerLayerGzip, gz.digest(), gz.size()}, *o, names_from};
    }
    if (!got) got = LayerPushed{MD_TRY(upload_gzip(reg, layer, path)), BlobOutcome::pushed, ""};

    // A cache: a push that cannot record what it did has still done it.
    auto recorded = [&]() -> sys::Result<void> {
        auto lk = MD_TRY(lay.lock());
        return record_layer_source(lay, lk, layer.digest, got->blob, host, repo);
    }();
    if (!recorded)
        log.warn("record layer " + layer.digest + " as " + got->blob.digest + ": " +
                 recorded.error().message());
    return std::move(*got);
}

/// docker's progress line for one layer ("<short diff_id>: Pushed").
std::string progress_line(const std::string& diff_id, const LayerPushed& done) {
    std::string id = diff_id.substr(7, 12);
    switch (done.outcome) {
        case BlobOutcome::exists:
            return id + ": Layer already exists";
        case BlobOutcome::mounted:
            return id + ": Mounted from " + done.from;
        case BlobOutcome::pushed:
            break;
    }
    return id + ": Pushed";
}

/// The other repositories of `ref`'s registry push may mount `layers` from: those the
/// distribution metadata names, and `names_from`.
std::set<std::string> mount_repositories(const Layout& lay, const std::vector<Descriptor>& layers,
                                         const Reference& ref, const std::string& names_from) {
    std::set<std::string> out;
    if (!names_from.empty()) out.insert(names_from);
    for (const auto& l : layers)
        for (const auto& s : lookup_layer_sources(lay, l.digest, ref.domain, ref.path))
            if (s.repository != ref.path && is_gzip_layer(s.blob.media_type))
                out.insert(s.repository);
    return out;
}

/// The docker schema-2 manifest of `config` and the compressed `layers`, laid out as docker
/// writes it (Go's MarshalIndent with three spaces): the same image gives the same bytes.
std::string docker_manifest(const Descriptor& config, const std::vector<Descriptor>& layers) {
    using ojson = nlohmann::ordered_json;
    auto desc = [](const std::string& media_type, const Descriptor& d) {
        return ojson{{"mediaType", media_type}, {"size", d.size}, {"digest", d.digest}};
    };
    ojson m = {{"schemaVersion", 2},
               {"mediaType", kMediaDockerManifest},
               {"config", desc(kMediaDockerConfig, config)},
               {"layers", ojson::array()}};
    for (const auto& l : layers) m["layers"].push_back(desc(l.media_type, l));
    return sys::json_text(m, 3);
}

}  // namespace

std::string upload_url(const std::string& base, const std::string& location,
                       const std::string& query) {
    std::string url = location.starts_with("http://") || location.starts_with("https://")
                          ? location
                          : base + location;
    if (query.empty()) return url;
    return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string mount_source(const std::vector<std::string>& names, const Reference& ref) {
    for (const auto& n : names) {
        auto other = parse_reference(n);
        if (other && other->domain == ref.domain && other->path != ref.path) return other->path;
    }
    return "";
}

sys::Result<PushResult> push(const Context& ctx, const std::string& ref_text,
                             const PushOptions& opts) {
    Reference ref = MD_TRY(parse_reference(ref_text));
    if (ref.digest)
        return sys::fail_invalid("push " + ref_text +
                                 ": a digest cannot be pushed to, give NAME[:TAG]");
    ref = ref.normalized();
    const std::string shown = ref.familiar_string();
    auto say = [&](const std::string& line) {
        if (opts.progress) opts.progress(line);
    };

    auto img = Store(ctx).resolve(ref.familiar_name() + ":" + *ref.tag);
    if (!img && img.error().code() == sys::ErrorCode::not_found)
        return sys::fail(sys::Error::not_found(
            "push " + shown + ": an image does not exist locally with the tag " + shown));
    if (!img) return sys::fail(std::move(img.error()).wrap("push " + shown));

    Layout lay(ctx);
    std::string manifest_text = MD_TRY(lay.read_blob(img->manifest_digest));
    StoredImage si = MD_TRY_CTX(lay.read_image({kMediaManifest, img->manifest_digest,
                                                static_cast<int64_t>(manifest_text.size())}),
                                "push " + shown);

    say("The push refers to repository [" + ref.full_name() + "]");
    RegistryClient reg(ref, "pull,push");
    const std::string from = mount_source(img->names, ref);
    // A token server grants a mount only with pull on the source repository in the token.
    for (const auto& r : mount_repositories(lay, si.layers, ref, from)) reg.add_pull_scope(r);
    // docker lists the top layer first; the manifest lists them bottom first.
    std::vector<Descriptor> pushed(si.layers.size());
    for (size_t i = si.layers.size(); i-- > 0;) {
        const Descriptor& layer = si.layers[i];
        std::string path = MD_TRY(lay.blob_path(layer.digest));
        auto done =
            MD_TRY_CTX(push_layer(ctx.log, lay, reg, ref, layer, path, from), "push " + shown);
        pushed[i] = done.blob;
        say(progress_line(layer.digest, done));
    }
    MD_TRY_CTX(push_blob(reg, si.config, MD_TRY(lay.blob_path(si.config.digest)), from),
               "push " + shown + ": config");

    const std::string manifest = docker_manifest(si.config, pushed);
    Descriptor md{kMediaDockerManifest, "sha256:" + MD_TRY(sha256_hex(manifest)),
                  static_cast<int64_t>(manifest.size())};
    HttpRequest put;
    put.method = "PUT";
    put.headers = {std::string("Content-Type: ") + kMediaDockerManifest};
    put.send_body = true;
    put.body = manifest;
    auto r = MD_TRY_CTX(reg.request(put, "manifests/" + *ref.tag), "push " + shown);
    if (r.status != 201 && r.status != 200)
        return sys::fail(push_error(r, "push " + shown + ": manifest"));
    if (auto d = r.headers.find("docker-content-digest");
        d != r.headers.end() && !d->second.empty() && d->second != md.digest)
        return sys::fail_invalid("push " + shown + ": the registry stored the manifest as " +
                                 d->second + ", not " + md.digest);

    // docker's RepoDigests: what the registry now holds this image as (if it is still here).
    {
        auto lk = MD_TRY(lay.lock());
        auto entries = MD_TRY(lay.read_index());
        if (std::any_of(entries.begin(), entries.end(), [&](const IndexEntry& e) {
                return e.manifest.digest == img->manifest_digest;
            }))
            MD_TRY(lay.add_repo_digest(lk, img->id,
                                       MD_TRY(repo_digest(ref.familiar_name(), md.digest))));
    }

    PushResult res{shown, *ref.tag, md.digest, md.size};
    say(res.tag + ": digest: " + res.digest + " size: " + std::to_string(res.size));
    return res;
}

}  // namespace mydocker::engine::images
