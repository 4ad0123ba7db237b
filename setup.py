"""Install tdfusion_mm (the pinned stack is in requirements.txt)."""
import os.path as osp

from setuptools import find_packages, setup


def read_version():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'tdfusion_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def read_requirements(path='requirements.txt'):
    with open(osp.join(osp.dirname(__file__), path)) as f:
        return [line.strip() for line in f
                if line.strip() and not line.startswith('#')]


setup(
    name='tdfusion_mm',
    version=read_version(),
    description='Task-driven infrared-visible image fusion (TDFusion) '
    'for MMDetection and MMSegmentation',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    include_package_data=True,
    # The model index and its trained fusion weights.
    package_data={'tdfusion_mm': ['model_zoo/metafile.yml',
                                  'model_zoo/weights/*.pth']},
    python_requires='>=3.8',
    install_requires=read_requirements(),
    license='Apache License 2.0',
)
