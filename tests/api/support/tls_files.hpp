#pragma once

#include <filesystem>

namespace integr8scode::testing {

// Writes a fresh self-signed certificate for 127.0.0.1 and its key (PEM) into `dir`
// (cert.pem, key.pem). Returns false when OpenSSL fails.
bool WriteSelfSignedCertificate(const std::filesystem::path& dir);

}  // namespace integr8scode::testing
