"""Import every module that registers into the ``tdfusion_mm`` registries."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules of tdfusion_mm into its registries.

    Args:
        init_default_scope (bool): Whether to make ``tdfusion_mm`` the default
            scope. If another scope is already the current default, a new
            uniquely named ``tdfusion_mm`` instance is created. Defaults to True.
    """
    import tdfusion_mm.datasets  # noqa: F401
    import tdfusion_mm.engine  # noqa: F401
    import tdfusion_mm.evaluation  # noqa: F401
    import tdfusion_mm.models.algorithms  # noqa: F401
    import tdfusion_mm.models.data_preprocessors  # noqa: F401
    import tdfusion_mm.visualization  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('tdfusion_mm'):
        DefaultScope.get_instance('tdfusion_mm', scope_name='tdfusion_mm')
    elif current.scope_name != 'tdfusion_mm':
        warnings.warn('The current default scope '
                      f'"{current.scope_name}" is not "tdfusion_mm"; '
                      '`register_all_modules` forces it to "tdfusion_mm".')
        name = f'tdfusion_mm-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='tdfusion_mm')
