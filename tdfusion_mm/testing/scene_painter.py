"""Deterministic synthetic infrared-visible night street scenes, painted.

People, vehicles and lamp heads are warm in infrared and dim in the dark
visible image; lane markings, lit windows, signs with text-like stripes,
cones, bumps and road texture show only in the visible image. The infrared
image has a smooth thermal background, blur, sensor noise and column
fixed-pattern noise. Each scene has an MSRS segmentation label and M3FD
boxes (:mod:`.demo_dataset` writes them).

Boxes follow the Pascal VOC convention: 1-based, inclusive pixel
coordinates, so a box covers pixel columns ``xmin - 1 .. xmax - 1`` of the
0-based image. A box is the tight box of the object's visible part (after
occlusion, clipped to the image); objects whose visible part is smaller than
``_MIN_SIDE`` pixels on a side or ``_MIN_PIXELS`` pixels in all are not
annotated (they stay in the segmentation labels).
"""
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['draw_scene', 'M3FD_CLASSES', 'MSRS_CLASSES']

M3FD_CLASSES = ('People', 'Car', 'Bus', 'Motorcycle', 'Lamp', 'Truck')
MSRS_CLASSES = ('unlabelled', 'car', 'person', 'bike', 'curve', 'car_stop',
                'guardrail', 'color_cone', 'bump')
_CAR, _PERSON, _BIKE, _CURVE, _GUARDRAIL, _CONE, _BUMP = (
    MSRS_CLASSES.index(name) for name in ('car', 'person', 'bike', 'curve',
                                          'guardrail', 'color_cone', 'bump'))
_MIN_SIDE = 3
_MIN_PIXELS = 10


class _Street:
    """Layers of one scene, painted back to front, and its perspective.

    The ground row ``y`` has depth ``d = (y - horizon) / (h - horizon)``
    (0 at the horizon, 1 at the bottom); a person standing there is about
    ``0.5 * unit(y)`` pixels tall, 0.35 of the image height at the bottom.
    """

    def __init__(self, rng: np.random.Generator, h: int, w: int) -> None:
        self.h, self.w = h, w
        self.yy, self.xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
        self.ir = np.zeros((h, w), np.float32)
        self.vis = np.zeros((h, w, 3), np.float32)
        self.emissive = np.zeros((h, w), bool)
        self.label = np.zeros((h, w), np.uint8)
        self.inst = np.full((h, w), -1, np.int32)
        self.names: List[str] = []
        self.horizon = h * rng.uniform(0.3, 0.45)
        self.vanish_x = w * rng.uniform(0.35, 0.65)
        self.bottom_x = w * rng.uniform(0.3, 0.7)
        self.half_bottom = w * rng.uniform(0.4, 0.65)

    def depth(self, y):
        return np.clip((y - self.horizon) / (self.h - self.horizon), 0, None)

    def unit(self, y):
        return self.depth(y) * self.h * 0.7

    def centre(self, y):
        return self.vanish_x + (self.bottom_x - self.vanish_x) * self.depth(y)

    def half_width(self, y):
        return self.half_bottom * self.depth(y)

    def curb_width(self, y):
        return np.maximum(0.8, 0.035 * self.w * self.depth(y))

    def ground_row(self, rng: np.random.Generator, lo: float,
                   hi: float) -> float:
        return self.horizon + (self.h - self.horizon) * rng.uniform(lo, hi)

    def rect(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Pixels whose centre lies in [x0, x1) x [y0, y1), at least 1 wide."""
        x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
        return ((self.xx >= x0) & (self.xx < x1) & (self.yy >= y0)
                & (self.yy < y1))

    def ellipse(self, cx: float, cy: float, rx: float,
                ry: float) -> np.ndarray:
        rx, ry = max(rx, 0.5), max(ry, 0.5)
        return ((self.xx - cx) / rx)**2 + ((self.yy - cy) / ry)**2 <= 1

    def new_instance(self, name: str) -> int:
        self.names.append(name)
        return len(self.names) - 1

    def paint(self,
              mask: np.ndarray,
              ir=None,
              bgr=None,
              label: int = 0,
              inst: int = -1,
              emissive: bool = False) -> None:
        """Paint a region; ``ir=None`` leaves the infrared layer unchanged.

        ``ir`` is a scalar or an (H, W) field, ``bgr`` a visible albedo (or
        emitted light if ``emissive``) as a colour or an (H, W, 3) field.
        """
        if ir is not None:
            self.ir[mask] = ir[mask] if isinstance(ir, np.ndarray) else ir
        if bgr is not None:
            bgr = np.asarray(bgr, np.float32)
            self.vis[mask] = bgr[mask] if bgr.ndim == 3 else bgr
            self.emissive[mask] = emissive
        self.label[mask] = label
        self.inst[mask] = inst


def _smooth_field(rng: np.random.Generator, h: int, w: int,
                  grid: Tuple[int, int], amplitude: float) -> np.ndarray:
    """Smooth random field in [-amplitude, amplitude] from a coarse grid."""
    coarse = rng.uniform(-amplitude, amplitude, grid).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)


def _draw_background(st: _Street, rng: np.random.Generator) -> None:
    """Sky, buildings with windows, ground, road, curbs and markings."""
    h, w, yy, xx = st.h, st.w, st.yy, st.xx
    above = yy < st.horizon
    sky_ir = 25 + 25 * yy / st.horizon
    glow = np.clip(yy / st.horizon, 0, 1)[..., None]
    st.paint(
        above,
        sky_ir,
        np.array([30, 16, 10]) + [6, 10, 18] * glow,
        emissive=True)

    cuts = np.sort(np.concatenate([[0, w], rng.uniform(0, w, 4)]))
    for x0, x1 in zip(cuts[:-1], cuts[1:]):
        if rng.random() < 0.2:
            continue
        top = st.horizon * rng.uniform(0.1, 0.8)
        block = st.rect(x0, top, x1, st.horizon + 1)
        st.paint(block, rng.uniform(55, 80), rng.uniform(35, 75, 3))
        px, py = rng.uniform(4, 7, 2)
        cells = rng.random((int(h / py) + 2, int(w / px) + 2)) < 0.35
        row = ((yy - top) // py).astype(int).clip(0, cells.shape[0] - 1)
        col = ((xx - x0) // px).astype(int).clip(0, cells.shape[1] - 1)
        window = (
            block & ((xx - x0) % px < px / 2)
            & ((yy - top) % py < py / 2) & (yy > top + 1)
            & (yy < st.horizon - 1))
        lit = window & cells[row, col]
        st.paint(window & ~lit, bgr=(18, 18, 20))
        st.paint(
            lit,
            st.ir + 6,
            rng.uniform([60, 150, 200], [120, 210, 250]),
            emissive=True)

    depth = st.depth(yy)
    ground = ~above
    ground_ir = 70 + 30 * depth
    st.paint(ground, ground_ir, (75, 78, 80))
    offset = np.abs(xx - st.centre(yy))
    half = st.half_width(yy)
    st.paint(ground & (offset < half), ground_ir + 6, (55, 55, 58))
    st.paint(
        ground & (offset >= half) & (offset < half + st.curb_width(yy)),
        ground_ir - 6, (150, 150, 150),
        label=_CURVE)

    near = ground & (depth > 0.08)
    paint_colour = (60, 190, 220) if rng.random() < 0.5 else (230, 230, 230)
    dashes = (offset < np.maximum(0.4, 0.012 * w * depth)) & (
        (rng.uniform(0.6, 1.2) / np.maximum(depth, 1e-3) + rng.random()) % 1
        < 0.5)
    st.paint(near & dashes, bgr=paint_colour)
    edge = np.abs(offset - 0.9 * half) < np.maximum(0.3, 0.008 * w * depth)
    st.paint(near & edge, bgr=(230, 230, 230))


def _roadside_x(st: _Street, rng: np.random.Generator, y: float,
                side: int) -> float:
    return st.centre(y) + side * (
        st.half_width(y) + st.curb_width(y) +
        rng.uniform(0.05, 0.4) * st.unit(y))


def _draw_guardrail(st: _Street, rng: np.random.Generator) -> None:
    y = st.ground_row(rng, 0.08, 0.3)
    u = st.unit(y)
    side = rng.choice([-1, 1])
    edge = st.centre(y) + side * (st.half_width(y) + st.curb_width(y))
    x0, x1 = (0, edge) if side < 0 else (edge, st.w)
    ir, bgr = rng.uniform(45, 55), (165, 165, 170)
    st.paint(
        st.rect(x0, y - 0.35 * u, x1, y - 0.22 * u), ir, bgr, label=_GUARDRAIL)
    posts = st.rect(x0, y - 0.35 * u, x1, y) & (st.xx % 6 < 1)
    st.paint(posts, ir, bgr, label=_GUARDRAIL)


def _draw_sign(st: _Street, rng: np.random.Generator) -> None:
    """A pole and a coloured panel with text-like stripes (visible only)."""
    y = st.ground_row(rng, 0.1, 0.6)
    u = st.unit(y)
    x = _roadside_x(st, rng, y, rng.choice([-1, 1]))
    pole_w = max(0.5, 0.02 * u)
    st.paint(st.rect(x - pole_w, y - 1.1 * u, x + pole_w, y), bgr=(90, 90, 95))
    pw, ph = u * rng.uniform(0.35, 0.7), u * rng.uniform(0.25, 0.45)
    x0, y0 = x - pw / 2, y - 1.1 * u - ph
    colour = np.array([(160, 60, 20), (40, 120, 30), (30, 30, 170),
                       (20, 190, 220), (220, 220, 220)])[rng.integers(5)]
    panel = st.rect(x0, y0, x0 + pw, y0 + ph)
    st.paint(panel, bgr=colour)
    cells = rng.random((int(ph) + 3, int(pw) + 3)) < 0.7
    row = (st.yy - y0).astype(int).clip(0, cells.shape[0] - 1)
    col = ((st.xx - x0) // 3).astype(int).clip(0, cells.shape[1] - 1)
    text = (
        panel & st.rect(x0 + 1, y0 + 1, x0 + pw - 1, y0 + ph - 1)
        & (row % 3 == 1) & cells[row, col])
    st.paint(text, bgr=(20, 20, 20) if colour.mean() > 120 else (240, ) * 3)


def _draw_lamp(st: _Street, rng: np.random.Generator,
               lights: List[Tuple[float, ...]]) -> None:
    """A street lamp: cold pole, warm glowing head (class Lamp)."""
    y = st.ground_row(rng, 0.05, 0.45)
    u = st.unit(y)
    side = rng.choice([-1, 1])
    x = _roadside_x(st, rng, y, side)
    top = y - 2 * u
    half = max(0.5, 0.02 * u)
    hx = x - side * 0.4 * u
    st.paint(st.rect(x - half, top, x + half, y), 45, (60, 60, 65))
    st.paint(
        st.rect(min(x, hx), top, max(x, hx), top + 2 * half), 45, (60, 60, 65))
    rx = max(1.5, 0.12 * u)
    st.paint(
        st.ellipse(hx, top + 2 * half, rx, max(1.0, 0.5 * rx)),
        rng.uniform(175, 215), (190, 230, 255),
        inst=st.new_instance('Lamp'),
        emissive=True)
    lights.append((hx, top + 2 * half, rx, y, u, rng.uniform(0.25, 0.4)))


def _draw_cones(st: _Street, rng: np.random.Generator) -> None:
    for _ in range(rng.integers(1, 4)):
        y = st.ground_row(rng, 0.2, 0.9)
        u = st.unit(y)
        x = st.centre(y) + rng.uniform(-0.9, 0.9) * st.half_width(y)
        height = 0.35 * u
        frac = (st.yy - (y - height)) / max(height, 1)
        cone = (frac >= 0) & (st.yy < y) & (
            np.abs(st.xx - x) <= 0.15 * u * frac + 0.5)
        band = cone & (frac >= 0.4) & (frac < 0.6)
        st.paint(cone & ~band, bgr=(20, 110, 240), label=_CONE)
        st.paint(band, bgr=(235, 235, 235), label=_CONE)


def _draw_bump(st: _Street, rng: np.random.Generator) -> None:
    y = st.ground_row(rng, 0.3, 0.9)
    u = st.unit(y)
    offset = st.xx - st.centre(y)
    band = st.rect(0, y, st.w, y + 0.06 * u) & (
        np.abs(offset) < st.half_width(y))
    yellow = (offset // max(2, 0.15 * u)) % 2 == 0
    st.paint(band & yellow, bgr=(20, 200, 230), label=_BUMP)
    st.paint(band & ~yellow, bgr=(25, 25, 25), label=_BUMP)


def _draw_person(st: _Street, rng: np.random.Generator, x: float, y: float,
                 u: float) -> None:
    s = 0.5 * u * rng.uniform(0.9, 1.1)
    inst = st.new_instance('People')
    body_ir = rng.uniform(190, 220)
    top_bgr, legs_bgr = rng.uniform(20, 100, 3), rng.uniform(15, 70, 3)
    skin = np.array([90, 120, 170]) * rng.uniform(0.6, 1.1)
    stride = rng.uniform(0, 0.08) * s
    leg_w = 0.1 * s
    for lx in (x - 0.11 * s - stride, x + 0.01 * s + stride):
        st.paint(
            st.rect(lx, y - 0.48 * s, lx + leg_w, y), body_ir - 15, legs_bgr,
            _PERSON, inst)
    for ax in (x - 0.21 * s, x + 0.14 * s):
        st.paint(
            st.rect(ax, y - 0.8 * s, ax + 0.07 * s, y - 0.5 * s), body_ir,
            top_bgr, _PERSON, inst)
    st.paint(
        st.rect(x - 0.14 * s, y - 0.82 * s, x + 0.14 * s, y - 0.45 * s),
        body_ir - 5, top_bgr, _PERSON, inst)
    st.paint(
        st.ellipse(x, y - 0.9 * s, 0.075 * s, 0.09 * s),
        min(body_ir + 20, 250), skin, _PERSON, inst)


def _vehicle_colour(rng: np.random.Generator) -> np.ndarray:
    palette = np.array([(30, 30, 120), (120, 60, 30), (150, 150, 150),
                        (25, 25, 25), (170, 170, 170), (40, 90, 40)])
    return palette[rng.integers(len(palette))] * rng.uniform(0.6, 1.0)


def _draw_wheels(st: _Street, xs: Sequence[float], y: float, r: float,
                 inst: int, label: int, ir: float) -> None:
    for wx in xs:
        st.paint(st.ellipse(wx, y - r, r, r), ir, (20, 20, 20), label, inst)


def _draw_car(st: _Street, rng: np.random.Generator, x: float, y: float,
              u: float) -> None:
    ch = 0.45 * u * rng.uniform(0.9, 1.1)
    cw = ch * rng.uniform(1.6, 3.0)
    inst = st.new_instance('Car')
    body_ir, colour = rng.uniform(130, 150), _vehicle_colour(rng)
    front = rng.choice([-1, 1])
    x0, x1 = x - cw / 2, x + cw / 2
    st.paint(
        st.rect(x0, y - 0.62 * ch, x1, y - 0.12 * ch), body_ir, colour, _CAR,
        inst)
    st.paint(
        st.rect(x - 0.33 * cw, y - ch, x + 0.3 * cw, y - 0.6 * ch), body_ir,
        colour, _CAR, inst)
    st.paint(
        st.rect(x - 0.28 * cw, y - 0.93 * ch, x + 0.25 * cw, y - 0.64 * ch),
        body_ir - 20, (40, 35, 30), _CAR, inst)
    engine_x = x + front * 0.35 * cw
    st.paint(
        st.rect(engine_x - 0.15 * cw, y - 0.6 * ch, engine_x + 0.15 * cw,
                y - 0.15 * ch), body_ir + 35, None, _CAR, inst)
    _draw_wheels(st, (x - 0.33 * cw, x + 0.33 * cw), y, 0.18 * ch, inst, _CAR,
                 rng.uniform(165, 185))
    light = (170, 230, 255) if rng.random() < 0.5 else (40, 40, 230)
    for lx in (x0, x1 - 0.08 * cw):
        st.paint(
            st.rect(lx, y - 0.5 * ch, lx + 0.08 * cw, y - 0.42 * ch),
            None,
            light,
            _CAR,
            inst,
            emissive=True)


def _draw_bus(st: _Street, rng: np.random.Generator, x: float, y: float,
              u: float) -> None:
    bh = 0.95 * u * rng.uniform(0.9, 1.1)
    bw = bh * rng.uniform(1.0, 3.2)
    inst = st.new_instance('Bus')
    body_ir = rng.uniform(130, 150)
    x0, x1 = x - bw / 2, x + bw / 2
    st.paint(
        st.rect(x0, y - bh, x1, y - 0.1 * bh), body_ir, _vehicle_colour(rng),
        _CAR, inst)
    pitch = max(3.0, 0.3 * bh)
    windows = st.rect(x0 + 0.05 * bw, y - 0.85 * bh, x1 - 0.05 * bw,
                      y - 0.55 * bh) & ((st.xx - x0) % pitch < 0.75 * pitch)
    st.paint(windows, body_ir - 15, (90, 150, 180), _CAR, inst, emissive=True)
    rear = x0 if rng.random() < 0.5 else x1 - 0.2 * bw
    st.paint(
        st.rect(rear, y - 0.5 * bh, rear + 0.2 * bw, y - 0.1 * bh),
        body_ir + 30, None, _CAR, inst)
    _draw_wheels(st, (x0 + 0.2 * bw, x1 - 0.2 * bw), y, 0.12 * bh, inst, _CAR,
                 rng.uniform(165, 185))


def _draw_truck(st: _Street, rng: np.random.Generator, x: float, y: float,
                u: float) -> None:
    th = 0.9 * u * rng.uniform(0.9, 1.1)
    tw = th * rng.uniform(1.2, 3.0)
    inst = st.new_instance('Truck')
    x0, x1 = x - tw / 2, x + tw / 2
    cab_left = rng.random() < 0.5
    cab = (x0, x0 + 0.3 * tw) if cab_left else (x1 - 0.3 * tw, x1)
    cargo = (x0 + 0.3 * tw, x1) if cab_left else (x0, x1 - 0.3 * tw)
    st.paint(
        st.rect(cargo[0], y - th, cargo[1], y - 0.12 * th),
        rng.uniform(128, 140), rng.uniform(60, 160, 3), _CAR, inst)
    st.paint(
        st.rect(cab[0], y - 0.75 * th, cab[1], y - 0.12 * th),
        rng.uniform(150, 175), _vehicle_colour(rng), _CAR, inst)
    _draw_wheels(st, (x0 + 0.15 * tw, x1 - 0.15 * tw), y, 0.12 * th, inst,
                 _CAR, rng.uniform(165, 185))


def _draw_motorcycle(st: _Street, rng: np.random.Generator, x: float, y: float,
                     u: float) -> None:
    """A motorcycle (class Motorcycle / bike) with its rider (People)."""
    u = u * rng.uniform(0.9, 1.1)
    inst = st.new_instance('Motorcycle')
    r = 0.14 * u
    _draw_wheels(st, (x - 0.275 * u, x + 0.275 * u), y, r, inst, _BIKE,
                 rng.uniform(155, 170))
    st.paint(
        st.rect(x - 0.25 * u, y - 0.42 * u, x + 0.2 * u, y - 0.3 * u), 140,
        (30, 30, 35), _BIKE, inst)
    st.paint(
        st.rect(x - 0.15 * u, y - 0.32 * u, x + 0.15 * u, y - 0.1 * u),
        rng.uniform(200, 225), (35, 35, 40), _BIKE, inst)
    rider = st.new_instance('People')
    body_ir, bgr = rng.uniform(190, 220), rng.uniform(30, 120, 3)
    st.paint(
        st.rect(x - 0.12 * u, y - 0.78 * u, x + 0.04 * u, y - 0.38 * u),
        body_ir, bgr, _PERSON, rider)
    st.paint(
        st.rect(x - 0.1 * u, y - 0.45 * u, x + 0.12 * u, y - 0.36 * u),
        body_ir - 10, bgr, _PERSON, rider)
    st.paint(
        st.rect(x + 0.06 * u, y - 0.4 * u, x + 0.12 * u, y - 0.15 * u),
        body_ir - 15, bgr, _PERSON, rider)
    st.paint(
        st.ellipse(x - 0.02 * u, y - 0.86 * u, 0.07 * u, 0.085 * u),
        min(body_ir + 20, 250), (60, 60, 60), _PERSON, rider)


_AGENT_CLASS = dict(person='People', car='Car', bus='Bus', truck='Truck',
                    motorcycle='Motorcycle')
_AGENTS = {
    'person': (_draw_person, 0.45),
    'car': (_draw_car, 0.3),
    'bus': (_draw_bus, 0.07),
    'truck': (_draw_truck, 0.06),
    'motorcycle': (_draw_motorcycle, 0.12),
}


def _draw_agents(st: _Street, rng: np.random.Generator,
                 classes: Sequence[str]) -> None:
    """People and vehicles of ``classes``, drawn far to near so near ones
    occlude."""
    kinds = [k for k in _AGENTS if _AGENT_CLASS[k] in classes]
    if not kinds:
        return
    probs = np.array([_AGENTS[k][1] for k in kinds])
    probs = probs / probs.sum()
    agents = []
    for _ in range(rng.integers(3, 8)):
        kind = kinds[rng.choice(len(kinds), p=probs)]
        y = st.ground_row(rng, 0.1, 1.05)
        if kind == 'person':
            x = st.w * rng.uniform(-0.05, 1.05)
            if rng.random() < 0.3:  # a companion, partly overlapping
                agents.append((
                    y + rng.uniform(-0.03, 0.03) * st.unit(y), kind, x +
                    rng.choice([-1, 1]) * rng.uniform(0.1, 0.35) * st.unit(y)))
        else:
            x = st.centre(y) + rng.uniform(-1, 1) * st.half_width(y)
        agents.append((y, kind, x))
    for y, kind, x in sorted(agents, key=lambda a: a[0]):
        _AGENTS[kind][0](st, rng, x, y, st.unit(y))


def _render(st: _Street, rng: np.random.Generator,
            lights: Sequence[Tuple[float, ...]]) -> Tuple[np.ndarray, ...]:
    """Light the visible albedo, add sensor effects, quantise to uint8."""
    h, w, yy, xx = st.h, st.w, st.yy, st.xx
    illum = np.full((h, w), rng.uniform(0.25, 0.4), np.float32)
    glow = np.zeros((h, w), np.float32)
    for hx, hy, rx, ground_y, u, strength in lights:
        illum += strength * np.exp(-((xx - hx) / (0.7 * u + 1))**2 / 2 -
                                   ((yy - ground_y) / (0.25 * u + 1))**2 / 2)
        glow += 80 * np.exp(-((xx - hx)**2 + (yy - hy)**2) / (2 *
                                                              (1.5 * rx)**2))
    illum = np.minimum(illum, 0.7)
    texture = 1 + _smooth_field(rng, h, w, (12, 16), 0.15)
    albedo = st.vis * (texture * illum)[..., None]
    vis = np.where(st.emissive[..., None], st.vis, albedo)
    vis = vis + glow[..., None] * np.float32([0.75, 0.9, 1.0])
    vis += rng.normal(0, 3, vis.shape)

    ir = st.ir + _smooth_field(rng, h, w, (4, 5), 6)
    ir = cv2.GaussianBlur(ir, (3, 3), 0.8)
    ir += rng.normal(0, 2.5, ir.shape) + rng.normal(0, 1.0, (1, w))
    return (np.rint(ir.clip(0, 255)).astype(np.uint8),
            np.rint(vis.clip(0, 255)).astype(np.uint8))


def _boxes(st: _Street, classes: Sequence[str],
           difficult_below: int) -> List[Dict]:
    """Tight VOC boxes (1-based, inclusive) of each instance's visible part,
    for the instances of ``classes``; boxes whose shorter side is below
    ``difficult_below`` pixels are marked difficult."""
    objects = []
    for idx, name in enumerate(st.names):
        if name not in classes:
            continue
        ys, xs = np.nonzero(st.inst == idx)
        if len(xs) < _MIN_PIXELS:
            continue
        x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
        if min(x1 - x0, y1 - y0) + 1 < _MIN_SIDE:
            continue
        truncated = x0 == 0 or y0 == 0 or x1 == st.w - 1 or y1 == st.h - 1
        objects.append(
            dict(
                name=name,
                bbox=(int(x0) + 1, int(y0) + 1, int(x1) + 1, int(y1) + 1),
                truncated=int(truncated),
                difficult=int(min(x1 - x0, y1 - y0) + 1 < difficult_below)))
    return objects


def draw_scene(rng: np.random.Generator,
               height: int,
               width: int,
               classes: Sequence[str] = M3FD_CLASSES,
               difficult_below: int = 0
               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, List]:
    """Draw one scene.

    Args:
        rng (np.random.Generator): The scene's generator.
        height, width (int): Image size.
        classes (Sequence[str]): M3FD classes that are drawn (people and
            vehicles) and annotated (lamps are always drawn, annotated only
            if ``'Lamp'`` is listed). Defaults to all six.
        difficult_below (int): Boxes with a shorter side below this many
            pixels are marked ``difficult`` (VOC metrics ignore them).
            Defaults to 0.

    Returns:
        tuple: infrared (H, W) uint8, visible (H, W, 3) uint8 BGR, MSRS
        label (H, W) uint8 and a list of dicts with ``name``, ``bbox``
        (VOC 1-based inclusive xmin, ymin, xmax, ymax), ``truncated`` and
        ``difficult``.
    """
    st = _Street(rng, height, width)
    lights: List[Tuple[float, ...]] = []
    _draw_background(st, rng)
    if rng.random() < 0.35:
        _draw_guardrail(st, rng)
    for _ in range(rng.integers(1, 3)):
        _draw_sign(st, rng)
    for _ in range(rng.integers(1, 4)):
        _draw_lamp(st, rng, lights)
    if rng.random() < 0.4:
        _draw_cones(st, rng)
    if rng.random() < 0.25:
        _draw_bump(st, rng)
    _draw_agents(st, rng, classes)
    ir, vis = _render(st, rng, lights)
    return ir, vis, st.label.copy(), _boxes(st, classes, difficult_below)
