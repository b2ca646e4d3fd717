# Independent float64 reference numbers for test/diffusion/*.test.ts, written from diffusers' DDIMScheduler /
# EulerAncestralDiscreteScheduler and ddpo-pytorch's ddim_step_with_logprob (ported, not imported: neither package is
# needed). Run: /usr/bin/python3 test/diffusion/torch_reference.py  (Debian python3-torch 1.13, numpy 1.24)
import json
import math

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
T = 1000
betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T, dtype=torch.float64) ** 2
alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
final_alpha_cumprod = alphas_cumprod[0]
lin_betas = torch.linspace(0.00085, 0.012, T, dtype=torch.float64)
lin_ac = torch.cumprod(1.0 - lin_betas, dim=0)
out = {}
out["alphas_cumprod"] = {t: alphas_cumprod[t].item() for t in [0, 1, 20, 250, 500, 981, 999]}
out["linear_alphas_cumprod"] = {t: lin_ac[t].item() for t in [0, 500, 999]}
out["betas"] = {t: betas[t].item() for t in [0, 1, 999]}


def timesteps(n, spacing, offset=1):
    if spacing == "leading":
        ratio = T // n
        ts = (np.arange(0, n) * ratio).round()[::-1].copy().astype(np.int64) + offset
    elif spacing == "trailing":
        ratio = T / n
        ts = np.round(np.arange(T, 0, -ratio)).astype(np.int64) - 1
    else:
        ts = np.linspace(0, T - 1, n).round()[::-1].copy().astype(np.int64)
    return ts.tolist()


out["timesteps"] = {f"{s}_{n}": timesteps(n, s) for s in ["leading", "trailing", "linspace"] for n in [50, 7, 1]}

# Deterministic float32 data, as the JS test builds it: x[k] = sin(0.37 k + 0.1), eps[k] = cos(0.23 k) * 1.3,
# z[k] = sin(1.7 k) * 1.1, shape [2, 4, 3, 3].
shape = (2, 4, 3, 3)
k = np.arange(np.prod(shape))
f32 = lambda a: torch.from_numpy(a.astype(np.float32).reshape(shape)).double()
xt = f32(np.sin(0.37 * k + 0.1))
eps = f32(np.cos(0.23 * k) * 1.3)
z = f32(np.sin(1.7 * k) * 1.1)


def ddim_step_with_logprob(x, e, t, steps, eta, noise):
    # ddpo-pytorch diffusers_patch/ddim_with_logprob.py, per sample t (clamp of prev to [0, T-1])
    prev_t = torch.clamp(t - T // steps, 0, T - 1)
    a_t = alphas_cumprod.gather(0, t).view(-1, 1, 1, 1)
    a_prev = torch.where(prev_t >= 0, alphas_cumprod.gather(0, prev_t), final_alpha_cumprod).view(-1, 1, 1, 1)
    b_t, b_prev = 1 - a_t, 1 - a_prev
    x0 = (x - b_t ** 0.5 * e) / a_t ** 0.5
    variance = (b_prev / b_t) * (1 - a_t / a_prev)
    std = eta * variance ** 0.5
    mean = a_prev ** 0.5 * x0 + (1 - a_prev - std ** 2) ** 0.5 * e
    prev = mean + std * noise
    prev32 = prev.float().double()  # the JS step stores x_t' in float32 and evaluates log p there
    lp = -((prev32 - mean) ** 2) / (2 * std ** 2) - torch.log(std) - math.log(math.sqrt(2 * math.pi))
    return prev, mean, x0, std.flatten(), lp.mean(dim=(1, 2, 3))


ddim = {}
for name, tt, steps, eta in [("t981_n50_eta1", [981, 981], 50, 1.0), ("mixed_n50_eta05", [501, 1], 50, 0.5), ("t1_n50_eta1", [1, 1], 50, 1.0)]:
    prev, mean, x0, std, lp = ddim_step_with_logprob(xt, eps, torch.tensor(tt), steps, eta, z)
    ddim[name] = {"t": tt, "steps": steps, "eta": eta, "prev": prev.flatten().tolist(), "mean": mean.flatten().tolist(),
                  "x0": x0.flatten().tolist(), "std": std.tolist(), "logprob": lp.tolist()}
out["ddim"] = ddim

# Euler ancestral (diffusers EulerAncestralDiscreteScheduler, epsilon), leading spacing, steps_offset 1, N = 50.
ts = np.array(timesteps(50, "leading"), dtype=np.float64)
sig_all = ((1 - alphas_cumprod) / alphas_cumprod).numpy() ** 0.5
sigmas = np.concatenate([np.interp(ts, np.arange(0, T), sig_all), [0.0]])
init_noise_sigma = (sigmas.max() ** 2 + 1) ** 0.5
lin_ts = np.linspace(0, T - 1, 7, dtype=float)[::-1].copy()
lin_sigmas = np.interp(lin_ts, np.arange(0, T), sig_all)


def euler_a_step(i, sample, e, noise):
    sigma, sigma_to = sigmas[i], sigmas[i + 1]
    x0 = sample - sigma * e
    sigma_up = (sigma_to ** 2 * (sigma ** 2 - sigma_to ** 2) / sigma ** 2) ** 0.5
    sigma_down = (sigma_to ** 2 - sigma_up ** 2) ** 0.5
    derivative = (sample - x0) / sigma
    return sample + derivative * (sigma_down - sigma) + noise * sigma_up, sigma_up, sigma_down


sample0 = xt * init_noise_sigma
scaled_in = sample0 / ((sigmas[0] ** 2 + 1) ** 0.5)
step0, up0, down0 = euler_a_step(0, sample0, eps, z)
step10, up10, down10 = euler_a_step(10, xt, eps, z)
out["euler_a"] = {
    "sigmas": {i: float(sigmas[i]) for i in [0, 1, 10, 49, 50]}, "init_noise_sigma": float(init_noise_sigma),
    "linspace7_timesteps": lin_ts.tolist(), "linspace7_sigmas": lin_sigmas.tolist(),
    "scaled_input_first4": scaled_in.flatten()[:4].tolist(),
    "step0": {"prev": step0.flatten().tolist(), "sigma_up": float(up0), "sigma_down": float(down0)},
    "step10": {"prev": step10.flatten().tolist(), "sigma_up": float(up10), "sigma_down": float(down10)},
}
print(json.dumps(out))
