"""Plain ``nn.Module`` components of the methods (the Lightning modules live in :mod:`mer.training`)."""
