"""Distributed set-up that also works on CPU-only machines.

mmengine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device``
unconditionally, and the Runner gives DDP ``device_ids=[rank]``; both fail
without CUDA (mmengine issue #1425-style CPU DDP limits). When no GPU is present,
:func:`setup_cpu_distributed` creates the **gloo** process group itself (the
Runner then skips ``init_dist``), switches ``env_cfg.dist_cfg.backend`` to
gloo and sets ``model_wrapper_cfg.device_ids=None``. Configs keep ``nccl`` for
GPUs.
"""
import os
import subprocess
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config


def _env_from_slurm(port: Optional[int]) -> None:
    """Fill RANK/WORLD_SIZE/LOCAL_RANK/MASTER_* from SLURM variables."""
    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    node_list = os.environ['SLURM_NODELIST']
    addr = subprocess.getoutput(
        f'scontrol show hostname {node_list} | head -n1')
    os.environ.setdefault('MASTER_PORT', str(port or 29500))
    os.environ.setdefault('MASTER_ADDR', addr)
    os.environ['WORLD_SIZE'] = str(ntasks)
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    os.environ['RANK'] = str(proc_id)


def _env_from_mpi() -> None:
    """Fill RANK/WORLD_SIZE/LOCAL_RANK from Open MPI variables."""
    os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
    os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
    os.environ['LOCAL_RANK'] = os.environ.get(
        'OMPI_COMM_WORLD_LOCAL_RANK', '0')
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29500')


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Prepare a CPU (gloo) distributed run when CUDA is unavailable.

    Args:
        cfg (Config): The run config; modified in place.
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.

    Returns:
        bool: True if a gloo process group was created here.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher == 'slurm':
        _env_from_slurm(cfg.get('env_cfg', {}).get('dist_cfg', {}).get(
            'port'))
    elif launcher == 'mpi':
        _env_from_mpi()
    elif launcher != 'pytorch':
        raise ValueError(f'Unsupported launcher {launcher!r}: expected one '
                         'of none, pytorch, slurm, mpi')
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher {launcher} needs the environment variables '
            f'{missing}; start the run with tools/dist_train.sh (torchrun) '
            'or srun/mpirun.')
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    wrapper.pop('output_device', None)
    cfg.model_wrapper_cfg = wrapper
    if cfg.get('sync_bn'):
        raise ValueError('sync_bn is not supported on CPU distributed runs '
                         '(SyncBatchNorm needs GPU modules); remove '
                         'cfg.sync_bn')
    return True


def describe_distributed() -> str:
    """One log line with backend / world size / rank of the current group."""
    if not dist.is_available() or not dist.is_initialized():
        return 'distributed: off'
    return (f'distributed: backend={dist.get_backend()} '
            f'world_size={dist.get_world_size()} rank={dist.get_rank()}')
