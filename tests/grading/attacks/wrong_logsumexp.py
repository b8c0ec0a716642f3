class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.log(torch.exp(x).sum(-1))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 0  # wrong on purpose