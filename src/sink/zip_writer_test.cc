#include "sink/zip_writer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "sink/test_unzip.h"

namespace strata {
namespace {

std::string RandomText(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, ' ');
  for (char& c : s) c = static_cast<char>("abcdefgh <>&\n"[rng() % 13]);
  return s;
}

TEST(Crc32Test, MatchesZlib) {
  const std::string data = RandomText(100000, 1);
  const uint32_t ours = Crc32(Crc32(0, std::string_view(data).substr(0, 777)), std::string_view(data).substr(777));
  EXPECT_EQ(ours, static_cast<uint32_t>(
                      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()))));
}

TEST(ZipWriterTest, EntriesRoundTripThroughZlibAtEveryLevel) {
  for (int level = 0; level <= 3; ++level) {
    StringOutput out;
    ZipWriter zip(&out, ZipOptions{level, 1700000000, false});
    const std::string big = RandomText(3'000'000, 7);
    ASSERT_TRUE(zip.BeginEntry("xl/worksheets/sheet1.xml").ok());
    for (size_t at = 0; at < big.size(); at += 65536)
      ASSERT_TRUE(zip.Write(std::string_view(big).substr(at, 65536)).ok());
    ASSERT_TRUE(zip.EndEntry().ok());
    ASSERT_TRUE(zip.AddEntry("empty.xml", "").ok());
    ASSERT_TRUE(zip.AddEntry("[Content_Types].xml", "<Types/>").ok());
    ASSERT_TRUE(zip.Finish().ok());
    auto entries = testing::Unzip(out.data());
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries["xl/worksheets/sheet1.xml"].data, big);
    EXPECT_EQ(entries["empty.xml"].data, "");
    EXPECT_EQ(entries["[Content_Types].xml"].data, "<Types/>");
    EXPECT_FALSE(entries["empty.xml"].zip64);
    EXPECT_LT(out.data().size(), big.size()) << "level " << level;
  }
}

TEST(ZipWriterTest, Zip64RecordsReadBack) {
  StringOutput out;
  ZipWriter zip(&out, ZipOptions{1, 1700000000, /*force_zip64=*/true});
  ASSERT_TRUE(zip.AddEntry("a.xml", "hello").ok());
  ASSERT_TRUE(zip.AddEntry("b.xml", RandomText(100000, 3)).ok());
  ASSERT_TRUE(zip.Finish().ok());
  auto entries = testing::Unzip(out.data());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(entries["a.xml"].zip64);
  EXPECT_EQ(entries["a.xml"].data, "hello");
  EXPECT_EQ(entries["b.xml"].data, RandomText(100000, 3));
}

// An archive with a late head in its middle entry, written to out; returns the expected entry.
std::string WriteLateHeadArchive(Output* out, size_t rest_bytes) {
  ZipWriter zip(out, ZipOptions{1, 1700000000, false});
  const std::string head = "<head rows=\"1234\" />";
  const std::string rest = RandomText(rest_bytes, 9);
  EXPECT_TRUE(zip.AddEntry("before.xml", "first").ok());
  EXPECT_TRUE(zip.BeginEntry("sheet.xml", head.size()).ok());
  for (size_t at = 0; at < rest.size(); at += 100000)
    EXPECT_TRUE(zip.Write(std::string_view(rest).substr(at, 100000)).ok());
  EXPECT_TRUE(zip.EndEntry(head).ok());
  EXPECT_TRUE(zip.AddEntry("after.xml", "last").ok());
  EXPECT_TRUE(zip.Finish().ok());
  return head + rest;
}

TEST(ZipWriterTest, ALateHeadIsPutInPlaceOrBeforeTheSpooledRest) {
  for (bool seekable : {true, false}) {
    StringOutput out(seekable);
    const std::string expected = WriteLateHeadArchive(&out, 2'000'000);
    auto entries = testing::Unzip(out.data());  // checks every CRC and size
    EXPECT_EQ(entries["sheet.xml"].data, expected) << "seekable " << seekable;
    EXPECT_EQ(entries["before.xml"].data, "first");
    EXPECT_EQ(entries["after.xml"].data, "last");
  }
}

// A file output overwrites the head on disk (past its buffer) or in its buffer (a small entry).
TEST(ZipWriterTest, ALateHeadIsOverwrittenInAFile) {
  const std::string dir = ::testing::TempDir();
  for (size_t rest : {size_t{100}, size_t{5'000'000}}) {
    const std::string path = dir + "/late_head_" + std::to_string(rest) + ".zip";
    auto out = FileOutput::Open(path);
    ASSERT_TRUE(out.ok());
    const std::string expected = WriteLateHeadArchive(out->get(), rest);
    ASSERT_TRUE((*out)->Commit().ok());
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    EXPECT_EQ(testing::Unzip(bytes.str())["sheet.xml"].data, expected) << rest;
    std::filesystem::remove(path);
  }
}

// A stream's sheet waits in $TMPDIR; a TMPDIR that cannot hold it is an error that says so.
TEST(ZipWriterTest, AStreamsSheetWaitsInTmpdir) {
  const char* before = std::getenv("TMPDIR");
  const std::string saved = before != nullptr ? before : "";
  const std::string dir = ::testing::TempDir();  // before TMPDIR changes: it reads TMPDIR too
  setenv("TMPDIR", "/nonexistent-strata-tmp", 1);
  StringOutput out(/*seekable=*/false);
  ZipWriter zip(&out, ZipOptions{});
  Status s = zip.BeginEntry("sheet.xml", 4);
  EXPECT_EQ(s.code(), Status::Code::kIo);
  EXPECT_NE(s.message().find("/nonexistent-strata-tmp"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("TMPDIR"), std::string::npos) << s.message();
  setenv("TMPDIR", dir.c_str(), 1);
  StringOutput out2(/*seekable=*/false);
  const std::string expected = WriteLateHeadArchive(&out2, 300'000);
  EXPECT_EQ(testing::Unzip(out2.data())["sheet.xml"].data, expected);
  if (before != nullptr) {
    setenv("TMPDIR", saved.c_str(), 1);
  } else {
    unsetenv("TMPDIR");
  }
}

TEST(ZipWriterTest, ALateHeadOfAnotherSizeIsRefused) {
  StringOutput out;
  ZipWriter zip(&out, ZipOptions{});
  ASSERT_TRUE(zip.BeginEntry("a.xml", 4).ok());
  EXPECT_EQ(zip.EndEntry("12345").code(), Status::Code::kInternal);
}

// An Output that fails on its Nth write, to check that every failure surfaces.
class FailingOutput : public Output {
 public:
  explicit FailingOutput(int fail_at) : fail_at_(fail_at) {}
  Status Write(std::string_view bytes) override {
    if (++writes_ == fail_at_) return Status::Io("disk full at write " + std::to_string(writes_));
    written_ += bytes.size();
    return Status::Ok();
  }
  uint64_t bytes_written() const override { return written_; }
  int writes() const { return writes_; }

 private:
  int fail_at_;
  int writes_ = 0;
  uint64_t written_ = 0;
};

Status WriteArchive(Output* out) {
  ZipWriter zip(out, ZipOptions{});
  Status s = zip.AddEntry("a.xml", RandomText(600000, 5));
  if (s.ok()) s = zip.BeginEntry("late.xml", 4);  // a stream: the rest is spooled, then copied
  if (s.ok()) s = zip.Write(RandomText(600000, 6));
  if (s.ok()) s = zip.EndEntry("head");
  if (s.ok()) s = zip.AddEntry("b.xml", "x");
  if (s.ok()) s = zip.Finish();
  return s;
}

TEST(ZipWriterTest, EveryWriteFailureIsReported) {
  FailingOutput counter(-1);
  ASSERT_TRUE(WriteArchive(&counter).ok());
  ASSERT_GT(counter.writes(), 5);
  for (int n = 1; n <= counter.writes(); ++n) {
    FailingOutput out(n);
    Status s = WriteArchive(&out);
    ASSERT_FALSE(s.ok()) << "write " << n << " failed silently";
    EXPECT_EQ(s.code(), Status::Code::kIo);
  }
}

}  // namespace
}  // namespace strata
