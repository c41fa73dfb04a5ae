"""Convert an official SPN checkpoint (github.com/WendongZh/SPN) to spn_mm.

Usage::

    python tools/model_converters/spn_official_to_mmagic.py \
        IN.pt OUT.pth [--variant det|prob|auto] [--keep-disc]

The output ``{'state_dict': {'generator.*': ...}, 'meta': {...}}`` loads
strictly into ``SPNInpaintor.generator`` (use it as ``load_from`` or
``--checkpoint``). See ``spn_mm/converters/official_spn.py``
for the key map and the numerical conventions.
"""
import argparse
import sys


from spn_mm.converters.official_spn import \
    convert_official_checkpoint  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official SPN checkpoint to an '
        'mmengine/mmagic checkpoint for SPNInpaintor')
    parser.add_argument('src', help='official checkpoint (.pt/.pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--variant',
        choices=['det', 'prob', 'auto'],
        default='auto',
        help='SPN_determine (det) or SPN_probabilistic (prob); auto detects '
        'it from the variational keys and the others refuse a mismatch')
    parser.add_argument(
        '--keep-disc',
        action='store_true',
        help='also keep discriminator.module.* as disc.* (official names)')
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='torch.load with weights_only=False (trusted files only)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    result = convert_official_checkpoint(
        args.src,
        args.dst,
        variant=args.variant,
        keep_disc=args.keep_disc,
        unsafe_load=args.unsafe_load)
    meta = result['meta']
    print(f"converted {meta['variant']} SPN generator: "
          f"{meta['num_generator_tensors']} tensors" +
          (f", {meta['num_discriminator_tensors']} discriminator tensors"
           if meta['num_discriminator_tensors'] else '') +
          f", {meta['num_ignored_keys']} other keys ignored -> {args.dst}")
    return 0


if __name__ == '__main__':
    from spn_mm.utils import run_cli  # one-line user errors, --debug
    sys.exit(run_cli(main))
