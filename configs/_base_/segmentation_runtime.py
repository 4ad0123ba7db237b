# The runtime of a TDFusion config whose task network is an mmseg segmentor:
# mmseg's hook and visualizer draw the label maps.
_base_ = './default_runtime.py'

default_hooks = dict(visualization=dict(type='mmseg.SegVisualizationHook'))
visualizer = dict(type='mmseg.SegLocalVisualizer')
