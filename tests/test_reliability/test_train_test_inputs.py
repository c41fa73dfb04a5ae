"""Catalogue rows of tools/train.py and tools/test.py (docs/reliability.md).

The up-front checks (config, checkpoint, data_root, file list, manifest,
work dir) fail before any Runner is built, so they run through the tools'
``main(argv)`` in-process; the errors raised while data is loaded (a corrupt
file in the middle of a dataset) and the ``skip_bad_files`` switch run as
real subprocesses.
"""
import json
import os
import os.path as osp

import cv2
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from rel_fixtures import TESTS_DIR, cli

from spn_mm.registry import MODELS
from utils import load_script, make_places2_layout, make_tiny_dataset

AOT = osp.join(TESTS_DIR, 'configs', 'aot_tiny.py')
PROB_EVAL = osp.join(TESTS_DIR, 'configs', 'spn_tiny_prob_eval.py')


TRAIN = load_script('tools/train.py', 'rel_train_tool')
TEST = load_script('tools/test.py', 'rel_test_tool')


def _roots(root):
    return [f'{k}_dataloader.dataset.data_root={root}'
            for k in ('train', 'val', 'test')]


def _corrupt(path):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 3])


@pytest.fixture(scope='module')
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp('rel_tools')
    e = dict(root=str(root))
    e['good'] = make_tiny_dataset(str(root / 'good'), n_train=6, n_val=3)
    # 5 of 6 training images corrupt: any batch meets one
    e['bad'] = make_tiny_dataset(str(root / 'bad'), n_train=6, n_val=3)
    for i in range(1, 6):
        _corrupt(osp.join(e['bad'], 'train', f'{i:03d}.png'))
    _corrupt(osp.join(e['bad'], 'val', '001.png'))
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(Config.fromfile(AOT).model)
    state = model.state_dict()
    e['ckpt'] = str(root / 'aot.pth')
    torch.save({'state_dict': state, 'meta': {}}, e['ckpt'])
    # tools/test.py refuses a checkpoint of another model before testing
    with DefaultScope.overwrite_default_scope('mmagic'):
        prob = MODELS.build(Config.fromfile(PROB_EVAL).model)
    e['prob_ckpt'] = str(root / 'prob.pth')
    torch.save({'state_dict': prob.state_dict(), 'meta': {}},
               e['prob_ckpt'])
    nan = {k: v.clone() for k, v in state.items()}
    key = next(k for k, v in nan.items() if v.is_floating_point())
    nan[key].view(-1)[0] = float('inf')
    e['nan'] = str(root / 'nan.pth')
    torch.save({'state_dict': nan, 'meta': {}}, e['nan'])
    e['truncated'] = str(root / 'truncated.pth')
    open(e['truncated'], 'wb').write(open(e['ckpt'], 'rb').read()[:200])
    # a file list with a missing entry (line 3)
    with open(osp.join(e['good'], 'train.txt'), 'w') as f:
        f.write('000.png\n001.png\nmissing.png\n')
    # Places2 layout with a manifest; one copy has a changed mask
    e['p2'] = make_places2_layout(str(root / 'p2'), n_train=2, n_val=3)
    e['p2_changed'] = make_places2_layout(
        str(root / 'p2c'), n_train=2, n_val=3)
    mpath = osp.join(e['p2_changed']['mask_root'], '00001.png')
    m = cv2.imread(mpath, cv2.IMREAD_GRAYSCALE)
    m[0, 0] = 255 - m[0, 0]
    cv2.imwrite(mpath, m)
    return e


def _manifest_opts(p2, ann='meta/eval_manifest_seed0.jsonl'):
    return [
        f'test_dataloader.dataset.data_root={p2["data_root"]}',
        f'test_dataloader.dataset.mask_root={p2["mask_root"]}',
        f'test_dataloader.dataset.ann_file={ann}',
        'test_dataloader.dataset.data_prefix.gt=val_256'
    ]


def _train(env, *opts, extra=()):
    return [AOT, '--work-dir', osp.join(env['root'], 'w'), *extra,
            '--cfg-options', *_roots(env['good']), *opts]


def _test(env, ckpt, *opts, config=AOT):
    return [config, ckpt, '--work-dir', osp.join(env['root'], 'w'),
            '--cfg-options', *(_roots(env['good']) if config == AOT else []),
            *opts]


CASES = {
    'train-config-missing': (TRAIN, lambda e: ['nope.py'],
                             ['config file not found', 'nope.py']),
    'train-data-root-missing': (
        TRAIN, lambda e: _train(e, 'train_dataloader.dataset.data_root='
                                '/nonexistent/data'),
        ['train_dataloader.dataset.data_root', '/nonexistent/data']),
    'train-image-folder-missing': (
        TRAIN, lambda e: _train(e, 'train_dataloader.dataset.data_prefix.gt='
                                'nothere'),
        ['train_dataloader.dataset.data_prefix', 'nothere']),
    'train-file-list-missing': (
        TRAIN, lambda e: _train(e, 'train_dataloader.dataset.ann_file='
                                'nolist.txt'),
        ['train_dataloader.dataset.ann_file', 'nolist.txt']),
    'train-file-list-entry-missing': (
        TRAIN, lambda e: _train(e, 'train_dataloader.dataset.ann_file='
                                'train.txt'),
        ['line 3', 'missing.png']),
    'train-work-dir-is-a-file': (
        TRAIN, lambda e: [AOT, '--work-dir', e['ckpt'], '--cfg-options',
                          *_roots(e['good'])],
        ['work_dir', 'not a folder']),
    'test-config-head-widths': (  # found while the model is built
        TEST, lambda e: _test(
            e, e['ckpt'], *_manifest_opts(e['p2']),
            'model.encdec.prior_learner.head_channels=[2,2,2]',
            config=PROB_EVAL),
        ['spn_tiny_prob_eval.py', 'head_channels [2, 2, 2] must equal the '
         'teacher tap channels [1, 1, 1]']),
    'train-config-unknown-type': (
        TRAIN, lambda e: _train(e, 'model.disc.type=NoSuchDisc'),
        ['aot_tiny.py', 'NoSuchDisc']),
    'test-config-unknown-type': (
        TEST, lambda e: _test(e, e['ckpt'], 'model.encdec.type=NoSuchNet'),
        ['aot_tiny.py', 'NoSuchNet']),
    'train-work-dir-cannot-create': (  # a folder below a file
        TRAIN, lambda e: [AOT, '--work-dir', osp.join(e['ckpt'], 'sub'),
                          '--cfg-options', *_roots(e['good'])],
        ['work_dir: cannot create', 'aot.pth']),
    'test-ckpt-missing': (TEST, lambda e: _test(e, 'none.pth'),
                          ['checkpoint file not found', 'none.pth']),
    'test-ckpt-truncated': (TEST, lambda e: _test(e, e['truncated']),
                            ['truncated.pth', 'truncated or not a torch']),
    'test-ckpt-foreign': (TEST, lambda e: _test(e, AOT),
                          ['aot_tiny.py', 'truncated or not a torch']),
    'test-ckpt-nan': (TEST, lambda e: _test(e, e['nan']),
                      ['nan.pth', 'NaN/inf']),
    'test-manifest-missing': (
        TEST, lambda e: _test(e, e['ckpt'], *_manifest_opts(
            e['p2'], 'meta/none.jsonl'), config=PROB_EVAL),
        ['test_dataloader.dataset.ann_file', 'none.jsonl']),
    'test-manifest-checksum': (
        TEST, lambda e: _test(e, e['ckpt'], *_manifest_opts(
            e['p2_changed']), config=PROB_EVAL),
        ['record 1', '00001.png', 'another checksum']),
    'test-val-folder-missing': (
        TEST, lambda e: _test(e, e['ckpt'], 'test_dataloader.dataset.'
                              'data_prefix.mask=nomasks'),
        ['test_dataloader.dataset.data_prefix', 'nomasks']),
    'test-lpips-weights-missing': (
        TEST, lambda e: _test(e, e['prob_ckpt'], *_manifest_opts(e['p2']),
                              'test_evaluator.metrics.0.fid_cfg=None',
                              'test_evaluator.metrics.0.lpips_cfg.'
                              'backbone_path=/nope/alexnet.pth',
                              config=PROB_EVAL),
        ['lpips_cfg', '/nope/alexnet.pth']),
}


@pytest.mark.parametrize('row', sorted(CASES))
def test_tool_user_error_one_line(row, env, capsys):
    tool, build, needles = CASES[row]
    with pytest.raises(SystemExit) as info:
        tool.main(build(env))
    msg = str(info.value.code)
    assert msg.startswith('error: ') and '\n' not in msg, msg
    for n in needles:
        assert n in msg, (n, msg)


def test_work_dir_not_writable(env, monkeypatch):
    """A work dir the OS refuses to write to (simulated: the tests run as
    root, who may write anywhere) is refused up front."""
    work = osp.join(env['root'], 'readonly_work')
    os.makedirs(work, exist_ok=True)
    real_access = os.access
    monkeypatch.setattr(
        os, 'access', lambda path, mode, *a, **k: False
        if osp.abspath(path) == work else real_access(path, mode, *a, **k))
    with pytest.raises(SystemExit) as info:
        TRAIN.main([AOT, '--work-dir', work, '--cfg-options',
                    *_roots(env['good'])])
    msg = str(info.value.code)
    assert msg == f'error: work_dir: folder {work!r} is not writable', msg


def test_tool_debug_shows_traceback(env):
    from spn_mm.datasets import DatasetCheckError
    with pytest.raises(DatasetCheckError):
        TRAIN.main(_train(env, 'train_dataloader.dataset.data_root=/nonexist',
                          extra=('--debug', )))


def _bad_train_opts(env, work):
    return [AOT, '--work-dir', osp.join(env['root'], work), '--cfg-options',
            *_roots(env['good']),
            f'train_dataloader.dataset.data_root={env["bad"]}',
            'train_cfg.max_iters=1', 'train_cfg.val_interval=100']


def test_train_corrupt_file_named(env):
    """Without the switch: one line naming the file, its index and the
    switch (the Runner is built in-process; the data error is raised by
    the first batch)."""
    with pytest.raises(SystemExit) as info:
        TRAIN.main(_bad_train_opts(env, 'w1'))
    msg = str(info.value.code)
    assert msg.startswith('error: SPNImageDataset sample ') and '\n' not in msg
    assert 'is not a readable image' in msg and 'skip_bad_files' in msg
    assert osp.join(env['bad'], 'train') in msg


def test_train_skip_bad_files_counted(env):
    """``skip_bad_files=True``: training runs (real subprocess) and the log
    counts every skipped file."""
    proc = cli('train.py', _bad_train_opts(env, 'w2') +
               ['train_dataloader.dataset.skip_bad_files=True'])
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'Traceback' not in out
    assert 'skip_bad_files: skipped SPNImageDataset sample' in out
    assert '(1 skipped so far)' in out
    assert osp.isfile(osp.join(env['root'], 'w2', 'iter_1.pth'))


def test_test_tool_corrupt_val_file_named(env):
    with pytest.raises(SystemExit) as info:
        TEST.main([
            AOT, env['ckpt'], '--work-dir',
            osp.join(env['root'], 'w3'), '--cfg-options',
            *_roots(env['bad'])
        ])
    msg = str(info.value.code)
    assert msg.startswith('error: SPNImageDataset sample 1: ')
    assert osp.join('val', '001.png') in msg and '\n' not in msg
    assert 'not a readable image' in msg


def test_test_tool_allow_missing_records_skipped_pairs(env, tmp_path):
    """A manifest pair whose image is gone: refused by default (one line
    naming the file and the index); with ``allow_missing=True`` the other
    pairs are scored, the table shows the N scored and the metrics JSON
    lists the skipped pair."""
    import glob

    from test_apis.spn_api_fixtures import make_tiny_checkpoint
    p2 = make_places2_layout(str(tmp_path / 'p2m'), n_train=2, n_val=3)
    gone = sorted(os.listdir(osp.join(p2['data_root'], 'val_256')))[2]
    os.remove(osp.join(p2['data_root'], 'val_256', gone))
    ckpt = make_tiny_checkpoint(str(tmp_path / 'prob.pth'), 'prob')
    base = [
        PROB_EVAL, ckpt, '--work-dir',
        str(tmp_path / 'w'), '--cfg-options', *_manifest_opts(p2),
        'test_evaluator.metrics.0.fid_cfg=None',
        'test_evaluator.metrics.0.lpips_cfg=None'
    ]
    with pytest.raises(SystemExit) as info:
        TEST.main(base)
    msg = str(info.value.code)
    assert 'record 2' in msg and gone in msg and '\n' not in msg
    out = str(tmp_path / 'metrics.json')
    TEST.main(base[:2] + ['--out', out] + base[2:] +
              ['test_dataloader.dataset.allow_missing=True'])
    with open(out) as f:
        metrics = json.load(f)
    assert metrics['skipped_pairs'] == [
        dict(index=2, file=osp.join(p2['data_root'], 'val_256', gone),
             reason='does not exist')
    ]
    assert metrics['All/count'] == 2
    assert metrics['skipped_pairs/count'] == 1
    logs = glob.glob(str(tmp_path / 'w' / '*' / '*.log'))
    text = ''.join(open(p).read() for p in logs)
    assert 'N=2 scored, 1 skipped (allow_missing)' in text
