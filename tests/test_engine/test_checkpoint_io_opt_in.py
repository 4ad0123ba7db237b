"""Importing tdfusion_mm leaves mmengine's file backends and checkpoint
loaders as they are; ``use_checkpoint_io`` (called by
SafeCheckpointHook before a run) changes them."""
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Run in a fresh interpreter: the registries are global to the process.
SCRIPT = '''
from mmengine.fileio.backends import registry_utils
from mmengine.runner import CheckpointLoader


def state():
    return (dict(registry_utils.backends),
            dict(registry_utils.prefix_to_backends),
            dict(CheckpointLoader._schemes))


before = state()
import tdfusion_mm
import tdfusion_mm.apis
import tdfusion_mm.engine
import tdfusion_mm.utils.checkpoint
from tdfusion_mm.utils import register_all_modules
register_all_modules()
assert state() == before, 'importing tdfusion_mm changed mmengine'

from mmengine.fileio import get_file_backend
from tdfusion_mm.engine import AtomicLocalBackend, SafeCheckpointHook
from tdfusion_mm.utils.checkpoint import load_from_local
SafeCheckpointHook().before_run(None)
SafeCheckpointHook().before_run(None)  # a second run changes nothing more
backend = get_file_backend('x.pth', backend_args=dict(backend='atomic_local'))
assert type(backend) is AtomicLocalBackend, backend
assert CheckpointLoader._schemes[''] is load_from_local
backends, prefixes, schemes = state()
assert set(backends) - set(before[0]) == {'atomic_local'}
assert prefixes == before[1] and set(schemes) == set(before[2])
print('ok')
'''


def test_only_the_hook_changes_mmengine_checkpoint_io():
    proc = subprocess.run([sys.executable, '-c', SCRIPT], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == 'ok', (
        proc.stdout + proc.stderr)
