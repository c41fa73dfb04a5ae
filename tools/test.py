"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

Same command line as mmagic's ``tools/test.py``, with spn_mm's stack fixes
(checkpoints load under torch >= 2.6) and CPU distributed support.
The checkpoint (truncated, foreign, NaN/inf weights; generator weights that
do not fit the config's generator) and the test data
(:mod:`spn_mm.datasets.preflight`) are checked; user errors print
one line and exit 1 (``--debug`` for the traceback; docs/reliability.md).
``--save-images DIR`` makes every ``SPNInpaintingMetric`` of the test
evaluator write the images it scored to DIR (see
``spn_mm/evaluation/prediction_writer.py``).
"""
import argparse
import logging
import os.path as osp


import spn_mm  # noqa: E402,F401
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.model import is_model_wrapper  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from spn_mm.apis import (check_generator_state, read_checkpoint,  # noqa: E402
                         split_generator_state)
from spn_mm.apis.model_loader import load_config  # noqa: E402
from spn_mm.datasets import (preflight_dataloader,  # noqa: E402
                             preflight_work_dir)
from spn_mm.engine.hooks import SaveMetricsHook  # noqa: E402
from spn_mm.utils import config_errors, exit_on_user_error  # noqa: E402
from spn_mm.utils.runner_args import parse_runner_args  # noqa: E402
from spn_mm.utils.dist_utils import (describe_distributed,  # noqa: E402
                                     setup_cpu_distributed)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        type=str,
        help='the file to save metric results (json/yaml/pkl).')
    parser.add_argument(
        '--save-images',
        metavar='DIR',
        help='write the scored predictions (composited, quantised; each of '
        'K samples), ground truth, compositing masks as PNG named by '
        'manifest index, per_image.csv and README.txt to DIR')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    return parse_runner_args(parser, argv)


def set_save_images(cfg: Config, out_dir: str) -> int:
    """Set ``save_images_dir`` on every SPNInpaintingMetric of
    ``cfg.test_evaluator``; returns how many were set (exits when none)."""
    evaluator = cfg.get('test_evaluator', None)
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        metrics = evaluator['metrics']
    else:
        metrics = evaluator
    if isinstance(metrics, dict):
        metrics = [metrics]
    found = [
        m for m in (metrics or [])
        if isinstance(m, dict) and m.get('type') == 'SPNInpaintingMetric'
    ]
    if not found:
        raise SystemExit('--save-images: test_evaluator has no '
                         'SPNInpaintingMetric to save the images it scores')
    for i, m in enumerate(found):
        sub = out_dir if len(found) == 1 else osp.join(
            out_dir, m.get('prefix') or f'metric{i}')
        m['save_images_dir'] = osp.abspath(sub)
    return len(found)


def unwrap_model(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` without its (DDP) model wrappers."""
    while is_model_wrapper(module):
        module = module.module
    return module


def main(argv=None) -> None:
    """Run; user errors print one line and exit 1 (``--debug``: raise)."""
    exit_on_user_error(run, parse_args(argv))


def run(args: argparse.Namespace) -> None:
    """The tool behind :func:`main`."""
    # truncated/foreign/NaN: one line
    state, ckpt_name = read_checkpoint(args.checkpoint)
    cfg = load_config(args.config)  # one-line errors for a bad file
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.save_images:
        set_save_images(cfg, args.save_images)

    preflight_work_dir(cfg.work_dir)
    preflight_dataloader(cfg, 'test_dataloader')
    setup_cpu_distributed(cfg, args.launcher)
    with config_errors(args.config):  # bad model settings: one line
        runner = Runner.from_cfg(cfg)
    # The runner's load_from is not strict: a checkpoint of another config
    # (other widths, det vs prob) would only warn and test random weights,
    # and a DDP-wrapped generator's keys (generator.module.* in the file or in
    # the model) never match. The generator is therefore checked and loaded
    # strictly here; the runner then loads the same file non-strictly.
    generator = getattr(unwrap_model(runner.model), 'generator', None)
    if isinstance(generator, torch.nn.Module):
        generator = unwrap_model(generator)
        gen_state = split_generator_state(state, ckpt_name)[0]
        check_generator_state(generator, gen_state, ckpt_name)
        generator.load_state_dict(gen_state, strict=True)
    print_log(describe_distributed(), 'current', logging.INFO)

    if args.out:
        runner.register_hook(SaveMetricsHook(args.out), 'LOWEST')

    runner.test()


if __name__ == '__main__':
    main()
