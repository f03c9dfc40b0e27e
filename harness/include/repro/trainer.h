// repro/trainer.h: the built-in trainer behind `repro run`: a model and data source from the
// registry (models/), an optimizer and LR schedule from the config, all through a Session.
//
// What it does, exactly (so that any other frontend can repeat it):
//  1. Session(config) seeds and pins everything (repro/session.h, repro/determinism.h).
//  2. Data: load_data(config.data, seed("data.synthetic")). Split: perm = randperm(N,
//     generator seeded with seed("data.split")); the first round(N * split_fraction) entries
//     of perm are the training split (in perm order), the rest the validation split.
//  3. Normalisation (data.normalize): every feature of every set becomes (x - m) / s, with m
//     and s the mean and (unbiased) standard deviation of all training-split feature values.
//  4. Model: make_model(config.model), initialised from the default generator seeded in 1; a
//     TorchScript model (model.torchscript.path) is loaded as saved, drawing nothing.
//  5. Each epoch e: order = randperm(n_train, generator seeded with
//     seed("data.shuffle/epoch/<e>")) when data.shuffle, else 0..n_train-1. Batches are
//     consecutive slices of batch_size; an incomplete last slice is dropped.
//  6. Each step: lr from the schedule; Session::begin_step(step, optimizer, batch); zero_grad;
//     loss = cross_entropy(model(x), y) (mean; the model call inside a RECORD_USER_SCOPE named
//     after the model, for op traces); backward; grad_norm = sqrt(sum over parameters of sum(grad^2));
//     optimizer.step(); then the step is recorded: its loss is the one computed before the update, its parameter digest
//     (when due) the parameters after it. A NaN or Inf loss or gradient norm then stops the run
//     as failed (train.on_nonfinite "stop", the default; "warn" goes on): see Session::record_step.
//     The model is in training mode (dropout draws from the default generator); nothing else
//     draws from that generator between steps.
//     The optimizers are torch::optim's SGD (momentum, dampening 0, nesterov, weight_decay),
//     Adam and AdamW, whose updates equal Python's torch.optim with foreach=False: a plain
//     Python loop doing 2, 3, 5 and 6 on the same TorchScript file gives bitwise equal losses
//     (README, "Wrapping your model"; tests/e2e/python_agreement_test.py).
//  7. Evaluations every train.eval_every steps and at the end on the validation split, then
//     on the test set: mean cross-entropy and accuracy, in eval mode, without gradients.
//  8. Checkpoints (repro/checkpoint.h) after every train.checkpoint_every steps and after the
//     last step (after its record and evaluation), holding parameters, buffers, optimizer,
//     default generator and CheckpointState{steps done, epoch, index within the epoch}.
//     With SessionOptions::resume_dir the loop restores the newest one, recomputes the
//     epoch's order from its seed and continues; the lr of a step depends on the step only.
#pragma once

#include <string>

#include "proto/run_config.pb.h"
#include "proto/run_record.pb.h"
#include "repro/session.h"

namespace repro {

struct TrainOutcome {
  std::string run_dir;
  proto::RunStatus status = proto::RUN_STATUS_UNSPECIFIED;
  std::string reason;
};

// Trains as described above. `config` must be resolved and validated (repro/config.h).
// Progress goes to stderr: a progress bar on a terminal, else a log line every 10% of steps.
// Throws Error (usage/input) for bad input — before the run directory exists when it can be
// known then (determinism), else after recording the run as failed (a corrupt data file).
// An I/O or resource failure (Error io: no space for a checkpoint or the record, out of memory)
// is recorded as failed where the record can still be written, and thrown as Error (io).
// Any other failure during training is recorded (status failed) and returned; a run stopped
// after its trace window (REPRO_TRACE_STOP, repro/trace.h) is returned as interrupted.
// The models and data sources come from models/ (reprotorch::models), a library above the
// harness: a program calling train() links it and calls repro::models::register_builtins()
// first (models/models.h), as the repro tool does; without them train() throws Error (usage)
// saying so, before anything is recorded.
TrainOutcome train(const proto::RunConfig& config, SessionOptions options = {});

}  // namespace repro
