"""Parameters, FLOPs and latency of an SPN model (paper Table 6).

Everything is counted on the real modules built from the config:

* parameters with ``Module.parameters()`` (spectral-norm ``weight_u`` /
  ``weight_v`` are buffers, not parameters);
* FLOPs with :class:`torch.utils.flop_counter.FlopCounterMode` on one
  inference forward (``forward_test``, one sample), by default on the
  ``meta`` device (no real compute, so full-width models are counted in
  about a second). The counter counts convolutions and matrix products as
  2 x MACs; normalisation, activations and interpolation are not counted.
  FLOPs are attributed to the generator's parts through forward hooks on its
  leaf modules;
* latency as the median wall time of ``repeats`` forwards after ``warmup``
  forwards on a real device (random weights: dense convolutions cost the
  same whatever the values), synchronising CUDA around each run.

The distillation heads are computed by the prior learner at inference too
(their outputs are unused by the image), so they are **included** in the
prior-learner parameters and FLOPs and also listed on their own.
"""
import copy
import statistics
import time
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch.utils.flop_counter import FlopCounterMode

from spn_mm.registry import MODELS


def count_parameters(module: Optional[nn.Module]) -> Optional[int]:
    """Number of parameters (None for a missing module)."""
    if module is None:
        return None
    return sum(p.numel() for p in module.parameters())


def parameter_breakdown(generator: nn.Module,
                        disc: Optional[nn.Module] = None) -> Dict[str, int]:
    """Parameters of an SPN generator's parts (and discriminator).

    Args:
        generator (nn.Module): :class:`SPNGenerator`.
        disc (nn.Module, optional): The discriminator.

    Returns:
        dict: ``generator``, ``prior_learner`` (incl. distillation heads,
        excl. the variational prior), ``distillation_heads``,
        ``variational`` (None for deterministic models),
        ``prior_learner_with_variational``, ``image_generator`` and
        ``discriminator`` (None without ``disc``).
    """
    learner = generator.prior_learner
    variational = getattr(generator, 'variational', None)
    n_learner = count_parameters(learner)
    n_var = count_parameters(variational)
    return OrderedDict(
        generator=count_parameters(generator),
        prior_learner=n_learner,
        distillation_heads=count_parameters(getattr(learner, 'heads', None)),
        variational=n_var,
        prior_learner_with_variational=n_learner + (n_var or 0),
        image_generator=count_parameters(generator.image_generator),
        discriminator=count_parameters(disc))


def _part_of(name: str) -> str:
    if name.startswith('prior_learner.heads'):
        return 'distillation_heads'
    for part in ('prior_learner', 'variational', 'image_generator'):
        if name == part or name.startswith(part + '.'):
            return part
    return 'other'


def _dummy_inputs(
        shape: Tuple[int, int], batch: int,
        device: Union[str, torch.device]) -> Tuple[torch.Tensor, torch.Tensor]:
    h, w = shape
    if str(device) == 'meta':
        return (torch.zeros(batch, 3, h, w, device='meta'),
                torch.zeros(batch, 1, h, w, device='meta'))
    gen = torch.Generator().manual_seed(0)
    img = torch.rand(batch, 3, h, w, generator=gen) * 2 - 1
    mask = torch.zeros(batch, 1, h, w)
    mask[:, :, h // 4:h - h // 4, w // 4:w - w // 4] = 1.
    return (img * (1 - mask)).to(device), mask.to(device)


def count_flops(generator: nn.Module,
                shape: Tuple[int, int] = (256, 256),
                batch: int = 1) -> Dict[str, float]:
    """FLOPs of one inference forward (one sample), per part.

    The generator may live on the ``meta`` device (inputs are created on
    the generator's device).

    Args:
        generator (nn.Module): :class:`SPNGenerator`.
        shape (tuple[int, int]): Input (H, W).
        batch (int): Batch size. Default: 1.

    Returns:
        dict: ``total`` and per part (``prior_learner`` incl. heads,
        ``distillation_heads``, ``variational``, ``image_generator``,
        ``other``) FLOPs as ints.
    """
    device = next(generator.parameters()).device
    img, mask = _dummy_inputs(shape, batch, device)
    parts: Dict[str, int] = OrderedDict(
        prior_learner=0,
        distillation_heads=0,
        variational=0,
        image_generator=0,
        other=0)
    counter = FlopCounterMode(display=False)
    stack = []
    handles = []
    for name, module in generator.named_modules():
        if name and not list(module.children()):

            def pre(mod, args, _name=name):
                stack.append((_name, counter.get_total_flops()))

            def post(mod, args, out):
                _name, start = stack.pop()
                parts[_part_of(_name)] += counter.get_total_flops() - start

            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
    was_training = generator.training
    generator.eval()
    try:
        with torch.no_grad(), counter:
            generator.forward_test(img, mask, num_samples=1)
    finally:
        for handle in handles:
            handle.remove()
        generator.train(was_training)
    total = counter.get_total_flops()
    parts['other'] += total - sum(parts.values())
    parts['prior_learner'] += parts['distillation_heads']  # heads included
    return OrderedDict(total=total, **parts)


@torch.no_grad()
def measure_latency(generator: nn.Module,
                    shape: Tuple[int, int] = (256, 256),
                    batch: int = 1,
                    repeats: int = 10,
                    warmup: int = 3) -> Dict[str, float]:
    """Wall time of one inference forward on the generator's device.

    Args:
        generator (nn.Module): :class:`SPNGenerator` on a real device.
        shape (tuple[int, int]): Input (H, W).
        batch (int): Batch size. Default: 1.
        repeats (int): Timed runs. Default: 10.
        warmup (int): Untimed runs first. Default: 3.

    Returns:
        dict: ``median_s``, ``mean_s``, ``min_s``, ``max_s``, ``repeats``,
        ``warmup``, ``device`` and ``threads``.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f'repeats must be >= 1 and warmup >= 0, got '
                         f'{repeats} and {warmup}')
    device = next(generator.parameters()).device
    if device.type == 'meta':
        raise ValueError('measure_latency needs a real device, not meta')
    generator.eval()
    img, mask = _dummy_inputs(shape, batch, device)

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        generator.forward_test(img, mask, num_samples=1)
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        generator.forward_test(img, mask, num_samples=1)
        sync()
        times.append(time.perf_counter() - start)
    name = str(device)
    if device.type == 'cuda':
        name += f' ({torch.cuda.get_device_name(device)})'
    return OrderedDict(
        median_s=statistics.median(times),
        mean_s=statistics.fmean(times),
        min_s=min(times),
        max_s=max(times),
        repeats=repeats,
        warmup=warmup,
        device=name,
        threads=torch.get_num_threads())


def _build(cfg: dict, device: Union[str, torch.device]) -> nn.Module:
    with DefaultScope.overwrite_default_scope('mmagic'):
        if str(device) == 'meta':
            with torch.device('meta'):
                return MODELS.build(copy.deepcopy(cfg))
        return MODELS.build(copy.deepcopy(cfg)).to(device)


def complexity_report(config: Union[str, Config, dict],
                      shape: Sequence[int] = (256, 256),
                      batch: int = 1,
                      device: str = 'cpu',
                      latency: bool = True,
                      repeats: int = 10,
                      warmup: int = 3,
                      flops_device: str = 'meta',
                      cfg_options: Optional[dict] = None) -> Dict:
    """Parameters, FLOPs and latency of a config's SPN.

    Args:
        config (str | Config | dict): Config (path) with ``model.encdec``
            and optionally ``model.disc``.
        shape (Sequence[int]): (H, W), or (S,) for S x S.
        batch (int): Batch size. Default: 1.
        device (str): Device for the latency runs. Default: ``'cpu'``.
        latency (bool): Measure latency. Default: True.
        repeats (int): Timed runs. Default: 10.
        warmup (int): Untimed runs. Default: 3.
        flops_device (str): Where FLOPs are counted (``'meta'``: no
            compute). Default: ``'meta'``.
        cfg_options (dict, optional): Config overrides.

    Returns:
        dict: ``config``, ``input_shape``, ``probabilistic``,
        ``params`` (:func:`parameter_breakdown`),
        ``heads_counted_in_prior_learner`` (True), ``flops``
        (:func:`count_flops`) with ``gflops`` (total / 1e9), ``gmacs``
        and ``latency`` (:func:`measure_latency` or None).
    """
    from spn_mm.apis.model_loader import load_config, resolve_device
    cfg = load_config(config, cfg_options)
    shape = tuple(int(s) for s in shape)
    if len(shape) == 1:
        shape = shape * 2
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f'shape: expected (H, W) or (S,), got {shape}')
    gen_cfg = cfg.model.get('encdec')
    if gen_cfg is None:
        raise ValueError('config: model.encdec (the SPN generator) is '
                         'missing')
    gen = _build(gen_cfg, flops_device)
    disc_cfg = cfg.model.get('disc')
    disc = _build(disc_cfg, 'cpu') if disc_cfg else None
    from spn_mm.apis.hd_strategy import required_multiple
    multiple = required_multiple(gen)
    if shape[0] % multiple or shape[1] % multiple:
        raise ValueError(f'shape {shape[0]}x{shape[1]}: this model needs '
                         f'multiples of {multiple}')
    flops = count_flops(gen, shape, batch)
    report = OrderedDict(
        config=config if isinstance(config, str) else '<config object>',
        input_shape=[batch, 3, shape[0], shape[1]],
        probabilistic=bool(gen.is_probabilistic),
        params=parameter_breakdown(gen, disc),
        heads_counted_in_prior_learner=True,
        flops=flops,
        gflops=flops['total'] / 1e9,
        gmacs=flops['total'] / 2e9,
        latency=None)
    del gen
    if latency:
        dev = resolve_device(device)
        real = _build(gen_cfg, dev)
        report['latency'] = measure_latency(real, shape, batch, repeats,
                                            warmup)
    return report


def _fmt_int(n: Optional[int]) -> str:
    return '-' if n is None else f'{n:,}'


def _fmt_g(n: Optional[float]) -> str:
    if n is None:
        return '-'
    g = n / 1e9
    return f'{g:.1f}' if g >= 1 else f'{g:.3g}'


def format_report(report: Dict) -> str:
    """Render :func:`complexity_report` as a Markdown table + summary."""
    p, f = report['params'], report['flops']
    kind = 'probabilistic' if report['probabilistic'] else 'deterministic'
    b, _, h, w = report['input_shape']
    rows = [
        ('generator (inference, total)', p['generator'], f['total']),
        ('  prior learner (incl. distillation heads)', p['prior_learner'],
         f['prior_learner']),
        ('    of which distillation heads', p['distillation_heads'],
         f['distillation_heads']),
    ]
    if report['probabilistic']:
        rows += [('  variational prior', p['variational'], f['variational']),
                 ('  prior learner incl. variational',
                  p['prior_learner_with_variational'],
                  f['prior_learner'] + f['variational'])]
    rows += [('  image generator', p['image_generator'], f['image_generator'])]
    if f.get('other'):
        rows += [('  other (outside sub-modules)', None, f['other'])]
    rows += [('discriminator (training only)', p['discriminator'], None)]
    name_w = max(len(r[0]) for r in rows)
    lines = [
        f"SPN complexity: {report['config']} ({kind}), input "
        f'{b}x3x{h}x{w}, one sample',
        f"| {'part'.ljust(name_w)} | {'params':>12} | {'GFLOPs':>8} |",
        f"|{'-' * (name_w + 2)}|{'-' * 14}|{'-' * 10}|",
    ]
    for name, n, fl in rows:
        lines.append(f'| {name.ljust(name_w)} | {_fmt_int(n):>12} | '
                     f'{_fmt_g(fl):>8} |')
    lines.append('Distillation heads are counted in the prior learner (they '
                 'run at inference; their outputs only feed the training '
                 'loss). FLOPs = 2 x MACs of convs/matmuls '
                 '(torch FlopCounterMode). The teacher is not counted '
                 '(training only).')
    lat = report.get('latency')
    time_str = '-'
    if lat:
        time_str = f"{lat['median_s']:.4f}s"
        lines.append(
            f"Latency on {lat['device']} ({lat['threads']} threads), batch "
            f"{b}: median {lat['median_s']:.4f} s over {lat['repeats']} "
            f"runs after {lat['warmup']} warm-up (min {lat['min_s']:.4f}, "
            f"max {lat['max_s']:.4f})")
    lines.append(f"Table 6 row: Params {p['generator'] / 1e6:.1f}M | "
                 f"FLOPs {report['gflops']:.1f}G | Time {time_str}")
    return '\n'.join(lines)
