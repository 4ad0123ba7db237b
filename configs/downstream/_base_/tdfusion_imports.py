# What every downstream config adds to its stock mmdet or mmseg config, next
# to which it is inherited: our datasets and hooks, imported so that the
# stock tools find them.
custom_imports = dict(
    imports=['tdfusion_mm.datasets', 'tdfusion_mm.engine.hooks'],
    allow_failed_imports=False)
