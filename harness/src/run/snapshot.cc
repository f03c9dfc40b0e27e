#include "repro/snapshot.h"

#include <ATen/ATen.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <fstream>

#include "repro/checkpoint.h"
#include "repro/digest.h"
#include "repro/error.h"
#include "repro/record.h"
#include "run/archive_check.h"
#include "run/run_identity.h"
#include "util/fileutil.h"
#include "util/input_file.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kMagic = "RPRSNAP1";

std::string data_digest(const proto::DataFingerprint& data) {
  Hasher h;
  for (const auto& f : data.files()) h.update(f.xxh3());
  h.update(data.split_digest());
  return h.hex_digest();
}

// The watched tensors of a checkpoint payload, by the archive keys of checkpoint_archive.h.
std::vector<std::pair<std::string, at::Tensor>> read_tensors(torch::serialize::InputArchive& archive,
                                                             const std::string& names_key, const std::string& prefix,
                                                             const std::string& path) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  internal::archive_context(path + ": unreadable tensors", [&] {
    c10::IValue names;
    archive.read(names_key, names);
    const auto list = names.toList();
    for (std::size_t i = 0; i < list.size(); ++i) {
      at::Tensor value;
      archive.read(prefix + std::to_string(i), value, /*is_buffer=*/true);
      tensors.emplace_back(list.get(i).toStringRef(), value);
    }
  });
  return tensors;
}

}  // namespace

proto::SnapshotIdentity export_snapshot(const std::string& run_dir, const std::string& path) {
  const RunData run = read_run(run_dir);
  const auto& h = run.header;
  if (run.status != proto::FINISHED) {
    throw Error::input(run_dir + ": only a finished run has final weights (status " + status_name(run.status) + ")");
  }
  const std::string ckpt = checkpoint_path(run_dir, h.steps_completed());
  if (!fs::exists(ckpt)) throw Error::input(run_dir + ": no final checkpoint (" + ckpt + ")");
  const std::string payload = read_checkpoint_file(ckpt);
  torch::serialize::InputArchive in;
  internal::load_torch_archive(in, payload, ckpt, "checkpoint");
  const auto tensors = read_tensors(in, "repro_names", "watched_", ckpt);
  const std::string digest = digest_tensors(tensors);
  if (digest != h.final_param_digest()) {
    throw Error::input(ckpt + ": weights digest " + digest + " is not the run's final digest " +
                       h.final_param_digest());
  }

  proto::SnapshotIdentity id;
  id.set_schema_version(1);
  id.set_run_id(h.run_id());
  id.set_run_dir(fs::absolute(run_dir).lexically_normal().string());
  id.set_config_digest(h.config_digest());
  id.set_data_digest(data_digest(h.data()));
  *id.mutable_code() = h.code();
  id.set_model(h.model().name());
  id.set_steps(h.steps_completed());
  id.set_param_digest(digest);
  id.set_exported_at(internal::utc_now_rfc3339());
  *id.mutable_tensors() = h.model().tensors();

  torch::serialize::OutputArchive out;
  std::string identity = id.SerializeAsString();
  out.write("repro_identity",
            at::from_blob(identity.data(), {static_cast<int64_t>(identity.size())}, at::kByte).clone(),
            /*is_buffer=*/true);
  c10::List<std::string> names;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    names.push_back(tensors[i].first);
    out.write("tensor_" + std::to_string(i), tensors[i].second, /*is_buffer=*/true);
  }
  out.write("repro_names", c10::IValue(names));
  std::ostringstream bytes;
  with_context(path + ": cannot serialize snapshot", [&] { out.save_to(bytes); });
  internal::write_file_atomic(path, internal::frame_payload(kMagic, bytes.str()));
  return id;
}

Snapshot load_snapshot(const std::string& path) {
  const std::string payload = internal::unframe_payload(internal::read_whole_file(path), kMagic, path, "snapshot");
  torch::serialize::InputArchive in;
  internal::load_torch_archive(in, payload, path, "snapshot");
  Snapshot s;
  at::Tensor identity;
  internal::archive_context(path + ": snapshot has no identity", [&] { in.read("repro_identity", identity, true); });
  identity = identity.contiguous();
  if (identity.scalar_type() != at::kByte || identity.dim() != 1 ||
      !s.identity.ParseFromArray(identity.data_ptr(), static_cast<int>(identity.numel()))) {
    throw Error::input(path + ": corrupt snapshot identity");
  }
  s.tensors = read_tensors(in, "repro_names", "tensor_", path);
  const std::string digest = digest_tensors(s.tensors);
  if (digest != s.identity.param_digest()) {
    throw Error::input(path + ": weights digest " + digest + " differs from the recorded " + s.identity.param_digest());
  }
  return s;
}

bool is_snapshot_file(const std::string& path) {
  if (!internal::is_readable_kind(path)) return false;  // never open a FIFO or device to peek
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, sizeof magic) && std::string_view(magic, sizeof magic) == kMagic;
}

}  // namespace repro
