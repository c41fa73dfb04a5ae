"""spn_mm.utils.runner_args: the options tools/train.py and tools/test.py
share, and the LOCAL_RANK rule."""
import argparse
import os

import pytest

from spn_mm.utils.runner_args import parse_runner_args


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    return parser


def test_shared_options(monkeypatch):
    # setenv first, so that the teardown also removes what the code sets
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.delenv('LOCAL_RANK')
    args = parse_runner_args(_parser(), [
        'a.py', '--cfg-options', 'model.x=1', 'train_cfg.max_iters=5',
        '--launcher', 'pytorch', '--local-rank', '3', '--debug'])
    assert args.config == 'a.py'
    assert args.cfg_options == {'model.x': 1, 'train_cfg.max_iters': 5}
    assert (args.launcher, args.local_rank, args.debug) == ('pytorch', 3,
                                                            True)
    assert os.environ['LOCAL_RANK'] == '3'


def test_defaults_and_launcher_env_wins(monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '1')  # set by torchrun
    args = parse_runner_args(_parser(), ['a.py', '--local_rank', '0'])
    assert (args.cfg_options, args.launcher, args.debug) == (None, 'none',
                                                             False)
    assert os.environ['LOCAL_RANK'] == '1'


def test_unknown_launcher_is_an_argparse_error(monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')
    with pytest.raises(SystemExit):
        parse_runner_args(_parser(), ['a.py', '--launcher', 'ssh'])
