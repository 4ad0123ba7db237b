# The runtime of a TDFusion config whose task network is an mmdet detector:
# mmdet's hook and visualizer draw the boxes.
_base_ = './default_runtime.py'

default_hooks = dict(visualization=dict(type='mmdet.DetVisualizationHook'))
visualizer = dict(type='mmdet.DetLocalVisualizer')
