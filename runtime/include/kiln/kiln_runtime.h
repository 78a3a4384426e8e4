/*===- kiln_runtime.h - The C interface of generated code and the runtime -===*
 *
 * A trainer is an object file that kilnc generates, linked with the Kiln
 * runtime. The object file defines `kiln_compiled_program`: what the program
 * needs (its slots: parameters, optimizer state, batch inputs, outputs, one
 * arena for everything else) and its three entry points. The runtime owns
 * main(): it allocates the slots, loads data, initializes parameters, and
 * calls the entry points. Generated code in turn calls the runtime for the
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

#define KILN_ABI_VERSION 1

/* Element types of slots. */
enum kiln_dtype { KILN_F32 = 0, KILN_I64 = 1 };

/* What a slot holds. The frame passed to the steps has one pointer per slot,
 * in slot order. Parameters and optimizer state are updated in place by the
 * training step. */
enum kiln_role {
  KILN_ROLE_PARAM = 0,       /* a parameter, named as in PyTorch's state_dict */
  KILN_ROLE_STATE = 1,       /* optimizer state: "<param>.exp_avg", ... */
  KILN_ROLE_INPUT = 2,       /* a batch field, by the model's input name */
  KILN_ROLE_STEP = 3,        /* i64 scalar: the update number, from 1 */
  KILN_ROLE_TOTAL_STEPS = 4, /* i64 scalar: updates in the whole run */
  KILN_ROLE_LOSS = 5,        /* f32 scalar written by both steps */
  KILN_ROLE_CORRECT = 6,     /* i64 scalar written by both steps (may be absent) */
  KILN_ROLE_ARENA = 7        /* scratch memory of both steps, 64-byte aligned */
};

/* How a parameter starts training (PyTorch's initialization of its layer). */
enum kiln_init {
  KILN_INIT_UNIFORM = 0, /* uniform in [a, b) */
  KILN_INIT_NORMAL = 1,  /* normal with mean a and standard deviation b */
  KILN_INIT_ZEROS = 2,
  KILN_INIT_ONES = 3
};

typedef struct kiln_slot {
  const char *name;
  int32_t role;  /* enum kiln_role */
  int32_t dtype; /* enum kiln_dtype */
  int32_t rank;
  const int64_t *shape; /* rank sizes; the arena's is {bytes} */
  int32_t init;         /* enum kiln_init, for parameters */
  double init_a, init_b;
} kiln_slot;

typedef struct kiln_program {
  int32_t abi_version; /* KILN_ABI_VERSION */
  const char *model_name;
  /* The train section as JSON: batch_size, epochs, seed, data, optimizer,
   * schedule, clip_grad_norm, metric (the module's kiln.recipe). */
  const char *recipe_json;
  int32_t num_slots;
  const kiln_slot *slots;
  /* Floating-point operations of one step of each kind, counted statically. */
  int64_t train_flops, eval_flops;
  /* Creates every call site of the runtime (oneDNN primitives). */
  void (*init)(void);
  /* One training step, or one evaluation step, on the frame. */
  void (*train_step)(void **frame);
  void (*eval_step)(void **frame);
} kiln_program;

/* Defined by the object file that kilnc generates. */
extern const kiln_program kiln_compiled_program;

/*===----------------------------------------------------------------------===*
 * Heavy operations, called by generated code
 *===----------------------------------------------------------------------===*/

/* The kinds of call sites, with the layout of their configuration (int64
 * values; `f64:` marks a double stored bit for bit) and of their arguments
 * (pointers to contiguous row-major buffers). f32 throughout. */
enum kiln_op_kind {
  /* config: N C H W O KH KW SH SW PH PW DH DW has_bias relu
   * args:   x[N,C,H,W] w[O,C,KH,KW] (b[O] if has_bias) y[N,O,OH,OW]
   * relu: apply max(0, .) to the result (a fused post-op). */
  KILN_CONV2D_FORWARD = 1,
  /* config: N C H W O KH KW SH SW PH PW DH DW
   * args:   dy[N,O,OH,OW] w[O,C,KH,KW] dx[N,C,H,W] */
  KILN_CONV2D_BACKWARD_DATA = 2,
  /* config: N C H W O KH KW SH SW PH PW DH DW has_bias
   * args:   dy[N,O,OH,OW] x[N,C,H,W] dw[O,C,KH,KW] (db[O] if has_bias) */
  KILN_CONV2D_BACKWARD_WEIGHTS = 3,
  /* config: N C H W KH KW SH SW PH PW algorithm
   * algorithm: 0 max, 1 average counting padding, 2 average without it
   * args:   x[N,C,H,W] y[N,C,OH,OW]
   * A max pooling keeps its workspace for the backward site paired with it. */
  KILN_POOL2D_FORWARD = 4,
  /* config: N C H W KH KW SH SW PH PW algorithm forward_site
   * forward_site: the KILN_POOL2D_FORWARD site that pooled x in this step,
   * whose workspace it uses, or -1 to recompute it from x.
   * args:   dy[N,C,OH,OW] x[N,C,H,W] dx[N,C,H,W] */
  KILN_POOL2D_BACKWARD = 5,
  /* C = op(A) op(B) (+ bias) (relu), batched.
   * config: batch M N K transpose_a transpose_b a_batched b_batched has_bias relu
   * a_batched / b_batched: 1 if the operand has `batch` matrices, 0 if one
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
   * config: rows cols f64:epsilon has_weight
   * args:   x (w[cols] b[cols] if has_weight) y */
  KILN_LAYER_NORM_FORWARD = 9,
  /* config: rows cols f64:epsilon has_weight
   * args:   dy x (w[cols] if has_weight) dx (dw[cols] db[cols] if has_weight) */
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
   * config: batch L S E EV causal f64:scale
   * args:   q k v out */
  KILN_ATTENTION_FORWARD = 13,
  /* config: batch L S E EV causal f64:scale
   * args:   dout q k v dq dk dv */
  KILN_ATTENTION_BACKWARD = 14
};

/* Creates call site `site` (numbered from 0 by the compiler) of `kind`. */
void kiln_rt_create(int64_t site, int32_t kind, int32_t num_config,
                    const int64_t *config);
/* Runs call site `site` on `args`, laid out as its kind says. */
void kiln_rt_execute(int64_t site, void **args);

/* Runs body(context, begin, end) over [0, count) split across the runtime's
 * threads; generated elementwise kernels use it to use every core. */
void kiln_rt_parallel_for(void (*body)(void *context, int64_t begin,
                                       int64_t end),
                          void *context, int64_t count);

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_H */
