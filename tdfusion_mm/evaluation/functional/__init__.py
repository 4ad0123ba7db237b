from .fusion_metrics import (METRIC_NAMES, PRESETS, ag, en, fusion_metrics,
                             metric_conventions, mi, psnr, qabf, scd, sd, sf,
                             ssim, ssim_pair, to_uint8, vif, vifp)

__all__ = [
    'METRIC_NAMES', 'PRESETS', 'metric_conventions', 'to_uint8', 'en', 'sd',
    'sf', 'ag', 'mi', 'scd', 'vifp', 'vif', 'qabf', 'ssim_pair', 'ssim',
    'psnr', 'fusion_metrics'
]
