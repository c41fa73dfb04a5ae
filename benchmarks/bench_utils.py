"""Shared helpers of the SPN benchmarks (not part of the package).

* :func:`machine_header`: machine, CPU flags, thread count, versions;
* :func:`conv_peak`: measured GFLOP/s of a large 3x3 convolution per
  precision / memory format (the machine's practical conv peak);
* :func:`interleaved`: time several configurations round-robin, so that a
  load change on a shared machine hits all of them alike;
* :class:`PeakMemory`: peak RSS (CPU, sampled from ``/proc/self/statm``) or
  ``torch.cuda.max_memory_allocated`` (CUDA) over a block;
* :func:`nnpack_conv2d`: route inference 3x3 convolutions to NNPACK (the
  ``bench_inference.py --nnpack`` probe);
* :func:`write_report`: markdown table on stdout + JSON (``--out``).
"""
import contextlib
import json
import os
import platform
import statistics
import threading
import time
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import torch
import torch.nn.functional as F

from spn_mm.utils.collect_env import collect_env

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: the generator configs the inference benchmarks use: full width, and the
#: tiny test configs of ``--dry-run``
GENERATOR_CONFIGS = dict(
    det=os.path.join(REPO, 'configs', 'spn_places2.py'),
    prob=os.path.join(REPO, 'configs', 'spn_celebahq_prob.py'))
TINY_CONFIGS = dict(
    det=os.path.join(REPO, 'tests', 'configs', 'spn_tiny_det.py'),
    prob=os.path.join(REPO, 'tests', 'configs', 'spn_tiny_prob.py'))

_PAGE = os.sysconf('SC_PAGE_SIZE') if hasattr(os, 'sysconf') else 4096
CPU_FLAGS = ('avx2', 'avx512f', 'avx512_bf16', 'avx512_fp16', 'amx_bf16',
             'amx_tile', 'avx512_vnni', 'avx_vnni')


def cpu_flags() -> List[str]:
    """The SIMD/matrix flags of this CPU that matter for bf16 (Linux)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    have = set(line.split(':', 1)[1].split())
                    return [f for f in CPU_FLAGS if f in have]
    except OSError:
        pass
    return []


def machine_header(device: torch.device) -> Dict[str, object]:
    """Machine, CPU flags, threads and library versions."""
    env = collect_env()
    head = dict(
        date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
        machine=platform.machine(),
        cpu=platform.processor() or _cpu_model(),
        cpu_flags=cpu_flags(),
        torch_cpu_capability=torch.backends.cpu.get_cpu_capability(),
        cores=os.cpu_count(),
        threads=torch.get_num_threads(),
        load_average=os.getloadavg() if hasattr(os, 'getloadavg') else None,
        device=str(device),
        versions={
            k: v
            for k, v in env.items()
            if k.lower().startswith(('python', 'pytorch', 'torch', 'mm',
                                     'cuda', 'gpu')) and '\n' not in str(v)
        })
    if device.type == 'cuda':
        head['gpu'] = torch.cuda.get_device_name(device)
    return head


def _cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'unknown'


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work (no-op on CPU)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def conv_peak_key(dry_run: bool = False) -> str:
    """Header key of :func:`conv_peak`'s result, naming the measured conv."""
    c, s, b = (32, 16, 1) if dry_run else (128, 64, 4)
    return f'conv_peak_gflops (3x3 {c}->{c}, {s}x{s}, batch {b})'


def conv_peak(device: torch.device,
              precisions: Sequence[str],
              dry_run: bool = False) -> Dict[str, float]:
    """GFLOP/s of a 3x3 ``channels -> channels`` convolution (no grad), per
    ``<precision>/<nchw|cl>``: the practical conv peak of this machine
    (128 channels, 64x64, batch 4, best of 3; ``dry_run``: a tiny conv, once,
    which only checks the code runs: bf16 without hardware support is slow).
    """
    channels, size, batch = (32, 16, 1) if dry_run else (128, 64, 4)
    repeats = 1 if dry_run else 3
    flops = 2 * channels * channels * 9 * size * size * batch
    res = {}
    for prec in precisions:
        dtype = dict(fp32=None, bf16=torch.bfloat16, fp16=torch.float16)[prec]
        for cl in (False, True):
            conv = torch.nn.Conv2d(channels, channels, 3, padding=1).to(device)
            x = torch.randn(batch, channels, size, size, device=device)
            if cl:
                conv = conv.to(memory_format=torch.channels_last)
                x = x.contiguous(memory_format=torch.channels_last)
            times = []
            with torch.no_grad(), torch.autocast(
                    device.type, dtype=dtype or torch.bfloat16,
                    enabled=dtype is not None):
                conv(x)
                for _ in range(repeats):
                    sync(device)
                    t = time.perf_counter()
                    conv(x)
                    sync(device)
                    times.append(time.perf_counter() - t)
            res[f'{prec}/{"cl" if cl else "nchw"}'] = round(
                flops / min(times) / 1e9, 1)
    return res


class PeakMemory:
    """Peak resident memory (CPU) or allocated CUDA memory in a block, MB.

    On CPU a thread samples ``/proc/self/statm`` every millisecond (the
    process-wide ``ru_maxrss`` never goes down, so it cannot separate
    configurations run in one process).
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.peak_mb: Optional[float] = None
        self._stop = threading.Event()
        self._peak = 0

    @staticmethod
    def rss_bytes() -> int:
        """Current resident set size in bytes."""
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * _PAGE

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self.rss_bytes())
            time.sleep(0.001)

    def __enter__(self) -> 'PeakMemory':
        if self.device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self._peak = self.rss_bytes()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == 'cuda':
            self.peak_mb = torch.cuda.max_memory_allocated(
                self.device) / 2**20
        else:
            self._stop.set()
            self._thread.join()
            self._peak = max(self._peak, self.rss_bytes())
            self.peak_mb = self._peak / 2**20


@contextlib.contextmanager
def nnpack_conv2d(min_size: int = 64) -> Iterator[None]:
    """A benchmark probe, not a product path: inside the context every
    inference ``F.conv2d`` that NNPACK can run (CPU fp32 NCHW, 3x3, stride 1,
    dilation 1, groups 1, numeric padding, >= 16 input channels, maps of at
    least ``min_size`` pixels per side, no autograd) goes to
    ``torch._nnpack_spatial_convolution`` (Winograd/FFT: fewer
    multiplications, not bit-exact). Restores ``F.conv2d`` on exit.

    Raises:
        RuntimeError: if this torch build has no usable NNPACK.
    """
    # _nnpack_available() also initialises NNPACK; without it the first
    # convolution fails with "SpatialConvolution_updateOutput failed"
    if not torch._nnpack_available():
        raise RuntimeError('this torch build has no usable NNPACK')
    orig = F.conv2d

    def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        pad = padding if isinstance(padding, (tuple, list)) else (padding, ) * 2
        if (not torch.is_grad_enabled() and x.device.type == 'cpu'
                and x.dtype == torch.float32 and x.dim() == 4
                and x.is_contiguous() and groups == 1
                and not isinstance(padding, str)
                and tuple(w.shape[-2:]) == (3, 3) and x.shape[1] >= 16
                and min(x.shape[-2:]) >= min_size
                and stride in (1, (1, 1), [1, 1])
                and dilation in (1, (1, 1), [1, 1])):
            return torch._nnpack_spatial_convolution(x, w, b, list(pad))
        return orig(x, w, b, stride, padding, dilation, groups)

    F.conv2d = conv2d
    try:
        yield
    finally:
        F.conv2d = orig


def interleaved(runs: Dict[str, Callable[[], None]], device: torch.device,
                warmup: int, repeats: int) -> Dict[str, Dict[str, float]]:
    """Time each callable ``repeats`` times, round-robin after ``warmup``
    calls each; returns median/min/max seconds and peak memory (MB) per
    name."""
    peaks = {}
    for name, fn in runs.items():
        with PeakMemory(device) as mem:
            for _ in range(max(warmup, 1)):
                fn()
                sync(device)
        peaks[name] = mem.peak_mb
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            sync(device)
            t = time.perf_counter()
            fn()
            sync(device)
            times[name].append(time.perf_counter() - t)
    return {
        name: dict(
            median=statistics.median(ts),
            min=min(ts),
            max=max(ts),
            peak_mb=peaks[name])
        for name, ts in times.items()
    }


def write_report(title: str, header: Dict, columns: Sequence[str],
                 rows: List[Dict], out: Optional[str]) -> str:
    """Print a markdown report (header + table) and write JSON to ``out``."""
    lines = [f'## {title}', '']
    for key, value in header.items():
        lines.append(f'* {key}: {value}')
    lines += ['', '| ' + ' | '.join(columns) + ' |',
              '|' + '---|' * len(columns)]
    for row in rows:
        lines.append('| ' + ' | '.join(
            _fmt(row.get(c)) for c in columns) + ' |')
    text = '\n'.join(lines)
    print(text, flush=True)
    if out:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(dict(title=title, header=header, rows=rows), f,
                      indent=1, default=str)
    return text


def _fmt(value) -> str:
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.3g}' if abs(value) < 100 else f'{value:.0f}'
    return str(value)
