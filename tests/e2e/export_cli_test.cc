// `repro export`: a finished run's final weights as a verified snapshot tied to the run.
#include <gtest/gtest.h>

#include "repro/digest.h"
#include "repro/error.h"
#include "repro/record.h"
#include "repro/snapshot.h"
#include "testutil.h"

namespace repro {
namespace {

std::string finished_run(const testing::TempDir& dir) {
  const auto r = testing::run_repro({"run", "--config", testing::config_path("demo.textproto"), "--runs-dir",
                                     dir / "runs", "--set", "train.steps=12", "--set", "model.cnn.channels1=4", "--set",
                                     "model.cnn.channels2=4", "--set", "data.sample_limit=2000"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.substr(out.rfind('\n') + 1);
}

TEST(ExportCliTest, LoadedSnapshotHasTheRunsFinalDigest) {
  testing::TempDir dir;
  const std::string run = finished_run(dir);
  const auto r = testing::run_repro({"export", run, "--to", dir / "model.pt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const RunData record = read_run(run);
  const Snapshot s = load_snapshot(dir / "model.pt");
  EXPECT_EQ(digest_tensors(s.tensors), record.header.final_param_digest());
  EXPECT_EQ(s.identity.run_id(), record.header.run_id());
  EXPECT_EQ(s.identity.config_digest(), record.header.config_digest());
  EXPECT_EQ(s.identity.steps(), 12);
  ASSERT_EQ(static_cast<int>(s.tensors.size()), record.header.model().tensors_size());
  EXPECT_EQ(s.tensors[0].first, record.header.model().tensors(0).name());

  const auto show = testing::run_repro({"show", dir / "model.pt"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find(record.header.run_id()), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("verified"), std::string::npos);
}

TEST(ExportCliTest, ACorruptSnapshotIsRefusedNamingTheFile) {
  testing::TempDir dir;
  const std::string run = finished_run(dir);
  ASSERT_EQ(testing::run_repro({"export", run, "--to", dir / "model.pt"}).exit_code, 0);
  std::string bytes = testing::read_file(dir / "model.pt");
  bytes[bytes.size() / 2] ^= 0x01;
  testing::write_file(dir / "model.pt", bytes);
  EXPECT_THROW(load_snapshot(dir / "model.pt"), Error);
  const auto show = testing::run_repro({"show", dir / "model.pt"});
  EXPECT_EQ(show.exit_code, 2);
  EXPECT_NE(show.err.find(dir / "model.pt"), std::string::npos) << show.err;
}

TEST(ExportCliTest, AnUnfinishedRunHasNoFinalWeights) {
  testing::TempDir dir;
  const std::string run = finished_run(dir);
  // Mark it failed through the library's own writer.
  auto writer = RunWriter::reopen(run);
  auto rec = read_run(run).header;
  rec.set_status(proto::FAILED);
  writer->write_header(rec);
  writer.reset();
  const auto r = testing::run_repro({"export", run, "--to", dir / "model.pt"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("only a finished run"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "model.pt"));
}

}  // namespace
}  // namespace repro
