#!/usr/bin/env python
"""mrr_plugin: MRRNet / MRRGAN / SPARNet face super-resolution as a BasicSR plugin."""
from setuptools import find_packages, setup


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
        packages=find_packages(exclude=('options', 'datasets', 'experiments', 'results', 'tb_logger', 'tests',
                                        'scripts')),
        package_data={'mrr_plugin': ['preparation/splits/*.txt']},
        python_requires='>=3.9',
        install_requires=read_requirements() + ['basicsr==1.4.2'],
        license='Apache License 2.0',
        zip_safe=False)
