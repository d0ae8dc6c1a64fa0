#include "jobs/job_files.h"

#include <cctype>
#include <charconv>

#include "sink/format.h"

namespace strata::jobs {

namespace {

bool IsHex(const std::string& text) {
  for (const char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// "<id>-<attempt>.<ext>" into file; false when name is not one.
bool ParseFinal(const std::string& name, JobFile* file) {
  constexpr size_t kId = 32;
  if (name.size() < kId + 4 || name[kId] != '-') return false;
  file->id = name.substr(0, kId);
  if (!IsHex(file->id)) return false;
  const size_t dot = name.find('.', kId + 1);
  if (dot == std::string::npos || dot == kId + 1) return false;
  const char* first = name.data() + kId + 1;
  const auto [end, ec] = std::from_chars(first, name.data() + dot, file->attempt);
  if (ec != std::errc() || end != name.data() + dot || file->attempt < 1) return false;
  file->ext = name.substr(dot + 1);
  return FormatFromName(file->ext).ok();
}

}  // namespace

std::string JobFile::Name(const std::string& id, int attempt, const std::string& ext) {
  return id + "-" + std::to_string(attempt) + "." + ext;
}

std::optional<JobFile> JobFile::Parse(const std::string& name) {
  JobFile file;
  const std::string suffix = ".partial";
  if (name.size() > 1 + suffix.size() && name[0] == '.' && name.ends_with(suffix)) {
    // ".<final>.XXXXXX.partial": drop the dot, the suffix and the random part.
    const std::string inner = name.substr(1, name.size() - 1 - suffix.size());
    const size_t random = inner.rfind('.');
    if (random == std::string::npos || !ParseFinal(inner.substr(0, random), &file)) return std::nullopt;
    file.partial = true;
    return file;
  }
  if (!ParseFinal(name, &file)) return std::nullopt;
  return file;
}

bool JobFile::Wanted(const std::optional<Job>& job) const {
  if (!job || job->id != id) return false;
  if (job->state == JobState::kRunning) return job->attempt == attempt;
  if (job->state == JobState::kDone) return !partial && !job->expired && job->file == FinalName();
  return false;  // queued (its last attempt ended), failed or cancelled
}

}  // namespace strata::jobs
