"""A corrupt file met inside a DataLoader *worker process* (``num_workers >
0``) still reaches the user as the one-line, file-naming error: torch
re-raises the worker's ``DataFileError`` in the main process with the
worker's traceback in its message, and ``one_line`` keeps the original
error line."""
import copy
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from rel_fixtures import TESTS_DIR

from spn_mm.datasets import DataFileError
from spn_mm.utils import one_line, user_errors
from utils import make_tiny_dataset


def test_worker_error_is_a_user_error_with_the_file(tmp_path):
    root = make_tiny_dataset(str(tmp_path / 'data'), n_train=2, n_val=1)
    bad = osp.join(root, 'train', '001.png')
    with open(bad, 'wb') as f:
        f.write(b'not a png')
    cfg = Config.fromfile(osp.join(TESTS_DIR, 'configs', 'tiny_data.py'))
    loader_cfg = copy.deepcopy(cfg.tiny_train_dataloader)
    loader_cfg.update(num_workers=1, batch_size=2)
    loader_cfg.dataset.data_root = root
    loader_cfg.sampler = dict(type='DefaultSampler', shuffle=False)
    with DefaultScope.overwrite_default_scope('mmagic'):
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        with pytest.raises(user_errors()) as info:
            next(iter(loader))
    err = info.value
    assert isinstance(err, DataFileError)
    assert 'DataLoader worker process' in str(err)  # raised in the worker
    msg = one_line(err)
    assert '\n' not in msg and 'Traceback' not in msg, msg
    assert msg.startswith('SPNImageDataset sample 1: ') and bad in msg, msg
