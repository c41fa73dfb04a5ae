"""Packaging for spn_mm (OpenMMLab style).

Requirements are read from ``requirements/``; ``configs/`` and ``tools/`` are
installed as package data under ``spn_mm/.mim`` so that an installed spn_mm
serves ``_base_ = 'spn_mm::<config>'`` to configs outside this repository.
"""
import os
import os.path as osp
import shutil
import sys
import warnings

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


def get_version() -> str:
    version_file = osp.join(HERE, 'spn_mm', 'version.py')
    with open(version_file, encoding='utf-8') as f:
        exec(compile(f.read(), version_file, 'exec'))
    return locals()['__version__']


def parse_requirements(fname: str = 'requirements.txt') -> list:
    """Parse a requirements file, following ``-r`` includes; comments dropped."""
    reqs = []
    path = osp.join(HERE, fname)
    if not osp.exists(path):
        return reqs
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                reqs.extend(
                    parse_requirements(
                        osp.join(osp.dirname(fname), line[3:].strip())))
            elif not line.startswith('-'):
                reqs.append(line)
    return reqs


def add_mim_extension() -> None:
    """Copy (or symlink in develop mode) configs/tools into spn_mm/.mim."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif any(x in sys.argv for x in ('sdist', 'bdist_wheel', 'install',
                                      'build', 'build_py')):
        mode = 'copy'
    else:
        return
    mim_path = osp.join(HERE, 'spn_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in ('configs', 'tools', 'model-index.yml'):
        src = osp.join(HERE, name)
        dst = osp.join(mim_path, name)
        if osp.isfile(dst) or osp.islink(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, osp.dirname(dst)), dst)
                continue
            except OSError:
                warnings.warn(f'Failed to symlink {src}; copying instead')
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc'))
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='spn_mm',
        version=get_version(),
        description='SPN (Semantic Pyramid Network) inpainting for '
        'OpenMMLab / mmagic',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='inpainting, semantic prior, mmagic, openmmlab',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        package_data={'spn_mm': ['.mim/model-index.yml', '.mim/configs/**/*',
                                 '.mim/tools/**/*', '.mim/configs/*',
                                 '.mim/tools/*', 'web/static/*']},
        python_requires='>=3.11,<3.12',
        license='Apache License 2.0',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'tests': parse_requirements('requirements/tests.txt'),
            'optional': parse_requirements('requirements/optional.txt'),
            'web': parse_requirements('requirements/web.txt'),
        },
        zip_safe=False)
