// Fuzzes the profile reader (strata synth reads a file that travelled from production): any bytes
// give a profile or a usage error, never a crash; and a profile that reads writes back to JSON that
// reads again to the same JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "synth/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto profile = strata::synth::ProfileFromJson(text, "fuzz.json");
  if (!profile.ok()) {
    if (profile.status().code() != strata::Status::Code::kUsage) std::abort();
    return 0;
  }
  const std::string json = strata::synth::ProfileToJson(*profile);
  auto again = strata::synth::ProfileFromJson(json, "again.json");
  if (!again.ok() || strata::synth::ProfileToJson(*again) != json) std::abort();
  return 0;
}
