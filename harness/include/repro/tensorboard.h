// repro/tensorboard.h: a run as a TensorBoard event file, so that `tensorboard --logdir` shows
// it next to people's other runs.
//
//   repro::export_tensorboard("runs/20261125-...", "tb/mlp");   // `repro export RUN --tensorboard tb/mlp`
//   // then: tensorboard --logdir tb
//
// The file, <out_dir>/events.out.tfevents.<start>.reprotorch.<run id>, is a TFRecord file: each
// record is
//   length       u64, little-endian            bytes in data
//   length_crc   u32, little-endian            masked CRC-32C of the 8 length bytes
//   data         one serialized tb::Event      (proto/tensorboard_event.proto: TensorBoard's fields)
//   data_crc     u32, little-endian            masked CRC-32C of data
// with CRC-32C the Castagnoli CRC and masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8.
// <start> is the run's started_at in Unix seconds; TensorBoard reads every file of a directory
// as one run, so give each run its own out_dir.
//
// The events, in order:
//   1. file_version "brain.Event:2", wall_time the run's start, step 0;
//   2. for each recorded step, in order, one event at that step whose values are
//        every named series of the step (record_step with named values), tagged by its name;
//        or, for a step with a single loss, the loss, tagged "loss" (or the run's primary
//        series name when the run records named series);
//        "lr" and "grad_norm", when the run reported them (some step has a non-zero value);
//      a step with none of these values writes no event;
//   3. after the event of step K, the evaluations not yet written, in evals.bin order, up to
//      the first one at a step after K: one event each, at the evaluation's step, with one
//      value per metric tagged "<split>/<metric>" ("validation/accuracy"), metrics in name
//      order; evaluations after the last step (or of a run without steps) come last.
// wall_time is the run's start (RFC 3339 started_at, in seconds) plus the step's recorded
// elapsed_s (an evaluation: that of the step event before it; none: the start). So the file
// is a function of the record alone: the same run directory gives the same bytes.
//
// Values are TensorBoard's simple_value, a float32: a float32 loss keeps its bits; a float64
// value (an f64 loss or series, lr, grad_norm, evaluation metrics) is rounded to the nearest
// float32. The exact bits stay in the run record (`repro show`).
#pragma once

#include <string>

#include "proto/export.pb.h"

namespace repro {

// Writes the TensorBoard event file of the run in `run_dir` into `out_dir` (created with its
// parents when missing) and returns what it wrote. Any run can be exported, finished or not:
// the file holds the steps and evaluations recorded so far (a torn tail is dropped, as
// read_run drops it). A run without steps gets a file with only the file_version event.
// The file is replaced atomically (temporary name, fsync, rename): a reader sees the old file
// or the new one. Throws Error (input) naming the path when the run cannot be read (see
// read_run), its started_at is not an RFC 3339 time, `out_dir` is not a directory or cannot
// be created or written, or the file's path exists and is not a regular file; Error
// (internal) when writing fails.
proto::TensorBoardExport export_tensorboard(const std::string& run_dir, const std::string& out_dir);

}  // namespace repro
