"""tools/train.py and tools/test.py (SPN DDP, slurm and resume:
test_spn_training_trust.py)."""
import os
import os.path as osp
import subprocess
import sys

import torch
from mmengine.config import Config
from utils import REPO_ROOT, TOOLS, run_cmd, run_tool, tool_env

TINY_CFG = osp.join(REPO_ROOT, 'tests', 'configs', 'aot_tiny.py')


def data_options(root: str) -> list:
    return [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
    ]


def test_tiny_aot_train_and_val_step(tiny_data):
    """mmagic's AOT-GAN through the project's config system on CPU."""
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import build_optim_wrapper
    from mmagic.registry import DATASETS, MODELS
    cfg = Config.fromfile(TINY_CFG)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    train_set = DATASETS.build(
        dict(cfg.train_dataloader.dataset, data_root=tiny_data))
    data = pseudo_collate([train_set[0], train_set[1]])
    log_vars = model.train_step(data, optim)
    assert {'loss_l1_valid', 'loss_g_fake'} <= set(log_vars)
    val_set = DATASETS.build(
        dict(cfg.val_dataloader.dataset, data_root=tiny_data))
    outputs = model.val_step(pseudo_collate([val_set[0]]))
    assert outputs[0].output.pred_img.shape == (3, 64, 64)


def test_train_tool_writes_checkpoint_and_test_tool_loads_it(
        tiny_data, tmp_path):
    work = str(tmp_path / 'work')
    run_tool('train.py', [TINY_CFG, '--work-dir', work, '--cfg-options',
                          *data_options(tiny_data)])
    ckpt = osp.join(work, 'iter_4.pth')
    assert osp.isfile(ckpt)
    state = torch.load(ckpt, map_location='cpu', weights_only=False)
    assert state['meta']['iter'] == 4
    assert any(k.startswith('disc.') for k in state['state_dict'])
    # torch>=2.9 weights_only default must not break tools/test.py
    out = str(tmp_path / 'metrics.json')
    proc = run_tool('test.py', [TINY_CFG, ckpt, '--work-dir', work, '--out',
                                out, '--cfg-options',
                                *data_options(tiny_data)])
    assert osp.isfile(out)
    assert 'PSNR' in proc.stdout + proc.stderr
    # a config of other widths: one line naming the mis-shaped key, not an
    # evaluation of randomly initialised weights (the runner only warns)
    bad = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'test.py'), TINY_CFG, ckpt,
         '--work-dir', work, '--cfg-options', *data_options(tiny_data),
         'model.encdec.encoder.mid_channels=4'],
        cwd=REPO_ROOT, env=tool_env(), capture_output=True, text=True,
        timeout=600)
    err_lines = [ln for ln in bad.stderr.splitlines()
                 if ln.startswith('error:')]
    assert bad.returncode == 1, bad.stderr[-3000:]
    assert 'Traceback' not in bad.stderr, bad.stderr[-3000:]
    assert len(err_lines) == 1, bad.stderr[-3000:]
    assert 'does not match the generator' in err_lines[0]
    assert 'encoder' in err_lines[0] and 'with other shapes' in err_lines[0]


def test_external_config_inherits_installed_spn_mm(tmp_path):
    """A non-editable install serves `_base_ = 'spn_mm::...'` configs."""
    import shutil
    site = tmp_path / 'site'
    # build from a copy: setup.py writes spn_mm/.mim in the source tree
    src = tmp_path / 'src'
    shutil.copytree(REPO_ROOT, src, ignore=shutil.ignore_patterns(
        '.venv', '.git', 'work_dirs', 'data', '.mim', '__pycache__',
        '*.egg-info', 'build'))
    run_cmd([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
             '--no-build-isolation', '--no-compile', '--target', str(site),
             str(src)], timeout=600)
    assert (site / 'spn_mm' / '.mim' / 'configs' / '_base_' /
            'default_runtime.py').is_file()
    ext = tmp_path / 'ext'
    ext.mkdir()
    (ext / 'my_cfg.py').write_text(
        "_base_ = ['spn_mm::_base_/default_runtime.py']\n"
        "model = dict(type='AOTInpaintor')\n")
    script = (
        'import spn_mm, os.path as osp\n'
        "assert '/site/' in spn_mm.__file__, spn_mm.__file__\n"
        'from mmengine.config import Config\n'
        "cfg = Config.fromfile('my_cfg.py')\n"
        "assert cfg.default_scope == 'mmagic'\n"
        "assert cfg.custom_imports['imports'] == ['spn_mm']\n"
        "print('EXTERNAL_OK')\n")
    env = dict(os.environ, PYTHONPATH=str(site))
    proc = subprocess.run([sys.executable, '-c', script], cwd=str(ext),
                          env=env, capture_output=True, text=True,
                          timeout=300)
    assert 'EXTERNAL_OK' in proc.stdout, proc.stderr[-3000:]
