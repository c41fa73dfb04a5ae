"""tools/dataset_converters: manifests, file lists, split tool, checker."""
import hashlib
import json
import os.path as osp
import shutil

import pytest
from utils import REPO_ROOT, load_script, run_tool

from test_datasets.spn_data_fixtures import photo, write_masks, write_rgb

TOOLS = osp.join(REPO_ROOT, 'tools', 'dataset_converters')


def load_tool(name):
    return load_script(osp.join(TOOLS, f'{name}.py'), f'spn_tool_{name}')


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy_tools')
    for i in range(12):
        write_rgb(str(root / 'imgs' / f'{i:03d}.jpg'), photo(i, (70, 90)))
    write_masks(str(root / 'masks'), 20, size=(120, 120))
    return root


def _make(tool, root, out, seed, *extra):
    return tool.main([
        '--img-root',
        str(root / 'imgs'), '--mask-root',
        str(root / 'masks'), '--size', '64', '--seed',
        str(seed), '--dataset', 'toy', '--out',
        str(out), *extra
    ])


def _sha1(path):
    with open(path, 'rb') as f:
        return hashlib.sha1(f.read()).hexdigest()


def test_make_eval_manifest_reproducible(toy, tmp_path, capsys):
    tool = load_tool('make_eval_manifest')
    a, b, c = tmp_path / 'a.jsonl', tmp_path / 'b.jsonl', tmp_path / 'c.jsonl'
    assert _make(tool, toy, a, 0, '--unused-masks-out',
                 str(tmp_path / 'unused.txt')) == 0
    printed = capsys.readouterr().out
    assert f'manifest_hash: {_sha1(a)}' in printed
    assert _make(tool, toy, b, 0) == 0
    assert _make(tool, toy, c, 1) == 0
    assert a.read_bytes() == b.read_bytes()  # same seed: byte-identical
    assert a.read_bytes() != c.read_bytes()  # other seed: different
    lines = a.read_text().splitlines()
    header = json.loads(lines[0])['header']
    recs = [json.loads(x) for x in lines[1:]]
    assert len(recs) == 12 == header['num_images']
    assert sum(header['bucket_counts'].values()) == 12
    used = {r['mask'] for r in recs}
    assert len(used) == 12  # without replacement: 12 of 20 masks
    unused = (tmp_path / 'unused.txt').read_text().split()
    assert len(unused) == 8 and not used & set(unused)
    # --num-images keeps the first N (the paper's "first 12,000")
    d = tmp_path / 'd.jsonl'
    assert _make(tool, toy, d, 0, '--num-images', '5') == 0
    assert [json.loads(x)['img'] for x in d.read_text().splitlines()[1:]
            ] == [f'{i:03d}.jpg' for i in range(5)]


def test_verify_detects_modified_image(toy, tmp_path, capsys):
    tool = load_tool('make_eval_manifest')
    root = tmp_path / 'copy'
    shutil.copytree(toy, root)
    m = tmp_path / 'm.jsonl'
    assert _make(tool, root, m, 0) == 0
    verify = [
        '--verify',
        str(m), '--img-root',
        str(root / 'imgs'), '--mask-root',
        str(root / 'masks')
    ]
    assert tool.main(verify) == 0
    assert 'OK' in capsys.readouterr().out
    img = root / 'imgs' / '003.jpg'
    img.write_bytes(img.read_bytes() + b'\0')
    assert tool.main(verify) == 1
    out = capsys.readouterr().out
    assert 'img_sha1_mismatch: 1' in out and 'FAILED' in out
    (root / 'masks' /
     json.loads(m.read_text().splitlines()[1])['mask']).unlink()
    assert tool.main(verify) == 1
    assert 'missing: 1' in capsys.readouterr().out


@pytest.mark.slow
def test_make_eval_manifest_cli(toy, tmp_path):
    out = tmp_path / 'cli.jsonl'
    proc = run_tool('dataset_converters/make_eval_manifest.py', [
        '--img-root',
        str(toy / 'imgs'), '--mask-root',
        str(toy / 'masks'), '--size', '64', '--out',
        str(out)
    ])
    assert f'manifest_hash: {_sha1(out)}' in proc.stdout


def test_split_celebahq_seeded(tmp_path):
    tool = load_tool('split_celebahq')
    meta = tmp_path / 'meta'
    meta.mkdir()
    (meta / 'all.txt').write_text(''.join(f'{i}.jpg\n' for i in range(50)))
    assert tool.main(['--root', str(tmp_path), '--num-test', '7']) == 0
    train = (meta / 'train.txt').read_text().split()
    test = (meta / 'test.txt').read_text().split()
    assert len(train) == 43 and len(test) == 7 and not set(train) & set(test)
    assert test == sorted(test, key=lambda s: int(s.split('.')[0]))
    assert tool.main(['--root', str(tmp_path), '--num-test', '7']) == 0
    assert (meta / 'test.txt').read_text().split() == test
    assert tool.main(
        ['--root', str(tmp_path), '--num-test', '7', '--seed', '1']) == 0
    assert (meta / 'test.txt').read_text().split() != test


def test_build_mask_group_lists(toy, tmp_path):
    tool = load_tool('build_file_lists')
    assert tool.main([
        'masks', '--root',
        str(toy / 'masks'), '--out-dir',
        str(tmp_path), '--groups', '0', '0.2', '0.4', '0.6'
    ]) == 0
    total = 0
    for name in ('0.0-0.2', '0.2-0.4', '0.4-0.6'):
        items = (tmp_path / f'masks_{name}.txt').read_text().split()
        total += len(items)
    assert total == 20
    assert len((tmp_path / 'masks_all.txt').read_text().split()) == 20


def test_check_dataset_counts(toy, tmp_path, capsys):
    tool = load_tool('check_dataset')
    root = tmp_path / 'copy'
    shutil.copytree(toy, root)
    (root / 'imgs' / '001.jpg').write_bytes(b'not an image')
    lst = tmp_path / 'list.txt'
    lst.write_text('000.jpg\n001.jpg\nmissing.jpg\n')
    report = tmp_path / 'report.json'
    rc = tool.main([
        '--img-root',
        str(root / 'imgs'), '--img-list',
        str(lst), '--mask-root',
        str(root / 'masks'), '--report',
        str(report)
    ])
    out = capsys.readouterr().out
    assert rc == 1
    assert '[images] total 3, missing 1, corrupt 1' in out
    assert '[masks] total 20, missing 0, corrupt 0' in out
    rep = json.loads(report.read_text())
    assert rep['images']['missing'] == [str(root / 'imgs' / 'missing.jpg')]
    assert 0.05 < rep['masks']['mean_hole_ratio'] < 0.6
    assert tool.main(['--mask-root', str(root / 'masks')]) == 0
    # inverted masks are flagged
    assert tool.main(['--mask-root', str(root / 'masks'), '--invert']) == 0
    assert 'invert=True' in capsys.readouterr().out


def test_check_dataset_from_config(tmp_path, capsys, monkeypatch):
    from test_datasets.spn_data_fixtures import make_all_layouts
    make_all_layouts(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    load_tool('build_file_lists').main(
        ['paris', '--root', 'data/paris_streetview'])
    tool = load_tool('check_dataset')
    cfg = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets',
                   'paris_streetview.py')
    rc = tool.main(['--config', cfg])
    out = capsys.readouterr().out
    # no manifest yet: reported, not a crash
    assert rc == 1 and 'eval_manifest_seed0.jsonl' in out
    assert '[train images] total 3, missing 0, corrupt 0' in out
    assert 'train mask set' in out and 'total 12' in out
