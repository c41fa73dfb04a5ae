"""Convert the authors' released SPN checkpoints to spn_mm's SPNGenerator.

Source: github.com/WendongZh/SPN (``SPN_determine`` = ``det``,
``SPN_probabilistic`` = ``prob``). An official checkpoint is the
``state_dict()`` of the DDP-wrapped ``InpaintingModel``: generator keys are
``generator.module.<key>``; it also stores ``discriminator.module.*``, the
frozen teacher ``tresnet_xL_hold.*``, loss buffers ``adversarial_loss.*``
and (prob) ``vgg_loss.*``. Only generator keys are converted (plus, on
request, the discriminator's, kept under ``disc.`` with their official
names).

The key map is explicit (:func:`official_key_map`); every official generator
key must be consumed and every parameter of the target
:class:`SPNGenerator` (built from :func:`official_generator_cfg` on the meta
device) must be filled with a tensor of the same shape, otherwise a
``ValueError`` names the offending keys.

Numerical conventions. The converted model computes the official function:
the official ``G_Net`` takes images in [0, 1] with the holes filled with 1.0
(``x * (1 - m) + m``, mask 1 = hole), and the prior learner a **nearest** 2x
up-sampling of that masked image and of the mask (4 channels at 2H x 2W);
it returns ``(tanh(y) + 1) / 2`` in [0, 1], raw (the caller composites).
:class:`SPNGenerator` takes mmagic's ``masked_img`` in [-1, 1] (holes 0)
and does this conversion itself (``x01 = (masked_img + 1) / 2`` then holes
set to 1.0, nearest 2x views), returning ``2 * out01 - 1`` in [-1, 1]. The
probabilistic model's latent is ``N(mu, softplus(sigma))`` of the masked
input; :meth:`SPNGenerator.forward_test` samples it (or takes the mean).
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

from spn_mm.utils.weights_io import WeightsFileError

OFFICIAL_REPO = 'WendongZh/SPN@1165a93'

# top-level module names of the official G_Net that hold tensors
_GENERATOR_ROOTS = {
    'encoder_conv1', 'encoder_conv2', 'encoder_conv3', 'encoder_in1',
    'encoder_in2', 'encoder_in3', 'middle', 'encoder_conv1_sm',
    'encoder_conv2_sm', 'encoder_conv3_sm', 'encoder_conv4_sm',
    'encoder_sm_out', 'rdbs', 'gff', 'encoder_z', 'mu', 'sigma', 'decoder_z',
    'feature_recon', 'feature_mapping', 'feature_recon_decoder',
    'feature_mapping_128', 'feature_mapping_256', 'decoder'
}
_PROB_ROOTS = ('encoder_z', 'mu', 'sigma', 'decoder_z')
# other top-level entries of an official InpaintingModel checkpoint
_NON_GENERATOR_ROOTS = ('discriminator', 'tresnet_xL_hold', 'adversarial_loss',
                        'vgg_loss', 'l1_loss')
_CANDIDATE_PREFIXES = ('generator.module.', 'module.generator.', 'generator.',
                       'module.', '')
_WRAPPER_KEYS = ('state_dict', 'model', 'generator')


def official_generator_cfg(variant: str = 'det',
                           num_middle_blocks: int = 8) -> dict:
    """Config of the :class:`SPNGenerator` matching the official generator.

    Args:
        variant (str): ``'det'`` (SPN_determine) or ``'prob'``
            (SPN_probabilistic).
        num_middle_blocks (int): Middle SPADE blocks (official 8).

    Returns:
        dict: ``dict(type='SPNGenerator', ...)``.
    """
    if variant not in ('det', 'prob'):
        raise ValueError("official_generator_cfg: variant must be 'det' or "
                         f"'prob', got {variant!r}")
    cfg = dict(
        type='SPNGenerator',
        prior_learner=dict(type='SemanticPriorLearner'),
        image_generator=dict(
            type='SPADEGenerator',
            num_middle_blocks=num_middle_blocks,
            cap_spade_hidden=variant == 'prob'))
    if variant == 'prob':
        cfg['variational'] = dict(type='VariationalPrior')
    return cfg


def _conv(src: str, dst: str) -> List[Tuple[str, str]]:
    return [(f'{src}.weight', f'{dst}.weight'), (f'{src}.bias', f'{dst}.bias')]


def _spade(src: str, dst: str) -> List[Tuple[str, str]]:
    return (_conv(f'{src}.mlp_shared.0', f'{dst}.shared_conv') +
            _conv(f'{src}.mlp_gamma', f'{dst}.conv_gamma') +
            _conv(f'{src}.mlp_beta', f'{dst}.conv_beta'))


def _region_norm(src: str, dst: str) -> List[Tuple[str, str]]:
    return [(f'{src}.foreground_gamma', f'{dst}.hole_gamma'),
            (f'{src}.foreground_beta', f'{dst}.hole_beta'),
            (f'{src}.background_gamma', f'{dst}.valid_gamma'),
            (f'{src}.background_beta', f'{dst}.valid_beta')]


def _resblock(src: str, dst: str, shortcut: bool) -> List[Tuple[str, str]]:
    pairs = (
        _conv(f'{src}.conv_block.1', f'{dst}.conv1') +
        _conv(f'{src}.conv_block.4', f'{dst}.conv2'))
    if shortcut:
        pairs += _conv(f'{src}.shortcut.1', f'{dst}.shortcut')
    return pairs


def official_key_map(variant: str = 'det',
                     num_middle_blocks: int = 8,
                     num_rdbs: int = 16,
                     num_rdb_layers: int = 6,
                     num_recon_blocks: int = 4) -> 'OrderedDict[str, str]':
    """Explicit map from official generator keys to SPNGenerator keys.

    Official keys are given without the ``generator.module.`` prefix; target
    keys are relative to :class:`SPNGenerator`.

    Args:
        variant (str): ``'det'`` or ``'prob'``.
        num_middle_blocks (int): Middle SPADE blocks. Default: 8.
        num_rdbs (int): RDBs. Default: 16.
        num_rdb_layers (int): Dense layers per RDB. Default: 6.
        num_recon_blocks (int): ``feature_recon`` blocks. Default: 4.

    Returns:
        OrderedDict[str, str]: official key -> target key.
    """
    if variant not in ('det', 'prob'):
        raise ValueError(f"variant must be 'det' or 'prob', got {variant!r}")
    pairs: List[Tuple[str, str]] = []
    # ---- image generator: encoder with region normalisation
    g = 'image_generator'
    for i in (1, 2, 3):
        pairs += _conv(f'encoder_conv{i}', f'{g}.enc_conv{i}')
        pairs += _region_norm(f'encoder_in{i}', f'{g}.enc_norm{i}')
    # ---- middle SPADE blocks (conv_block: 0 SPADE, 3 conv, 4 SPADE, 7 conv)
    for j in range(num_middle_blocks):
        src, dst = f'middle.{j}.conv_block', f'{g}.middle_blocks.{j}'
        pairs += _spade(f'{src}.0', f'{dst}.norm1')
        pairs += _conv(f'{src}.3', f'{dst}.conv1')
        pairs += _spade(f'{src}.4', f'{dst}.norm2')
        pairs += _conv(f'{src}.7', f'{dst}.conv2')
    # ---- prior learner: encoder, RDN trunk, global fusion
    p = 'prior_learner'
    for i in (1, 2, 3, 4):
        pairs += _conv(f'encoder_conv{i}_sm', f'{p}.enc_conv{i}')
    pairs += _conv('encoder_sm_out', f'{p}.trunk_conv')
    for i in range(num_rdbs):
        for k in range(num_rdb_layers):
            pairs += _conv(f'rdbs.{i}.layers.{k}.conv',
                           f'{p}.rdbs.{i}.dense_layers.{k}')
        pairs += _conv(f'rdbs.{i}.lff', f'{p}.rdbs.{i}.local_fusion')
    pairs += _conv('gff.0', f'{p}.global_fusion.0')
    pairs += _conv('gff.1', f'{p}.global_fusion.1')
    # ---- variational plug-in (prob)
    if variant == 'prob':
        v = 'variational'
        for idx in (0, 2, 4):
            pairs += _conv(f'encoder_z.{idx}', f'{v}.encoder.{idx}')
        pairs += _conv('mu', f'{v}.conv_mu')
        pairs += _conv('sigma', f'{v}.conv_sigma')
        for idx in (0, 3, 6):
            pairs += _conv(f'decoder_z.{idx}', f'{v}.decoder.{idx}')
    # ---- prior pyramid
    for j in range(num_recon_blocks):
        pairs += _resblock(
            f'feature_recon.{j}',
            f'{p}.recon_blocks.{j}',
            shortcut=(variant == 'prob' and j == 0))
    pairs += _conv('feature_mapping', f'{p}.heads.2')
    pairs += _conv('feature_recon_decoder.0', f'{p}.up_convs.0')
    pairs += _resblock('feature_recon_decoder.3', f'{p}.up_blocks.0', True)
    pairs += _conv('feature_recon_decoder.4', f'{p}.up_convs.1')
    pairs += _resblock('feature_recon_decoder.7', f'{p}.up_blocks.1', True)
    pairs += _conv('feature_mapping_128', f'{p}.heads.1')
    pairs += _conv('feature_mapping_256', f'{p}.heads.0')
    # ---- decoder (decoder.1 / decoder.3 SPADE blocks, decoder.6 out conv)
    for src_idx, dst_idx in ((1, 0), (3, 1)):
        src, dst = f'decoder.{src_idx}', f'{g}.decoder_blocks.{dst_idx}'
        pairs += _spade(f'{src}.conv_block.0', f'{dst}.norm1')
        pairs += _conv(f'{src}.conv_block.2', f'{dst}.conv1')
        pairs += _spade(f'{src}.conv_block.3', f'{dst}.norm2')
        pairs += _conv(f'{src}.conv_block.5', f'{dst}.conv2')
        pairs += _conv(f'{src}.conv_s', f'{dst}.conv_s')
        pairs += _spade(f'{src}.SPADE_s', f'{dst}.norm_s')
    pairs += _conv('decoder.6', f'{g}.out_conv')
    key_map = OrderedDict(pairs)
    assert len(key_map) == len(pairs), 'duplicate official key in the map'
    assert len(set(key_map.values())) == len(pairs), 'duplicate target key'
    return key_map


def _unwrap(ckpt: Any) -> Mapping[str, Tensor]:
    """Descend into ``state_dict``/``model``/``generator`` wrappers."""
    obj = ckpt
    for _ in range(4):
        if not isinstance(obj, Mapping):
            break
        if obj and all(isinstance(v, Tensor) for v in obj.values()):
            return obj
        for key in _WRAPPER_KEYS:
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
        else:
            break
    if not isinstance(obj, Mapping):
        raise TypeError('official SPN checkpoint: expected a state dict '
                        f'(mapping of tensors), got {type(obj).__name__}')
    return obj


def _split_generator(
        sd: Mapping[str, Any]) -> Tuple[str, Dict[str, Tensor], List[str]]:
    """Find the generator prefix; return (prefix, generator sd, ignored)."""
    prefix = None
    for cand in _CANDIDATE_PREFIXES:
        if f'{cand}encoder_conv1.weight' in sd:
            prefix = cand
            break
    if prefix is None:
        raise ValueError(
            'official SPN checkpoint: no generator keys found (looked for '
            "'generator.module.encoder_conv1.weight' and the same without "
            "'generator.'/'module.'); is this an SPN checkpoint?")
    gen, ignored = {}, []
    for key, val in sd.items():
        if not key.startswith(prefix):
            ignored.append(key)
            continue
        sub = key[len(prefix):]
        root = sub.split('.', 1)[0]
        if root in _GENERATOR_ROOTS:
            gen[sub] = val
        elif prefix in ('', 'module.') and (
                root in _NON_GENERATOR_ROOTS or sub.startswith(
                    tuple(f'{r}.' for r in _NON_GENERATOR_ROOTS))):
            ignored.append(key)
        else:
            raise ValueError(
                f'official SPN checkpoint: unexpected generator key {key!r} '
                f'(root {root!r} is not part of the official G_Net)')
    return prefix, gen, ignored


def detect_variant(gen_sd: Mapping[str, Any]) -> str:
    """``'prob'`` if variational keys are present, else ``'det'``."""
    has_prob = any(k.split('.', 1)[0] in _PROB_ROOTS for k in gen_sd)
    return 'prob' if has_prob else 'det'


def convert_official_state_dict(
        checkpoint: Any,
        variant: str = 'auto',
        keep_disc: bool = False,
        prefix: str = 'generator.') -> Tuple[Dict[str, Tensor], dict]:
    """Convert an official SPN checkpoint to SPNGenerator weights.

    Args:
        checkpoint (Any): The loaded official checkpoint: a state dict, or
            one nested under ``state_dict``/``model``/``generator``. Keys may
            carry ``generator.module.`` (official), ``generator.``,
            ``module.`` or no prefix.
        variant (str): ``'det'``, ``'prob'`` or ``'auto'`` (from the
            presence of ``encoder_z``/``mu``/``sigma``/``decoder_z``).
            A mismatch raises ``ValueError``. Default: ``'auto'``.
        keep_disc (bool): Also copy ``discriminator.module.*`` to
            ``disc.*`` (official D_Net / D_Net_SPADE names, unchanged, which
            :class:`SPNPatchDiscriminator` / :class:`SPNProbDiscriminator`
            mirror; the det D's duplicate ``features.*`` alias of ``conv1.*``
            is dropped). Default: False.
        prefix (str): Prefix of the generator keys in the output (the
            inpaintor attribute). Default: ``'generator.'``.

    Returns:
        tuple[dict, dict]: The converted state dict and a meta dict.
    """
    if variant not in ('det', 'prob', 'auto'):
        raise ValueError("variant must be 'det', 'prob' or 'auto', got "
                         f'{variant!r}')
    sd = _unwrap(checkpoint)
    src_prefix, gen_sd, ignored = _split_generator(sd)
    found = detect_variant(gen_sd)
    if variant == 'auto':
        variant = found
    elif variant != found:
        if found == 'prob':
            raise ValueError(
                "variant 'det' was requested but the checkpoint is a "
                'probabilistic SPN (it has the variational keys '
                'encoder_z.*/mu.*/sigma.*/decoder_z.*); use --variant prob '
                'or auto')
        raise ValueError(
            "variant 'prob' was requested but the checkpoint is a "
            'deterministic SPN (no encoder_z.*/mu.*/sigma.*/decoder_z.* '
            'keys); use --variant det or auto')

    middle_ids = {
        int(m.group(1))
        for m in (re.match(r'middle\.(\d+)\.', k) for k in gen_sd) if m
    }
    num_middle = len(middle_ids)
    if middle_ids != set(range(num_middle)) or num_middle == 0:
        raise ValueError('official SPN checkpoint: middle block indices '
                         f'must be 0..N-1, got {sorted(middle_ids)}')
    key_map = official_key_map(variant, num_middle_blocks=num_middle)

    unconsumed = sorted(set(gen_sd) - set(key_map))
    missing = [k for k in key_map if k not in gen_sd]
    if unconsumed or missing:
        raise ValueError(
            f'official SPN checkpoint ({variant}) does not match the '
            f'official G_Net layout: {len(unconsumed)} unexpected keys '
            f'{unconsumed[:8]}, {len(missing)} missing keys {missing[:8]}')

    cfg = official_generator_cfg(variant, num_middle_blocks=num_middle)
    target = _target_shapes(cfg)
    if set(target) != set(key_map.values()):
        raise RuntimeError(  # internal consistency of map and model
            'key map does not cover SPNGenerator exactly: missing '
            f'{sorted(set(target) - set(key_map.values()))[:8]}, extra '
            f'{sorted(set(key_map.values()) - set(target))[:8]}')

    out: 'OrderedDict[str, Tensor]' = OrderedDict()
    bad_shapes = []
    for src, dst in key_map.items():
        val = gen_sd[src]
        if tuple(val.shape) != target[dst]:
            bad_shapes.append(
                f'{src} {tuple(val.shape)} -> {dst} {target[dst]}')
            continue
        out[f'{prefix}{dst}'] = val.detach().contiguous()
    if bad_shapes:
        raise ValueError(f'official SPN checkpoint ({variant}): shape '
                         f'mismatch for {len(bad_shapes)} tensors: ' +
                         '; '.join(bad_shapes[:8]))

    num_disc = 0
    if keep_disc:
        disc = OrderedDict()
        for key, val in sd.items():
            for dpre in ('discriminator.module.', 'discriminator.'):
                if key.startswith(dpre):
                    disc[key[len(dpre):]] = val.detach()
                    break
        for key, val in disc.items():
            # det D_Net registers one Sequential as both `conv1` and
            # `features`: drop the duplicate `features.*` entries
            if key.startswith('features.') and \
                    f'conv1.{key[len("features."):]}' in disc:
                continue
            out[f'disc.{key}'] = val
            num_disc += 1
        if num_disc == 0:
            raise ValueError('keep_disc=True but the checkpoint has no '
                             'discriminator.* keys')

    meta = dict(
        converted_from=OFFICIAL_REPO,
        variant=variant,
        source_prefix=src_prefix,
        num_generator_tensors=len(key_map),
        num_discriminator_tensors=num_disc,
        num_ignored_keys=len(ignored) - num_disc,
        generator_cfg=cfg,
        conventions=('SPNGenerator input: masked_img in [-1,1] (holes 0) + '
                     'mask (1=hole); official internals: [0,1], holes 1.0, '
                     'nearest 2x learner view, output (tanh+1)/2'))
    return out, meta


def _target_shapes(cfg: dict) -> Dict[str, Tuple[int, ...]]:
    """Parameter shapes of the target SPNGenerator, built on meta."""
    from spn_mm.registry import MODELS
    import spn_mm.models  # noqa: F401  (register the SPN modules)
    with torch.device('meta'):
        model = MODELS.build(cfg)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def convert_official_checkpoint(src: str,
                                dst: Optional[str] = None,
                                variant: str = 'auto',
                                keep_disc: bool = False,
                                unsafe_load: bool = False) -> dict:
    """Load an official checkpoint file, convert it and optionally save it.

    Args:
        src (str): Path of the official ``.pt``/``.pth`` file.
        dst (str, optional): Output path; the result is written with
            ``torch.save`` as ``{'state_dict': ..., 'meta': ...}``.
        variant (str): ``'det'``, ``'prob'`` or ``'auto'``.
        keep_disc (bool): Keep the discriminator under ``disc.``.
        unsafe_load (bool): Load with ``weights_only=False`` (only for
            trusted files that are not plain state dicts).

    Returns:
        dict: ``{'state_dict': ..., 'meta': ...}``.
    """
    if not osp.isfile(src):
        raise FileNotFoundError(f'official SPN checkpoint not found: {src}')
    try:
        ckpt = torch.load(
            src, map_location='cpu', weights_only=not unsafe_load)
    except Exception as err:  # pickle errors differ between torch versions
        if unsafe_load:
            raise
        raise WeightsFileError(
            f'could not load {src} with weights_only=True ({err}); if you '
            'trust the file, retry with --unsafe-load') from err
    state_dict, meta = convert_official_state_dict(
        ckpt, variant=variant, keep_disc=keep_disc)
    meta['source_file'] = osp.basename(src)
    result = dict(state_dict=state_dict, meta=meta)
    if dst is not None:
        torch.save(result, dst)
    return result
