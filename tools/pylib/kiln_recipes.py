"""The train sections of examples/*.kiln in PyTorch: each example's optimizer,
learning-rate schedule and gradient clipping, for every comparison that
trains (tools/compare, test/parity, bench). A recipe changed in an example
changes here too, once."""
import math

import torch


def _sgd(lr, **options):
    return lambda params: torch.optim.SGD(params, lr=lr, **options)


def _adam(lr):
    return lambda params: torch.optim.Adam(params, lr=lr)


# name: a function of the parameters that makes the example's optimizer.
OPTIMIZERS = {
    "cnn": _sgd(0.01, momentum=0.9),
    "mlp": lambda params: torch.optim.AdamW(params, lr=2e-3, weight_decay=0.01),
    "lstm": _adam(1e-3),
    "gru": _adam(1e-3),
    "resnet": _sgd(0.005, momentum=0.9, weight_decay=5e-4),
    "transformer": _adam(1e-3),
}


def kiln_cosine(warmup, total):
    """The factor of the learning rate at update k + 1 under the recipe's
    cosine(warmup) (min_lr 0): kiln.learning_rate's formula, k counting
    updates from 0 as LambdaLR does."""
    def factor(k):
        rate = 1.0
        if k >= warmup:
            span = total - warmup
            progress = min(k - warmup, span) / span if span > 0 else 1.0
            rate = (1 + math.cos(math.pi * progress)) / 2
        if k < warmup:
            rate *= (k + 1) / warmup
        return rate
    return factor


# name: the factor of the rate given the run's total updates, for the
# examples with a `schedule`.
_SCHEDULES = {
    "mlp": lambda total: kiln_cosine(100, total),
    "resnet": lambda total: kiln_cosine(0, total),
}

# name: the `clip_grad_norm` of the examples that clip.
CLIP_GRAD_NORM = {"mlp": 1.0}


def scheduler(model, optimizer, total):
    """The LambdaLR of the example's schedule over `total` updates (step it
    after each optimizer step), or None for a constant rate."""
    if model not in _SCHEDULES:
        return None
    return torch.optim.lr_scheduler.LambdaLR(optimizer,
                                             _SCHEDULES[model](total))
