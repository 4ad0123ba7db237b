"""The meta step of TDFusion: the task loss's gradient with respect to G.

G (the loss generation module) shapes F (the fusion network) only through the
fusion loss. Its hypergradient is obtained by differentiating the task loss
of F after one virtual SGD step on the G-weighted fusion loss:

    theta' = theta - lr * d L_f(theta; G(inner)) / d theta     (graph kept)
    g_G    = d L_task(F(theta'; outer)) / d phi_G

F's parameters are never modified: the stepped network is evaluated with
``torch.func.functional_call``. Nothing is written to ``.grad``.
"""
from typing import Callable, Dict, NamedTuple

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.func import functional_call


class MetaStepResult(NamedTuple):
    """What one meta step computes.

    Attributes:
        hypergrads: G's parameter name -> gradient of the task loss.
        fusion_losses: The inner fusion loss terms (graph freed).
        task_loss: The outer task loss (detached).
    """
    hypergrads: Dict[str, Tensor]
    fusion_losses: Dict[str, Tensor]
    task_loss: Tensor


def fusion_loss_terms(fusion_net: nn.Module, loss_generator: nn.Module,
                      fusion_loss: nn.Module, ir: Tensor, vis: Tensor,
                      params: Dict[str, Tensor] = None) -> Dict[str, Tensor]:
    """Fusion loss terms of F (optionally with substituted parameters)."""
    weights = loss_generator(ir, vis)
    if params is None:
        fused = fusion_net(ir, vis)
    else:
        fused = functional_call(fusion_net, params, (ir, vis))
    return fusion_loss(fused, ir, vis, weights)


def virtual_step(fusion_net: nn.Module, loss: Tensor,
                 lr: float) -> Dict[str, Tensor]:
    """Parameters and buffers of F after one SGD step on ``loss``.

    The step keeps the graph, so the result is differentiable with respect to
    whatever ``loss`` depends on (G's parameters in particular). Under
    ``torch.distributed`` the gradient is averaged over ranks with a
    differentiable all-reduce, so that every rank steps F the same way and
    the backward pass carries each rank's task loss to every rank's G.
    """
    names, params = zip(*[(n, p) for n, p in fusion_net.named_parameters()
                          if p.requires_grad])
    grads = torch.autograd.grad(loss, params, create_graph=True)
    if dist.is_available() and dist.is_initialized():
        world_size = dist.get_world_size()
        if world_size > 1:
            from torch.distributed.nn.functional import all_reduce
            grads = [all_reduce(g) / world_size for g in grads]
    stepped = {n: p - lr * g for n, p, g in zip(names, params, grads)}
    stepped.update(dict(fusion_net.named_buffers()))
    return stepped


def meta_hypergradient(fusion_net: nn.Module, loss_generator: nn.Module,
                       fusion_loss: nn.Module, inner: Dict[str, Tensor],
                       outer: Dict[str, Tensor],
                       task_loss_fn: Callable[[Tensor], Tensor],
                       inner_lr: float) -> MetaStepResult:
    """Gradient of the task loss after a virtual step, with respect to G.

    Args:
        fusion_net (nn.Module): F, called as ``F(ir, vis)``. Pass the
            unwrapped module (not a DDP wrapper): PyTorch does not support
            double backward through DDP.
        loss_generator (nn.Module): G, ``G(ir, vis) -> (B, 2, H, W)``.
        fusion_loss (nn.Module): ``loss(fused, ir, vis, weights) -> dict``.
        inner (dict): ``ir`` and ``vis`` luma of the inner (meta-train) batch,
            usually random crops.
        outer (dict): ``ir`` and ``vis`` luma of the outer (meta-test) batch.
        task_loss_fn (callable): Maps the fused luma of the outer batch to a
            scalar task loss (runs T, which may be the look-ahead T').
        inner_lr (float): Learning rate of the virtual step.

    Returns:
        MetaStepResult: G's hypergradients, inner loss terms, task loss.
    """
    terms = fusion_loss_terms(fusion_net, loss_generator, fusion_loss,
                              inner['ir'], inner['vis'])
    stepped = virtual_step(fusion_net, sum(terms.values()), inner_lr)
    fused = functional_call(fusion_net, stepped, (outer['ir'], outer['vis']))
    task_loss = task_loss_fn(fused)
    names, g_params = zip(*[(n, p)
                            for n, p in loss_generator.named_parameters()
                            if p.requires_grad])
    grads = torch.autograd.grad(task_loss, g_params, allow_unused=True)
    hypergrads = {
        n: torch.zeros_like(p) if g is None else g
        for n, p, g in zip(names, g_params, grads)
    }
    return MetaStepResult(
        hypergrads=hypergrads,
        fusion_losses={k: v.detach() for k, v in terms.items()},
        task_loss=task_loss.detach())
