#include "report/project.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "report/binding.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

class ProjectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("strata_project_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "reports");
    Write("reports/r.sql", "select * from t where admin_id = :admin_id and d >= :from");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  Result<Project> Load(const std::string& toml) {
    Write("strata.toml", toml);
    return LoadProject(dir_.string());
  }
  // The error's message, which must be a config error.
  std::string Error(const std::string& toml) {
    auto p = Load(toml);
    EXPECT_FALSE(p.ok());
    if (p.ok()) return "";
    EXPECT_EQ(p.status().code(), Status::Code::kConfig);
    return p.status().message();
  }
  fs::path dir_;
};

const char* kGood = R"([database]
url = "sqlite:demo.db"
statement_timeout = "30s"

[tenant]
param = "admin_id"
list = "select id, 1 from admins"

[reports.r]
title = "R"
sql = "reports/r.sql"
execution = "prepared"
statement_timeout = "250ms"

[reports.r.params]
admin_id = { type = "bigint" }
from = { type = "date", default = "2024-01-01" }

[check]
repetitions = 7
slower_ratio = 2.0

[serve]
keep = "2h"
[[serve.keys]]
sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
tenant = 42
[[serve.keys]]
sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
role = "service"
)";

TEST_F(ProjectTest, LoadsEverySection) {
  auto p = Load(kGood);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->database_url, "sqlite:demo.db");
  EXPECT_NE(p->database_url_at.find("strata.toml:2:7"), std::string::npos) << p->database_url_at;
  EXPECT_EQ(p->statement_timeout, std::chrono::seconds(30));
  EXPECT_EQ(p->tenant_param, "admin_id");
  ASSERT_TRUE(p->tenant_list.has_value());
  ASSERT_EQ(p->reports.size(), 1u);
  const ReportSpec& r = p->reports[0];
  EXPECT_EQ(r.title, "R");
  EXPECT_EQ(r.execution, Execution::kPrepared);
  EXPECT_EQ(r.statement_timeout, std::chrono::milliseconds(250));
  ASSERT_EQ(r.params.size(), 2u);
  EXPECT_EQ(r.params[1].default_value, "2024-01-01");
  EXPECT_EQ(p->check.repetitions, 7);
  EXPECT_EQ(p->check.slower_ratio, 2.0);
  EXPECT_EQ(p->serve.keep, std::chrono::hours(2));
  ASSERT_EQ(p->serve.keys.size(), 2u);
  EXPECT_EQ(p->serve.keys[0].tenant, "42");
  EXPECT_TRUE(p->serve.keys[1].service);
}

TEST_F(ProjectTest, ParametersKeepTheOrderTheyAreDeclaredIn) {
  Write("reports/o.sql", "select :zeta, :admin_id, :from, :middle");
  std::string toml = kGood;
  toml.replace(toml.find("[check]"), 0,
               "[reports.o]\nsql = \"reports/o.sql\"\n[reports.o.params]\nzeta = { type = \"int\" }\n"
               "admin_id = { type = \"bigint\" }\nmiddle = { type = \"text\" }\nfrom = { type = \"date\" }\n\n");
  auto p = Load(toml);
  ASSERT_TRUE(p.ok()) << p.status().message();
  const ReportSpec* o = p->FindReport("o");
  ASSERT_NE(o, nullptr);
  std::vector<std::string> names;
  for (const ParamSpec& spec : o->params) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"zeta", "admin_id", "middle", "from"}));
}

TEST_F(ProjectTest, UnknownKeyNamesKeyFileAndLine) {
  std::string toml = kGood;
  toml.replace(toml.find("statement_timeout"), 17, "statment_timeout");
  const std::string m = Error(toml);
  EXPECT_NE(m.find("strata.toml:3:1: unknown key 'statment_timeout' in [database]"), std::string::npos) << m;
}

TEST_F(ProjectTest, BrokenTomlNamesLineAndColumn) {
  const std::string m = Error("[database]\nurl = \"sqlite:x.db\n");
  EXPECT_NE(m.find("strata.toml:2:"), std::string::npos) << m;
}

TEST_F(ProjectTest, MissingConfigSaysSo) {
  fs::remove(dir_ / "strata.toml");
  auto p = LoadProject(dir_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("no strata.toml"), std::string::npos);
}

TEST_F(ProjectTest, EveryMistakeIsNamed) {
  struct Mistake {
    std::string from, to, message;
  };
  const Mistake mistakes[] = {
      {"type = \"bigint\"", "type = \"bigint2\"", "unknown type 'bigint2'"},
      {"default = \"2024-01-01\"", "default = \"2024-13-01\"", "default 2024-13-01 is not a valid date"},
      {"statement_timeout = \"30s\"", "statement_timeout = \"30\"", "is not a duration"},
      {"execution = \"prepared\"", "execution = \"sometimes\"", "execution must be"},
      {"execution = \"prepared\"", "execution = \"prepared\"\nserve = \"no\"", "serve must be true or false"},
      {"sql = \"reports/r.sql\"", "sql = \"reports/missing.sql\"", "cannot read SQL file"},
      {"param = \"admin_id\"", "param = \"tenant_id\"", "does not use the tenant parameter :tenant_id"},
      {"from = { type = \"date\", default = \"2024-01-01\" }\n", "", "parameter :from is not declared"},
      {"repetitions = 7", "repetitions = 0", "check.repetitions must be a whole number"},
      {"tenant = 42", "tenant = 42\nrole = \"service\"", "exactly one of them"},
      {"sha256 = \"9f86", "sha256 = \"XX86", "64 lower-case hex"},
  };
  for (const Mistake& m : mistakes) {
    std::string toml = kGood;
    const size_t at = toml.find(m.from);
    ASSERT_NE(at, std::string::npos) << m.from;
    toml.replace(at, m.from.size(), m.to);
    const std::string message = Error(toml);
    EXPECT_NE(message.find(m.message), std::string::npos) << "got: " << message << "\nwant: " << m.message;
  }
}

TEST_F(ProjectTest, UnusedDeclarationIsAnError) {
  std::string toml = kGood;
  toml.replace(toml.find("from = {"), 0, "extra = { type = \"int\" }\n");
  const std::string m = Error(toml);
  EXPECT_NE(m.find("declares parameter 'extra' but reports/r.sql never uses :extra"), std::string::npos) << m;
}

TEST_F(ProjectTest, BindsGivenValuesAndDefaults) {
  auto p = Load(kGood);
  ASSERT_TRUE(p.ok());
  const ReportSpec& r = p->reports[0];
  auto values = BindReportParams(r, {{"admin_id", std::nullopt, "42"}});
  ASSERT_TRUE(values.ok()) << values.status().message();
  ASSERT_EQ(values->size(), 2u);
  EXPECT_EQ((*values)[0].integer, 42);
  EXPECT_EQ((*values)[1].text, "2024-01-01");

  auto missing = BindReportParams(r, {});
  EXPECT_EQ(missing.status().code(), Status::Code::kUsage);
  EXPECT_NE(missing.status().message().find("needs --param admin_id=<bigint>"), std::string::npos);

  auto unknown = BindReportParams(r, {{"admin", std::nullopt, "1"}});
  EXPECT_NE(unknown.status().message().find("unknown parameter 'admin'"), std::string::npos);

  auto wrong = BindReportParams(r, {{"admin_id", std::nullopt, "forty-two"}});
  EXPECT_NE(wrong.status().message().find("parameter admin_id (bigint): 'forty-two' is not valid"), std::string::npos);
}

TEST(ParamArgTest, ParsesNameTypeValue) {
  auto a = ParseParamArg("from:date=2024-01-01");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->name, "from");
  EXPECT_EQ(a->type, ParamType::kDate);
  EXPECT_EQ(a->value, "2024-01-01");
  auto b = ParseParamArg("q=a=b");
  EXPECT_EQ(b->value, "a=b");
  EXPECT_FALSE(ParseParamArg("novalue").ok());
  EXPECT_FALSE(ParseParamArg("x:wat=1").ok());
}

TEST(AdHocTest, InfersOrUsesGivenTypes) {
  auto sql = ParseSql("select :a, :b", "q.sql");
  ASSERT_TRUE(sql.ok());
  auto v = BindAdHocParams(*sql, {{"a", std::nullopt, "7"}, {"b", ParamType::kText, "7"}});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)[0].type, ParamType::kBigint);
  EXPECT_EQ((*v)[1].type, ParamType::kText);
  EXPECT_FALSE(BindAdHocParams(*sql, {{"a", std::nullopt, "7"}}).ok());
  EXPECT_FALSE(
      BindAdHocParams(*sql, {{"a", std::nullopt, "7"}, {"b", std::nullopt, "1"}, {"c", std::nullopt, "1"}}).ok());
}

}  // namespace
}  // namespace strata
