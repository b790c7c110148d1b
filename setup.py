#!/usr/bin/env python
"""mrr_plugin: MRRNet / MRRGAN / SPARNet face super-resolution as a BasicSR plugin."""
import os
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

COMMANDS = {
    'mrr-train': 'mrr_plugin.train:main',
    'mrr-test': 'mrr_plugin.test:main',
    'mrr-benchmark': 'mrr_plugin.benchmark:main',
    'mrr-restore': 'mrr_plugin.restore:main',
    'mrr-export-onnx': 'mrr_plugin.export_onnx:main',
    'mrr-demo': 'mrr_plugin.demo:main',
    'mrr-create-face-lmdb': 'mrr_plugin.preparation.create_face_lmdb:main',
    'mrr-prepare-celeba': 'mrr_plugin.preparation.prepare_celeba:main',
    'mrr-prepare-helen': 'mrr_plugin.preparation.prepare_helen:main',
    'mrr-prepare-dic': 'mrr_plugin.preparation.prepare_dic:main',
    'mrr-prepare-ffhq': 'mrr_plugin.preparation.prepare_ffhq:main',
    'mrr-prepare-faces': 'mrr_plugin.preparation.prepare_faces:main',
    'mrr-degrade-faces': 'mrr_plugin.preparation.degrade_faces:main',
}
STARTUP_HOOK = 'mrr_basicsr_compat.pth'  # `import basicsr` works on its own (see mrr_basicsr_compat.py)


class BuildWithStartupHook(build_py):
    """Also puts the start-up hook at the root of the built tree, which becomes site-packages."""

    def run(self):
        super().run()
        self.copy_file(STARTUP_HOOK, os.path.join(self.build_lib, STARTUP_HOOK), preserve_mode=0)

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + [os.path.join(self.build_lib, STARTUP_HOOK)]


def read_requirements(path='requirements.txt'):
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


if __name__ == '__main__':
    setup(
        name='mrr_plugin',
        version='0.1.0',
        description='Face super-resolution (MRRNet, MRRGAN, SPARNet) as a BasicSR plugin',
        long_description=open('README.md').read(),
        long_description_content_type='text/markdown',
        packages=find_packages(include=('mrr_plugin', 'mrr_plugin.*')),  # not tests/ nor scripts/
        py_modules=['mrr_basicsr_compat'],
        package_data={'mrr_plugin': ['preparation/splits/*.txt']},
        entry_points={'console_scripts': [f'{name} = {target}' for name, target in COMMANDS.items()]},
        extras_require={'onnx': ['onnx', 'onnxscript', 'onnxruntime']},
        cmdclass={'build_py': BuildWithStartupHook},
        python_requires='>=3.9',
        install_requires=read_requirements() + ['basicsr==1.4.2'],
        license='Apache License 2.0',
        zip_safe=False)
