// Image references ("busybox", "host:5000/ns/repo:tag", "repo@sha256:...") parsed as docker
// parses them: distribution/reference's grammar, with docker's normalisation of familiar names
// (ParseNormalizedNamed: "busybox" is docker.io/library/busybox).
//
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [ domain "/" ] path-component *( "/" path-component )
//   domain    := ( domain-name | "[" ipv6 "]" ) [ ":" port ]
//   tag       := [\w][\w.-]{0,127}
//   digest    := algorithm ":" hex{32,}
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sys/error.h"

namespace mydocker::engine::images {

/// The registry of names given without one, as references spell it.
inline constexpr std::string_view kDockerHubDomain = "docker.io";
/// The host that actually serves Docker Hub's registry API.
inline constexpr std::string_view kDockerHubRegistry = "registry-1.docker.io";
/// The tag a reference with neither tag nor digest stands for.
inline constexpr std::string_view kDefaultTag = "latest";

/// A parsed image reference. Plain data: parse_reference fills it with valid parts only.
struct Reference {
    std::string domain;                 // registry host[:port]: "docker.io", "localhost:5000"
    std::string path;                   // repository path: "library/busybox", "ns/repo"
    std::optional<std::string> tag;     // "1.36"
    std::optional<std::string> digest;  // "sha256:<64 hex>"

    /// The reference a pull asks for: tag "latest" when it has neither tag nor digest.
    Reference normalized() const;
    /// docker's short name: "busybox", "user/repo", "localhost:5000/x".
    std::string familiar_name() const;
    /// The whole name: "docker.io/library/busybox".
    std::string full_name() const;
    /// full_name() with ":tag" and "@digest" when present.
    std::string string() const;
    /// familiar_name() with ":tag" and "@digest" when present (what docker prints).
    std::string familiar_string() const;

    /// The host[:port] to connect to for the registry API (docker.io's is registry-1.docker.io).
    std::string registry_host() const;
    /// The <name> of /v2/<name>/manifests/<reference>: the path ("library/busybox").
    const std::string& repository() const { return path; }
    /// The <reference> of /v2/<name>/manifests/<reference>: the digest when there is one (it
    /// pins the content, so a tag beside it is ignored, as docker and containerd do), else the
    /// tag, else "latest".
    std::string manifest_reference() const;

    bool operator==(const Reference&) const = default;
};

/// Parse `ref` as docker does: the first component is the registry when it holds '.' or ':',
/// is "localhost" or has an uppercase letter, else docker.io; docker.io's one-component paths
/// get "library/". The tag stays empty when none is given (see normalized()). Errors are
/// invalid_argument and name `ref`; uppercase in the repository gives docker's "repository
/// name (...) must be lowercase".
sys::Result<Reference> parse_reference(std::string_view ref);

}  // namespace mydocker::engine::images
