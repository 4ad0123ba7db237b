"""G's update: an optimizer step on its hypergradient from the meta step."""
from typing import Dict

from mmengine.optim import OptimWrapper
from torch import Tensor, nn

from tdfusion_mm.models.meta import average_hypergrads


def step_on_hypergradient(g_optim: OptimWrapper, generator: nn.Module,
                          hypergrads: Dict[str, Tensor], task_loss: Tensor,
                          normalize: bool) -> Tensor:
    """Average G's hypergradient over the ranks and step ``g_optim`` on it.

    Args:
        g_optim (OptimWrapper): G's wrapper; it skips (and counts) the step
            if the hypergradient or ``task_loss`` is not finite.
        generator (nn.Module): G (unwrapped), whose gradients are set.
        hypergrads (dict): G's hypergradient by parameter name, averaged in
            place.
        task_loss (Tensor): The outer task loss it comes from.
        normalize (bool): Divide it by its largest magnitude first.

    Returns:
        Tensor: The hypergradient's largest magnitude.
    """
    grad_scale = average_hypergrads(hypergrads)
    if g_optim.finite_or_skip(grad_scale, task_loss, what='hypergradient'):
        divisor = grad_scale.clamp_min(1e-30) if normalize else 1
        for name, param in generator.named_parameters():
            if name in hypergrads:
                param.grad = hypergrads[name] / divisor
        g_optim.step()
        g_optim.zero_grad()
    return grad_scale
