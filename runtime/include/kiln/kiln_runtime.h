/*===- kiln_runtime.h - The C interface of generated code and the runtime -===*
 *
 * A trainer is an object file that kilnc generates, linked with the Kiln
 * runtime. The object file defines `kiln_compiled_program`: what the program
 * needs (its slots: parameters, optimizer state, batch inputs, outputs, one
 * arena for everything else) and its entry points. The runtime owns
 * main(): it allocates the slots, loads data, initializes parameters, and
 * calls the entry points. An inference library (kilnc --emit=lib) is the
 * same with the forward step alone, linked with the runtime's inference
 * part; its API functions call kiln_model_* below. Generated code in turn calls the runtime for the
 * heavy operations (oneDNN primitives): each call site of the program is
 * created once, by `init`, with its static configuration, and executed by
 * the steps with pointers only.
 *
 * Plain C, so that generated code (LLVM IR) and the runtime (C++) agree.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_H
#define KILN_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_ABI_VERSION 6

/* The program that kilnc generates. Its description is a JSON object:
 *
 *   {
 *     "abi": 5,
 *     "model": "cnn",
 *     "recipe": { "batch_size": 64, "epochs": 3, "seed": 0,
 *                 "data": {"kind": "fashion_mnist", "dir": "...", "scale":
 * 0.0039...}, "transforms": [], "drop_last": true, "optimizer": {"kind": "sgd",
 * "lr": 0.01, ...}, "schedule": {"kind": "constant", "warmup": 0, ...},
 *                 "clip_grad_norm": 1.0, "metric": "accuracy" },
 *     "slots": [ { "name": "conv1.weight", "role": "param", "dtype": "f32",
 *                  "shape": [32, 1, 3, 3],
 *                  "init": {"distribution": "uniform", "low": -0.33, "high":
 * 0.33} }, { "name": "conv1.weight.momentum_buffer", "role": "state", ... }, {
 * "name": "step", "role": "step", "dtype": "i64", "shape": [] }, { "name":
 * "total_steps", "role": "total_steps", ... }, { "name": "image", "role":
 * "input", "dtype": "f32", "shape": [64, 1, 28, 28] }, { "name": "label",
 * "role": "input", "dtype": "i64", "shape": [64], "range": 10, "ignore_index":
 * -100 }, { "name": "loss", "role": "output", "dtype": "f32", "shape": [] }, {
 * "name": "correct", "role": "output", "dtype": "i64", "shape": [] }, { "name":
 * "predictions", "role": "output", "dtype": "i64", "shape": [64] }, { "name":
 * "lr", "role": "output", "dtype": "f32", "shape": [] }, { "name": "arena",
 * "role": "arena", "dtype": "u8", "shape": [35362112] } ], "train":   {"flops":
 * 1234, "arena_bytes": 35362112, "peak_bytes": 35362112, "slots": [0, 1, ...]},
 *     "eval":    {"flops": 567, "arena_bytes": 8028160, "peak_bytes": 8028160,
 *                 "slots": [...]},
 *     "predict": {"flops": 560, "arena_bytes": 8020000, "peak_bytes": 8020000,
 *                 "slots": [...]}
 *   }
 *
 * Roles: "param" (a parameter, named as in PyTorch's state_dict, with its
 * initial distribution: uniform low/high, normal mean/std, zeros, ones),
 * "state" (optimizer state, "<param>.momentum_buffer", "<param>.exp_avg",
 * "<param>.exp_avg_sq"; starts at zero), "step" (i64 scalar: the number of
 * the update, from 1), "total_steps" (i64 scalar: updates in the whole run),
 * "input" (a batch field, by the model's input name, in the order of the
 * data source's fields; an i64 input has a "range": its values must lie in
 * [0, range), or equal "ignore_index" when it has one (the label that
 * cross_entropy ignores); it leads with the training step's batch,
 * batch_size times the recipe's "accumulate" (absent: 1), of which the
 * evaluation and prediction steps read the first batch_size rows), "output"
 * (written by the steps: "loss", f32, by both; "lr", f32, the learning rate the
 * training step used; when the recipe has a metric, "correct", i64, the number
 * of correct predictions of the batch, by both, and "predictions", i64 [batch],
 * the predicted class of each example, by the evaluation step, so that a
 * partial last batch can be scored exactly), and the model's own outputs under
 * the names its forward returns them ("logits"), by the prediction step;
 * "arena" (scratch memory of every step, 64-byte aligned).
 *
 * "train", "eval" and "predict" describe the steps that the program has: the
 * FLOPs of one step, its arena and the slot of each of its arguments, in
 * order. The prediction step is the forward alone: parameters and the
 * inputs that the forward reads (not the labels) in, the model's outputs
 * out. A trainer has the three steps; an inference library only "predict",
 * and its recipe may be absent.
 *
 * Every step takes a frame: one pointer per slot, in slot order. The
 * training step updates parameters and state in place and writes the
 * outputs; the evaluation and prediction steps only read parameters and
 * inputs and write the outputs. Buffers are row-major; parameters, state and
 * inputs must be at least 16-byte aligned. */
typedef struct kiln_program {
  int32_t abi_version; /* KILN_ABI_VERSION */
  const char *description;
  /* Creates every call site of the runtime (oneDNN primitives); once, before
   * any step. A CPU program's init does nothing else, and runs again, into
   * a site table of its own, for each other thread count that its steps
   * then run with (the trainer's --threads auto). */
  void (*init)(void);
  /* Null when the program lacks the step (an inference library). */
  void (*train_step)(void **frame);
  void (*eval_step)(void **frame);
  void (*predict_step)(void **frame);
} kiln_program;

/* Defined by the object file that kilnc generates. */
extern const kiln_program kiln_compiled_program;

/*===----------------------------------------------------------------------===*
 * Heavy operations, called by generated code
 *===----------------------------------------------------------------------===*/

/* The kinds of call sites, with the layout of their configuration (int64
 * values; `f64:` marks a double stored bit for bit) and of their arguments
 * (pointers to contiguous row-major buffers). f32 throughout, but for the
 * workspaces of batch normalizations, opaque bytes.
 *
 * [blocked] ends the configurations of convolutions, poolings and batch
 * normalizations: a mask of their arguments (bit i for args[i]; only those
 * marked `*` may be set) that are in oneDNN's blocked layout nChwBc instead
 * of row-major NCHW:
 * element (n, c, h, w) at ((n * C/B + c/B) * H * W + h * W + w) * B + c % B,
 * for C a multiple of 8. The runtime chooses B for the CPU and C, as oneDNN's
 * fastest kernels want it: 16 with AVX-512 when C is a multiple of 16, else
 * 8; generated code only
 * carries such tensors from site to site through elementwise operations
 * of one shape, which any order of the elements serves. The compiler
 * passes a tensor so when it only goes from one such site to another
 * (through elementwise code), to spare the reorders in between. Absent, it
 * is 0. */
enum kiln_op_kind {
  /* config: N C H W O KH KW SH SW PH PW DH DW has_bias relu [blocked]
   * args:   x*[N,C,H,W] w[O,C,KH,KW] (b[O] if has_bias) y*[N,O,OH,OW]
   * relu: apply max(0, .) to the result (a fused post-op). */
  KILN_CONV2D_FORWARD = 1,
  /* config: N C H W O KH KW SH SW PH PW DH DW [blocked]
   * args:   dy*[N,O,OH,OW] w[O,C,KH,KW] dx*[N,C,H,W] */
  KILN_CONV2D_BACKWARD_DATA = 2,
  /* config: N C H W O KH KW SH SW PH PW DH DW has_bias [blocked]
   * args:   dy*[N,O,OH,OW] x*[N,C,H,W] dw[O,C,KH,KW] (db[O] if has_bias) */
  KILN_CONV2D_BACKWARD_WEIGHTS = 3,
  /* config: N C H W KH KW SH SW PH PW algorithm keeps_workspace [blocked]
   * algorithm: 0 max, 1 average counting padding, 2 average without it
   * keeps_workspace: 1 when a backward site is paired with this one (a max
   * pooling of a training step), which then keeps its workspace for it;
   * 0 pools in inference mode, without one.
   * args:   x*[N,C,H,W] y*[N,C,OH,OW]
   * It pools in the layout of x. */
  KILN_POOL2D_FORWARD = 4,
  /* config: N C H W KH KW SH SW PH PW algorithm forward_site [blocked]
   * forward_site: the KILN_POOL2D_FORWARD site that pooled x in this step,
   * whose workspace it uses, or -1 to recompute it from x; x's layout must
   * be the one that site was given.
   * args:   dy*[N,C,OH,OW] x*[N,C,H,W] dx*[N,C,H,W] */
  KILN_POOL2D_BACKWARD = 5,
  /* C = op(A) op(B) (+ bias) (relu), batched.
   * config: batch M N K transpose_a transpose_b a_batched b_batched has_bias
   * relu a_batched / b_batched: 1 if the operand has `batch` matrices, 0 if one
   * matrix is shared by the whole batch.
   * args:   a b (bias[N] if has_bias) c[batch, M, N] */
  KILN_MATMUL = 6,
  /* Softmax along the middle dimension of [outer, size, inner].
   * config: outer size inner log
   * log: 1 for log-softmax.
   * args:   x y */
  KILN_SOFTMAX_FORWARD = 7,
  /* config: outer size inner log
   * args:   dy y dx (y: the forward's result) */
  KILN_SOFTMAX_BACKWARD = 8,
  /* Normalizes each row of [rows, cols].
   * config: rows cols f64:epsilon has_weight keeps_statistics
   * args:   x (w[cols] b[cols] if has_weight) y
   * keeps_statistics: a backward site reuses the rows' means and variances,
   * which the site keeps. */
  KILN_LAYER_NORM_FORWARD = 9,
  /* config: rows cols f64:epsilon has_weight forward_site
   * args:   dy x (w[cols] if has_weight) dx (dw[cols] db[cols] if has_weight)
   * forward_site: the forward site of the same x and configuration, run
   * before this one in the step, whose statistics it reuses; -1: none, and
   * the site computes them again. */
  KILN_LAYER_NORM_BACKWARD = 10,
  /* Multi-layer LSTM, batch first, zero initial state, PyTorch gate order.
   * config: B T I H L
   * args:   x[B,T,I] then for each layer: w_ih[4H,in] w_hh[4H,H] b_ih[4H]
   *         b_hh[4H]; then out[B,T,H] h_n[L,B,H] c_n[L,B,H]
   * Keeps its workspace for the backward site paired with it. */
  KILN_LSTM_FORWARD = 11,
  /* config: B T I H L forward_site
   * args:   x out h_n c_n dout dh_n dc_n, the 4L weights, then dx and the
   *         4L weight gradients */
  KILN_LSTM_BACKWARD = 12,
  /* softmax(q k^T * scale (+ causal mask)) v over [batch, L, E] x [batch, S, E]
   * config: batch L S E EV causal f64:scale f64:dropout seed
   * args:   q k v (counter i64[] if dropout > 0) out
   * With dropout, the probabilities [batch, L, S] are dropped out as
   * kiln.dropout does at step *counter (kiln/Random.h, site seed). The site
   * keeps the probabilities (before dropout) for its backward site. */
  KILN_ATTENTION_FORWARD = 13,
  /* config: batch L S E EV causal f64:scale f64:dropout seed forward_site
   * args:   dout q k v (counter i64[] if dropout > 0) dq dk dv
   * forward_site: the forward site of the same q, k, v and configuration,
   * run before this one in the step, whose probabilities it reuses; -1:
   * none, and the site computes them again. */
  KILN_ATTENTION_BACKWARD = 14,
  /* Batch normalization over the channels of x [N, C, ...] (PyTorch's
   * BatchNorm1d on [N, C] or [N, C, L], BatchNorm2d on [N, C, H, W]); S is
   * the product of the sizes after C (1 for [N, C]).
   * config: N C S has_affine training fuse_relu f64:epsilon ranks [blocked]
   * args:   x*[N,C,...] (scale[C] shift[C] if has_affine)
   *         (mean[C] variance[C] if !training) y*[N,C,...]
   *         (mean[C] variance[C] if training)
   *         (workspace u8[N*C*S] if training and fuse_relu)
   * training: normalizes with the batch's mean and biased variance and
   * writes them, for the backward site; generated code updates the running
   * statistics from them (momentum, unbiased variance), not the runtime.
   * Otherwise it normalizes with the given mean and variance (the running
   * statistics).
   * ranks > 1: in training, the statistics are those of the batches of all
   * the ranks of the data-parallel run together (SyncBatchNorm); the
   * process must be one of `ranks` ranks.
   * fuse_relu: y = max(0, batch_norm(x)); in training the workspace
   * records, in oneDNN's own format, where the ReLU passed, for the backward
   * site. It is laid out by the layout of x, so the backward site's x must
   * be blocked exactly when the forward's was.
   * [blocked]: only x and y (4-d x [N, C, H, W], S = H * W). */
  KILN_BATCH_NORM_FORWARD = 15,
  /* config: N C S has_affine fuse_relu f64:epsilon ranks [blocked]
   * args:   x*[N,C,...] dy*[N,C,...] (scale[C] if has_affine) mean[C]
   *         variance[C] (workspace u8[N*C*S] if fuse_relu) dx*[N,C,...]
   *         (dscale[C] dshift[C] if has_affine)
   * mean, variance, workspace: what the training forward site wrote for x.
   * With fuse_relu, dy is the gradient of max(0, batch_norm(x)).
   * ranks > 1: dx through the statistics of all the ranks' batches, as the
   * forward's; dscale and dshift stay this rank's sums.
   * [blocked]: only x, dy and dx. */
  KILN_BATCH_NORM_BACKWARD = 16,
  /* The mean over the ranks of a data-parallel run of a bucket of tensors
   * (kiln.all_reduce), in one message, as two sites so that it runs while
   * the step goes on. The start packs x1 ... xK and starts the reduction;
   * it does not touch y1 ... yK, whose buffers the wait of site S then
   * fills with the means. In a run of one process, the means are copies.
   * config: K E1 ... EK (K tensors of E1 ... EK f32 elements)
   * args:   x1 ... xK y1 ... yK */
  KILN_ALL_REDUCE_START = 17,
  /* config: K E1 ... EK S (S: the start site)
   * args:   y1 ... yK */
  KILN_ALL_REDUCE_WAIT = 18,
  /* Multi-layer GRU, batch first, zero initial state, PyTorch gate order
   * (r, z, n) and formula (the reset gate applies to W_hn h + b_hn).
   * config: B T I H L
   * args:   x[B,T,I] then for each layer: w_ih[3H,in] w_hh[3H,H] b_ih[3H]
   *         b_hh[3H]; then out[B,T,H] h_n[L,B,H]
   * Keeps its workspace for the backward site paired with it. */
  KILN_GRU_FORWARD = 19,
  /* config: B T I H L forward_site
   * args:   x out h_n dout dh_n, the 4L weights, then dx and the 4L weight
   *         gradients */
  KILN_GRU_BACKWARD = 20
};

/* Creates call site `site` (numbered from 0 by the compiler) of `kind`. */
void kiln_rt_create(int64_t site, int32_t kind, int32_t num_config,
                    const int64_t *config);
/* Runs call site `site` on `args`, laid out as its kind says. */
void kiln_rt_execute(int64_t site, void **args);

/* Sets the number of threads of the runtime (oneDNN and parallel_for). */
void kiln_rt_set_threads(int32_t threads);

/* Runs body(context, begin, end) over [0, count) split across the runtime's
 * threads; generated elementwise kernels use it to use every core. */
void kiln_rt_parallel_for(void (*body)(void *context, int64_t begin,
                                       int64_t end),
                          void *context, int64_t count);

/*===----------------------------------------------------------------------===*
 * Inference libraries (kilnc --emit=lib), called by generated code
 *===----------------------------------------------------------------------===*/

/* The API of an inference library is generated for its model, with the
 * model's name as prefix (cnn_load, cnn_run, ...; kilnc writes the header),
 * so that an application can link several. Each generated function calls one
 * of these with the library's own program. */

/* Loads a model instance: its parameters from the safetensors file `path`
 * (a Kiln checkpoint or a PyTorch state_dict, by name), its call sites
 * created for `threads` threads (0: one per core). Returns null on failure,
 * with the reason in kiln_model_last_error(). */
void *kiln_model_load(const kiln_program *program, const char *path,
                      int32_t threads);
/* Runs the prediction step of `model` on one batch: `io` holds the inputs,
 * then the outputs, in the order of the prediction step's slots. Returns 0,
 * or -1 with the reason in kiln_model_last_error(). */
int32_t kiln_model_run(void *model, void *const *io);
/* The message of the calling thread's last failed call, or "". */
const char *kiln_model_last_error(void);
/* Frees `model`; null is ignored. */
void kiln_model_free(void *model);

/*===----------------------------------------------------------------------===*
 * GPU programs (kilnc --target=cuda), called by generated code
 *===----------------------------------------------------------------------===*/

/* A GPU program's description also has "device": "cuda", "gpu_arch" (the
 * architecture its kernels were compiled for, "sm_90"), "gpu_format" ("ptx"
 * or "cubin") and "kernels" (how many). Its frames hold device pointers:
 * every slot lives on the GPU, and the steps only launch kernels, in program
 * order, on the runtime's stream; they return without waiting for them. */

/* Loads the program's kernels, once, from init: `image` is PTX text
 * (NUL-terminated) or a cubin, as `format` says ("ptx", "cubin"); `names`
 * holds the `count` kernels' names, each NUL-terminated, in the order of
 * their numbers. */
void kiln_cuda_load_module(const void *image, const char *format,
                           int32_t count, const char *names);

/* Launches kernel number `kernel` on the runtime's stream; `params` points
 * to each parameter, as cuLaunchKernel's kernelParams. */
void kiln_cuda_launch(int32_t kernel, int64_t grid_x, int64_t grid_y,
                      int64_t grid_z, int64_t block_x, int64_t block_y,
                      int64_t block_z, int32_t shared_bytes, void **params);

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_H */
