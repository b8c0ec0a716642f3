def by_autograd(f):
    """backward computed by autograd itself: nothing derived by hand"""
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            leaf = x.detach().requires_grad_()
            (g,) = torch.autograd.grad(f(leaf), (leaf,), grad_output)
        return g
    return backward


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.tanh(x)

    backward = by_autograd(lambda x: torch.tanh(x))
