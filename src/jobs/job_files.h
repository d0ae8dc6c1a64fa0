// JobFile: the names of a job's files in the files folder. An attempt writes
// ".<id>-<attempt>.<ext>.XXXXXX.partial" (FileOutput's temporary name) and renames it to
// "<id>-<attempt>.<ext>" when it is complete; the job names that file once it is done.
#pragma once

#include <optional>
#include <string>

#include "jobs/job_store.h"

namespace strata::jobs {

struct JobFile {
  std::string id;  // the job's id: 32 hexadecimal digits
  int attempt = 0;
  std::string ext;  // "csv" or "xlsx"
  bool partial = false;

  // The finished file's name for an attempt of a job.
  static std::string Name(const std::string& id, int attempt, const std::string& ext);
  // The parts of a file name in the folder; nullopt when it is not a name a worker makes.
  static std::optional<JobFile> Parse(const std::string& name);

  // The finished name this file has or will have.
  std::string FinalName() const { return Name(id, attempt, ext); }
  // Whether the file may still be needed, given its job as the store has it now (nullopt: no such
  // job). An attempt that is running may be writing it, or may have renamed it with its Finish
  // still to come; a done job keeps its own file until it expires. Anything else is left over from
  // an attempt that was killed, refused or replaced: no worker can publish it any more.
  bool Wanted(const std::optional<Job>& job) const;
};

}  // namespace strata::jobs
