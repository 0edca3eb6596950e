// Private to core/src/ops: the files of a CA backup and its manifest.json,
// shared by the writer (ca_backup.cc) and the check (ca_backup_verify.cc).
// The layout is certctl/ops/ca_backup.h's contract.
#pragma once

#include <string>
#include <string_view>

#include "certctl/ops/ca_backup.h"

namespace certctl::ops::internal {

std::string CaCertificateFileName(int generation);         // "ca-g1.crt"
std::string CaKeyFileName(int generation);                 // "ca-g1.key"
std::string ResponderCertificateFileName(int generation);  // "ocsp-responder-g1.crt"
std::string ResponderKeyFileName(int generation);          // "ocsp-responder-g1.key"
// "trust-1-est.pem" for the first bundle, named "est".
std::string TrustBundleFileName(size_t index, std::string_view name);

// manifest.json's bytes: ToJson(manifest) indented two spaces, and a newline.
std::string EncodeManifest(const CaBackupManifest& manifest);

// Parses manifest.json. InvalidArgument naming what is wrong: not JSON, not
// kCaBackupFormat, a member missing or of the wrong type, a file name that is
// not a plain name in the directory (empty, "manifest.json", a slash, a
// leading dot), a digest that is not 64 lowercase hex digits, a file listed
// twice.
Result<CaBackupManifest> DecodeManifest(std::string_view text);

}  // namespace certctl::ops::internal
