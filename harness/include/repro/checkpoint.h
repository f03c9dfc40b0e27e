// repro/checkpoint.h: checkpoints of a run, exact enough to resume it bit for bit.
//
// A checkpoint is everything a training loop needs to continue as if it had never stopped:
//   - the watched tensors (Session::watch: parameters and buffers, BatchNorm running stats
//     included), restored in place;
//   - the optimizer's state through torch's own serialization (Optimizer::save/load: SGD
//     momentum buffers, Adam step counts and moments, the parameter groups' options);
//   - the state of torch's default CPU generator (dropout, random init; the state includes
//     the cached Box-Muller normal), so the next random number is the one the run would
//     have drawn;
//   - the loop's position (CheckpointState: steps done, epoch and index within the epoch),
//     and how many step and evaluation records the run had, so a resume can cut its streams
//     back to the checkpoint;
//   - optional user state, written by a hook into a nested torch archive.
// The learning-rate schedule is expected to be a pure function of the step; it is not saved.
// Not saved: CUDA generators (the harness trains on CPU), engines from Session::rng() (save
// what you need through the hook), and gradients (zero_grad() comes first in every step).
//
// Files: <run_dir>/checkpoints/ckpt-<step, 8 digits>.ckpt, written under a temporary name,
// fsynced and renamed, so a crash leaves the previous checkpoints intact. Layout:
//   magic    "RPRCKPT1"                                 8 bytes
//   size     u64 little-endian                          bytes in payload
//   digest   XXH3-128 of payload, 32 lowercase hex      32 bytes, ASCII
//   payload  a torch::serialize::OutputArchive (zip)
// A file whose magic, size or digest does not match is corrupt; a resume names it in a warning
// and falls back to the previous checkpoint. A payload whose digest matches is still checked
// before torch reads it (a crafted file can carry a matching digest, and torch's reader trusts
// its input): its archive may hold only what torch's writer puts there for these values (the
// rules are in harness/src/run/archive_check.h); anything else is corrupt in the same way,
// named by the record and line at fault.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace torch::serialize {
class OutputArchive;
class InputArchive;
}  // namespace torch::serialize

namespace repro {

// Where a training loop stands; saved with every checkpoint and handed back on resume.
struct CheckpointState {
  int64_t step = 0;      // steps completed: the loop continues with this step index
  int64_t epoch = -1;    // the loop's epoch (-1: none started)
  int64_t position = 0;  // index of the next sample within the epoch's order
};

// Hooks for user state: the writer fills a nested archive ("user"); the reader gets it back.
using CheckpointSaveHook = std::function<void(torch::serialize::OutputArchive&)>;
using CheckpointLoadHook = std::function<void(torch::serialize::InputArchive&)>;

// A checkpoint file in a run directory.
struct CheckpointFile {
  std::string path;
  int64_t step = 0;  // from the file name
};

// <run_dir>/checkpoints, and the path of the checkpoint after `step` steps.
std::string checkpoint_dir(const std::string& run_dir);
std::string checkpoint_path(const std::string& run_dir, int64_t step);

// The checkpoint files of a run (ckpt-<step>.ckpt), oldest (smallest step) first. Temporary
// files of an interrupted write, and anything by a checkpoint's name that is not a regular
// file (a directory, a device), are ignored. No checkpoints directory: an empty list.
// Throws Error (input) when the directory exists but cannot be listed.
std::vector<CheckpointFile> list_checkpoints(const std::string& run_dir);

// Frames `payload` as described above and writes it atomically as checkpoint_path(run_dir,
// step), creating the directory, then deletes all but the newest `keep` checkpoints (keep < 1
// counts as 1). Throws Error (io) on I/O failure; older checkpoints are then intact.
void write_checkpoint_file(const std::string& run_dir, int64_t step, const std::string& payload, int keep);

// The verified payload of a checkpoint file. Throws Error (input) naming the file and the
// problem: unreadable, bad magic, truncated or too long, digest mismatch.
std::string read_checkpoint_file(const std::string& path);

}  // namespace repro
