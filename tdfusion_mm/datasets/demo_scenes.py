"""Moved to :mod:`tdfusion_mm.testing.demo_scenes`. This alias is kept only
while ``tools/analysis_tools/fusion_loss_study.py`` imports the old path;
it is not imported by :mod:`tdfusion_mm.datasets`."""
from tdfusion_mm.testing.demo_scenes import *  # noqa: F401,F403
