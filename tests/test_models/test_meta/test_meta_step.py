"""The meta step's hypergradient against central finite differences."""
import copy

import pytest
import torch
from helpers import TinyFusion
from torch import nn
from torch.func import functional_call

from tdfusion_mm.models.fusion_backbones import ReFusion
from tdfusion_mm.models.loss_generators import LossGenerationModule
from tdfusion_mm.models.losses import LearnableFusionLoss
from tdfusion_mm.models.meta import fusion_loss_terms, meta_hypergradient
from tdfusion_mm.models.meta.meta_step import forward_mode_hvp, trainable

INNER_LR = 0.5


class TinyGenerator(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, ir, vis_y):
        return torch.softmax(self.conv(torch.cat([ir, vis_y], 1)), dim=1)


def make_problem(fusion_type=TinyFusion):
    """F (``fusion_type()``), G, the loss, inner and outer batches and a
    task loss, all in float64."""
    torch.manual_seed(0)
    fusion, generator = fusion_type().double(), TinyGenerator().double()
    with torch.no_grad():  # make G's influence on the loss large enough
        generator.conv.weight.mul_(4)
    task = nn.Conv2d(1, 2, 3, padding=1).double()
    for p in task.parameters():
        p.requires_grad_(False)
    inner = dict(ir=torch.rand(2, 1, 8, 8, dtype=torch.float64),
                 vis_y=torch.rand(2, 1, 8, 8, dtype=torch.float64))
    outer = dict(ir=torch.rand(2, 1, 10, 12, dtype=torch.float64),
                 vis_y=torch.rand(2, 1, 10, 12, dtype=torch.float64))
    target = torch.randint(0, 2, (2, 10, 12))

    def task_loss_fn(fused):
        return nn.functional.cross_entropy(task(fused), target)

    return fusion, generator, LearnableFusionLoss(), inner, outer, task_loss_fn


def outer_loss_after_step(fusion, generator, loss, inner, outer, task_loss_fn,
                          g_params, detach_step=False):
    """Task loss after a virtual step, G's parameters substituted."""
    weights = functional_call(generator, g_params,
                              (inner['ir'], inner['vis_y']))
    params = dict(fusion.named_parameters())
    fused = functional_call(fusion, params, (inner['ir'], inner['vis_y']))
    total = sum(loss(fused, inner['ir'], inner['vis_y'], weights).values())
    grads = torch.autograd.grad(total, list(params.values()),
                                create_graph=not detach_step)
    if detach_step:
        grads = [g.detach() for g in grads]
    stepped = {n: p - INNER_LR * g for (n, p), g in zip(params.items(), grads)}
    return task_loss_fn(
        functional_call(fusion, stepped, (outer['ir'], outer['vis_y'])))


def finite_difference(fusion, generator, loss, inner, outer, task_loss_fn,
                      eps=1e-6):
    base = {n: p.detach().clone() for n, p in generator.named_parameters()}
    fd = {}
    for name, value in base.items():
        grad = torch.zeros_like(value)
        for idx in range(value.numel()):
            losses = []
            for sign in (1, -1):
                params = {n: v.clone() for n, v in base.items()}
                params[name].view(-1)[idx] += sign * eps
                losses.append(outer_loss_after_step(
                    fusion, generator, loss, inner, outer, task_loss_fn,
                    params).item())
            grad.view(-1)[idx] = (losses[0] - losses[1]) / (2 * eps)
        fd[name] = grad
    return fd


def relative_error(a, b):
    num = sum(((a[k] - b[k])**2).sum() for k in b).sqrt()
    den = sum((b[k]**2).sum() for k in b).sqrt()
    return (num / den).item()


def test_hypergradient_matches_finite_differences():
    fusion, generator, loss, inner, outer, task_loss_fn = make_problem()
    f_before = copy.deepcopy(fusion.state_dict())
    result = meta_hypergradient(fusion, generator, loss, inner, outer,
                                task_loss_fn, INNER_LR)
    fd = finite_difference(fusion, generator, loss, inner, outer,
                           task_loss_fn)
    assert sum(v.abs().sum() for v in fd.values()) > 1e-6  # not trivial
    assert relative_error(result.hypergrads, fd) < 1e-4
    # F is not modified and no .grad is written anywhere.
    for k, v in fusion.state_dict().items():
        assert torch.equal(v, f_before[k])
    for p in list(fusion.parameters()) + list(generator.parameters()):
        assert p.grad is None
    # The reported losses are the inner fusion terms and the outer task loss.
    terms = fusion_loss_terms(fusion, generator, loss, inner['ir'],
                              inner['vis_y'])
    for k, v in terms.items():
        torch.testing.assert_close(result.fusion_losses[k], v.detach())
    assert set(terms) == {'loss_fusion_int', 'loss_fusion_grad'}


def test_hypergradient_with_a_frozen_task_network():
    """A frozen T (eval mode, BatchNorm with its running statistics, no
    gradient of its own) as TDFusion makes a T without an optimizer: the
    hypergradient is that of the task loss of T as it is."""
    fusion, generator, loss, inner, outer, _ = make_problem()
    torch.manual_seed(1)
    task = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4),
                         nn.ReLU(), nn.Conv2d(4, 2, 3, padding=1)).double()
    with torch.no_grad():
        task[1].running_mean.uniform_(-0.5, 0.5)
        task[1].running_var.uniform_(0.5, 2.0)
    task.requires_grad_(False).eval()
    before = {k: v.clone() for k, v in task.state_dict().items()}
    target = torch.randint(0, 2, (2, 10, 12))

    def task_loss_fn(fused):
        return nn.functional.cross_entropy(task(fused), target)

    result = meta_hypergradient(fusion, generator, loss, inner, outer,
                                task_loss_fn, INNER_LR)
    fd = finite_difference(fusion, generator, loss, inner, outer,
                           task_loss_fn)
    assert sum(v.abs().sum() for v in fd.values()) > 1e-6
    assert relative_error(result.hypergrads, fd) < 1e-4
    for k, v in task.state_dict().items():
        assert torch.equal(v, before[k])
    # In training mode (batch statistics) the task loss is another one.
    task.train()
    other = meta_hypergradient(fusion, generator, loss, inner, outer,
                               task_loss_fn, INNER_LR)
    assert relative_error(other.hypergrads, fd) > 1e-3


def test_detached_inner_step_gives_a_different_gradient():
    """Dropping the second-order path must fail the finite-difference check.

    With a detached virtual step, the task loss no longer depends on G at
    all: the gradient is zero, far from the finite-difference reference.
    """
    fusion, generator, loss, inner, outer, task_loss_fn = make_problem()
    g_params = dict(generator.named_parameters())
    task_loss = outer_loss_after_step(fusion, generator, loss, inner, outer,
                                      task_loss_fn, g_params,
                                      detach_step=True)
    detached = torch.autograd.grad(task_loss, list(g_params.values()),
                                   allow_unused=True)
    detached = {
        n: torch.zeros_like(p) if g is None else g
        for (n, p), g in zip(g_params.items(), detached)
    }
    fd = finite_difference(fusion, generator, loss, inner, outer,
                           task_loss_fn)
    assert relative_error(detached, fd) > 0.5


def test_inner_lr_scales_the_first_order_hypergradient():
    """For a small step the hypergradient is linear in the inner lr."""
    fusion, generator, loss, inner, outer, task_loss_fn = make_problem()
    small = meta_hypergradient(fusion, generator, loss, inner, outer,
                               task_loss_fn, 1e-6).hypergrads
    double = meta_hypergradient(fusion, generator, loss, inner, outer,
                                task_loss_fn, 2e-6).hypergrads
    for k in small:
        torch.testing.assert_close(double[k], 2 * small[k], rtol=1e-4,
                                   atol=1e-18)


@pytest.mark.parametrize('shape', [(1, 1, 5, 7), (2, 1, 16, 9)])
def test_fusion_loss_terms(shape):
    torch.manual_seed(1)
    ir, vis, fused = (torch.rand(shape) for _ in range(3))
    w = torch.softmax(torch.randn(shape[0], 2, *shape[2:]), 1)
    loss = LearnableFusionLoss(alpha_int=2.0, alpha_grad=3.0)
    out = loss(fused, ir, vis, w)
    expect_int = ((w[:, :1] * (ir - fused))**2).mean() + (
        (w[:, 1:] * (vis - fused))**2).mean()
    torch.testing.assert_close(out['loss_fusion_int'], 2.0 * expect_int)
    # Gradient term computed independently, pixel by pixel with padding.
    pad = lambda t: nn.functional.pad(t, (1, 1, 1, 1))  # noqa: E731
    def sob(t):
        p = pad(t)[:, 0]
        gx = (p[:, :-2, 2:] + 2 * p[:, 1:-1, 2:] + p[:, 2:, 2:]) - (
            p[:, :-2, :-2] + 2 * p[:, 1:-1, :-2] + p[:, 2:, :-2])
        gy = (p[:, 2:, :-2] + 2 * p[:, 2:, 1:-1] + p[:, 2:, 2:]) - (
            p[:, :-2, :-2] + 2 * p[:, :-2, 1:-1] + p[:, :-2, 2:])
        return gx, gy
    (fx, fy), (ax, ay), (bx, by) = sob(fused), sob(ir), sob(vis)
    tx = torch.where(ax.abs() >= bx.abs(), ax, bx)
    ty = torch.where(ay.abs() >= by.abs(), ay, by)
    expect_grad = (fx - tx).abs().mean() + (fy - ty).abs().mean()
    torch.testing.assert_close(out['loss_fusion_grad'], 3.0 * expect_grad)


def test_fusion_loss_rejects_mismatched_shapes():
    loss = LearnableFusionLoss()
    with pytest.raises(ValueError, match='weights'):
        loss(torch.rand(1, 1, 4, 4), torch.rand(1, 1, 4, 4),
             torch.rand(1, 1, 4, 4), torch.rand(1, 2, 4, 5))


def test_finite_difference_hessian_vector_matches_exact():
    """The first-order variant agrees with the exact second-order one."""
    fusion, generator, loss, inner, outer, task_loss_fn = make_problem()
    exact = meta_hypergradient(fusion, generator, loss, inner, outer,
                               task_loss_fn, INNER_LR)
    approx = meta_hypergradient(fusion, generator, loss, inner, outer,
                                task_loss_fn, INNER_LR,
                                hessian_vector='finite_difference',
                                fd_radius=1e-4)
    assert relative_error(approx.hypergrads, exact.hypergrads) < 1e-5
    torch.testing.assert_close(approx.task_loss, exact.task_loss)
    for p in list(fusion.parameters()) + list(generator.parameters()):
        assert p.grad is None
    # The check is not met trivially: the O(r^2) error shows at r = 1
    # (0.27 relative here; 6e-9 at r = 1e-4).
    far = meta_hypergradient(fusion, generator, loss, inner, outer,
                             task_loss_fn, INNER_LR,
                             hessian_vector='finite_difference',
                             fd_radius=1.0)
    assert relative_error(far.hypergrads, exact.hypergrads) > 1e-2
    with pytest.raises(ValueError, match='hessian_vector'):
        meta_hypergradient(fusion, generator, loss, inner, outer,
                           task_loss_fn, INNER_LR, hessian_vector='fd')


def double_backward_hvp(fusion, generator, loss, inner, v):
    """Reference: ``d(g . v)/d phi`` by differentiating F's gradient."""
    terms = fusion_loss_terms(fusion, generator, loss, inner['ir'],
                              inner['vis_y'])
    params = [p for p in fusion.parameters() if p.requires_grad]
    grads = torch.autograd.grad(sum(terms.values()), params,
                                create_graph=True)
    g_dot_v = sum((g * vi).sum() for g, vi in zip(grads, v))
    return torch.autograd.grad(g_dot_v, list(generator.parameters()))


def test_forward_mode_hessian_vector_matches_double_backward():
    """On the real networks (ReFusion, with its fast layers, and G), the
    forward-mode product equals the double backward through F."""
    torch.manual_seed(0)
    fusion = ReFusion().double()
    generator = LossGenerationModule().double()
    loss = LearnableFusionLoss()
    inner = dict(ir=torch.rand(2, 1, 12, 14, dtype=torch.float64),
                 vis_y=torch.rand(2, 1, 12, 14, dtype=torch.float64))
    names, params = trainable(fusion)
    v = [torch.randn_like(p) for p in params]
    ref = double_backward_hvp(fusion, generator, loss, inner, v)
    got = forward_mode_hvp(fusion, generator, loss, inner, names, v,
                           list(generator.parameters()))
    assert sum(r.abs().sum() for r in ref) > 1e-3  # not trivial
    for a, b in zip(got, ref):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
    # Another direction gives another product: v is not ignored.
    other = forward_mode_hvp(fusion, generator, loss, inner, names,
                             [torch.randn_like(p) for p in params],
                             list(generator.parameters()))
    assert not torch.allclose(other[0], ref[0])


def test_inner_terms_without_generator_graph():
    fusion, generator, loss, inner, _, _ = make_problem()
    with_graph = fusion_loss_terms(fusion, generator, loss, inner['ir'],
                                   inner['vis_y'])
    constant = fusion_loss_terms(fusion, generator, loss, inner['ir'],
                                 inner['vis_y'], generator_graph=False)
    for k, v in with_graph.items():
        torch.testing.assert_close(constant[k], v)
    grads = torch.autograd.grad(sum(constant.values()),
                                list(generator.parameters()),
                                allow_unused=True)
    assert all(g is None for g in grads)
    assert all(g is not None for g in torch.autograd.grad(
        sum(with_graph.values()), list(generator.parameters())))


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('mode', ['exact', 'finite_difference'])
def test_hypergradient_under_autocast_is_the_float32_one(dtype, mode):
    """Mixed precision training runs the meta step under autocast: it is
    computed in float32 (in low precision F's forward-mode product failed
    and the finite difference was off by percents)."""
    torch.manual_seed(0)
    net = dict(dim=8, num_blocks=1, num_heads=2)
    fusion, generator = ReFusion(**net), LossGenerationModule(**net)
    task = nn.Conv2d(1, 3, 3, padding=1)
    inner = dict(ir=torch.rand(2, 1, 16, 16), vis_y=torch.rand(2, 1, 16, 16))
    outer = dict(ir=torch.rand(2, 1, 12, 16), vis_y=torch.rand(2, 1, 12, 16))
    target = torch.randint(0, 3, (2, 12, 16))

    def task_loss_fn(fused):
        return nn.functional.cross_entropy(task(fused), target)

    args = (fusion, generator, LearnableFusionLoss(), inner, outer,
            task_loss_fn, 1e-4, mode)
    exact = meta_hypergradient(*args)
    with torch.autocast('cpu', dtype=dtype):
        low = meta_hypergradient(*args)
    assert max(h.abs().max() for h in exact.hypergrads.values()) > 0
    for name, h in exact.hypergrads.items():
        assert low.hypergrads[name].dtype == torch.float32
        torch.testing.assert_close(low.hypergrads[name], h, rtol=1e-5,
                                   atol=1e-6 * h.abs().max().item())
