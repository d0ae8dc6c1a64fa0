// API keys (../shared/INTERFACES.md): a client sends "Authorization: Bearer <key>"; strata.toml
// holds only the SHA-256 of each key, with the tenant it acts for or the service role.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "report/project.h"

namespace strata::server {

// A fresh random key: "strata_" and 43 characters of base64url (256 random bits from the kernel).
Result<std::string> NewApiKey();

struct Caller {
  bool service = false;
  std::string tenant;  // canonical text of the tenant parameter; empty for the service role
};

class KeyRing {
 public:
  // Checks every key of the project: a tenant key's tenant must parse as the tenant parameter's
  // type (of the first report that declares it). Fails with kConfig naming the key.
  static Result<KeyRing> FromProject(const Project& project);

  // The caller an Authorization header value stands for; nullopt when it names no known key.
  std::optional<Caller> Authenticate(std::string_view authorization) const;
  bool empty() const { return keys_.empty(); }

 private:
  struct Key {
    std::string sha256;
    Caller caller;
  };
  std::vector<Key> keys_;
};

}  // namespace strata::server
