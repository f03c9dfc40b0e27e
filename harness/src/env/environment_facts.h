// Private: the facts behind capture_environment(), one small function per fact or topic.
// Each fills its part of the message and adds to `unavailable` what it could not read.
#pragma once

#include "proto/environment.pb.h"

namespace repro::internal {

// environment_system.cc
void capture_os(proto::Os* os, proto::Environment* env);
void capture_cpu(proto::Cpu* cpu, proto::Environment* env);

// environment_libs.cc
void capture_libraries(proto::Environment* env);
void capture_onednn(proto::OneDnn* onednn, proto::Environment* env);
// From the libraries capture_libraries() found: which BLAS, and for OpenBLAS the kernel set.
void capture_blas(proto::Blas* blas, proto::Environment* env);
// glibc libm's variant (fma, fma4 or sse2), as glibc's ifuncs choose it from the CPU features
// GLIBC_TUNABLES leaves usable.
void capture_libm(proto::Libm* libm);
void capture_cuda(proto::Cuda* cuda, proto::Environment* env);

void add_unavailable(proto::Environment* env, const std::string& fact, const std::string& reason);

}  // namespace repro::internal
