// The OCI image config ("application/vnd.oci.image.config.v1+json") as JSON: the engine's
// ImageConfig in and out, and the parts of the document Image carries (created, diff_ids).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/images/store.h"
#include "sys/error.h"

namespace mydocker::engine::images {

inline constexpr const char* kMediaManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kMediaIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kMediaConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kMediaLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kAnnotationRefName = "org.opencontainers.image.ref.name";
/// Docker and containerd name an image in an OCI index with this annotation (the full name).
inline constexpr const char* kAnnotationContainerdName = "io.containerd.image.name";

/// The "config" object in Docker's spelling (Env, Cmd, ExposedPorts {"80/tcp": {}}, ...);
/// empty fields are left out.
nlohmann::json config_to_json(const ImageConfig& c);
/// Parse a "config" object; null or missing fields stay empty. Errors name the field.
sys::Result<ImageConfig> config_from_json(const nlohmann::json& j);

/// Fill `img` (created, author, comment, config, diff_ids) from the config blob's text.
sys::Result<void> parse_config_blob(const std::string& text, Image& img);

/// GOARCH spelling of this machine ("amd64", "arm64", ...), as image configs record it.
const char* host_architecture();

}  // namespace mydocker::engine::images
