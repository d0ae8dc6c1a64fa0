#include "server/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>

#include "common/text.h"

namespace strata::server {

Result<std::string> NewApiKey() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("no random bytes for a key");
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string key = "strata_";
  uint32_t bits = 0;
  int have = 0;
  for (unsigned char b : bytes) {
    bits = (bits << 8) | b;
    have += 8;
    while (have >= 6) {
      key.push_back(kAlphabet[(bits >> (have - 6)) & 63]);
      have -= 6;
    }
  }
  if (have > 0) key.push_back(kAlphabet[(bits << (6 - have)) & 63]);
  return key;
}

Result<KeyRing> KeyRing::FromProject(const Project& project) {
  const ParamSpec* tenant_spec = project.TenantSpec();
  KeyRing ring;
  int index = 0;
  for (const ApiKeySpec& k : project.serve.keys) {
    ++index;
    const std::string where = project.config_path + ": [[serve.keys]] number " + std::to_string(index);
    Key key;
    key.sha256 = k.sha256;
    key.caller.service = k.service;
    if (!k.service) {
      if (!k.tenant) return Status::Config(where + ": give tenant = ... or role = \"service\"");
      if (k.tenant->empty()) return Status::Config(where + ": tenant is empty; a key acts for one named tenant");
      if (tenant_spec == nullptr) {
        key.caller.tenant = *k.tenant;
      } else {
        auto value = ParseParamValue(tenant_spec->type, *k.tenant);
        if (!value.ok()) {
          return Status::Config(where + ": tenant '" + *k.tenant + "' is not a " +
                                std::string(ParamTypeName(tenant_spec->type)) + " (" + project.tenant_param +
                                "): " + value.status().message());
        }
        key.caller.tenant = value->text;
      }
    }
    ring.keys_.push_back(std::move(key));
  }
  return ring;
}

std::optional<Caller> KeyRing::Authenticate(std::string_view authorization) const {
  // The scheme's name is case-insensitive (RFC 9110, 11.1).
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() <= kBearer.size()) return std::nullopt;
  for (size_t k = 0; k < kBearer.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(authorization[k])) != kBearer[k]) return std::nullopt;
  }
  std::string_view key = authorization.substr(kBearer.size());
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  if (key.empty()) return std::nullopt;
  const std::string hash = Sha256Hex(key);
  for (const Key& k : keys_) {
    // Both are hashes: comparing them leaks nothing about the key itself.
    if (k.sha256 == hash) return k.caller;
  }
  return std::nullopt;
}

}  // namespace strata::server
