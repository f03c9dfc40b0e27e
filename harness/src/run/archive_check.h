// Torch archives read from files: checked before torch's reader sees a byte of them.
//
// Checkpoints and snapshots carry a torch::serialize archive: a zip of TorchScript class
// source, pickles and tensor records. The frame around it (magic, size, XXH3-128) catches
// damage, but not a crafted file whose digest was rewritten to match, and torch's reader
// trusts what it reads: a changed byte in the class source crashes torch 1.13 in its
// TorchScript parser (SIGSEGV), and its unpickler builds tensors outside their storage, reads
// past its stack with an odd SETITEMS, and indexes its globals with any integer. So every
// payload first passes check_torch_archive, which accepts only what torch's writer puts in an
// archive of attributes (OutputArchive::write of values, tensors and nested archives; what
// Optimizer::save and a user's checkpoint hook write) and refuses anything else:
//   - the payload is a zip (not torch's flatbuffer format) whose records are version,
//     data.pkl, constants.pkl, data/<digits>, code/__torch__.py and
//     code/__torch__/___torch_mangle_<digits>.py with their .py.debug_pkl, and, from torch 2.x,
//     byteorder, .data/version, .data/serialization_id, .format_version and
//     .storage_alignment; no record larger than the payload
//     (torch writes them stored, not compressed);
//   - class source is printable ASCII: `class Module(Module):`, then only the lines torch
//     prints for attributes (`__parameters__ = [...]`, `__buffers__ = [...]`,
//     `__annotations__ = []`, `__annotations__["key"] = T`, `name : T`) with types T of a
//     closed grammar (Tensor, int, float, bool, str, complex, NoneType, Any, Device, List[T],
//     Optional[T], Tuple[T, ...], Dict[K, V], and classes of the archive, nested at most 100
//     deep); every class a type names is in the archive, and no class contains itself;
//   - pickles are protocol 2 with only the opcodes torch's unpickler reads; every opcode finds
//     on the stack what it takes (marks, memo entries defined, even key/value counts, nothing
//     popped from below a mark), the pickle ends with STOP and one value, values nest at most
//     100 deep and never contain themselves; globals are the archive's classes, tensor
//     rebuilding, storage types and type tags only, each applied to what it expects; every
//     storage names a data/<digits> record of exactly its size, and every tensor lies inside
//     its storage.
// A payload that passes is one torch reads without touching memory it does not own; what is
// left for torch to refuse (an attribute of another type than its class says, a key the
// reader looks for and does not find) it throws, and archive_context turns into input errors.
#pragma once

#include <string>

#include "repro/error.h"

namespace torch::serialize {
class InputArchive;
}  // namespace torch::serialize

namespace repro::internal {

// Throws Error::input "<path>: <what> archive: <record>: <problem>" for the first thing in
// `payload` that torch's writer would not have written (see above). `what` names the file's
// kind in the message ("checkpoint", "snapshot").
void check_torch_archive(const std::string& payload, const std::string& path, const std::string& what);

// check_torch_archive, then archive.load_from(payload); torch's own refusals are input errors
// "<path>: unreadable <what>: ...".
void load_torch_archive(torch::serialize::InputArchive& archive, const std::string& payload, const std::string& path,
                        const std::string& what);

// Runs `fn`, which reads from a checked archive, and rethrows anything but a repro::Error as
// an input error `context` + ": " + its message: the file, not the program, is at fault.
template <typename Fn>
auto archive_context(const std::string& context, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error&) {
    throw;
  } catch (...) {
    rethrow_as_error(context, ErrorKind::kInput);
  }
}

}  // namespace repro::internal
