"""The user's commands with the real (full-width) Places2 config on CPU."""
import os.path as osp
import sys

import pytest
import torch
from utils import (REPO_ROOT, TOOLS, free_port, make_places2_layout, run_cmd,
                   run_tool)

PLACES2 = osp.join(REPO_ROOT, 'configs', 'spn_places2.py')
SMALL = '(64,64)'
TEACHER_VIEW = '(128,128)'  # the teacher's view is 2x the training size


@pytest.fixture(scope='module')
def places2(tmp_path_factory):
    return make_places2_layout(str(tmp_path_factory.mktemp('places2')))


def data_options(d: dict) -> list:
    opts = []
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{key}.dataset.data_root={d["data_root"]}',
                 f'{key}.num_workers=0']
    opts += [f'test_dataloader.dataset.mask_root={d["mask_root"]}',
             f'val_dataloader.dataset.mask_root={d["mask_root"]}',
             f'train_dataloader.dataset.pipeline.1.scale={TEACHER_VIEW}',
             f'train_dataloader.dataset.pipeline.2.scale={SMALL}',
             f'test_dataloader.dataset.pipeline.1.scale={SMALL}',
             f'val_dataloader.dataset.pipeline.1.scale={SMALL}']
    return opts


def save_random_teacher(path: str) -> None:
    """A random TResNet-L teacher checkpoint (timm key format)."""
    from mmengine.config import Config
    from spn_mm.registry import MODELS
    cfg = Config.fromfile(PLACES2)
    teacher = MODELS.build(cfg.model.teacher)
    state = teacher.model.timm_model.state_dict()
    torch.save({'state_dict': state}, path)


def test_dist_train_places2_full_width_two_cpu_processes(places2, tmp_path):
    ckpt = str(tmp_path / 'teacher_rand.pth')
    save_random_teacher(ckpt)
    work = str(tmp_path / 'work')
    proc = run_cmd(
        ['bash', osp.join(TOOLS, 'dist_train.sh'), PLACES2, '2',
         '--work-dir', work, '--cfg-options', *data_options(places2),
         f'model.teacher.checkpoint={ckpt}', 'train_cfg.max_iters=2',
         'train_cfg.val_interval=100', 'train_dataloader.batch_size=1',
         'default_hooks.logger.interval=1'],
        env=dict(PORT=str(free_port()), PYTHON=sys.executable), timeout=900)
    log = proc.stdout + proc.stderr
    assert 'backend=gloo world_size=2' in log
    assert 'loss_prior' in log and 'loss_rec' in log
    # the start-up schedule: epochs <-> iterations, milestones, loss terms
    assert 'SPN schedule: 4 training images, global batch 2 (2 process(es) ' \
        'x 1), 2 iterations per epoch' in log
    assert 'LR x0.1 (generator) after iteration 750000 = epoch 375000.00' \
        in log
    assert 'loss_rec (MaskWeightedL1Loss, weight 10.0)' in log
    assert 'global batch 2 differs from the official 8' in log
    state = torch.load(osp.join(work, 'iter_2.pth'), weights_only=False)
    gen = [k for k in state['state_dict'] if k.startswith('generator.')]
    assert len(gen) > 400
    assert not any(k.startswith('teacher.') for k in state['state_dict'])


def test_missing_teacher_checkpoint_fails_training_naming_key(places2,
                                                              tmp_path):
    import subprocess
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'train.py'), PLACES2, '--work-dir',
         str(tmp_path / 'w'), '--cfg-options', *data_options(places2),
         'model.teacher.checkpoint=/nonexistent/asl.pth',
         'train_cfg.max_iters=1'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert 'model.teacher.checkpoint' in err and '/nonexistent/asl.pth' in err


def test_test_tool_with_converted_official_checkpoint_needs_no_teacher(
        places2, tmp_path):
    sys.path.insert(0, osp.join(REPO_ROOT, 'tests', 'test_tools'))
    from test_spn_official_converter import _synthetic_checkpoint
    official = str(tmp_path / 'official_det.pth')
    torch.save(_synthetic_checkpoint('det'), official)
    converted = str(tmp_path / 'spn_places2_converted.pth')
    run_tool(osp.join('model_converters', 'spn_official_to_mmagic.py'),
             [official, converted, '--variant', 'det'])
    assert not osp.exists(osp.join(REPO_ROOT, 'checkpoints',
                                   'asl_tresnet_l_openimages.pth'))
    out = str(tmp_path / 'metrics.json')
    run_tool('test.py', [PLACES2, converted, '--work-dir',
                         str(tmp_path / 'w'), '--out', out,
                         '--cfg-options', *data_options(places2),
                         'test_evaluator.metrics.0.fid_cfg=None'],
             timeout=900)
    assert osp.isfile(out)
