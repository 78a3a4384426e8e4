"""The numeric cases of kiln's optimizer ops (sgd, adam, adamw, gradient
clipping and accumulation) and learning-rate schedules: each function fills a
Case with the op's function and the state that one torch.optim step, or
torch.optim.lr_scheduler, reaches from the same state."""
import warnings

import torch


def scalar(c, value):
    return torch.tensor(value, dtype=c.dtype)


def sgd(c, shape, step, lr=0.1, momentum=0.0, dampening=0.0,
        weight_decay=0.0, nesterov=False):
    p = torch.nn.Parameter(c.randn(*shape))
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum, dampening=dampening,
                          weight_decay=weight_decay, nesterov=nesterov)
    for _ in range(step - 1):
        p.grad = c.randn(*shape)
        opt.step()
    param = p.detach().clone()
    buffer = opt.state[p].get("momentum_buffer")
    # Before the first step PyTorch has no buffer; the op must ignore its own.
    buffer = c.randn(*shape) if buffer is None else buffer.clone()
    g = c.randn(*shape)
    p.grad = g.clone()
    opt.step()
    operands = [("param", param), ("grad", g), ("lr", scalar(c, lr)),
                ("step", torch.tensor(step))]
    expected = [("new_param", p.detach())]
    if momentum:
        operands.append(("momentum_buffer", buffer))
        expected.append(("new_momentum_buffer", opt.state[p]["momentum_buffer"]))
    c.single("sgd", operands, expected,
             {"momentum": momentum, "dampening": dampening,
              "weight_decay": weight_decay, "nesterov": nesterov})


def adam(c, op, shape, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
         weight_decay=0.0):
    p = torch.nn.Parameter(c.randn(*shape))
    optimizer = torch.optim.Adam if op == "adam" else torch.optim.AdamW
    opt = optimizer([p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    for _ in range(step - 1):
        p.grad = c.randn(*shape)
        opt.step()
    param = p.detach().clone()
    state = opt.state[p]
    moments = [state[k].clone() if state else torch.zeros_like(param)
               for k in ("exp_avg", "exp_avg_sq")]
    g = c.randn(*shape)
    p.grad = g.clone()
    opt.step()
    c.single(op, [("param", param), ("grad", g), ("exp_avg", moments[0]),
                  ("exp_avg_sq", moments[1]), ("lr", scalar(c, lr)),
                  ("step", torch.tensor(step))],
             [("new_param", p.detach()), ("new_exp_avg", state["exp_avg"]),
              ("new_exp_avg_sq", state["exp_avg_sq"])],
             {"beta1": betas[0], "beta2": betas[1], "epsilon": eps,
              "weight_decay": weight_decay})


def scheduled_lr(schedule, step, total, lr, warmup, every, gamma, min_lr):
    """The rate of update `step` from torch.optim.lr_scheduler. PyTorch has no
    linear warm-up that multiplies by (k + 1) / warmup, so LambdaLR states it."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)

    def warm(k):
        return (k + 1) / warmup if k < warmup else 1.0

    lr_scheduler = torch.optim.lr_scheduler
    if schedule == "constant":
        scheduler = lr_scheduler.LambdaLR(opt, warm)
    elif schedule == "step" and warmup:
        scheduler = lr_scheduler.LambdaLR(opt, lambda k: warm(k) * gamma ** (k // every))
    elif schedule == "step":
        scheduler = lr_scheduler.StepLR(opt, every, gamma)
    elif warmup:
        scheduler = lr_scheduler.SequentialLR(
            opt, [lr_scheduler.LambdaLR(opt, warm),
                  lr_scheduler.CosineAnnealingLR(opt, total - warmup, min_lr)],
            [warmup])
    else:
        scheduler = lr_scheduler.CosineAnnealingLR(opt, total, min_lr)
    with warnings.catch_warnings():
        # SequentialLR steps its schedulers with an epoch, which PyTorch
        # deprecates for callers.
        warnings.filterwarnings("ignore", "The epoch parameter")
        for _ in range(step - 1):
            opt.step()
            scheduler.step()
    return opt.param_groups[0]["lr"]


def learning_rate(c, schedule, step, total=10, lr=0.1, warmup=0, every=1,
                  gamma=0.1, min_lr=0.0):
    expected = scheduled_lr(schedule, step, total, lr, warmup, every, gamma, min_lr)
    c.single("learning_rate",
             [("step", torch.tensor(step)), ("total_steps", torch.tensor(total))],
             [("lr", torch.tensor(expected, dtype=torch.float32))],
             {"schedule": schedule, "lr": lr, "warmup": warmup, "every": every,
              "gamma": gamma, "min_lr": min_lr})


def clip_grad_norm(c, shapes, max_norm):
    params = [torch.nn.Parameter(torch.zeros(s, dtype=c.dtype)) for s in shapes]
    grads = [c.randn(*s) for s in shapes]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    c.single("clip_grad_norm", [(f"g{i}", g) for i, g in enumerate(grads)],
             [(f"clipped{i}", p.grad) for i, p in enumerate(params)],
             {"max_norm": float(max_norm)})


def accumulate(c, shape):
    """A gradient added to .grad, as autograd's backward() adds it."""
    p = torch.nn.Parameter(torch.zeros(shape, dtype=c.dtype))
    s, t = c.randn(*shape), c.randn(*shape)
    p.grad = s.clone()
    (p * t).sum().backward()
    c.single("accumulate", [("sum", s), ("term", t)], [("result", p.grad)],
             short=True)
