"""The command-line options ``tools/train.py`` and ``tools/test.py`` share."""
import argparse
import os
from typing import Optional, Sequence

from mmengine.config import DictAction


def parse_runner_args(parser: argparse.ArgumentParser,
                      argv: Optional[Sequence[str]] = None
                      ) -> argparse.Namespace:
    """Add the options of every Runner tool and parse ``argv``.

    Adds ``--cfg-options`` (mmengine ``DictAction``), ``--launcher``,
    ``--local_rank``/``--local-rank`` and ``--debug``; sets the
    ``LOCAL_RANK`` environment variable from ``--local_rank`` when the
    launcher has not set it (``torch.distributed.launch`` passes the
    option, ``torchrun`` the variable).

    Args:
        parser (ArgumentParser): The tool's parser with its own options.
        argv (Sequence[str], optional): Arguments; default ``sys.argv[1:]``.

    Returns:
        Namespace: The parsed arguments.
    """
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of user errors (bad paths, data, '
        'checkpoints), which otherwise print one line and exit 1')
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args
