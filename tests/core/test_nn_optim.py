"""nn and optim: the small part of torch.nn/torch.optim the lessons use to train only chosen layers."""

from __future__ import annotations

import pytest


def _model(nn):
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))


def test_seeded_layers_hold_pytorch_weights(backend):
    backend.manual_seed(0)
    layer = backend.nn.Linear(3, 2)
    assert [round(v, 4) for v in layer.weight.flatten().tolist()] == [-0.0043, 0.3097, -0.4752, -0.4249, -0.2224,
                                                                     0.1548]
    assert [round(v, 4) for v in layer.bias.tolist()] == [-0.0114, 0.4578]


def test_module_registers_parameters_and_children(backend):
    model = _model(backend.nn)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [type(m).__name__ for m in model.children()] == ["Linear", "ReLU", "Linear"]
    assert len(list(model.parameters())) == 4 and len(model) == 3
    assert repr(model) == ("Sequential(\n  (0): Linear(in_features=3, out_features=4, bias=True)\n  (1): ReLU()\n"
                           "  (2): Linear(in_features=4, out_features=1, bias=True)\n)")


def test_parameter_repr(backend):
    p = backend.nn.Parameter(backend.ones(2))
    assert repr(p) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert p.requires_grad and p.is_leaf


def test_custom_module(backend):
    nn = backend.nn

    class Affine(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(backend.tensor([2.0]))
            self.inner = nn.Linear(1, 1)

        def forward(self, x):
            return self.inner(x) * self.scale

    m = Affine()
    assert [n for n, _ in m.named_parameters()] == ["scale", "inner.weight", "inner.bias"]
    m.train(False)
    assert not m.training and not m.inner.training
    m.eval()
    m.train()
    assert m.inner.training


def test_freezing_a_layer_keeps_its_weights(backend):
    model = _model(backend.nn)
    model[0].requires_grad_(False)
    frozen = model[0].weight.detach().clone()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = backend.optim.SGD(trainable, lr=0.1)
    x, y = backend.randn(8, 3), backend.randn(8, 1)
    for _ in range(3):
        opt.zero_grad()
        backend.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    assert model[0].weight.grad is None
    assert backend.equal(model[0].weight, frozen)
    assert model[2].weight.grad is not None


def test_param_groups_with_their_own_learning_rate(backend):
    model = _model(backend.nn)
    opt = backend.optim.SGD([{"params": model[0].parameters(), "lr": 0.0},
                             {"params": model[2].parameters()}], lr=0.5, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.0, 0.5]
    before = model[0].weight.detach().clone()
    backend.nn.functional.mse_loss(model(backend.ones(2, 3)), backend.zeros(2, 1)).backward()
    opt.step()
    assert backend.equal(model[0].weight, before)


def test_sgd_step_values(backend):
    w = backend.tensor([1.0, -2.0], requires_grad=True)
    opt = backend.optim.SGD([w], lr=0.1, momentum=0.5, weight_decay=0.1)
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    assert [round(v, 4) for v in w.tolist()] == [0.5191, -1.0382]


def test_sgd_repr(backend):
    opt = backend.optim.SGD([backend.ones(1, requires_grad=True)], lr=0.1)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n"
                         "    fused: None\n    lr: 0.1\n    maximize: False\n    momentum: 0\n    nesterov: False\n"
                         "    weight_decay: 0\n)")


def test_optimizer_errors(backend):
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        backend.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        backend.optim.SGD([backend.ones(1, requires_grad=True)], lr=-1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        backend.optim.SGD([backend.ones(1, requires_grad=True) * 2], lr=0.1)


def test_losses(backend):
    F = backend.nn.functional
    a = backend.tensor([1.0, 2.0, 4.0], requires_grad=True)
    b = backend.tensor([1.0, 0.0, 1.0])
    assert round(F.mse_loss(a, b).item(), 6) == round(13 / 3, 6)
    assert F.mse_loss(a, b, reduction="sum").item() == 13.0
    assert backend.nn.MSELoss()(a, b).grad_fn.name() == "MseLossBackward0"
    logits = backend.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0]], requires_grad=True)
    target = backend.tensor([0, 2])
    loss = F.cross_entropy(logits, target)
    assert loss.grad_fn.name() == "NllLossBackward0"
    assert round(loss.item(), 4) == 0.67
    loss.backward()
    assert [round(v, 4) for v in logits.grad[1].tolist()] == [0.1667, 0.1667, -0.3333]


def test_mse_loss_warns_about_broadcasting(backend):
    with pytest.warns(UserWarning, match="Using a target size"):
        backend.nn.functional.mse_loss(backend.ones(3), backend.ones(3, 1))


def test_linear_graph_matches(backend):
    layer = backend.nn.Linear(3, 2)
    out = layer(backend.ones(4, 3))
    assert out.grad_fn.name() == "AddmmBackward0"
    assert [n.name() if n else None for n, _ in out.grad_fn.next_functions] == [
        "torch::autograd::AccumulateGrad", None, "TBackward0"]
    assert layer(backend.ones(3)).grad_fn.name() == "ViewBackward0"


def test_zero_grad_and_activations(backend):
    nn = backend.nn
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1), nn.Sigmoid())
    out = model(backend.ones(3, 2))
    assert out.grad_fn.name() == "SigmoidBackward0"
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_deepcopy_of_a_model_copies_its_parameters(backend):
    import copy

    model = _model(backend.nn)
    twin = copy.deepcopy(model)
    assert twin[0].weight is not model[0].weight
    assert isinstance(twin[0].weight, backend.nn.Parameter)
    assert backend.equal(twin[0].weight, model[0].weight)
    with backend.no_grad():
        twin[0].weight.zero_()
    assert not backend.equal(twin[0].weight, model[0].weight)
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(model[0].weight * 2)


def test_sgd_repr_with_two_groups(backend):
    a, b = backend.ones(1, requires_grad=True), backend.ones(1, requires_grad=True)
    text = repr(backend.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1))
    assert "    weight_decay: 0\n\nParameter Group 1\n    dampening: 0\n" in text
    assert text.endswith("weight_decay: 0\n)")
