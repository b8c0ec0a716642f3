class XSinX(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sin(x)

    backward = by_autograd(lambda x: x * torch.sin(x))
