// push: name -> the stored image (manifest, config, layers) -> for each blob HEAD (there
// already?), else a cross-repository mount, else POST an upload and PUT the blob whole from
// its file -> PUT the manifest under the tag. Nothing in the store changes.
#include "engine/images/push.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "engine/images/config.h"
#include "engine/images/digest.h"
#include "engine/images/http.h"
#include "engine/images/layout.h"
#include "engine/images/names.h"
#include "engine/images/reference.h"
#include "engine/images/registry_client.h"
#include "engine/images/store.h"
#include "sys/files.h"

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

enum class BlobOutcome { exists, mounted, pushed };

/// One blob, from the store's file `path`: skipped when the registry has it, mounted from
/// `mount_from` (a repository of the same registry, or "") when it can, else uploaded whole.
sys::Result<BlobOutcome> push_blob(RegistryClient& reg, const Descriptor& d,
                                   const std::string& path, const std::string& mount_from) {
    HttpRequest head;
    head.method = "HEAD";
    auto h = MD_TRY(reg.request(head, "blobs/" + d.digest));
    if (h.status == 200) return BlobOutcome::exists;
    if (h.status != 404) return sys::fail(push_error(h, "check blob " + d.digest));

    auto fd = MD_TRY(sys::open_file(path, O_RDONLY));
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) return sys::fail_errno("stat \"" + path + "\"");
    if (st.st_size != d.size)
        return sys::fail_invalid("blob " + d.digest + ": " + std::to_string(st.st_size) +
                                 " bytes in the store, its manifest says " +
                                 std::to_string(d.size));

    HttpRequest post;
    post.method = "POST";
    post.send_body = true;
    std::string what = "blobs/uploads/";
    if (!mount_from.empty()) what += "?mount=" + escape_digest(d.digest) + "&from=" + mount_from;
    auto p = MD_TRY(reg.request(post, what));
    // A token without pull on the other repository refuses the mount: upload after all.
    if (denied(p.status) && !mount_from.empty()) p = MD_TRY(reg.request(post, "blobs/uploads/"));
    // 201: mounted; 202: an upload session (also what a registry that does not mount answers).
    if (p.status == 201 && !mount_from.empty()) return BlobOutcome::mounted;
    if (p.status != 202) return sys::fail(push_error(p, "start the upload of blob " + d.digest));
    std::string location = p.headers["location"];
    if (location.empty())
        return sys::fail_invalid("upload of blob " + d.digest + ": the registry gave no Location");

    // Monolithic: one PUT with the whole blob, streamed from its file.
    HttpRequest put;
    put.method = "PUT";
    put.headers = {"Content-Type: application/octet-stream"};
    put.body_fd = fd.get();
    put.body_size = d.size;
    auto r = MD_TRY(
        reg.request(put, upload_url(reg.base(), location, "digest=" + escape_digest(d.digest))));
    if (r.status != 201 && r.status != 204)
        return sys::fail(push_error(r, "upload blob " + d.digest));
    return BlobOutcome::pushed;
}

}  // namespace

std::string upload_url(const std::string& base, const std::string& location,
                       const std::string& query) {
    std::string url = location.starts_with("http://") || location.starts_with("https://")
                          ? location
                          : base + location;
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
    Descriptor md{kMediaManifest, img->manifest_digest, static_cast<int64_t>(manifest_text.size())};
    StoredImage si = MD_TRY_CTX(lay.read_image(md), "push " + shown);

    say("The push refers to repository [" + ref.full_name() + "]");
    RegistryClient reg(ref, "pull,push");
    const std::string from = mount_source(img->names, ref);
    // docker lists the top layer first.
    for (auto it = si.layers.rbegin(); it != si.layers.rend(); ++it) {
        std::string path = MD_TRY(lay.blob_path(it->digest));
        auto outcome = MD_TRY_CTX(push_blob(reg, *it, path, from), "push " + shown);
        std::string id = it->digest.substr(7, 12);
        switch (outcome) {
            case BlobOutcome::exists:
                say(id + ": Layer already exists");
                break;
            case BlobOutcome::mounted:
                say(id + ": Mounted from " + from);
                break;
            case BlobOutcome::pushed:
                say(id + ": Pushed");
                break;
        }
    }
    MD_TRY_CTX(push_blob(reg, si.config, MD_TRY(lay.blob_path(si.config.digest)), from),
               "push " + shown + ": config");

    HttpRequest put;
    put.method = "PUT";
    put.headers = {std::string("Content-Type: ") + kMediaManifest};
    put.send_body = true;
    put.body = manifest_text;
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
        if (std::any_of(entries.begin(), entries.end(),
                        [&](const IndexEntry& e) { return e.manifest.digest == md.digest; }))
            MD_TRY(lay.add_repo_digest(lk, img->id,
                                       MD_TRY(repo_digest(ref.familiar_name(), md.digest))));
    }

    PushResult res{shown, *ref.tag, md.digest, md.size};
    say(res.tag + ": digest: " + res.digest + " size: " + std::to_string(res.size));
    return res;
}

}  // namespace mydocker::engine::images
