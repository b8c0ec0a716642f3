"""torch.optim as the tutorials use it: the update rules, their settings, state and schedules, under both engines."""

from __future__ import annotations

import copy
import warnings

import pytest

from tests.core.twin import outcome, record, torch_square_roots

# (optimizer, settings): what the tutorials and the docs' examples construct
CONFIGS = [
    ("Adam", {"lr": 0.1}),
    ("Adam", {"lr": 0.01, "betas": (0.5, 0.9), "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "maximize": True, "decoupled_weight_decay": True, "weight_decay": 0.3}),
    ("AdamW", {"lr": 0.05}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1, "momentum": 0.9, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.1}),
]


def _steps(torch, name, settings, dtype, steps=4):
    """The parameter after a few steps on a fixed polynomial loss, as exact floats (no sin: torch's float32 sin/cos
    come from MKL/SLEEF and differ from NumPy's in the last bit on some CPUs; here only the update rules are tested)."""
    w = torch.tensor([1.5, -0.25, 0.75, 2.0, -1.0], dtype=dtype, requires_grad=True)
    opt = getattr(torch.optim, name)([w], **settings)
    for _ in range(steps):
        opt.zero_grad()
        ((w - 0.3) ** 2 + (w * 0.5) ** 3).sum().backward()
        opt.step()
    return w.tolist()


@pytest.mark.parametrize(("name", "settings"), CONFIGS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_update_rules_match_torch_bit_for_bit(name, settings, dtype):
    with torch_square_roots():  # the update rules, given the same square roots (see twin.torch_square_roots)
        torch_result, ours = record(lambda torch: _steps(torch, name, settings, getattr(torch, dtype)))
    assert ours == torch_result


@pytest.mark.parametrize("settings", [{"lr": 0.1},
                                      {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
                                      {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "maximize": True}])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_matches_torch_bit_for_bit(settings, dtype):
    """Each p + alpha * d of SGD is one fused multiply-add (one rounding) in PyTorch's CPU kernels, here too
    (on a loss whose gradient both compute alike: only the updates' rounding can differ)."""
    def steps(torch):
        w = torch.linspace(-2, 3, 40, dtype=getattr(torch, dtype), requires_grad=True)
        opt = torch.optim.SGD([w], **settings)
        for _ in range(20):
            opt.zero_grad()
            ((w - 0.3) * (w + 1.7)).sum().backward()
            opt.step()
        return w.tolist()
    torch_result, ours = record(steps)
    assert ours == torch_result


@pytest.mark.parametrize(("name", "settings"), CONFIGS + [("SGD", {"lr": 0.1, "momentum": 0.9})])
def test_repr_lists_every_setting_as_torch_does(name, settings):
    torch_result, ours = record(lambda torch: repr(getattr(torch.optim, name)([torch.ones(2, requires_grad=True)],
                                                                              **settings)))
    assert ours == torch_result


def test_constructor_errors(backend):
    w = [backend.ones(2, requires_grad=True)]
    optim = backend.optim
    for make, message in [(lambda: optim.Adam(w, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
                          (lambda: optim.Adam(w, eps=-1), "Invalid epsilon value: -1"),
                          (lambda: optim.RMSprop(w, alpha=-0.5), "Invalid alpha value: -0.5"),
                          (lambda: optim.Adagrad(w, lr_decay=-1), "Invalid lr_decay value: -1"),
                          (lambda: optim.SGD(w, lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
                          (lambda: optim.SGD(w, lr=0.1, nesterov=True),
                           "Nesterov momentum requires a momentum and zero dampening")]:
        with pytest.raises(ValueError, match=message.replace(".", r"\.")):
            make()
    with pytest.raises(TypeError, match=r"should be an iterable of Tensors or dicts, but got torch\.FloatTensor"):
        optim.Adam(backend.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is int"):
        optim.Adam([1])
    with pytest.raises(TypeError, match="ordering of tensors in sets will change between runs"):
        optim.Adam(w).add_param_group({"params": {backend.ones(1, requires_grad=True)}})


def test_state_and_state_dict_as_torch_keeps_them():
    def program(torch):
        a, b = torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True)
        opt = torch.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], amsgrad=True)
        (a.sum() + (b * 2).sum()).backward()
        opt.step()
        saved = opt.state_dict()
        return repr(saved), [list(opt.state[p]) for p in (a, b)]
    torch_result, ours = record(program)
    assert ours == torch_result


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "Adagrad", "SGD"])
def test_load_state_dict_resumes_training_exactly(name):
    def program(torch):
        settings = {"lr": 0.1, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.1}

        def train(w, opt, steps):
            for _ in range(steps):
                opt.zero_grad()
                (w**2).sum().backward()
                opt.step()

        w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
        opt = getattr(torch.optim, name)([w], **settings)
        train(w, opt, 2)
        saved = copy.deepcopy(opt.state_dict())  # as torch.save would: the state's tensors are shared otherwise
        twin = w.detach().clone().requires_grad_()
        resumed = getattr(torch.optim, name)([twin], lr=1.0)  # the saved lr wins
        resumed.load_state_dict(saved)
        train(w, opt, 2)
        train(twin, resumed, 2)
        return w.tolist(), twin.tolist(), resumed.param_groups[0]["lr"]
    with torch_square_roots():  # (Adam, RMSprop, Adagrad take square roots: see twin.torch_square_roots)
        torch_result, ours = record(program)
    assert ours == torch_result
    assert ours[0] == ours[1]


def test_load_state_dict_refuses_another_shape(backend):
    w = backend.ones(2, requires_grad=True)
    saved = backend.optim.Adam([w]).state_dict()
    with pytest.raises(ValueError, match="loaded state dict has a different number of parameter groups"):
        backend.optim.Adam([{"params": [w]}, {"params": [backend.ones(1, requires_grad=True)]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        backend.optim.Adam([w, backend.ones(1, requires_grad=True)]).load_state_dict(saved)


def test_zero_grad_sets_none_by_default_or_zeros(backend):
    w = backend.ones(2, requires_grad=True)
    opt = backend.optim.Adam([w])
    (w * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0, 0.0] and not w.grad.requires_grad
    opt.zero_grad()
    assert w.grad is None


def test_add_param_group_gets_the_defaults_and_refuses_a_repeat(backend):
    a, b = backend.ones(1, requires_grad=True), backend.ones(1, requires_grad=True)
    opt = backend.optim.RMSprop([a], lr=0.1)
    opt.add_param_group({"params": b, "momentum": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.1]
    assert [g["momentum"] for g in opt.param_groups] == [0, 0.5]
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_named_parameters_keep_their_names(backend):
    model = backend.nn.Linear(2, 1)
    opt = backend.optim.AdamW(model.named_parameters())
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_step_with_a_closure_returns_its_loss(backend):
    w = backend.tensor([2.0], requires_grad=True)
    opt = backend.optim.Adam([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    with backend.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0 and loss.requires_grad  # the closure ran with grad mode on
    assert opt.step() is None


def test_optimizer_step_in_backward():
    """The tutorial's pattern: one optimizer per parameter, stepped by a post-accumulate-grad hook."""
    def program(torch):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
        optimizers = {p: torch.optim.Adam([p], lr=0.01) for p in model.parameters()}

        def step(p):
            optimizers[p].step()
            optimizers[p].zero_grad()

        for p in model.parameters():
            p.register_post_accumulate_grad_hook(step)
        x = torch.linspace(-1, 1, 6).reshape(2, 3)
        for _ in range(3):
            model(x).pow(2).sum().backward()
        return [p.reshape(-1).tolist() for p in model.parameters()], [p.grad for p in model.parameters()]
    torch_result, ours = record(program)
    assert ours[1] == torch_result[1] == [None] * 4  # each step already happened, and zero_grad followed it
    for p, expected in zip(ours[0], torch_result[0]):  # tanh and matmul may round the gradients' last bits
        assert p == pytest.approx(expected, rel=1e-6)


def test_rmsprop_trains_the_polynomial_as_in_learning_pytorch_with_examples():
    def program(torch):
        torch.manual_seed(0)
        x = torch.linspace(-3, 3, 12)
        xx = x.unsqueeze(-1).pow(torch.tensor([1, 2, 3]))
        model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
        loss_fn = torch.nn.MSELoss(reduction="sum")
        opt = torch.optim.RMSprop(model.parameters(), lr=1e-3)
        losses = []
        for _ in range(20):
            loss = loss_fn(model(xx), torch.sin(x))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, model[0].weight.tolist()
    torch_result, ours = record(program)
    assert ours[0] == pytest.approx(torch_result[0], rel=1e-6)
    assert ours[1][0] == pytest.approx(torch_result[1][0], rel=1e-6)


@pytest.mark.parametrize(("schedule", "settings"), [("StepLR", {"step_size": 2, "gamma": 0.5}),
                                                    ("ExponentialLR", {"gamma": 0.9}),
                                                    ("MultiStepLR", {"milestones": [1, 3, 3], "gamma": 0.5}),
                                                    ("LambdaLR", {"lr_lambda": lambda epoch: 0.95**epoch})])
def test_lr_schedulers_set_each_epochs_lr(schedule, settings):
    def program(torch):
        w = torch.ones(1, requires_grad=True)
        opt = torch.optim.SGD([w], lr=1.0)
        scheduler = getattr(torch.optim.lr_scheduler, schedule)(opt, **settings)
        lrs = [scheduler.get_last_lr()]
        for _ in range(5):
            opt.step()
            scheduler.step()
            lrs.append(scheduler.get_last_lr())
        return lrs, opt.param_groups[0]["initial_lr"], scheduler.last_epoch
    torch_result, ours = record(program)
    assert ours == torch_result


def test_scheduler_stepped_before_its_optimizer_warns(backend):
    opt = backend.optim.SGD([backend.ones(1, requires_grad=True)], lr=1.0)
    scheduler = backend.optim.lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        scheduler.step()
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


def test_scheduler_needs_an_optimizer_and_functions(backend):
    assert outcome(lambda: backend.optim.lr_scheduler.StepLR(object(), 1)) == "TypeError: object is not an Optimizer"
    opt = backend.optim.SGD([backend.ones(1, requires_grad=True)], lr=1.0)
    assert outcome(lambda: backend.optim.lr_scheduler.LambdaLR(opt, [abs, abs])) == (
        "ValueError: Expected 1 lr_lambdas, but got 2")
    assert outcome(lambda: backend.optim.lr_scheduler.LambdaLR(opt, 0.5)) == (
        "TypeError: 'float' object is not callable")


def test_scheduler_knows_a_custom_optimizers_step(backend):
    """A hand-written Optimizer (as in the docs) only defines step(); the scheduler still sees it ran."""
    class PlainSGD(backend.optim.Optimizer):
        def __init__(self, params, lr):
            super().__init__(params, {"lr": lr})

        @backend.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    p.sub_(group["lr"] * p.grad)

    w = backend.ones(2, requires_grad=True)
    opt = PlainSGD([w], lr=0.5)
    scheduler = backend.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    (w * 2).sum().backward()
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()
    assert w.tolist() == [0.0, 0.0] and opt.param_groups[0]["lr"] == 0.25
