// The c10d side of data-parallel runs: TCPStore rendezvous and ProcessGroupGloo. The only file
// that includes torch/csrc/distributed; REPRO_HAVE_GLOO is 0 when the build found no Gloo
// headers, and joining is then an error naming what is missing.
#include "dist/process_group.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <c10/util/Logging.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>

#include "repro/error.h"
#include "trace/trace_window.h"

#if REPRO_HAVE_GLOO
#include <gloo/config.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace repro::internal {
namespace {

std::string seconds(double s) {
  std::string text = std::to_string(s);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text + " s";
}

std::string message_of(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) {
    std::string m = c10->what_without_backtrace();
    if (const auto nl = m.find('\n'); nl != std::string::npos) m.resize(nl);
    return m;
  }
  return e.what();
}

bool is_loopback(const std::string& addr) { return addr == "127.0.0.1" || addr == "localhost" || addr == "::1"; }

// c10d logs every failed bind and connect as warnings and errors on stderr (through glog, or
// c10's own logger where torch was built without it) before it throws. The exception says the
// same, and join() turns it into the one line a user sees: torch's own lines are held back
// while a rank joins.
class QuietTorchLogs {
 public:
#ifdef C10_USE_GLOG
  QuietTorchLogs() : saved_(FLAGS_minloglevel) { FLAGS_minloglevel = google::GLOG_FATAL; }
  ~QuietTorchLogs() { FLAGS_minloglevel = saved_; }
#else
  QuietTorchLogs() : saved_(c10::FLAGS_caffe2_log_level) { c10::FLAGS_caffe2_log_level = 3; }  // FATAL
  ~QuietTorchLogs() { c10::FLAGS_caffe2_log_level = saved_; }
#endif
  QuietTorchLogs(const QuietTorchLogs&) = delete;
  QuietTorchLogs& operator=(const QuietTorchLogs&) = delete;

 private:
  int saved_;
};

}  // namespace

#if REPRO_HAVE_GLOO

struct ProcessGroup::Impl {
  RankEnvironment env;
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  int64_t sequence = 0;  // makes every all_gather / publish key unique within the job
  // A wait that fails while joining is a job that could not start (Error usage, exit 2); once
  // joined, a rank that stops mid-run fails the run (Error internal).
  bool joined = false;
  Error failure(const std::string& message) const { return joined ? Error::internal(message) : Error::usage(message); }

  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(static_cast<int64_t>(env.timeout_s * 1000));
  }
  std::string where() const { return env.master_addr + ":" + std::to_string(env.master_port); }
  std::string get(const std::string& key, const std::string& what) {
    try {
      const auto bytes = store->get(key);
      return std::string(bytes.begin(), bytes.end());
    } catch (const std::exception& e) {
      throw failure("rank " + std::to_string(env.rank) + ": " + what + " did not arrive within " +
                    seconds(env.timeout_s) + " (" + message_of(e) + ")");
    }
  }
  void set(const std::string& key, const std::string& value) {
    store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
  }
  void wait(c10::intrusive_ptr<c10d::Work> work, const std::string& what) {
    try {
      work->wait(timeout());
    } catch (const std::exception& e) {
      throw failure("rank " + std::to_string(env.rank) + ": " + what + " across " + std::to_string(env.world_size) +
                    " ranks failed: " + message_of(e) + " (a rank stopped, or did not reach it within " +
                    seconds(env.timeout_s) + ")");
    }
  }
};

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;

std::unique_ptr<ProcessGroup> ProcessGroup::join(const RankEnvironment& env) {
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  const std::string rank = "rank " + std::to_string(env.rank);
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.master_port);
  options.isServer = env.rank == 0;
  options.numWorkers = env.world_size;
  // The handshake below waits for every rank, once, and names the one missing: TCPStore's own
  // wait would only add a silent wait of the whole timeout before it.
  options.waitWorkers = false;
  options.timeout = impl->timeout();
  const QuietTorchLogs quiet;
  try {
    impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    const std::string m = message_of(e);
    if (env.rank == 0 && m.find("in use") != std::string::npos) {
      throw Error::usage("MASTER_PORT " + std::to_string(env.master_port) + ": the port is in use on " +
                         env.master_addr + "; choose another, or let `repro run --nproc` pick a free one");
    }
    throw Error::usage(rank + " of " + std::to_string(env.world_size) + ": the job's store at " + impl->where() +
                       " was not ready within " + seconds(env.timeout_s) + " (" + m +
                       "): " + (env.rank == 0 ? "not every rank joined" : "rank 0 did not start or is elsewhere"));
  }
  // Every rank says what world it was started in: a mismatch is named before Gloo waits for a
  // rank that will never come.
  impl->set("repro/world_size/" + std::to_string(env.rank), std::to_string(env.world_size));
  for (int r = 0; r < env.world_size; ++r) {
    if (r == env.rank) continue;
    std::string theirs;
    try {
      const auto bytes = impl->store->get("repro/world_size/" + std::to_string(r));
      theirs.assign(bytes.begin(), bytes.end());
    } catch (const std::exception& e) {
      throw Error::usage(rank + " of " + std::to_string(env.world_size) + ": not every rank joined within " +
                         seconds(env.timeout_s) + ": rank " + std::to_string(r) + " did not arrive (" + message_of(e) +
                         ")");
    }
    // Rank 0 serves the store and leaves when it finds a mismatch: a rank says it has read rank
    // 0's world size, and rank 0 waits for that (a few seconds at most) before it leaves, so
    // that both name the mismatch.
    if (r == 0) {
      try {
        impl->set("repro/read_rank0/" + std::to_string(env.rank), "1");
      } catch (const std::exception&) {
      }
    }
    if (theirs != std::to_string(env.world_size)) {
      if (env.rank == 0) {
        try {
          impl->store->wait({"repro/read_rank0/" + std::to_string(r)},
                            std::min(impl->timeout(), std::chrono::milliseconds(5000)));
        } catch (const std::exception&) {
        }
      }
      throw Error::usage("WORLD_SIZE: " + rank + " was started with " + std::to_string(env.world_size) +
                         " ranks but rank " + std::to_string(r) + " with " + theirs +
                         " (every rank of a job needs the same WORLD_SIZE)");
    }
  }
  try {
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(impl->timeout());
    if (is_loopback(env.master_addr)) {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME")) {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    impl->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, env.rank, env.world_size, gloo_options);
  } catch (const std::exception& e) {
    throw Error::usage(rank + ": cannot join the Gloo group of " + std::to_string(env.world_size) + " ranks via " +
                       impl->where() + " within " + seconds(env.timeout_s) + ": " + message_of(e));
  }
  impl->joined = true;
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

int ProcessGroup::rank() const { return impl_->env.rank; }
int ProcessGroup::world_size() const { return impl_->env.world_size; }
std::string ProcessGroup::backend() { return "gloo"; }
std::string ProcessGroup::backend_version() {
  return std::to_string(GLOO_VERSION_MAJOR) + "." + std::to_string(GLOO_VERSION_MINOR) + "." +
         std::to_string(GLOO_VERSION_PATCH);
}

void ProcessGroup::all_reduce_sum(at::Tensor& tensor) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  options.timeout = impl_->timeout();
  ExternalOp traced("c10d::allreduce", tensors);  // an op of an open trace window (repro/trace.h)
  impl_->wait(impl_->gloo->allreduce(tensors, options), "the all-reduce");
  traced.finish(tensors);
}

void ProcessGroup::broadcast(at::Tensor& tensor) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = 0;
  options.timeout = impl_->timeout();
  ExternalOp traced("c10d::broadcast", tensors);
  impl_->wait(impl_->gloo->broadcast(tensors, options), "the broadcast from rank 0");
  traced.finish(tensors);
}

std::vector<std::string> ProcessGroup::all_gather(const std::string& key, const std::string& value) {
  const std::string prefix = "repro/" + std::to_string(impl_->sequence++) + "/" + key + "/";
  impl_->set(prefix + std::to_string(rank()), value);
  std::vector<std::string> out(static_cast<std::size_t>(world_size()));
  for (int r = 0; r < world_size(); ++r) {
    out[static_cast<std::size_t>(r)] =
        r == rank() ? value : impl_->get(prefix + std::to_string(r), key + " of rank " + std::to_string(r));
  }
  return out;
}

std::string ProcessGroup::publish_from_rank0(const std::string& key, const std::string& value) {
  const std::string k = "repro/" + std::to_string(impl_->sequence++) + "/" + key;
  if (rank() == 0) {
    impl_->set(k, value);
    return value;
  }
  return impl_->get(k, key + " of rank 0");
}

#else  // no Gloo in this build

struct ProcessGroup::Impl {};
ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;
std::unique_ptr<ProcessGroup> ProcessGroup::join(const RankEnvironment&) {
  throw Error::internal(
      "WORLD_SIZE is set, but this reprotorch was built without Gloo (libgloo-dev): it runs single processes only");
}
int ProcessGroup::rank() const { return 0; }
int ProcessGroup::world_size() const { return 1; }
std::string ProcessGroup::backend() { return "none"; }
std::string ProcessGroup::backend_version() { return ""; }
void ProcessGroup::all_reduce_sum(at::Tensor&) {}
void ProcessGroup::broadcast(at::Tensor&) {}
std::vector<std::string> ProcessGroup::all_gather(const std::string&, const std::string& value) { return {value}; }
std::string ProcessGroup::publish_from_rank0(const std::string&, const std::string& value) { return value; }

#endif

namespace {

// Calls `op` on each bucket of `tensors` — consecutive tensors of one dtype, in order, while
// they fit in `bucket_bytes` (at least one) — flattened into one tensor, then copies the
// bucket's values back into the tensors.
void in_buckets(const std::vector<at::Tensor>& tensors, std::int64_t bucket_bytes,
                const std::function<void(at::Tensor&)>& op) {
  std::size_t begin = 0;
  while (begin < tensors.size()) {
    std::size_t end = begin;
    int64_t bytes = 0;
    while (end < tensors.size() && tensors[end].scalar_type() == tensors[begin].scalar_type()) {
      const int64_t size = tensors[end].numel() * static_cast<int64_t>(tensors[end].element_size());
      if (end > begin && bytes + size > bucket_bytes) break;
      bytes += size;
      ++end;
    }
    std::vector<at::Tensor> flat;
    for (std::size_t i = begin; i < end; ++i) flat.push_back(tensors[i].detach().reshape({-1}));
    at::Tensor bucket = at::cat(flat);
    op(bucket);
    int64_t offset = 0;
    at::NoGradGuard no_grad;
    for (std::size_t i = begin; i < end; ++i) {
      const int64_t n = tensors[i].numel();
      tensors[i].detach().copy_(bucket.slice(0, offset, offset + n).view(tensors[i].sizes()));
      offset += n;
    }
    begin = end;
  }
}

}  // namespace

void all_reduce_mean_in_buckets(ProcessGroup& group, const std::vector<at::Tensor>& grads, std::int64_t bucket_bytes) {
  const int64_t world = group.world_size();
  in_buckets(grads, bucket_bytes, [&](at::Tensor& bucket) {
    group.all_reduce_sum(bucket);
    bucket.div_(world);
  });
}

void broadcast_in_buckets(ProcessGroup& group, const std::vector<at::Tensor>& tensors, std::int64_t bucket_bytes) {
  in_buckets(tensors, bucket_bytes, [&](at::Tensor& bucket) { group.broadcast(bucket); });
}

}  // namespace repro::internal
