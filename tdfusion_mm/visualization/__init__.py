from .panels import fusion_panel, to_bgr8, weight_colour_map

__all__ = ['fusion_panel', 'to_bgr8', 'weight_colour_map']
