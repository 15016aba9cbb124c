#include "engine/images/names.h"

#include "engine/images/digest.h"
#include "engine/images/reference.h"
#include "engine/images/store.h"

namespace mydocker::engine::images {

NameParts split_name(std::string_view name) {
    auto slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
        return {std::string(name.substr(0, colon)), std::string(name.substr(colon + 1))};
    return {std::string(name), "latest"};
}

sys::Result<std::string> normalize_name(std::string_view ref) {
    Reference r = MD_TRY(parse_reference(ref));
    // index.json names images repo:tag; a digest is no name the store keeps.
    if (r.digest)
        return sys::fail_invalid("invalid image name \"" + std::string(ref) +
                                 "\": digest references are not supported");
    // Docker Hub's API host spelled out is still Docker Hub: one spelling in index.json.
    if (r.domain == kDockerHubRegistry) r.domain = kDockerHubDomain;
    std::string repo = r.familiar_name();
    // An id-shaped name would shadow the image with that id in every lookup.
    if (is_hex64(repo))
        return sys::fail_invalid("invalid image name \"" + std::string(ref) +
                                 "\": a repository name cannot be a 64-character hex string (an "
                                 "image id)");
    return repo + ":" + r.tag.value_or(std::string(kDefaultTag));
}

sys::Result<std::string> repo_digest(std::string_view repo, std::string_view digest) {
    MD_TRY(digest_hex(digest, "repository digest of \"" + std::string(repo) + "\""));
    return std::string(repo) + "@" + std::string(digest);
}

sys::Result<std::optional<std::string>> parse_repo_digest(std::string_view ref) {
    if (ref.find('@') == std::string_view::npos) return std::nullopt;
    Reference r = MD_TRY(parse_reference(ref));
    if (!r.digest) return std::nullopt;
    if (r.domain == kDockerHubRegistry) r.domain = kDockerHubDomain;
    return repo_digest(r.familiar_name(), *r.digest);
}

std::string_view repo_of_digest(std::string_view repo_digest) {
    return repo_digest.substr(0, repo_digest.find('@'));
}

}  // namespace mydocker::engine::images
