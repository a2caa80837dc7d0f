"""``realhands model info|convert|export``: the hand model's figures, MANO pickle -> .npz, a posed mesh."""
from __future__ import annotations

import json
from pathlib import Path

from ..conventions import SIDES
from ..errors import OutputError
from . import load_config, model_args


def cmd_info(args) -> int:
    from ..model.info import format_info, model_info

    cfg = load_config(args)
    info = model_info(cfg.model.side, cfg.model.path, parity=not args.no_parity)
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


def cmd_convert(args) -> int:
    from ..model.io import load_model_file
    from ..outputs import check_outputs

    output = Path(args.output)
    if output.suffix != ".npz":  # what --model loads (realhands.model.io.load_model_file)
        example = output / f"MANO_{(args.side or 'right').upper()}.npz" if output.is_dir() else \
            output.with_suffix(".npz")
        raise OutputError(f"the converted model is a .npz file (what --model loads), got {output}; name it e.g. "
                          f"{example}")
    check_outputs([output], args.force)  # before the (slow) read
    data = load_model_file(args.source)
    if args.side:
        data.side = args.side
    out = data.save_npz(output, overwrite=args.force)
    print(f"wrote {out}: {data.num_vertices} vertices, {len(data.faces)} faces, {data.side} hand "
          f"(plain arrays, loads without pickle)")
    return 0


def cmd_export(args) -> int:
    from ..model.export import export_posed

    cfg = load_config(args)
    path = export_posed(args.output, cfg.model.side, cfg.model.path, pose=args.pose, betas=args.betas,
                        texture=args.texture, overwrite=args.force)
    print(f"wrote {path}")
    return 0


def add_parsers(sub) -> None:
    m = sub.add_parser("model", help="hand model tools")
    msub = m.add_subparsers(dest="model_command", required=True)
    i = msub.add_parser("info", help="print the model's figures (counts, watertightness, size, smplx parity)")
    model_args(i)
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.add_argument("--no-parity", action="store_true", help="skip the smplx parity check")
    i.set_defaults(func=cmd_info)
    c = msub.add_parser("convert", help="convert a MANO pickle (e.g. MANO_RIGHT.pkl) to a clean .npz")
    c.add_argument("source")
    c.add_argument("output")
    c.add_argument("--side", choices=SIDES, help="override the handedness read from the file name")
    c.add_argument("--force", action="store_true", help="replace an existing output file")
    c.set_defaults(func=cmd_convert)
    e = msub.add_parser("export", help="export a posed, shaped mesh to .obj/.glb/.ply")
    model_args(e)
    e.add_argument("output")
    e.add_argument("--pose", help="a pose of the model's library (e.g. fist); default: flat")
    e.add_argument("--betas", type=float, nargs="+", help="shape coefficients")
    e.add_argument("--texture", help="texture image to embed (UV-mapped models)")
    e.add_argument("--force", action="store_true", help="replace existing output files (an .obj's .mtl and "
                   "texture too)")
    e.set_defaults(func=cmd_export)
