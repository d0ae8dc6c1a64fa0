// POST /api/v1/exports bodies: every bad input gets the right status and names the field.
#include "server/export_request.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace strata::server {
namespace {

class ExportRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("strata-request-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "strata.toml") << R"toml(
[database]
url = "sqlite:x.db"
[tenant]
param = "tenant_id"
[reports.orders]
sql = "orders.sql"
[reports.orders.params]
tenant_id = { type = "bigint" }
since = { type = "date", default = "2024-01-01" }
limit = { type = "int" }
[reports.orders_rewrite]
sql = "orders.sql"
serve = false
[reports.orders_rewrite.params]
tenant_id = { type = "bigint" }
since = { type = "date", default = "2024-01-01" }
limit = { type = "int" }
)toml";
    std::ofstream(dir_ / "orders.sql") << "SELECT :tenant_id, :since, :limit";
    auto p = LoadProject(dir_.string());
    ASSERT_TRUE(p.ok()) << p.status().message();
    project_ = std::make_unique<Project>(std::move(*p));
    tenant_.tenant = "7";
    service_.service = true;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ParsedExportRequest Parse(const std::string& body, const Caller& caller) {
    return ParseExportRequest(*project_, caller, body, 3);
  }
  void ExpectError(const std::string& body, int status, const std::string& field, const std::string& says,
                   const Caller* caller = nullptr) {
    ParsedExportRequest p = Parse(body, caller != nullptr ? *caller : tenant_);
    ASSERT_FALSE(p.ok) << body;
    EXPECT_EQ(p.error.status, status) << body;
    EXPECT_EQ(p.error.field, field) << body;
    EXPECT_NE(p.error.message.find(says), std::string::npos) << body << " -> " << p.error.message;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Project> project_;
  Caller tenant_;
  Caller service_;
};

TEST_F(ExportRequestTest, AGoodRequestGetsTheKeysTenantAndTheDefaults) {
  ParsedExportRequest p = Parse(R"({"report": "orders", "params": {"limit": 10}})", tenant_);
  ASSERT_TRUE(p.ok) << p.error.message;
  EXPECT_EQ(p.request.tenant, "7");
  EXPECT_EQ(p.request.format, "xlsx");
  EXPECT_EQ(p.request.max_attempts, 3);
  ASSERT_EQ(p.request.params.size(), 3u);
  EXPECT_EQ(p.request.params[1], (std::pair<std::string, std::string>{"since", "2024-01-01"}));
  // The same request spelled differently is the same job: defaults given, numbers as strings.
  ParsedExportRequest same = Parse(
      R"({"report":"orders","format":"xlsx","params":{"limit":"10","since":"2024-01-01","tenant_id":7}})", tenant_);
  ASSERT_TRUE(same.ok) << same.error.message;
  EXPECT_EQ(same.request.dedupe_key, p.request.dedupe_key);
  ParsedExportRequest csv = Parse(R"({"report":"orders","format":"csv","params":{"limit":10}})", tenant_);
  EXPECT_NE(csv.request.dedupe_key, p.request.dedupe_key);
  ParsedExportRequest other = Parse(R"({"report":"orders","params":{"limit":10, "tenant_id": 8}})", service_);
  ASSERT_TRUE(other.ok) << other.error.message;
  EXPECT_EQ(other.request.tenant, "8");
  EXPECT_NE(other.request.dedupe_key, p.request.dedupe_key);
}

TEST_F(ExportRequestTest, EveryBadInputNamesItsField) {
  ExpectError("{\"report\": ", 400, "", "not JSON");
  ExpectError("[1, 2]", 400, "", "JSON object");
  ExpectError(R"({"report": "orders", "params": {"limit": 1}, "colour": "red"})", 400, "colour", "unknown field");
  ExpectError(R"({"params": {}})", 400, "report", "required");
  ExpectError(R"({"report": 5})", 400, "report", "expected a string");
  ExpectError(R"({"report": "ordres"})", 400, "report", "reports: orders");
  ExpectError(R"({"report": "orders", "format": "pdf", "params": {"limit": 1}})", 400, "format", "xlsx");
  ExpectError(R"({"report": "orders", "params": [1]})", 400, "params", "expected an object");
  ExpectError(R"({"report": "orders", "params": {"limit": 1, "color": 2}})", 400, "params.color", "no such parameter");
  ExpectError(R"({"report": "orders", "params": {"limit": 1, "since": "2024-13-01"}})", 400, "params.since", "");
  ExpectError(R"({"report": "orders", "params": {"limit": "ten"}})", 400, "params.limit", "");
  ExpectError(R"({"report": "orders", "params": {"limit": [10]}})", 400, "params.limit", "got an array");
  ExpectError(R"({"report": "orders", "params": {"limit": null}})", 400, "params.limit", "got null");
  ExpectError(R"({"report": "orders", "params": {"limit": 1.5}})", 400, "params.limit", "");
  ExpectError(R"({"report": "orders", "params": {}})", 400, "params.limit", "required");
  ExpectError(R"({"report": "orders", "params": {"limit": 1, "tenant_id": 8}})", 403, "params.tenant_id",
              "tenant 7 only");
  ExpectError(R"({"report": "orders", "params": {"limit": 1}})", 400, "params.tenant_id", "service key", &service_);
  ExpectError(R"({"report": "orders", "params": {"limit": 1, "tenant_id": "x"}})", 400, "params.tenant_id", "",
              &service_);
}

TEST_F(ExportRequestTest, AReportKeptOutOfServeIsNotOffered) {
  ASSERT_FALSE(project_->FindReport("orders_rewrite")->serve);
  ParsedExportRequest p = Parse(R"({"report": "orders_rewrite", "params": {"limit": 1}})", service_);
  ASSERT_FALSE(p.ok);
  EXPECT_EQ(p.error.status, 400);
  EXPECT_EQ(p.error.field, "report");
  EXPECT_NE(p.error.message.find("(reports: orders)"), std::string::npos) << p.error.message;
}

TEST_F(ExportRequestTest, HostileBytesNeverCrashAndAreRefused) {
  const std::string bodies[] = {std::string("\xff\xfe{}", 4),
                                std::string("{\"report\":\"\xc3\x28\"}"),
                                std::string(1, '\0'),
                                "",
                                "{\"report\":\"orders\",\"params\":{\"limit\":1e999}}",
                                "{\"report\":\"orders\",\"params\":{\"limit\":99999999999999999999}}"};
  for (const std::string& body : bodies) {
    ParsedExportRequest p = Parse(body, tenant_);
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.error.status, 400);
    EXPECT_EQ(p.error.message.find("json.exception"), std::string::npos) << p.error.message;
  }
  EXPECT_NE(Parse(bodies[4], tenant_).error.message.find("a number too large"), std::string::npos);
}

}  // namespace
}  // namespace strata::server
