#include "check/versions.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace strata::check {

namespace {

// Runs argv (no shell), stdout to the file out_path (or captured into *out when out_path is empty),
// stderr captured into *err. Returns the exit status, or -1 when it could not start.
int RunProcess(const std::vector<std::string>& argv, const std::string& out_path, std::string* out, std::string* err) {
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0) return -1;
  if (pipe(err_pipe) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return -1;
  }
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = out_path.empty() ? out_pipe[1] : open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) _exit(127);
    dup2(fd, 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  // Drain both pipes (stderr is small; stdout goes to a file or is small: rev-parse output).
  char buf[4096];
  for (int fd : {out_pipe[0], err_pipe[0]}) {
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) (fd == out_pipe[0] ? out : err)->append(buf, static_cast<size_t>(n));
    close(fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string FirstLine(std::string s) {
  const size_t nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

// The same parameters, in whatever order each version declares them.
bool SameParams(const ReportSpec& a, const ReportSpec& b) {
  if (a.params.size() != b.params.size()) return false;
  for (const ParamSpec& p : a.params) {
    const ParamSpec* q = b.FindParam(p.name);
    if (q == nullptr || q->type != p.type || q->default_value != p.default_value) return false;
  }
  return true;
}

}  // namespace

BaseProject::~BaseProject() {
  if (!temp_folder.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_folder, ec);
  }
}

Result<std::unique_ptr<BaseProject>> LoadBase(const std::string& base, const std::string& candidate_folder) {
  auto out = std::make_unique<BaseProject>();
  std::error_code ec;
  if (std::filesystem::is_directory(base, ec)) {
    auto project = LoadProject(base);
    if (!project.ok()) return project.status().WithContext("the base");
    out->project = std::move(*project);
    out->label = base;
    return out;
  }
  if (base.empty() || base[0] == '-') return Status::Usage("--base: '" + base + "' is neither a folder nor a git ref");
  const std::string folder = candidate_folder.empty() ? "." : candidate_folder;
  std::string top, prefix, commit, err;
  if (RunProcess({"git", "-C", folder, "rev-parse", "--show-toplevel"}, "", &top, &err) != 0) {
    return Status::Usage("--base " + base + ": not a folder, and " + folder +
                         " is not in a git repository to read it from (" + FirstLine(err) + ")");
  }
  top = FirstLine(top);
  RunProcess({"git", "-C", folder, "rev-parse", "--show-prefix"}, "", &prefix, &err);
  prefix = FirstLine(prefix);
  err.clear();
  if (RunProcess({"git", "-C", top, "rev-parse", "--verify", "--quiet", "--end-of-options", base + "^{commit}"}, "",
                 &commit, &err) != 0) {
    return Status::Usage("--base " + base + ": no such folder, and no such git ref in " + top);
  }
  commit = FirstLine(commit);
  char tmpl[] = "/tmp/strata-base-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Status::Io("cannot make a temporary folder for the base");
  out->temp_folder = tmpl;
  const std::string tar = out->temp_folder + "/base.tar";
  std::vector<std::string> archive = {"git", "-C", top, "archive", "--format=tar", commit};
  if (!prefix.empty()) {
    archive.push_back("--");
    archive.push_back(prefix);
  }
  std::string ignored;
  err.clear();
  if (RunProcess(archive, tar, &ignored, &err) != 0) {
    return Status::Usage("--base " + base + ": git archive failed: " + FirstLine(err) +
                         (prefix.empty() ? "" : " (is the project folder " + prefix + " in that commit?)"));
  }
  const std::string tree = out->temp_folder + "/tree";
  std::filesystem::create_directories(tree, ec);
  err.clear();
  if (RunProcess({"tar", "-xf", tar, "-C", tree}, "", &ignored, &err) != 0) {
    return Status::Io("--base " + base + ": cannot unpack the base: " + FirstLine(err));
  }
  const std::string base_folder = tree + "/" + prefix;
  if (!std::filesystem::exists(base_folder + "/strata.toml", ec)) {
    return Status::Usage("--base " + base + ": the project has no strata.toml at that commit (" +
                         (prefix.empty() ? std::string("the repository's top") : prefix) + ")");
  }
  auto project = LoadProject(base_folder);
  if (!project.ok()) {
    // Name the file as it is in the repository, not the temporary copy.
    std::string m = project.status().message();
    const size_t at = m.find(tree + "/");
    if (at != std::string::npos) m.replace(at, tree.size() + 1, base + ":");
    if (project.status().code() == Status::Code::kConfig) return Status::Config(m);
    return Status::Usage(m);
  }
  out->project = std::move(*project);
  // Its files are named as git names them ("origin/main:reports/x.sql"), not by the temporary copy.
  std::string in_repository = base + ":" + prefix;
  if (!prefix.empty() && in_repository.back() == '/') in_repository.pop_back();
  out->project.folder = in_repository;
  out->project.config_path = base + ":" + prefix + "strata.toml";
  out->label = base + " (" + commit.substr(0, 12) + ")";
  return out;
}

Result<std::vector<ReportPair>> ChooseReports(const Project& base, const Project& candidate,
                                              const std::vector<std::string>& names, const std::string& base_report,
                                              std::vector<std::string>* skipped) {
  std::vector<ReportPair> pairs;
  if (!names.empty() || !base_report.empty()) {
    if (names.empty()) return Status::Usage("--base-report needs the candidate report(s) to compare with it");
    for (const std::string& name : names) {
      const ReportSpec* c = candidate.FindReport(name);
      if (c == nullptr) return Status::Usage("no report '" + name + "' in " + candidate.config_path);
      const std::string base_name = base_report.empty() ? name : base_report;
      const ReportSpec* b = base.FindReport(base_name);
      if (b == nullptr) return Status::Usage("no report '" + base_name + "' in the base (" + base.config_path + ")");
      pairs.push_back({b, c, &base});
    }
    return pairs;
  }
  for (const ReportSpec& c : candidate.reports) {
    const ReportSpec* b = base.FindReport(c.name);
    if (b == nullptr) {
      skipped->push_back(c.name + ": new, no base to compare with");
      continue;
    }
    if (b->sql.text != c.sql.text || !SameParams(*b, c) || b->execution != c.execution) pairs.push_back({b, &c, &base});
  }
  return pairs;
}

}  // namespace strata::check
