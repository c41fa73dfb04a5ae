"""Train an SPN (or any mmagic) model: ``python tools/train.py CONFIG``.

Same command line as mmagic's ``tools/train.py``. On top of it: ``import
spn_mm`` (stack fixes, registration), CPU distributed runs (gloo, see
:mod:`spn_mm.utils.dist_utils`), up-front dataset checks
(:mod:`spn_mm.datasets.preflight`) and one-line user errors with exit
status 1 (``--debug`` for the traceback; docs/reliability.md).
"""
import argparse
import logging
import os.path as osp


import spn_mm  # noqa: E402,F401  (patches + registration before parsing)
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from spn_mm.apis.model_loader import load_config  # noqa: E402
from spn_mm.datasets import (preflight_dataloader,  # noqa: E402
                             preflight_work_dir)
from spn_mm.engine.hooks import NonFiniteLossError  # noqa: E402
from spn_mm.utils import config_errors, exit_on_user_error  # noqa: E402
from spn_mm.utils.runner_args import parse_runner_args  # noqa: E402
from spn_mm.engine.optim import amp_optim_cfg  # noqa: E402
from spn_mm.utils.dist_utils import (describe_distributed,  # noqa: E402
                                     setup_cpu_distributed)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train an SPN model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work_dir '
        'automatically')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed-precision training: fp16 + GradScaler on CUDA, bf16 '
        'autocast on CPU')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='enable automatically scaling LR.')
    return parse_runner_args(parser, argv)


def enable_amp(cfg: Config) -> None:
    """Mixed precision for every optim wrapper of ``cfg``: fp16 +
    GradScaler on CUDA, bf16 autocast on CPU (``spn_mm.engine.optim``)."""
    print_log(amp_optim_cfg(cfg, cuda=torch.cuda.is_available()), 'current')


def main(argv=None) -> None:
    """Run; user errors print one line and exit 1 (``--debug``: raise)."""
    exit_on_user_error(run, parse_args(argv))


def run(args: argparse.Namespace) -> None:
    """The tool behind :func:`main`."""
    cfg = load_config(args.config)  # one-line errors for a bad file
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        enable_amp(cfg)
    if args.resume:
        cfg.resume = True
    if args.auto_scale_lr:
        if 'auto_scale_lr' in cfg and 'base_batch_size' in cfg.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        else:
            raise RuntimeError('Can not find "auto_scale_lr" or '
                               '"auto_scale_lr.base_batch_size" in your '
                               'configuration file.')

    preflight_work_dir(cfg.work_dir)
    preflight_dataloader(cfg, 'train_dataloader')
    if cfg.get('val_cfg'):
        preflight_dataloader(cfg, 'val_dataloader')
    setup_cpu_distributed(cfg, args.launcher)
    with config_errors(args.config):  # bad model settings: one line
        runner = Runner.from_cfg(cfg)
    print_log(describe_distributed(), 'current', logging.INFO)
    print_log(f'Working directory: {cfg.work_dir}', 'current', logging.INFO)
    try:
        runner.train()
    except NonFiniteLossError as err:  # NonFiniteLossHook: a clear stop
        print_log(f'Training stopped: {err}', 'current', logging.ERROR)
        raise SystemExit(1)
    print_log(f'Log and checkpoints saved in {cfg.work_dir}', 'current',
              logging.INFO)


if __name__ == '__main__':
    main()
