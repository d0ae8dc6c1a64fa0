// Versions: where the base comes from, and which reports changed.
//
// The base is a project folder, or a git ref (branch, tag, commit, "origin/main") of the repository
// that holds the candidate's project folder. A ref is read with `git archive` into a temporary
// folder that is removed afterwards: the working tree, the index and HEAD are never touched.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "check/check.h"
#include "report/project.h"

namespace strata::check {

struct BaseProject {
  Project project;
  std::string label;        // "origin/main (a1b2c3d4e5f6)" or the folder
  std::string temp_folder;  // removed by the destructor when not empty
  ~BaseProject();
};

// base: a folder that exists, else a git ref of candidate_folder's repository.
Result<std::unique_ptr<BaseProject>> LoadBase(const std::string& base, const std::string& candidate_folder);

// The pairs to compare. With names: those reports (each must exist in the candidate; base_report,
// when not empty, is the base's report for all of them, else the same name in the base). Without:
// every report of the candidate whose SQL, parameters or execution differ from the base's (a new
// report, with no base, is listed in skipped).
Result<std::vector<ReportPair>> ChooseReports(const Project& base, const Project& candidate,
                                              const std::vector<std::string>& names, const std::string& base_report,
                                              std::vector<std::string>* skipped);

}  // namespace strata::check
