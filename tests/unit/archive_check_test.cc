#include "run/archive_check.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <map>
#include <sstream>
#include <string>

#include "repro/checkpoint.h"
#include "repro/error.h"
#include "testutil.h"

namespace repro::internal {
namespace {

using Records = std::map<std::string, std::string>;
using namespace std::string_literals;

std::string saved(torch::serialize::OutputArchive& archive) {
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

// The records of a zip archive by their names inside its folder, and back.
Records records_of(const std::string& payload) {
  std::istringstream in(payload);
  caffe2::serialize::PyTorchStreamReader reader(&in);
  Records records;
  for (const std::string& name : reader.getAllRecords()) {
    const auto [data, size] = reader.getRecord(name);
    records[name] = std::string(static_cast<const char*>(data.get()), size);
  }
  return records;
}

std::string archive_of(const Records& records) {
  std::string out;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) {
    out.append(static_cast<const char*>(data), size);
    return size;
  });
  for (const auto& [name, bytes] : records) {
    if (name != "version" && name != ".data/version") writer.writeRecord(name, bytes.data(), bytes.size());
  }
  writer.writeEndOfFile();
  return out;
}

// The message check_torch_archive refuses `payload` with ("" when it passes).
std::string refusal(const std::string& payload) {
  try {
    check_torch_archive(payload, "f.ckpt", "checkpoint");
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), kExitBadInput) << e.what();
    return e.what();
  }
}

// An archive as the harness writes one: values of every kind, tensors of several dtypes (one
// a transposed view), a nested archive, and an Adam and an SGD optimizer's state.
std::string rich_archive() {
  torch::serialize::OutputArchive archive;
  archive.write("an_int", c10::IValue(int64_t{-7}));
  archive.write("a_float", c10::IValue(2.5));
  archive.write("a_bool", c10::IValue(true));
  archive.write("a_string", c10::IValue(std::string("with \"quotes\" and \\")));
  c10::List<std::string> names({"a.b", "c"});
  archive.write("names", c10::IValue(names));
  c10::Dict<std::string, at::Tensor> dict;
  dict.insert("w", at::ones({2}));
  archive.write("a_dict", c10::IValue(dict));
  archive.write("a_tuple", c10::IValue(std::make_tuple(int64_t{1}, std::string("x"), 0.5)));
  archive.write("doubles", at::arange(6, at::kDouble).reshape({2, 3}).t(), /*is_buffer=*/true);
  archive.write("longs", at::arange(5, at::kLong), /*is_buffer=*/true);
  archive.write("bytes", at::zeros({3}, at::kByte), /*is_buffer=*/true);
  archive.write("empty", at::zeros({0, 4}), /*is_buffer=*/true);
  archive.write("key with spaces/and.dots", c10::IValue(int64_t{3}));
  torch::nn::Linear model(3, 2);
  model->forward(at::ones({1, 3})).sum().backward();
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(0.1));
  adam.step();
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  sgd.step();
  torch::serialize::OutputArchive adam_state, sgd_state, nested;
  adam.save(adam_state);
  sgd.save(sgd_state);
  nested.write("inner", at::ones({2, 2}), /*is_buffer=*/true);
  archive.write("adam", adam_state);
  archive.write("sgd", sgd_state);
  archive.write("nested", nested);
  return saved(archive);
}

TEST(ArchiveCheckTest, PassesWhatTorchWritesAndLoadsIt) {
  const std::string payload = rich_archive();
  EXPECT_EQ(refusal(payload), "");
  torch::serialize::InputArchive in;
  load_torch_archive(in, payload, "f.ckpt", "checkpoint");
  at::Tensor doubles;
  in.read("doubles", doubles, /*is_buffer=*/true);
  EXPECT_TRUE(doubles.equal(at::arange(6, at::kDouble).reshape({2, 3}).t()));
  c10::IValue value;
  in.read("key with spaces/and.dots", value);
  EXPECT_EQ(value.toInt(), 3);
}

// The fuzz finding: one byte of a class's source changed ("__buffers__" → "__buffjrs__") and
// the frame digest forged; torch 1.13 crashed in ScriptTypeParser::parseClassConstant.
TEST(ArchiveCheckTest, RefusesTheChangedClassSourceThatCrashedTorch) {
  const std::string path = testing::source_path("tests/fuzz/corpus/fuzz_checkpoint/torch-archive-segv.ckpt");
  const std::string payload = read_checkpoint_file(path);  // the forged digest matches
  try {
    check_torch_archive(payload, path, "checkpoint");
    FAIL() << "the changed class source passed";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path +
                                         ": checkpoint archive: code/__torch__/___torch_mangle_8.py line 3: "
                                         "'  __buffjrs__ = []' is not an attribute line torch writes");
  }
}

class ArchiveEditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::serialize::OutputArchive archive;
    archive.write("t", at::arange(6, at::kFloat).reshape({3, 2}), /*is_buffer=*/true);
    archive.write("n", c10::IValue(int64_t{1}));
    records_ = records_of(saved(archive));
  }
  // check_torch_archive's message for the archive with `record` replaced by `bytes`.
  std::string with(const std::string& record, const std::string& bytes) {
    Records edited = records_;
    edited[record] = bytes;
    return refusal(archive_of(edited));
  }
  // The same with `from` replaced by `to` once in `record`.
  std::string edited(const std::string& record, const std::string& from, const std::string& to) {
    std::string bytes = records_.at(record);
    const auto at = bytes.find(from);
    EXPECT_NE(at, std::string::npos) << "no '" << from << "' in " << record;
    return with(record, bytes.replace(at, from.size(), to));
  }
  Records records_;
};

TEST_F(ArchiveEditTest, TheUneditedArchivePasses) { EXPECT_EQ(refusal(archive_of(records_)), ""); }

TEST_F(ArchiveEditTest, RefusesTensorsOutsideTheirStorage) {
  // sizes (3, 2) with strides (2, 1) over 6 floats; the pickle writes them as BININT1s.
  const std::string sizes = "(K\x03K\x02t(K\x02K\x01t";
  EXPECT_EQ(edited("data.pkl", sizes, "(K\x04K\x02t(K\x02K\x01t"),
            "f.ckpt: checkpoint archive: data.pkl: byte 176: a tensor reaches past the end of its storage");
  EXPECT_NE(edited("data.pkl", sizes, "(K\x03K\x02t(K\x03K\x01t").find("reaches past the end"), std::string::npos);
  // the storage claims 7 floats, its record holds 6
  EXPECT_NE(edited("data.pkl", "K\x06tQ", "K\x07tQ").find("is not the size of its record"), std::string::npos);
}

TEST_F(ArchiveEditTest, RefusesPicklesTorchsUnpicklerMisreads) {
  const std::string head = "\x80\x02"s;
  const std::string object = head + "c__torch__\nModule\nq\x00)\x81}("s;
  const std::map<std::string, std::string> cases = {
      {object + "X\x01\x00\x00\x00nub."s, "sets a key without a value"},
      {head + "K\x00)R."s, "calls something that is not a global"},
      {head + "h\x05."s, "memo entry 5 was never put"},
      {head + "r\x09\x00\x00\x00."s, "takes 1 value the stack does not hold"},
      {head + "K\x01q\x07."s, "memo entry 7 skips entries"},
      {head + "cos\nsystem\n."s, "global os.system is not one torch writes here"},
      {head + ")" + std::string(120, '\x85') + ".", "nests values deeper than 100"},
      {head + "]q\x00(h\x00"
              "e."s,
       "puts a container into itself"},
      {head + "K\x01(\x85."s, "takes 1 value the stack does not hold"},
      {head + "K\x01"s, "ends before STOP"},
      {head + "K\x01.K"s, "has bytes after STOP"},
      {head + "K\x01."s, "does not hold the value torch's writer puts there"},
      {head + "X\xff\xff\xff\x7f."s, "a string runs past the end"},
      {head + "\x8a\x04\x00\x00\x00\x00."s, "LONG1 of another length than 8"},
      {head + "S'x'\n."s, "opcode 0x53 is not one torch's unpickler reads"},
      {"\x80\x03K\x01."s, "is not a protocol 2 pickle"},
  };
  for (const auto& [pickle, problem] : cases) {
    const std::string message = with("data.pkl", pickle);
    EXPECT_NE(message.find("f.ckpt: checkpoint archive: data.pkl: byte "), std::string::npos) << message;
    EXPECT_NE(message.find(problem), std::string::npos) << message << "\n  expected: " << problem;
  }
}

TEST_F(ArchiveEditTest, RefusesClassSourceTorchDoesNotWrite) {
  const std::string code = "code/__torch__.py";
  EXPECT_EQ(edited(code, "t : Tensor", "t : Tensor = 3"),
            "f.ckpt: checkpoint archive: code/__torch__.py line 4: '  t : Tensor = 3' is not a line torch writes");
  EXPECT_EQ(edited(code, "n : int", "n : Future[int]"),
            "f.ckpt: checkpoint archive: code/__torch__.py line 5: '  n : Future[int]' is not an attribute line torch "
            "writes");
  EXPECT_NE(edited(code, "n : int", "def f(self): pass").find("is not an attribute line torch writes"),
            std::string::npos);
  EXPECT_NE(edited(code, "n : int", "n : int\x01").find("'  n : int\\x01' is not a line torch writes"),
            std::string::npos);
  EXPECT_NE(edited(code, "class Module(Module):", "class Module(object):").find("is not the class line"),
            std::string::npos);
  EXPECT_EQ(edited(code, "n : int", "n : __torch__.___torch_mangle_4.Module"),
            "f.ckpt: checkpoint archive: code/: class __torch__.___torch_mangle_4.Module is named but not in the "
            "archive");
  EXPECT_EQ(edited(code, "n : int", "n : __torch__.Module"),
            "f.ckpt: checkpoint archive: code/: class __torch__.Module contains itself");
  EXPECT_EQ(with(code, ""), "f.ckpt: checkpoint archive: code/__torch__.py: is empty");
}

TEST_F(ArchiveEditTest, RefusesRecordsTorchDoesNotWrite) {
  EXPECT_EQ(with("extra/notes.txt", "x"),
            "f.ckpt: checkpoint archive: extra/notes.txt: is not a record torch writes for an archive of values");
  EXPECT_EQ(with("byteorder", "middle"), "f.ckpt: checkpoint archive: byteorder: is neither little nor big");
  Records no_data = records_;
  no_data.erase("data.pkl");
  EXPECT_EQ(refusal(archive_of(no_data)), "f.ckpt: checkpoint archive: data.pkl: is missing");
  Records no_storage = records_;
  no_storage.erase("data/0");
  EXPECT_NE(refusal(archive_of(no_storage)).find("data.pkl: byte "), std::string::npos);
  EXPECT_NE(refusal(archive_of(no_storage)).find(": storage '0' has no data/ record"), std::string::npos);
}

TEST(ArchiveCheckTest, RefusesWhatIsNoZipOrTorchsFlatbufferFormat) {
  EXPECT_EQ(refusal("not an archive"), "f.ckpt: checkpoint archive: the payload: is not a zip archive");
  std::string payload = rich_archive();
  payload.replace(4, 4, "PTMF");
  EXPECT_EQ(refusal(payload), "f.ckpt: checkpoint archive: the payload: is not a zip archive");
  std::string cut = rich_archive();
  cut.resize(cut.size() - 10);
  EXPECT_NE(refusal(cut).find("f.ckpt: checkpoint archive: not a zip archive torch reads: "), std::string::npos);
}

}  // namespace
}  // namespace repro::internal
