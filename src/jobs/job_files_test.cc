#include "jobs/job_files.h"

#include <gtest/gtest.h>

#include <vector>

namespace strata::jobs {
namespace {

const std::string kId = "0123456789abcdef0123456789abcdef";

Job JobIn(JobState state, int attempt, const std::string& file = "") {
  Job job;
  job.id = kId;
  job.state = state;
  job.attempt = attempt;
  job.file = file;
  return job;
}

TEST(JobFileTest, NamesRoundTripAndTemporaryNamesAreRecognized) {
  EXPECT_EQ(JobFile::Name(kId, 3, "xlsx"), kId + "-3.xlsx");
  auto final_name = JobFile::Parse(kId + "-12.csv");
  ASSERT_TRUE(final_name);
  EXPECT_EQ(final_name->attempt, 12);
  EXPECT_EQ(final_name->ext, "csv");
  EXPECT_FALSE(final_name->partial);
  auto temp = JobFile::Parse("." + kId + "-2.xlsx.a1B2c3.partial");
  ASSERT_TRUE(temp);
  EXPECT_TRUE(temp->partial);
  EXPECT_EQ(temp->id, kId);
  EXPECT_EQ(temp->FinalName(), kId + "-2.xlsx");
}

TEST(JobFileTest, OtherNamesAreNotTouched) {
  const std::vector<std::string> names = {std::string("notes.txt"),
                                          kId,
                                          kId + "-1",
                                          kId + "-1.pdf",
                                          kId + "-0.csv",
                                          kId + "--1.csv",
                                          kId + "-x.csv",
                                          kId.substr(1) + "-1.csv",
                                          "0123456789ABCDEF0123456789ABCDEF-1.csv",
                                          "." + kId + "-1.csv.partial",
                                          "." + kId + "-1.csv.abc",
                                          kId + "-1.csv.abc.partial",
                                          ".partial",
                                          "",
                                          kId + "-99999999999999.csv"};
  for (const std::string& name : names) {
    EXPECT_FALSE(JobFile::Parse(name)) << name;
  }
}

TEST(JobFileTest, ARunningAttemptKeepsItsFilesAndNothingElseIsWanted) {
  const JobFile temp2 = *JobFile::Parse("." + kId + "-2.csv.XXXXXX.partial");
  const JobFile final2 = *JobFile::Parse(kId + "-2.csv");
  EXPECT_TRUE(temp2.Wanted(JobIn(JobState::kRunning, 2)));
  EXPECT_TRUE(final2.Wanted(JobIn(JobState::kRunning, 2))) << "renamed, its Finish on the way";
  EXPECT_FALSE(temp2.Wanted(JobIn(JobState::kRunning, 3))) << "a killed attempt's file";
  EXPECT_FALSE(temp2.Wanted(JobIn(JobState::kQueued, 2))) << "queued again: the attempt ended";
  EXPECT_TRUE(final2.Wanted(JobIn(JobState::kDone, 2, kId + "-2.csv")));
  EXPECT_FALSE(temp2.Wanted(JobIn(JobState::kDone, 2, kId + "-2.csv")));
  EXPECT_FALSE(final2.Wanted(JobIn(JobState::kDone, 3, kId + "-3.csv"))) << "committed, but refused by the fence";
  Job expired = JobIn(JobState::kDone, 2, kId + "-2.csv");
  expired.expired = true;
  EXPECT_FALSE(final2.Wanted(expired));
  EXPECT_FALSE(final2.Wanted(JobIn(JobState::kFailed, 2)));
  EXPECT_FALSE(final2.Wanted(JobIn(JobState::kCancelled, 2)));
  EXPECT_FALSE(final2.Wanted(std::nullopt));
}

}  // namespace
}  // namespace strata::jobs
