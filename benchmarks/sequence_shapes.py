"""Where do a TimeGAN run's sines differ from real sines? Per-step statistics of the samples and of the
autoencoder's reconstructions of real sequences, the distance of each series to the nearest sine on a grid,
and how the run's own discriminator ranks real against generated sequences.

    python benchmarks/sequence_shapes.py RUN                 # the numbers of docs/benchmarks/sequences.md, third round
    python benchmarks/sequence_shapes.py RUN 0.1,0.2         # also the discriminative score with rejection at q
    python benchmarks/sequence_shapes.py RUN 0.1 --late      # and on steps 4.. only
"""
import argparse
import sys
import time

import numpy as np
import torch

from ganforge.data.registry import build_source
from ganforge.gans.rejection import discriminator_scores
from ganforge.runs import load

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("run", help="a TimeGAN run folder (sines-timegan)")
parser.add_argument("quantiles", nargs="?", help="comma-separated rejection quantiles for the discriminative score")
parser.add_argument("--late", action="store_true", help="also score steps 4.. only")
args = parser.parse_args()
torch.set_num_threads(1)
run = load(args.run)
if not hasattr(run.gan, "recovery"):
    sys.exit(f"{args.run} is a {type(run.gan).__name__} run; this script reads a TimeGAN's autoencoder")
gan = run.gan.eval()
real = build_source("sines", {}).x
torch.manual_seed(0)
fake = run.sample(len(real), reject=0)
R, F = real.numpy().astype(np.float64), fake.numpy().astype(np.float64)
np.set_printoptions(precision=4, suppress=True, linewidth=200)
print("step-wise |mean gap| (avg over features):", np.abs(R.mean(0) - F.mean(0)).mean(1))
print("step-wise sd real:", R.std(0).mean(1))
print("step-wise sd fake:", F.std(0).mean(1))
print("2nd-diff sd per step real:", np.diff(R, 2, axis=1).std(axis=(0, 2)))
print("2nd-diff sd per step fake:", np.diff(F, 2, axis=1).std(axis=(0, 2)))
print("1st-diff mean per step real:", np.diff(R, 1, axis=1).mean(axis=(0, 2)))
print("1st-diff mean per step fake:", np.diff(F, 1, axis=1).mean(axis=(0, 2)))
print("x0 quantiles real:", np.quantile(R[:, 0], [0, .01, .5, .99, 1]))
print("x0 quantiles fake:", np.quantile(F[:, 0], [0, .01, .5, .99, 1]))
print("min over steps quantiles real:", np.quantile(R.min(1), [0, .01, .5, .99, 1]))
print("min over steps quantiles fake:", np.quantile(F.min(1), [0, .01, .5, .99, 1]))
print("max quantiles real:", np.quantile(R.max(1), [0, .01, .5, .99, 1]))
print("max quantiles fake:", np.quantile(F.max(1), [0, .01, .5, .99, 1]))
with torch.no_grad():
    xm = run.scaler.to_model(real)
    rec = run.scaler.to_data(gan.recovery(gan.embedder(xm))).numpy().astype(np.float64)
print("AE rmse per step:", np.sqrt(((rec - R) ** 2).mean(axis=(0, 2))))
print("AE 2nd-diff sd per step:", np.diff(rec, 2, axis=1).std(axis=(0, 2)))
# distance to the sine family: best (f, p) on a grid per series, first 1000 sequences
t = np.arange(24)
f = np.linspace(0, 0.1, 61)
p = np.linspace(0, 0.1, 61)
curves = ((np.sin(f[:, None, None] * t + p[None, :, None]) + 1) / 2).reshape(-1, 24)  # (K, 24)
def fit(X):
    s = X[:1000].transpose(0, 2, 1).reshape(-1, 24)
    d = ((s[:, None, :] - curves[None]) ** 2).mean(-1)
    best = curves[d.argmin(1)]
    return np.abs(s - best)  # (series, 24)
rr, rf = fit(R), fit(F)
print("sine-fit |resid| per step real (grid):", rr.mean(0))
print("sine-fit |resid| per step fake:", rf.mean(0))
sr = discriminator_scores(gan, run.scaler.to_model(real)).numpy()
sf = discriminator_scores(gan, run.scaler.to_model(fake)).numpy()
auc = (sr[:, None] > sf[None, :2000]).mean()
print(f"D mean logit real {sr.mean():.3f} fake {sf.mean():.3f}; AUC(real>fake) {auc:.3f}")
fit_err = rf.reshape(1000, 5, 24).mean((1, 2))
print("corr(D score, sine-fit resid) on fakes:", np.corrcoef(sf[:1000], fit_err)[0, 1])
for q in (0.05, 0.1, 0.2, 0.3):
    thr = np.quantile(sr, q)
    keep = sf[:1000] >= thr
    dropped = fit_err[~keep].mean() if (~keep).any() else float("nan")
    print(
        f"q {q}: keeps {np.mean(sf >= thr):.3f} of fakes; sine-fit resid kept {fit_err[keep].mean():.4f} "
        f"dropped {dropped:.4f}"
    )
if args.quantiles:
    from ganforge.evaluation.sequences import discriminative_score
    def ds(a, b, name, n=5):
        t0 = time.process_time()
        v = [float(discriminative_score(a, b, seed=i)) for i in range(n)]
        listed = ", ".join(f"{x:.3f}" for x in v)
        cpu = time.process_time() - t0
        print(f"{name}: disc {np.mean(v):.4f} +- {np.std(v):.4f} [{listed}] ({cpu:.0f} cpu-s)", flush=True)
    if args.late:
        ds(real[:, 4:], fake[:, 4:], "steps 4.. only")
    for q in map(float, args.quantiles.split(",")):
        torch.manual_seed(0)
        fq = run.sample(len(real), reject=q)
        ds(real, fq, f"reject q={q}")
