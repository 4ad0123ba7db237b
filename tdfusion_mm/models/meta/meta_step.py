"""The meta step of TDFusion: the task loss's gradient with respect to G.

G (the loss generation module) shapes F (the fusion network) only through the
fusion loss. Its hypergradient is obtained by differentiating the task loss
of F after one virtual SGD step on the G-weighted fusion loss:

    theta' = theta - lr * g(phi),   g = d L_f(theta; G_phi(inner)) / d theta
    d L_task(F(theta'; outer)) / d phi = -lr * d (g . v) / d phi,
    v = d L_task / d theta'  at theta'

It is computed in that factored form, in two stages whose graphs are never
alive together: first v (first order: the stepped F and the task network on
the outer batch), then the Hessian-vector product through the inner step.
The fusion loss sees theta only through the fused image f, so
``g . v = <dL_f/df, u>`` with ``u = (df/dtheta) v``: one forward-mode
Jacobian-vector product of F, after which only the fusion loss and G are
differentiated twice; F itself is differentiated once.

F's parameters are never modified: the stepped network is evaluated with
``torch.func.functional_call``. Nothing is written to ``.grad``.

The meta step runs in float32 whatever autocast is active around it (mixed
precision training): under autocast ``torch.func.jvp`` of F fails (float32
tangents meet low-precision convolutions), and the finite-difference
product, a difference of two first-order passes, was 6.5 % off in bfloat16
(narrow F and G, 32x32 crops).
"""
from typing import Callable, Dict, NamedTuple

import torch
from torch import Tensor, nn
from torch.func import functional_call

from .ranks import rank_mean


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


def fusion_loss_terms(fusion_backbone: nn.Module,
                      loss_generator: nn.Module,
                      fusion_loss: nn.Module,
                      ir: Tensor,
                      vis_y: Tensor,
                      params: Dict[str, Tensor] = None,
                      generator_graph: bool = True) -> Dict[str, Tensor]:
    """Fusion loss terms of F (optionally with substituted parameters).

    With ``generator_graph=False`` G's weights are constants (no graph into
    G is recorded or kept).
    """
    with torch.set_grad_enabled(generator_graph and torch.is_grad_enabled()):
        weights = loss_generator(ir, vis_y)
    if params is None:
        fused = fusion_backbone(ir, vis_y)
    else:
        fused = functional_call(fusion_backbone, params, (ir, vis_y))
    return fusion_loss(fused, ir, vis_y, weights)


HESSIAN_VECTOR_MODES = ('exact', 'finite_difference')


def trainable(module: nn.Module):
    """Names and parameters of ``module`` that require a gradient."""
    return zip(*[(n, p) for n, p in module.named_parameters()
                 if p.requires_grad])


def virtual_step(fusion_backbone: nn.Module, loss: Tensor,
                 lr: float) -> Dict[str, Tensor]:
    """Parameters and buffers of F after one SGD step on ``loss`` (detached).

    Under ``torch.distributed`` the gradient is averaged over ranks, so that
    every rank steps F the same way (as DDP would on the whole batch).
    """
    names, params = trainable(fusion_backbone)
    grads = rank_mean(torch.autograd.grad(loss, params))
    stepped = {n: (p - lr * g).detach()
               for n, p, g in zip(names, params, grads)}
    stepped.update(dict(fusion_backbone.named_buffers()))
    return stepped


def forward_mode_hvp(fusion_backbone: nn.Module, loss_generator: nn.Module,
                     fusion_loss: nn.Module, inner: Dict[str, Tensor],
                     names, v, g_params) -> list:
    """``d(g . v)/d phi`` exactly, with F differentiated in forward mode.

    L_f sees theta only through the fused image f, so
    ``g . v = <dL_f/df, u>`` with ``u = (df/dtheta) v``, one Jacobian-vector
    product of F. ``u`` does not depend on phi: the second-order terms are
    those of the fusion loss alone, and no graph through F is kept.
    """
    tangents = dict(zip(names, v))
    primals = {n: p.detach() for n, p in fusion_backbone.named_parameters()
               if n in tangents}

    def fuse(params):
        return functional_call(fusion_backbone, params,
                               (inner['ir'], inner['vis_y']))

    fused, u = torch.func.jvp(fuse, (primals, ), (tangents, ))
    fused = fused.detach().requires_grad_(True)
    weights = loss_generator(inner['ir'], inner['vis_y'])
    terms = fusion_loss(fused, inner['ir'], inner['vis_y'], weights)
    (dl_df, ) = torch.autograd.grad(sum(terms.values()), fused,
                                   create_graph=True)
    return torch.autograd.grad((dl_df * u.detach()).sum(), g_params,
                               allow_unused=True)


def finite_difference_hvp(fusion_backbone: nn.Module,
                          loss_generator: nn.Module,
                          fusion_loss: nn.Module, inner: Dict[str, Tensor],
                          names, v, g_params, radius: float) -> list:
    """``d(g . v)/d phi`` as the central difference of ``dL_f/d phi``
    at ``theta +- r v``, with ``|r v| = radius`` (first order only)."""
    norm = torch.sqrt(sum((vi.double()**2).sum() for vi in v))
    if not torch.isfinite(norm) or norm == 0:
        return [torch.zeros_like(p) if torch.isfinite(norm)
                else torch.full_like(p, float('nan')) for p in g_params]
    r = radius / norm.item()
    own = dict(fusion_backbone.named_parameters())
    sides = []
    for sign in (1, -1):
        shifted = {n: own[n].detach() + sign * r * vi
                   for n, vi in zip(names, v)}
        terms = fusion_loss_terms(fusion_backbone, loss_generator,
                                  fusion_loss, inner['ir'], inner['vis_y'],
                                  shifted)
        sides.append(torch.autograd.grad(sum(terms.values()), g_params,
                                         allow_unused=True))
    return [None if a is None else (a - b) / (2 * r)
            for a, b in zip(*sides)]


def meta_hypergradient(fusion_backbone: nn.Module,
                       loss_generator: nn.Module,
                       fusion_loss: nn.Module, inner: Dict[str, Tensor],
                       outer: Dict[str, Tensor],
                       task_loss_fn: Callable[[Tensor], Tensor],
                       inner_lr: float,
                       hessian_vector: str = 'exact',
                       fd_radius: float = 0.01) -> MetaStepResult:
    """Gradient of the task loss after a virtual step, with respect to G.

    Args:
        fusion_backbone (nn.Module): F, called as ``F(ir, vis_y)``. Pass the
            unwrapped module (not a DDP wrapper): the virtual step calls it
            with other parameters (``functional_call``), and the inner
            gradient is averaged over ranks here, not by DDP.
        loss_generator (nn.Module): G, ``G(ir, vis_y) -> (B, 2, H, W)``.
        fusion_loss (nn.Module): ``loss(fused, ir, vis_y, weights)``
            returning a dict of terms.
        inner (dict): ``ir`` and ``vis_y`` (visible luma) of the inner
            (meta-train) batch, usually random crops.
        outer (dict): ``ir`` and ``vis_y`` of the outer (meta-test) batch.
        task_loss_fn (callable): Maps the fused luma of the outer batch to a
            scalar task loss (runs T, which may be the look-ahead T').
        inner_lr (float): Learning rate of the virtual step.
        hessian_vector (str): How stage 2 gets d(g . v)/d phi. ``'exact'``
            takes F's Jacobian-vector product in forward mode
            (:func:`forward_mode_hvp`); F's layers need forward-mode
            derivatives, which PyTorch's own layers have.
            ``'finite_difference'``, for an F without them, uses the
            symmetry of mixed partials: it is the derivative of dL_f/d phi
            along v, taken as the central difference of dL_f/d phi at
            theta +- r v (two first-order passes, as DARTS does; error
            O(r^2)).
        fd_radius (float): Length of ``r v`` for the finite difference.

    Returns:
        MetaStepResult: G's hypergradients, inner loss terms, task loss.
    """
    with torch.autocast(inner['ir'].device.type, enabled=False):
        return _meta_hypergradient(fusion_backbone, loss_generator,
                                   fusion_loss, inner, outer, task_loss_fn,
                                   inner_lr, hessian_vector, fd_radius)


def _meta_hypergradient(fusion_backbone, loss_generator, fusion_loss, inner,
                        outer, task_loss_fn, inner_lr, hessian_vector,
                        fd_radius) -> MetaStepResult:
    """:func:`meta_hypergradient` without autocast."""
    # Stage 1 (first order): the stepped F, and v = dL_task / dtheta'.
    # G's weights are constants here: a graph into G would outlive the
    # virtual step (only F's part of it is freed) and hold G's activations.
    terms = fusion_loss_terms(fusion_backbone, loss_generator, fusion_loss,
                              inner['ir'], inner['vis_y'],
                              generator_graph=False)
    stepped = virtual_step(fusion_backbone, sum(terms.values()), inner_lr)
    names, _ = trainable(fusion_backbone)
    for name in names:
        stepped[name].requires_grad_(True)
    fused = functional_call(fusion_backbone, stepped,
                            (outer['ir'], outer['vis_y']))
    task_loss = task_loss_fn(fused)
    # Each rank's v is of its own outer batch; their mean is the whole
    # batch's (the task loss being a mean over it).
    v = rank_mean(torch.autograd.grad(task_loss,
                                      [stepped[n] for n in names]))
    del fused, stepped

    # Stage 2: -lr * d(g . v)/d phi, a Hessian-vector product through the
    # virtual step.
    g_names, g_params = trainable(loss_generator)
    if hessian_vector == 'exact':
        hyper = forward_mode_hvp(fusion_backbone, loss_generator, fusion_loss,
                                 inner, names, v, g_params)
    elif hessian_vector == 'finite_difference':
        hyper = finite_difference_hvp(fusion_backbone, loss_generator,
                                      fusion_loss, inner, names, v,
                                      g_params, fd_radius)
    else:
        raise ValueError(f'hessian_vector must be one of '
                         f'{HESSIAN_VECTOR_MODES}, got {hessian_vector!r}')
    hypergrads = {
        n: torch.zeros_like(p) if h is None else -inner_lr * h
        for n, p, h in zip(g_names, g_params, hyper)
    }
    return MetaStepResult(
        hypergrads=hypergrads,
        fusion_losses={k: v.detach() for k, v in terms.items()},
        task_loss=task_loss.detach())
