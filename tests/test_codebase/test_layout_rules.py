"""Codebase rules checked on the source itself.

* Callers use public names: no ``obj._private`` access to another object's
  underscore attribute in spn_mm/ or tools/ (``self``/``cls``/``super()``
  are the object's own), except the third-party hooks listed below.
* No other project's copyright line in our files (Apache-2.0, our code).
"""
import ast
import os
import os.path as osp

import pytest
from utils import REPO_ROOT

# third-party private names we must use, and why
ALLOWED_PRIVATE = {
    # torch DDP's documented per-module ignore list
    '_ddp_params_and_buffers_to_ignore',
    # torch state-dict version metadata (kept when filtering keys)
    '_metadata',
    # torch.onnx symbolic helpers (ONNX export of RegionNorm)
    '_get_const',
    '_is_none',
    # the `spn_mm::` config-path stack fix wraps this mmengine function
    '_get_package_and_cfg_path',
    '_spn_mm_patched',
    # numpy's array-unpickling function, allow-listed for torch.load
    '_reconstruct',
}


def python_files(*roots):
    for root in roots:
        for dirpath, _, files in os.walk(osp.join(REPO_ROOT, root)):
            for name in sorted(files):
                if name.endswith('.py'):
                    yield osp.join(dirpath, name)


def private_accesses(path):
    tree = ast.parse(open(path, encoding='utf-8').read(), path)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith('_')
                and not node.attr.startswith('__')):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in ('self', 'cls'):
            continue
        if isinstance(owner, ast.Call) and getattr(owner.func, 'id',
                                                   None) == 'super':
            continue
        if node.attr in ALLOWED_PRIVATE:
            continue
        yield f'{osp.relpath(path, REPO_ROOT)}:{node.lineno}: ' \
              f'{ast.unparse(node)}'


def test_no_private_access_across_objects():
    found = [hit for path in python_files('spn_mm', 'tools')
             for hit in private_accesses(path)]
    assert not found, found


@pytest.mark.parametrize('root', ['spn_mm', 'tools', 'configs', 'tests'])
def test_no_foreign_copyright_lines(root):
    needle = 'Copyright (c) ' + 'OpenMMLab'  # split: this file is scanned
    hits = [osp.relpath(p, REPO_ROOT) for p in python_files(root)
            if needle in open(p, encoding='utf-8').read()]
    if root == 'tests':
        hits += ([] if needle not in open(
            osp.join(REPO_ROOT, 'setup.py')).read() else ['setup.py'])
    assert not hits, hits
