"""ONNX export of the SPN inference generator with an onnxruntime check.

The exported graph (:class:`SPNOnnxWrapper`) takes

* ``image``: (B, 3, H, W) float32 RGB in [-1, 1] (hole content is ignored;
  the wrapper zeroes it like mmagic does);
* ``mask``: (B, 1, H, W) float32, 1 = hole;
* ``noise`` (probabilistic models only): (B, latent, H / 2**(n+2),
  W / 2**(n+2)) float32 standard-normal noise; the latent sample is
  ``z = mu + noise * sigma`` (``noise = 0`` gives the mean sample). The
  noise :meth:`SPNGenerator.forward_test` draws with ``seed=s`` is
  :func:`seeded_noise` ``(s)``, so ONNX and PyTorch results can be matched
  exactly;

and returns ``raw`` (B, 3, H, W) in [-1, 1] (the generator output) and
``inpainted`` (the composite: input outside the holes, ``raw`` inside).

The batch axis is dynamic; H and W are fixed at export (the traced graph
bakes sizes into resize and normalisation ops). Export one file per input
size, e.g. 256x256, and use ``tools/inpaint.py``-style padding for others.
The legacy TorchScript exporter (``dynamo=False``) is used: the dynamo
exporter of torch 2.9 needs ``onnxscript``. Its ``instance_norm`` symbolic
needs a statically known channel count, which its shape inference loses in
SPN's region normalisation; during the export ``aten::instance_norm``
(without affine/running statistics, as SPN uses it) is therefore written as
``(x - mean) / sqrt(var + eps)`` over H, W with plain ONNX ops.
"""
import contextlib
import os
import os.path as osp
import warnings
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor


class SPNOnnxWrapper(nn.Module):
    """Inference path of an :class:`SPNGenerator` with explicit noise.

    ``SPNGenerator.forward_features`` for one sample with the noise as an
    explicit input: the variational prior (if any) is sampled as
    ``mu + noise * sigma``.

    Args:
        generator (nn.Module): A trained :class:`SPNGenerator` (eval mode).
    """

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator
        self.probabilistic = bool(generator.is_probabilistic)

    def forward(self,
                image: Tensor,
                mask: Tensor,
                noise: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Forward.

        Args:
            image (Tensor): (B, 3, H, W) in [-1, 1].
            mask (Tensor): (B, 1, H, W), 1 = hole.
            noise (Tensor, optional): (B, latent, h', w') standard normal
                noise; required iff the model is probabilistic.

        Returns:
            tuple[Tensor, Tensor]: ``raw`` and ``inpainted`` (B, 3, H, W)
            in [-1, 1].
        """
        if self.probabilistic != (noise is not None):
            raise ValueError('SPNOnnxWrapper: `noise` must be given iff the '
                             'generator is probabilistic')
        masked = image * (1. - mask)
        raw = self.generator.forward_features(
            masked, mask, num_samples=1, noise=noise).out
        return raw, raw * mask + masked * (1. - mask)


def latent_shape(generator: nn.Module, height: int,
                 width: int) -> Optional[Tuple[int, int, int]]:
    """(latent, h', w') of the noise input, or None (deterministic)."""
    if not generator.is_probabilistic:
        return None
    div = generator.size_divisor
    return (int(generator.variational.latent_channels), height // div,
            width // div)


def seeded_noise(generator: nn.Module, seeds: Sequence[int], height: int,
                 width: int) -> Tensor:
    """The standard-normal noise ``forward_test(seed=...)`` uses (sample 1).

    Args:
        generator (nn.Module): Probabilistic :class:`SPNGenerator`.
        seeds (Sequence[int]): One seed per image.
        height (int): Image height.
        width (int): Image width.

    Returns:
        Tensor: (B, latent, h', w') float32 on CPU.
    """
    shape = latent_shape(generator, height, width)
    if shape is None:
        raise ValueError('seeded_noise: the generator is deterministic')
    return generator.variational.seeded_noise(seeds, 1, shape)


def example_inputs(generator: nn.Module,
                   batch: int = 1,
                   shape: Tuple[int, int] = (256, 256),
                   seed: int = 0) -> Dict[str, Tensor]:
    """Random image, a rectangular+random hole mask and (prob) noise."""
    h, w = shape
    rng = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, h, w, generator=rng) * 2 - 1
    mask = (torch.rand(batch, 1, h, w, generator=rng) > 0.8).float()
    mask[:, :, h // 4:h // 2, w // 3:(2 * w) // 3] = 1.
    inputs = dict(image=image, mask=mask)
    if latent_shape(generator, h, w) is not None:
        inputs['noise'] = seeded_noise(generator,
                                       [seed + i for i in range(batch)], h, w)
    return inputs


def _instance_norm_symbolic(g, inp, weight, bias, running_mean, running_var,
                            use_input_stats, momentum, eps, cudnn_enabled):
    """``aten::instance_norm`` as ReduceMean/Sub/Mul/Sqrt/Div (no affine)."""
    from torch.onnx import symbolic_helper as sym_help
    for name, value in (('weight', weight), ('bias', bias),
                        ('running_mean', running_mean), ('running_var',
                                                         running_var)):
        if not sym_help._is_none(value):
            raise RuntimeError(f'SPN ONNX export: instance_norm with {name} '
                               'is not supported by the SPN symbolic')
    eps = sym_help._get_const(eps, 'f', 'eps')

    def spatial_mean(x):
        # rows first, then columns: float32 sums over W and H elements
        # instead of H * W (closer to PyTorch's pairwise reductions)
        x = g.op('ReduceMean', x, axes_i=[3], keepdims_i=1)
        return g.op('ReduceMean', x, axes_i=[2], keepdims_i=1)

    mean = spatial_mean(inp)
    diff = g.op('Sub', inp, mean)
    var = spatial_mean(g.op('Mul', diff, diff))
    eps_t = g.op('Constant', value_t=torch.tensor(float(eps)))
    return g.op('Div', diff, g.op('Sqrt', g.op('Add', var, eps_t)))


@contextlib.contextmanager
def _spn_symbolics(opset: int) -> Iterator[None]:
    torch.onnx.register_custom_op_symbolic('aten::instance_norm',
                                           _instance_norm_symbolic, opset)
    try:
        yield
    finally:
        torch.onnx.unregister_custom_op_symbolic('aten::instance_norm', opset)


def export_onnx(generator: nn.Module,
                path: str,
                shape: Tuple[int, int] = (256, 256),
                batch: int = 1,
                opset: int = 17,
                dynamic_batch: bool = True) -> List[str]:
    """Export the inference generator to ONNX.

    Args:
        generator (nn.Module): :class:`SPNGenerator` (moved to CPU, eval).
        path (str): Output ``.onnx`` file.
        shape (tuple[int, int]): Fixed (H, W); multiples of the model's
            multiple (4 deterministic, 32 probabilistic).
        batch (int): Batch of the tracing inputs. Default: 1.
        opset (int): ONNX opset (<= 17: ``ReduceMean`` takes its axes as
            an attribute). Default: 17.
        dynamic_batch (bool): Make the batch axis dynamic. Default: True.

    Returns:
        list[str]: The graph's input names.
    """
    from spn_mm.apis.hd_strategy import required_multiple
    h, w = shape
    if not 9 <= opset <= 17:
        raise ValueError(f'export_onnx: opset must be in [9, 17], got '
                         f'{opset}')
    multiple = required_multiple(generator)
    if h % multiple or w % multiple:
        raise ValueError(f'export_onnx: shape {h}x{w} must be a multiple of '
                         f'{multiple} for this model')
    generator = generator.cpu().eval()
    wrapper = SPNOnnxWrapper(generator).eval()
    inputs = example_inputs(generator, batch, shape)
    names = list(inputs)
    axes = None
    if dynamic_batch:
        axes = {n: {0: 'batch'} for n in names + ['raw', 'inpainted']}
    parent = osp.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with torch.no_grad(), _spn_symbolics(opset), warnings.catch_warnings():
        # shape checks in the model become constants: expected, H and W
        # are fixed by design
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', message='Constant folding')
        torch.onnx.export(
            wrapper,
            tuple(inputs[n] for n in names),
            path,
            input_names=names,
            output_names=['raw', 'inpainted'],
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False)
    return names


def check_onnx_parity(generator: nn.Module,
                      path: str,
                      shape: Tuple[int, int] = (256, 256),
                      batch: int = 2,
                      seed: int = 0,
                      atol: float = 1e-4) -> Dict[str, float]:
    """Compare onnxruntime (CPU) with PyTorch on random inputs.

    PyTorch references: the export wrapper itself and, independently,
    ``SPNGenerator.forward_test`` (probabilistic: with the same seeds, whose
    noise :func:`seeded_noise` reproduces).

    Args:
        generator (nn.Module): The exported :class:`SPNGenerator`.
        path (str): The ``.onnx`` file.
        shape (tuple[int, int]): (H, W) of the export.
        batch (int): Batch to run (differs from the export batch to test
            the dynamic axis). Default: 2.
        seed (int): Input / noise seed. Default: 0.
        atol (float): Largest allowed abs difference. Default: 1e-4.

    Returns:
        dict[str, float]: ``max_abs_diff_raw``,
        ``max_abs_diff_inpainted`` (ONNX vs wrapper) and
        ``max_abs_diff_forward_test`` (ONNX raw vs ``forward_test``).
        Raises ``AssertionError`` when a difference exceeds ``atol``.
    """
    import onnxruntime as ort
    generator = generator.cpu().eval()
    inputs = example_inputs(generator, batch, shape, seed)
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    feed = {k: v.numpy() for k, v in inputs.items()}
    raw_ort, comp_ort = sess.run(['raw', 'inpainted'], feed)
    wrapper = SPNOnnxWrapper(generator).eval()
    with torch.no_grad():
        raw_pt, comp_pt = wrapper(**inputs)
        masked = inputs['image'] * (1 - inputs['mask'])
        seeds = [seed + i for i in range(batch)] \
            if 'noise' in inputs else None
        ref = generator.forward_test(masked, inputs['mask'], seed=seeds)
    diffs = dict(
        max_abs_diff_raw=float(np.abs(raw_ort - raw_pt.numpy()).max()),
        max_abs_diff_inpainted=float(np.abs(comp_ort - comp_pt.numpy()).max()),
        max_abs_diff_forward_test=float(np.abs(raw_ort - ref.numpy()).max()))
    bad = {k: v for k, v in diffs.items() if not v < atol}
    if bad:
        raise AssertionError(f'ONNX parity check failed (atol {atol}): '
                             f'{bad}')
    return diffs
