"""SPN training through the tools: DDP ranks, 2x b == 1 x 2b, slurm,
bit-identical kill-and-resume, non-finite losses.

Every run is a real ``tools/train.py`` / ``dist_train.sh`` /
``slurm_train.sh`` process on the tiny 64x64 SPN configs with a teacher
that has parameters (TResNet-L architecture, random weights), procedural
masks and flips, and a prior-loss cut inside the run.
"""
import glob
import json
import os
import os.path as osp
import re
import signal
import stat
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config
from utils import REPO_ROOT, TOOLS, free_port, run_cmd

TESTS = osp.join(REPO_ROOT, 'tests')
TINY = {
    'det': osp.join(TESTS, 'configs', 'spn_tiny_det.py'),
    'prob': osp.join(TESTS, 'configs', 'spn_tiny_prob.py'),
}
DATA = osp.join(TESTS, 'configs', 'tiny_data.py')
ADAM = osp.join(REPO_ROOT, 'configs', '_base_', 'schedules', 'spn_adam.py')
# the paper's teacher architecture with seeded random weights (no files)
TEACHER = dict(
    Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'teachers',
                 'tresnet_l.py')).rand_tresnet_l_teacher.to_dict(),
    _delete_=True)
SGD = dict(_delete_=True, type='SGD', lr=1e-3)


def write_config(path, kind: str, iters: int, extra: str = '') -> str:
    """A tiny SPN config on the tiny data with the test hooks."""
    path.write_text(
        f'_base_ = [{TINY[kind]!r}, {DATA!r}, {ADAM!r}]\n'
        "custom_imports = dict(imports=['spn_mm', 'dist_hooks'], "
        'allow_failed_imports=False)\n'
        f'model = dict(teacher={TEACHER!r}, encdec=dict(prior_learner=dict('
        'head_channels=[76, 76, 152])))\n'
        'train_dataloader = _base_.tiny_train_dataloader\n'
        "train_cfg = dict(type='IterBasedTrainLoop', "
        f'max_iters={iters}, val_interval=1000)\n'
        'default_hooks = dict(logger=dict(interval=1), '
        f'checkpoint=dict(interval={iters}), '
        'prior_loss=dict(until_iter=2))\n'
        "custom_hooks = [dict(type='DumpRankWeightsHook')]\n" + extra)
    return str(path)


def data_opts(tiny_data):
    return [f'train_dataloader.dataset.data_root={tiny_data}']


def tool_env() -> dict:
    # one thread everywhere: bit-identity needs the same reduction order
    return dict(PORT=str(free_port()), PYTHON=sys.executable,
                PYTHONPATH=TESTS, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')


def load(work, name):
    return torch.load(osp.join(work, name), weights_only=False)


def check_ranks(work: str, log: str) -> list:
    """Rank weights equal, moved, teacher frozen; returns the samples."""
    assert 'world_size=2' in log
    w0, w1 = load(work, 'rank0.pth'), load(work, 'rank1.pth')
    init = load(work, 'rank0_init.pth')
    assert w0.keys() == w1.keys() == init.keys()
    for key in w0:
        assert torch.equal(w0[key], w1[key]), key
    for part in ('generator.', 'disc.'):
        moved = [k for k in w0 if k.startswith(part)
                 and w0[k].is_floating_point()
                 and not torch.equal(w0[k], init[k])]
        assert moved, f'{part} did not train'
    facts = [json.load(open(osp.join(work, f'rank{r}_facts.json')))
             for r in (0, 1)]
    for f in facts:
        assert f['teacher_params'] > 0
        assert f['teacher_grads'] == f['teacher_requires_grad'] == 0
        assert f['teacher_in_optimizer'] == 0
    for step0, step1 in zip(facts[0]['samples'], facts[1]['samples']):
        assert not set(step0) & set(step1)  # disjoint shards
    # the prior loss is cut after iteration 2 (PriorLossScheduleHook)
    for f in facts:
        assert [('loss_prior' in t) for t in f['terms']] == [
            i < 2 for i in range(len(f['terms']))]
        assert all('loss_rec' in t and 'loss_d' in t for t in f['terms'])
    return [a + b for a, b in zip(facts[0]['samples'], facts[1]['samples'])]


def test_det_ddp_ranks_equal_and_match_one_process_with_twice_the_batch(
        tiny_data, tmp_path):
    """2 ranks x batch 2 == 1 process x batch 4 on the same samples.

    SGD instead of Adam for this comparison: Adam's first steps are
    sign-like, so float32 rounding noise in near-zero gradients (different
    summation order under all-reduce) would decide weight jumps of lr. With
    SGD the rounding noise (amplified by region normalisation) moves the
    weights by about lr x 1.5e-3 over 4 steps, hence lr = 1e-3.
    """
    extra = f'optim_wrapper = dict(generator=dict(optimizer={SGD!r}), ' \
            f'disc=dict(optimizer={SGD!r}))\n'
    cfg = write_config(tmp_path / 'det.py', 'det', 4, extra)
    ddp, single = str(tmp_path / 'ddp'), str(tmp_path / 'single')
    proc = run_cmd(
        ['bash', osp.join(TOOLS, 'dist_train.sh'), cfg, '2', '--work-dir',
         ddp, '--cfg-options', *data_opts(tiny_data),
         'train_dataloader.batch_size=2'], env=tool_env(), timeout=600)
    samples = check_ranks(ddp, proc.stdout + proc.stderr)
    proc = run_cmd(
        [sys.executable, osp.join(TOOLS, 'train.py'), cfg, '--work-dir',
         single, '--cfg-options', *data_opts(tiny_data),
         'train_dataloader.batch_size=4'], env=tool_env(), timeout=600)
    one = load(single, 'rank0.pth')
    facts = json.load(open(osp.join(single, 'rank0_facts.json')))
    assert [sorted(s) for s in facts['samples']] == [
        sorted(s) for s in samples]
    both, init = load(ddp, 'rank0.pth'), load(ddp, 'rank0_init.pth')
    moved = max(float((v - init[k]).abs().max()) for k, v in one.items()
                if v.is_floating_point())
    assert moved > 1e-3  # the 1e-5 agreement below is not vacuous
    for key, value in one.items():
        if value.is_floating_point():
            assert torch.allclose(both[key], value, rtol=0, atol=1e-5), key
        else:
            assert torch.equal(both[key], value), key


def test_prob_ddp_through_slurm_train_sh(tiny_data, tmp_path):
    """tools/slurm_train.sh with a fake srun that starts the tasks with
    SLURM_* variables: prob SPN (K=2, Adam), 2 ranks stay identical."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(
        '#!/usr/bin/env bash\n'
        'printf "%s\\n" "$@" > "$SRUN_LOG"\n'
        'n=1\n'
        'while [[ $# -gt 0 ]]; do case "$1" in\n'
        '  -p) shift 2;; --ntasks=*) n="${1#--ntasks=}"; shift;;\n'
        '  -*) shift;; *) break;; esac; done\n'
        'pids=()\n'
        'for ((r = 0; r < n; r++)); do\n'
        '  SLURM_PROCID=$r SLURM_LOCALID=$r SLURM_NTASKS=$n '
        'SLURM_NODELIST=node1 "$@" > "$SRUN_LOG.rank$r" 2>&1 &\n'
        '  pids+=($!); done\n'
        'rc=0; for p in "${pids[@]}"; do wait "$p" || rc=1; done; exit $rc\n')
    scontrol = bin_dir / 'scontrol'
    scontrol.write_text('#!/usr/bin/env bash\necho 127.0.0.1\n')
    for f in (srun, scontrol):
        f.chmod(f.stat().st_mode | stat.S_IEXEC)
    cfg = write_config(tmp_path / 'prob.py', 'prob', 3)
    work = str(tmp_path / 'slurm work')  # a space: arguments stay quoted
    log = str(tmp_path / 'srun.log')
    env = tool_env()
    env.update(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
               SRUN_LOG=log, GPUS='2', GPUS_PER_NODE='2',
               MASTER_PORT=env['PORT'])
    run_cmd(['bash', osp.join(TOOLS, 'slurm_train.sh'), 'part', 'job', cfg,
             work, '--cfg-options', *data_opts(tiny_data),
             'train_dataloader.batch_size=1'], env=env, timeout=600)
    args = open(log).read().splitlines()
    assert args[:2] == ['-p', 'part'] and '--ntasks=2' in args
    assert '--job-name=job' in args and '--gres=gpu:2' in args
    assert cfg in args and f'--work-dir={work}' in args
    assert '--launcher=slurm' in args and 'train_dataloader.batch_size=1' in args
    rank_logs = open(log + '.rank0').read()
    check_ranks(work, rank_logs)
    assert 'loss_div:' in rank_logs and 'loss_kl:' in rank_logs


def _tensors_equal(a, b, where=''):
    """Nested checkpoint structures equal, tensors bit for bit."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _tensors_equal(a[k], b[k], f'{where}.{k}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _tensors_equal(x, y, f'{where}[{i}]')
    else:
        assert a == b, where


def test_killed_and_resumed_run_is_bit_identical_to_an_uninterrupted_one(
        tiny_data, tmp_path):
    """SIGKILL after the iteration-2 checkpoint, --resume, compare with an
    uninterrupted run: weights, Adam state, LR and schedule bit-identical."""
    extra = ('randomness = dict(seed=7, deterministic=True)\n'
             "param_scheduler = [dict(type='MultiStepLR', by_epoch=False, "
             'milestones=[3], gamma=0.1)]\n')
    cfg = write_config(tmp_path / 'det.py', 'det', 5, extra)
    opts = ['--cfg-options', *data_opts(tiny_data),
            'default_hooks.checkpoint.interval=2']
    full, cut = str(tmp_path / 'full'), str(tmp_path / 'cut')
    run_cmd([sys.executable, osp.join(TOOLS, 'train.py'), cfg, '--work-dir',
             full, *opts], env=tool_env(), timeout=600)

    # the same config + a pause after iteration 2 (hooks change no numbers)
    cfg_cut = write_config(
        tmp_path / 'det_cut.py', 'det', 5,
        extra + "custom_hooks = [dict(type='SleepAfterIterHook', at_iter=2, "
        'seconds=120)]\n')
    env = dict(os.environ, **tool_env())
    env['PYTHONPATH'] = os.pathsep.join([REPO_ROOT, TESTS])
    proc = subprocess.Popen(
        [sys.executable, osp.join(TOOLS, 'train.py'), cfg_cut, '--work-dir',
         cut, *opts], cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    ckpt = osp.join(cut, 'iter_2.pth')
    deadline = time.time() + 300
    while not (osp.isfile(ckpt) and osp.isfile(
            osp.join(cut, 'last_checkpoint'))) and time.time() < deadline:
        assert proc.poll() is None, 'training exited before a checkpoint'
        time.sleep(0.2)
    time.sleep(1.0)  # the checkpoint write is atomic; let it finish
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not glob.glob(osp.join(cut, 'iter_4.pth'))
    resumed = run_cmd([sys.executable, osp.join(TOOLS, 'train.py'), cfg,
                       '--work-dir', cut, '--resume', *opts],
                      env=tool_env(), timeout=600)
    log = resumed.stdout + resumed.stderr
    assert re.search(r'Iter\(train\) \[\s*3/5\]', log)
    assert not re.search(r'Iter\(train\) \[\s*1/5\]', log)
    a, b = load(full, 'iter_5.pth'), load(cut, 'iter_5.pth')
    for key in ('state_dict', 'optimizer', 'param_schedulers'):
        _tensors_equal(a[key], b[key], key)
    assert a['meta']['iter'] == b['meta']['iter'] == 5
    lr = a['optimizer']['generator']['param_groups'][0]['lr']
    assert lr == pytest.approx(1e-5)  # milestone 3 passed in both


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(
        tiny_data, tmp_path):
    extra = "custom_hooks = [dict(type='InjectNaNHook', at_iter=2)]\n"
    cfg = write_config(tmp_path / 'det.py', 'det', 5, extra)
    work = str(tmp_path / 'work')
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([REPO_ROOT, TESTS]))
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'train.py'), cfg, '--work-dir', work,
         '--cfg-options', *data_opts(tiny_data),
         'default_hooks.checkpoint.interval=1'],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert 'Traceback' not in out
    msg = re.search(r'Training stopped: non-finite loss at iteration 3 '
                    r'\(rank 0: ([^)]*)\)', out)
    assert msg, out[-3000:]
    assert 'loss_rec=nan' in msg.group(1)
    saved = sorted(osp.basename(p)
                   for p in glob.glob(osp.join(work, 'iter_*.pth')))
    assert saved == ['iter_1.pth', 'iter_2.pth']
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('iter_2.pth')
    state = load(work, 'iter_2.pth')['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values()
               if v.is_floating_point())
