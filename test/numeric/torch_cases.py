"""The numeric test cases of every kiln op and what PyTorch says of them.

CASES and F32_CASES list, for each op, the function that builds its cases and
the keyword arguments of each case. The functions live by family of ops:
cases_math (elementwise math, reductions, matmul), cases_shapes (data
movement), cases_nn (layers and losses) and cases_optim (optimizers and
schedules). Each builds the op's function in a Case and computes the expected
results: forward ops with torch and torch.nn.functional, gradient ops with
torch.autograd.grad of the forward, optimizer ops with one torch.optim step
from the same state.
"""
from cases_math import (
    BINARY, COMPARISONS, activation, argmax, binary, comparison, count_equal,
    gelu, matmul, reduce_max_backward, reduce_precision, reduction, softmax,
    softmax_backward, unary, unary_backward, where)
from cases_nn import (
    attention, batch_norm, batch_norm_backward, conv2d, conv2d_backward,
    cross_entropy, dropout, layer_norm, layer_norm_backward, linear, pool2d,
    recurrent)
from cases_optim import (
    accumulate, adam, clip_grad_norm, learning_rate, sgd)
from cases_shapes import (
    broadcast_to, concat, constant, embedding, embedding_backward, flatten,
    one_hot, reshape, scatter_slice, sinusoidal_positions, slice_, transpose)


# ----------------------------------------------------------------------------
# The cases: (op, function, keyword arguments of each case). A function that
# serves several ops takes the op's name as its second parameter.
# ----------------------------------------------------------------------------

def binary_cases():
    return [dict(lhs=(2, 3), rhs=(3,)), dict(lhs=(4, 1, 3), rhs=(2, 1)),
            dict(lhs=(), rhs=(2, 2)), dict(lhs=(3, 1), rhs=(1, 4)),
            dict(lhs=(2, 0), rhs=(1,)), dict(), dict(), dict()]


def unary_cases(positive=False):
    return [dict(shape=s, positive=positive)
            for s in [(2, 3), (), (4, 1, 2), (0, 3)]]


ATTENTION_CASES = [
    dict(batch=(2,), length=3, sources=4, embed=5, value_embed=2),
    dict(batch=(2, 2), length=4, sources=4, embed=3, value_embed=3, causal=True),
    dict(batch=(1,), length=3, sources=5, embed=2, value_embed=4, causal=True),
    dict(batch=(), length=2, sources=3, embed=4, value_embed=2, scale=0.3),
    dict(batch=(2, 2), length=4, sources=5, embed=3, value_embed=2, causal=True,
         dropout=0.25, seed=7, counter=3),
    dict(batch=(3,), length=3, sources=3, embed=4, value_embed=3, dropout=0.5,
         seed=2, counter=11),
]
CONV_CASES = [
    dict(input=(2, 3, 5, 5), out=4, kernel=(3, 3)),
    dict(input=(1, 2, 6, 5), out=3, kernel=(2, 3), stride=(2, 1),
         padding=(1, 2), dilation=(2, 1)),
    dict(input=(2, 2, 4, 4), out=2, kernel=(1, 1), stride=(2, 2)),
]
POOL_CASES = [
    dict(input=(2, 3, 4, 4), kernel=(2, 2)),
    dict(input=(1, 2, 5, 6), kernel=(3, 3), stride=(2, 2), padding=(1, 1)),
    dict(input=(1, 1, 4, 7), kernel=(2, 3), stride=(1, 2), padding=(1, 1)),
    dict(input=(1, 2, 4, 4), kernel=(2, 2), stride=(1, 1), ties=True),
]
LSTM_CASES = [
    dict(batch=2, steps=3, input_size=4, hidden=3, layers=1),
    dict(batch=2, steps=4, input_size=3, hidden=2, layers=2),
    dict(batch=1, steps=2, input_size=2, hidden=2, layers=3),
]
GRU_CASES = [
    dict(batch=2, steps=3, input_size=4, hidden=3, layers=1),
    dict(batch=3, steps=4, input_size=3, hidden=2, layers=2),
    dict(batch=1, steps=1, input_size=2, hidden=4, layers=3),
]
SLICE_CASES = [
    dict(shape=(5, 6), offsets=(1, 0), sizes=(2, 3), strides=(2, 2)),
    dict(shape=(3, 4, 5), offsets=(0, 1, 2), sizes=(3, 1, 2), strides=(1, 2, 2)),
]
SCHEDULES = [
    dict(schedule="constant", step=1), dict(schedule="constant", step=3, warmup=4),
    dict(schedule="constant", step=6, warmup=4),
    dict(schedule="step", step=1, every=3, gamma=0.5),
    dict(schedule="step", step=10, every=3, gamma=0.5),
    dict(schedule="step", step=2, warmup=2, every=3, gamma=0.5),
    dict(schedule="step", step=8, warmup=2, every=3, gamma=0.5),
    dict(schedule="cosine", step=1, min_lr=0.01),
    dict(schedule="cosine", step=5, min_lr=0.01),
    dict(schedule="cosine", step=10, min_lr=0.01),
    dict(schedule="cosine", step=2, warmup=3), dict(schedule="cosine", step=4, warmup=3),
    dict(schedule="cosine", step=9, total=12, lr=1.0, warmup=3, min_lr=0.1),
]

CASES = [
    *[(op, binary, binary_cases()) for op in BINARY],
    *[(op, comparison, binary_cases()) for op in COMPARISONS],
    ("where", where, [dict(cond=(2, 3), x=(2, 3), y=(2, 3)),
                      dict(cond=(3, 1), x=(4,), y=()),
                      dict(cond=(), x=(2, 1), y=(1, 3)),
                      dict(cond=(2, 1, 4), x=(3, 1), y=(4,))]),
    *[(op, unary, unary_cases()) for op in ("neg", "relu", "tanh", "sigmoid", "silu", "exp",
                                            "abs")],
    ("leaky_relu", activation, [dict(shape=(3, 4)), dict(shape=(5,), negative_slope=0.2)]),
    ("elu", activation, [dict(shape=(3, 4)), dict(shape=(2, 3), alpha=0.5)]),
    ("softplus", activation, [dict(shape=(3, 4)), dict(shape=(4, 5), beta=2, threshold=3)]),
    ("clamp", activation, [dict(shape=(3, 4), min=-1), dict(shape=(3, 4), max=0.5),
                           dict(shape=(2, 5), min=-0.5, max=1.5)]),
    *[(op, unary, unary_cases(positive=True)) for op in ("log", "sqrt")],
    ("gelu", gelu, [dict(shape=(3, 4), approximate=a) for a in ("none", "tanh")]),
    *[(op, softmax, [dict(shape=(2, 3, 4), axis=-1), dict(shape=(2, 3, 4), axis=1),
                     dict(shape=(2, 3, 4), axis=0), dict(shape=(5,), axis=0)])
      for op in ("softmax", "log_softmax")],
    *[(op, reduction, [dict(shape=(2, 3, 4), axes=[1]),
                       dict(shape=(2, 3, 4), axes=[-1, 0], keep_dims=True),
                       dict(shape=(2, 3, 4), axes=[0, 1, 2]),
                       dict(shape=(3,), axes=[0], keep_dims=True)])
      for op in ("reduce_sum", "reduce_mean", "reduce_max")],
    ("reduce_max_backward", reduce_max_backward,
     [dict(shape=(2, 3, 4), axes=[1]), dict(shape=(3, 4), axes=[-1], keep_dims=True),
      dict(shape=(4, 5), axes=[0, 1], ties=True),
      dict(shape=(2, 3, 4), axes=[2], keep_dims=True, ties=True)]),
    ("argmax", argmax, [dict(shape=(3, 4), axis=1),
                        dict(shape=(2, 3, 4), axis=-1, keep_dims=True),
                        dict(shape=(4, 5), axis=1, ties=True),
                        dict(shape=(4, 5), axis=0, ties=True)]),
    ("count_equal", count_equal, [dict(shape=(10,)), dict(shape=(3, 4))]),
    ("matmul", matmul, [dict(lhs=(2, 3), rhs=(3, 4)),
                        dict(lhs=(2, 1, 3, 4), rhs=(5, 4, 2)),
                        dict(lhs=(3, 2), rhs=(3, 4), transpose_lhs=True),
                        dict(lhs=(2, 3), rhs=(4, 3), transpose_rhs=True),
                        dict(lhs=(2, 4, 3), rhs=(2, 5, 4), transpose_lhs=True,
                             transpose_rhs=True)]),
    ("relu_backward", unary_backward, [dict(shape=(3, 4)), dict(shape=(5,))]),
    ("gelu_backward", unary_backward,
     [dict(shape=(3, 4), approximate=a) for a in ("none", "tanh")]),
    *[(op, softmax_backward, [dict(shape=(3, 4), axis=-1), dict(shape=(2, 3, 4), axis=1)])
      for op in ("softmax_backward", "log_softmax_backward")],
    ("constant", constant, [dict(shape=(2, 3)), dict(shape=(4,))]),
    ("reshape", reshape, [dict(shape=(2, 3, 4), target=[4, -1]),
                          dict(shape=(6,), target=[2, 3], integers=True),
                          dict(shape=(1,), target=[])]),
    ("flatten", flatten, [dict(shape=(2, 3, 4, 5), start=1, end=-1),
                          dict(shape=(2, 3, 4, 5), start=-3, end=-2),
                          dict(shape=(2, 3), start=0, end=0)]),
    ("transpose", transpose, [dict(shape=(2, 3, 4), permutation=[2, 0, 1]),
                              dict(shape=(2, 3), permutation=[1, 0])]),
    ("concat", concat, [dict(shapes=[(2, 3), (2, 1), (2, 2)], axis=-1),
                        dict(shapes=[(1, 3), (2, 3)], axis=0),
                        dict(shapes=[(2, 2), (2, 3)], axis=1, integers=True)]),
    ("slice", slice_, SLICE_CASES + [dict(shape=(4,), offsets=(1,), sizes=(3,),
                                          strides=(1,), integers=True)]),
    ("scatter_slice", scatter_slice, SLICE_CASES),
    ("broadcast_to", broadcast_to, [dict(shape=(3,), target=[2, 3]),
                                    dict(shape=(2, 1), target=[4, 2, 5]),
                                    dict(shape=(), target=[3])]),
    ("embedding", embedding, [dict(ids_shape=(2, 3), rows=5, dim=4),
                              dict(ids_shape=(), rows=3, dim=2),
                              dict(ids_shape=(7,), rows=2, dim=3)]),
    ("embedding_backward", embedding_backward,
     [dict(ids_shape=(2, 3), rows=5, dim=4), dict(ids_shape=(6,), rows=4, dim=2)]),
    ("one_hot", one_hot, [dict(ids_shape=(2, 3), classes=4, f64=True),
                          dict(ids_shape=(5,), classes=3, f64=False)]),
    ("sinusoidal_positions", sinusoidal_positions,
     [dict(length=5, dim=8), dict(length=3, dim=2)]),
    ("conv2d", conv2d, CONV_CASES + [dict(input=(1, 2, 5, 4), out=2, kernel=(2, 2),
                                          padding=(1, 1), bias=False)]),
    *[(op, conv2d_backward, CONV_CASES)
      for op in ("conv2d_backward_input", "conv2d_backward_weight")],
    *[(op, pool2d, POOL_CASES) for op in ("max_pool2d", "max_pool2d_backward")],
    *[(op, pool2d, POOL_CASES + [dict(POOL_CASES[1], count_include_pad=False),
                                 dict(POOL_CASES[2], count_include_pad=False)])
      for op in ("avg_pool2d", "avg_pool2d_backward")],
    ("linear", linear, [dict(input=(4, 3), out=5), dict(input=(2, 3, 4), out=2, bias=False),
                        dict(input=(3,), out=2)]),
    ("layer_norm", layer_norm, [dict(shape=(4, 6), axis=-1),
                                dict(shape=(2, 3, 4), axis=1, bias=False),
                                dict(shape=(3, 5), axis=-1, weight=False, bias=False,
                                     epsilon=1e-3),
                                dict(shape=(2, 3, 4), axis=-2)]),
    ("layer_norm_backward", layer_norm_backward,
     [dict(shape=(4, 6), axis=-1), dict(shape=(2, 3, 4), axis=1),
      dict(shape=(3, 5), axis=-1, weight=False, epsilon=1e-3)]),
    ("batch_norm", batch_norm,
     [dict(shape=(4, 3)), dict(shape=(2, 3, 5), affine=False),
      dict(shape=(2, 4, 3, 3), momentum=0.3, epsilon=1e-3),
      dict(shape=(2, 4, 3, 3), training=False),
      dict(shape=(3, 2, 4), affine=False, training=False)]),
    ("batch_norm_backward", batch_norm_backward,
     [dict(shape=(4, 3)), dict(shape=(2, 3, 5), weight=False),
      dict(shape=(2, 4, 3, 3), epsilon=1e-3)]),
    ("dropout", dropout, [dict(shape=(4, 8), p=0.1, seed=7, counter=3),
                          dict(shape=(2, 3, 4), p=0.5, seed=-5, counter=0),
                          dict(shape=(10,), p=0.0, seed=1, counter=1)]),
    *[(op, attention, ATTENTION_CASES) for op in ("attention", "attention_backward")],
    *[(op, cross_entropy, [dict(rows=4, classes=5), dict(rows=1, classes=3),
                           dict(rows=8, classes=2),
                           dict(rows=6, classes=4, ignored=(1, 4)),
                           dict(rows=6, classes=4, label_smoothing=0.2),
                           dict(rows=7, classes=5, ignored=(0, 3, 6),
                                label_smoothing=0.3),
                           dict(rows=6, classes=4, ignored=(2,), ignore_index=1,
                                label_smoothing=0.1),
                           dict(rows=5, classes=3, ignored=(0, 4), ignore_index=7),
                           dict(rows=3, classes=4, label_smoothing=1.0)])
      for op in ("cross_entropy", "cross_entropy_backward")],
    *[(op, recurrent, LSTM_CASES) for op in ("lstm", "lstm_backward")],
    *[(op, recurrent, GRU_CASES) for op in ("gru", "gru_backward")],
    ("sgd", sgd, [dict(shape=(3, 2), step=1),
                  dict(shape=(4,), step=2, weight_decay=0.01),
                  dict(shape=(4,), step=1, momentum=0.9),
                  dict(shape=(2, 3), step=3, momentum=0.9, dampening=0.1,
                       weight_decay=0.01),
                  dict(shape=(5,), step=4, lr=0.05, momentum=0.8,
                       weight_decay=0.1, nesterov=True)]),
    *[(op, adam, [dict(shape=(3, 2), step=1),
                  dict(shape=(4,), step=2, weight_decay=0.1),
                  dict(shape=(2, 3), step=5, lr=0.01, betas=(0.8, 0.99), eps=1e-6,
                       weight_decay=0.05)])
      for op in ("adam", "adamw")],
    ("learning_rate", learning_rate, SCHEDULES),
    ("clip_grad_norm", clip_grad_norm, [dict(shapes=[(3,), (2, 2)], max_norm=0.5),
                                        dict(shapes=[(3,), (2, 2)], max_norm=100),
                                        dict(shapes=[(5,)], max_norm=1)]),
    ("accumulate", accumulate, [dict(shape=(3, 2)), dict(shape=())]),
]

F32_CASES = [
    ("add", binary, [dict(lhs=(2, 3), rhs=(3,))]),
    ("softmax", softmax, [dict(shape=(3, 5), axis=-1)]),
    ("matmul", matmul, [dict(lhs=(4, 6), rhs=(6, 3))]),
    # Float32 only, as the op.
    ("reduce_precision", reduce_precision, [dict(shape=(3, 4)), dict(shape=(40,))]),
    ("conv2d", conv2d, [dict(input=(2, 3, 5, 5), out=4, kernel=(3, 3), padding=(1, 1))]),
    ("layer_norm", layer_norm, [dict(shape=(4, 8), axis=-1)]),
    ("batch_norm", batch_norm, [dict(shape=(8, 4, 3, 3))]),
    ("attention", attention, [ATTENTION_CASES[1], ATTENTION_CASES[4]]),
    ("cross_entropy", cross_entropy, [dict(rows=4, classes=5),
                                      dict(rows=7, classes=5, ignored=(0, 3, 6),
                                           label_smoothing=0.3)]),
    ("lstm", recurrent, [LSTM_CASES[1]]),
    ("lstm_backward", recurrent, [LSTM_CASES[0]]),
    ("gru", recurrent, [GRU_CASES[0]]),
    ("gru_backward", recurrent, [GRU_CASES[1]]),
    ("adam", adam, [dict(shape=(2, 3), step=3, weight_decay=0.01)]),
]
