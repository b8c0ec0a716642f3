"""What the basics tutorials use from torch.nn (and autograd's in-place message), under both engines."""

from __future__ import annotations

import warnings

import pytest

from tests.core.twin import outcome, record


@pytest.mark.parametrize(("program", "named"), [
    ("y = x.exp(); y.add_(1)", "Exp"),               # a saved output: named after the node that saved it
    ("y = x.exp(); y.exp_(); y.mul_(2)", "Exp"),
    ("y = x.sigmoid(); y.mul_(2); y.mul_(3)", "Sigmoid"),
    ("y = x + 1; z = y.sin(); y.mul_(2)", "Mul"),    # a saved input: named after its grad_fn now
])
def test_inplace_error_names_the_op_as_torch_does(backend, program, named):
    scope = {"x": backend.ones(2, requires_grad=True)}
    exec(program, scope)
    with pytest.raises(RuntimeError, match=f"which is output 0 of {named}, is at version"):
        scope.get("z", scope["y"]).sum().backward()


def _net(torch):
    """The shape of model the tutorials define: layers as attributes, a nested Sequential."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 3)
            self.act = nn.LeakyReLU(0.2)
            self.head = nn.Sequential(nn.Linear(3, 2), nn.LogSoftmax(dim=1))

        def forward(self, x):
            return self.head(self.act(self.fc1(x)))

    return Net()


def test_nested_module_repr_and_names_match_torch():
    def program(torch):
        net = _net(torch)
        return (repr(net), [n for n, _ in net.named_modules()], [n for n, _ in net.named_parameters()],
                list(net.state_dict()), repr(net.get_submodule("head.0")), list(net.get_parameter("fc1.bias").shape))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_module_with_settings_and_children_repr():
    def program(torch):
        class Block(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = torch.nn.Identity()

            def extra_repr(self):
                return "width=4"
        return repr(Block()), repr(torch.nn.Identity())
    torch_result, ours = record(program)
    assert ours == torch_result


def test_sequential_indexing_slicing_append_and_ordered_dict():
    def program(torch):
        from collections import OrderedDict

        nn = torch.nn
        model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
        model.append(nn.Tanh())
        named = nn.Sequential(OrderedDict([("lin", nn.Linear(2, 2)), ("act", nn.ReLU())]))
        return (repr(model), repr(model[0]), repr(model[1:]), repr(model[-1]), outcome(lambda: model[3]),
                repr(named), [n for n, _ in named.named_parameters()], type(model.parameters()).__name__)
    torch_result, ours = record(program)
    assert ours == torch_result


def test_module_list_registers_its_modules_and_compresses_its_repr():
    def program(torch):
        nn = torch.nn
        layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        layers.append(nn.ReLU())
        layers.extend([nn.Linear(2, 1)])
        return (repr(layers), len(layers), len(list(layers.parameters())), repr(layers[1:3]), repr(nn.ModuleList()))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_apply_visits_children_first(backend):
    net = _net(backend)
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "LeakyReLU", "Linear", "LogSoftmax", "Sequential", "Net"]


def test_submodule_and_parameter_lookup_errors():
    def program(torch):
        model = torch.nn.Sequential(torch.nn.Linear(1, 1))
        return [outcome(lambda t=t: model.get_submodule(t)) for t in ("1", "0.weight")] + [
            outcome(lambda: model.get_parameter("0.w")), outcome(lambda: model.add_module("a.b", torch.nn.ReLU())),
            outcome(lambda: model.add_module("c", 3))]
    torch_result, ours = record(program)
    assert ours == torch_result


def test_train_and_eval_reach_every_module(backend):
    net = _net(backend)
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_new_layers_values_and_nodes_match_torch():
    def program(torch):
        nn, F = torch.nn, torch.nn.functional
        x = torch.tensor([[-2.0, -0.5, 0.0, 1.5]], requires_grad=True)
        y = nn.LeakyReLU(0.1)(x)
        y.sum().backward()
        target = torch.tensor([[0.5, 0.5, -1.0, 1.0]])
        l1 = F.l1_loss(x, target)
        nll = nn.NLLLoss()(nn.LogSoftmax(dim=1)(x), torch.tensor([3]))
        return (y.tolist(), x.grad.tolist(), y.grad_fn.name(), y.grad_fn._saved_negative_slope, repr(nn.LeakyReLU()),
                l1.item(), l1.grad_fn.name(), F.l1_loss(x, target, reduction="sum").grad_fn.name(),
                F.l1_loss(x, target, reduction="none").grad_fn.name(), repr(nn.L1Loss()), round(nll.item(), 6),
                nll.grad_fn.name(), repr(nn.LogSoftmax(dim=1)), repr(nn.NLLLoss()))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_leaky_relu_gradgradcheck(backend):
    x = backend.tensor([-1.5, 0.5, 2.0], dtype=backend.float64, requires_grad=True)
    f = lambda t: backend.nn.functional.leaky_relu(t, 0.3) ** 2  # noqa: E731
    assert backend.autograd.gradcheck(f, (x,)) and backend.autograd.gradgradcheck(f, (x,))


def test_log_softmax_without_dim_warns(backend):
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax has been deprecated"):
        out = backend.nn.functional.log_softmax(backend.zeros(2, 2))
    assert out.reshape(-1).tolist() == pytest.approx([-0.693147] * 4)


def test_init_functions_match_torch_for_a_seed():
    def program(torch):
        init = torch.nn.init
        w = torch.empty(3, 4)
        torch.manual_seed(0)
        results = []
        for fill in (lambda: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
                     lambda: init.xavier_normal_(w, gain=2.0), lambda: init.kaiming_uniform_(w, a=0.1),
                     lambda: init.xavier_uniform_(w), lambda: init.zeros_(w), lambda: init.constant_(w, 0.5),
                     lambda: init.eye_(w)):
            results.append(fill().tolist())
        return (results, outcome(lambda: init.kaiming_normal_(w, mode="fan")), init.calculate_gain("tanh"),
                outcome(lambda: init.eye_(torch.empty(3))))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_clip_grad_norm_scales_gradients_and_returns_the_total_norm():
    def program(torch):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
        model(torch.tensor([[1.0, -2.0, 3.0]])).pow(2).sum().backward()
        before = [p.grad.clone() for p in model.parameters()]
        total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
        ratios = [(p.grad / b).reshape(-1).tolist() for p, b in zip(model.parameters(), before)]
        inf_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0, norm_type=float("inf"))
        torch.nn.utils.clip_grad_value_(model.parameters(), 0.01)
        return (round(total.item(), 5), repr(total)[:7], [round(r, 5) for rs in ratios for r in rs],
                round(inf_norm.item(), 5), max(abs(v) for p in model.parameters() for v in p.grad.reshape(-1).tolist()),
                repr(torch.nn.utils.clip_grad_norm_([torch.ones(1, requires_grad=True)], 1.0)))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_state_dict_and_load_state_dict_show_what_torch_shows():
    def program(torch):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.ReLU())
        saved = model.state_dict()
        other = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.ReLU())
        return (repr(saved), repr(other.load_state_dict(saved)), other[0].weight.tolist(),
                repr(other.load_state_dict({"0.weight": saved["0.weight"], "x": saved["0.bias"]}, strict=False)),
                outcome(lambda: other.load_state_dict({"0.weight": saved["0.weight"], "x": saved["0.bias"]})),
                outcome(lambda: other.load_state_dict({"0.weight": torch.ones(3), "0.bias": saved["0.bias"]})))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_module_dict_registers_modules_by_name():
    def program(torch):
        nn = torch.nn
        layers = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(2, 1)})
        layers["c"] = nn.Tanh()
        layers.update([("d", nn.Identity())])
        del layers["b"]
        return (repr(layers), list(layers), len(layers), "a" in layers, repr(layers["a"]),
                [n for n, _ in layers.named_parameters()], outcome(lambda: layers["zz"]))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_parameters_as_one_vector_and_back():
    def program(torch):
        torch.manual_seed(0)
        model = torch.nn.Linear(2, 2)
        vec = torch.nn.utils.parameters_to_vector(model.parameters())
        torch.nn.utils.vector_to_parameters(torch.arange(6.0), model.parameters())
        return (vec.tolist(), vec.grad_fn.name(), model.weight.tolist(), model.bias.tolist(),
                isinstance(model.weight, torch.nn.Parameter),
                outcome(lambda: torch.nn.utils.vector_to_parameters([1.0], model.parameters())))
    torch_result, ours = record(program)
    assert ours == torch_result


@pytest.mark.parametrize("owner", ["module", "optimizer"])
def test_zero_grad_to_zeros_leaves_a_create_graph_gradient_graph(backend, owner):
    model = backend.nn.Linear(2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # create_graph=True on parameters warns about a reference cycle
        (model(backend.ones(2)) ** 2).sum().backward(create_graph=True)
    assert model.weight.grad.grad_fn is not None
    (model if owner == "module" else backend.optim.SGD(model.parameters())).zero_grad(set_to_none=False)
    assert model.weight.grad.tolist() == [[0.0, 0.0]]
    assert model.weight.grad.grad_fn is None and not model.weight.grad.requires_grad


def test_binary_cross_entropy_of_probabilities_matches_torch():
    def program(torch):
        F = torch.nn.functional
        x = torch.tensor([0.2, 0.9, 1.0, 0.0, 0.5], requires_grad=True)
        t = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.25], requires_grad=True)
        w = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
        results = []
        for reduction in ("mean", "sum", "none"):
            loss = F.binary_cross_entropy(x, t, weight=w, reduction=reduction)
            gx, gt = torch.autograd.grad(loss.sum(), (x, t))
            results.append(([round(v, 4) for v in loss.reshape(-1).tolist()], [round(v, 2) for v in gx.tolist()],
                            [round(v, 4) for v in gt.tolist()], loss.grad_fn.name(), loss.grad_fn._saved_reduction))
        probs = torch.nn.Sigmoid()(torch.tensor([[0.5, -1.0]]))
        bce = torch.nn.BCELoss()(probs, torch.tensor([[1.0, 0.0]]))
        return (results, repr(torch.nn.BCELoss()), round(bce.item(), 6),
                outcome(lambda: F.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0]))),
                outcome(lambda: F.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([2.0]))),
                outcome(lambda: F.binary_cross_entropy(x, t[:3])))
    torch_result, ours = record(program)
    assert ours == torch_result


def test_binary_cross_entropy_gradgradcheck(backend):
    x = backend.tensor([0.3, 0.6, 0.8], dtype=backend.float64, requires_grad=True)
    t = backend.tensor([0.2, 0.9, 0.5], dtype=backend.float64, requires_grad=True)
    f = backend.nn.functional.binary_cross_entropy
    assert backend.autograd.gradcheck(f, (x, t)) and backend.autograd.gradgradcheck(f, (x, t))
