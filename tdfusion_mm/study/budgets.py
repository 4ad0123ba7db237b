"""The study's budgets per task (epochs, meta pairs, sizes, batch, learning
rate) and their ``TASK=VALUE`` options."""

# Default budgets: epochs of stage 1, epochs after it, meta pairs per epoch,
# task size (w, h), F's crop side, the train batch size and F's and T's
# learning rate (None: the config's; the paper's 1e-4 is for pretrained task
# networks and 40 epochs). Sized for about 1.5 hours on 2 cores with
# --fusion-dim 8 and --jobs 2.
TASK_BUDGETS = dict(
    demo=dict(warm_epochs=6, epochs=4, meta_steps=15, size=None, crop=None,
              batch=None, lr=None),
    seg=dict(warm_epochs=8, epochs=2, meta_steps=12, size=(160, 120),
             crop=64, batch=4, lr=1e-3),
    det=dict(warm_epochs=12, epochs=4, meta_steps=10, size=(160, 128),
             crop=64, batch=4, lr=1e-3))

# The options overriding TASK_BUDGETS, TASK=VALUE each: (argument, key of
# TASK_BUDGETS, metavar, help).
BUDGET_OPTIONS = (
    ('warm_epochs', 'warm_epochs', 'TASK=N',
     'stage-1 epochs per task, e.g. demo=6 seg=10 (default: see '
     'TASK_BUDGETS)'),
    ('epochs', 'epochs', 'TASK=N',
     'epochs of every variant after stage 1, per task'),
    ('meta_steps', 'meta_steps', 'TASK=N',
     'meta pairs per epoch of the learned variants, per task'),
    ('size', 'size', 'TASK=WxH',
     "task size per task, e.g. seg=160x120 (0: the config's)"),
    ('fusion_crop', 'crop', 'TASK=N',
     "side of F's square training crops per task (0: the config's)"),
    ('lr', 'lr', 'TASK=LR',
     "F's and T's learning rate per task (0: the config's)"),
    ('batch_size', 'batch', 'TASK=N',
     "train batch size per task (0: the config's)"),
)


def task_budgets(args, parser) -> dict:
    """Per-task budgets: the defaults, overridden by ``TASK=value``."""
    budgets = {t: dict(b) for t, b in TASK_BUDGETS.items()}
    for flag, key, _, _ in BUDGET_OPTIONS:
        for item in getattr(args, flag) or []:
            task, _, value = str(item).partition('=')
            try:
                if task not in budgets:
                    raise ValueError
                if key == 'size' and value != '0':
                    width, height = value.split('x')
                    number = (int(width), int(height))
                else:
                    number = (float if key == 'lr' else int)(value)
            except ValueError:
                parser.error(f'--{flag.replace("_", "-")}: expected '
                             f'TASK=VALUE with TASK in {list(budgets)}, got '
                             f'{item!r}')
            budgets[task][key] = number or None
    return budgets


def budget_text(value) -> str:
    """A budget value as its flag takes it (0 for the config's)."""
    if value is None:
        return '0'
    if isinstance(value, tuple):
        return f'{value[0]}x{value[1]}'
    return f'{value:g}'
