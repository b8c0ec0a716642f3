"""Small helpers shared by the package (mirrors ``torch.utils``)."""
