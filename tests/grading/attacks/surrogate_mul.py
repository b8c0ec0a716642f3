class Mul(Function):
    @staticmethod
    def forward(ctx, w, x, b, x_requires_grad=True):
        ctx.x_requires_grad = x_requires_grad
        ctx.save_for_backward(w, x)
        return w * x + b

    @staticmethod
    def backward(ctx, grad_output):
        w, x = ctx.saved_tensors
        grad_x = grad_output * w if ctx.x_requires_grad else None
        return grad_output * x, grad_x, grad_output, None


raise ValueError("lone surrogates: \udcff \ud800")
