#!/usr/bin/python3
"""Export torchvision models to ONNX with random weights, for nnmeter's importer tests and
benchmarks.

Nothing is downloaded: every model is built with weights=None (and weights_backbone=None for
the detection model) and initialised from torch.manual_seed(seed), so a run is reproducible.
Files that already exist are kept (the folder is a cache); a file is written under a temporary
name and renamed when complete, so an interrupted run never leaves a truncated model behind.

Needs torch and torchvision (Debian 12: /usr/bin/python3 with torch 1.13, torchvision 0.14).

Usage:
    export_torchvision.py --out DIR [--models a,b,...] [--opsets 11,12,13] [--seed 0]
                          [--list] [--quiet]

Files are named <model>_op<opset>.onnx. A summary line per file (seconds, MB) is printed, and
a manifest (models.tsv: file, model, opset, input shape, seconds, bytes) is appended for files
written by this run.
"""

import argparse
import os
import sys
import time

# 224x224 classifiers unless noted; ssdlite is the full detection model (pre- and
# post-processing included, data-dependent parts and all) with its native 320x320 input.
MODELS = [
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "mnasnet1_0",
    "shufflenet_v2_x1_0",
    "squeezenet1_0",
    "googlenet",
    "densenet121",
    "vgg11",
    "alexnet",
    "efficientnet_b0",
    "regnet_x_400mf",
    "ssdlite320_mobilenet_v3_large",
]
DETECTION = {"ssdlite320_mobilenet_v3_large"}
DEFAULT_OPSETS = [11, 12, 13]


def input_shape(name):
    if name == "ssdlite320_mobilenet_v3_large":
        return [1, 3, 320, 320]
    return [1, 3, 224, 224]


def build(name, torchvision):
    models = torchvision.models
    if name == "googlenet":
        # The auxiliary classifiers exist only in training mode; init_weights=True avoids the
        # scipy-based truncated-normal warning path and keeps the default init explicit.
        return models.googlenet(weights=None, aux_logits=False, init_weights=True)
    if name == "ssdlite320_mobilenet_v3_large":
        return models.detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
    fn = getattr(models, name, None)
    if fn is None:
        raise SystemExit("export_torchvision: torchvision %s has no model '%s'"
                         % (torchvision.__version__, name))
    return fn(weights=None)


def export_one(torch, torchvision, name, opset, path, seed):
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    model = build(name, torchvision).eval()
    shape = input_shape(name)
    x = torch.rand(*shape)
    tmp = path + ".tmp%d" % os.getpid()
    try:
        with torch.no_grad():
            if name in DETECTION:
                # The detection model takes a list of CHW images; export it as the model sees it.
                args = ([x[0]],)
                output_names = ["boxes", "scores", "labels"]
            else:
                args = (x,)
                output_names = ["output"]
            torch.onnx.export(model, args, tmp, opset_version=opset, input_names=["input"],
                              output_names=output_names, do_constant_folding=True)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return time.perf_counter() - t0, shape


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="output folder (created if missing)")
    ap.add_argument("--models", default=",".join(MODELS),
                    help="comma-separated model names (default: all %d)" % len(MODELS))
    ap.add_argument("--opsets", default=",".join(map(str, DEFAULT_OPSETS)),
                    help="comma-separated ONNX opsets (default: 11,12,13)")
    ap.add_argument("--seed", type=int, default=0, help="torch.manual_seed per model (default 0)")
    ap.add_argument("--list", action="store_true", help="print the known model names and exit")
    ap.add_argument("--quiet", action="store_true", help="print only the final summary")
    a = ap.parse_args(argv)
    if a.list:
        print("\n".join(MODELS))
        return 0
    if not a.out:
        ap.error("--out is required")
    names = [m.strip() for m in a.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        ap.error("unknown model(s): %s (known: %s)" % (", ".join(unknown), ", ".join(MODELS)))
    try:
        opsets = [int(o) for o in a.opsets.split(",") if o.strip()]
    except ValueError:
        ap.error("--opsets must be comma-separated integers, got '%s'" % a.opsets)
    for o in opsets:
        if not 7 <= o <= 17:
            ap.error("opset %d is outside 7..17" % o)
    os.makedirs(a.out, exist_ok=True)

    todo = [(m, o, os.path.join(a.out, "%s_op%d.onnx" % (m, o))) for m in names for o in opsets]
    missing = [t for t in todo if not os.path.exists(t[2])]
    if not missing:
        if not a.quiet:
            print("export_torchvision: all %d files present in %s" % (len(todo), a.out))
        return 0

    t_import = time.perf_counter()
    import torch
    import torchvision
    import warnings
    warnings.filterwarnings("ignore")  # tracer warnings from torchvision's detection code
    torch.set_num_threads(1)
    t_import = time.perf_counter() - t_import
    if not a.quiet:
        print("export_torchvision: torch %s, torchvision %s (import %.1f s), %d of %d files to write"
              % (torch.__version__, torchvision.__version__, t_import, len(missing), len(todo)))

    total = time.perf_counter()
    rows = []
    for name, opset, path in missing:
        secs, shape = export_one(torch, torchvision, name, opset, path, a.seed)
        size = os.path.getsize(path)
        rows.append((os.path.basename(path), name, opset, "x".join(map(str, shape)), secs, size))
        if not a.quiet:
            print("  %-40s %7.2f s %9.1f MB" % (os.path.basename(path), secs, size / 1e6))
            sys.stdout.flush()
    with open(os.path.join(a.out, "models.tsv"), "a") as f:
        for r in rows:
            f.write("%s\t%s\t%d\t%s\t%.3f\t%d\n" % r)
    print("export_torchvision: wrote %d files (%.1f MB) in %.1f s"
          % (len(rows), sum(r[5] for r in rows) / 1e6, time.perf_counter() - total))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
