"""PyTorch fp32 reference for bench/gpu.ts: the FF step of worker/ff/ff-layer.ts (trainStep with
peer normalisation and Adam), the same maths written with torch ops, timed the same way
(median after warm-up, synchronised). Prints one JSON object: {"device": ..., "rows": [...]}.

  python3 bench/ff_step_torch.py --shapes 100x784x2000,1000x784x2000 --repeats 20
"""
import argparse
import json
import math
import statistics
import time

import torch


def ff_step(state, x_pos, x_neg, lr, threshold=1.0, sharpness=10.0, peer_weight=0.03, momentum=0.9):
    x = torch.cat([x_pos, x_neg], 0)
    x_hat = x / (x.square().mean(1, keepdim=True).sqrt() + 1e-8)
    h = torch.relu(x_hat @ state["w"] + state["b"])
    rows, units = h.shape
    positives = x_pos.shape[0]
    sign = torch.cat([torch.ones(positives, device=x.device), -torch.ones(rows - positives, device=x.device)])
    g = h.square().mean(1)
    margin = sign * (threshold - g) * sharpness
    loss = torch.nn.functional.softplus(margin).mean()
    dldg = -sign * torch.sigmoid(margin) / (rows / sharpness)
    delta = dldg[:, None] * (h * (2 / units))
    h_pos = h[:positives]
    running = state["running"] * momentum + h_pos.mean(0) * (1 - momentum)
    state["running"] = running
    pull = (running - running.mean()) * (2 * peer_weight * (1 - momentum) / (units * positives))
    delta = delta + torch.nn.functional.pad((h_pos > 0).float() * pull, (0, 0, 0, rows - positives))
    state["steps"] += 1
    adam(state, "w", x_hat.T @ delta, lr)
    adam(state, "b", delta.sum(0), lr)
    return loss


def adam(state, name, grad, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = state[name + "_m"].mul_(beta1).add_(grad, alpha=1 - beta1)
    v = state[name + "_v"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    t = state["steps"]
    step = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
    state[name].sub_(m / (v.sqrt() + eps) * step)


def measure(batch, inputs, units, repeats, device):
    gen = torch.Generator(device="cpu").manual_seed(1)
    w = (torch.randn(inputs, units, generator=gen) * math.sqrt(2 / inputs)).to(device)
    state = {"w": w, "b": torch.zeros(units, device=device), "running": torch.zeros(units, device=device), "steps": 0}
    for k in ("w", "b"):
        state[k + "_m"] = torch.zeros_like(state[k])
        state[k + "_v"] = torch.zeros_like(state[k])
    x_pos = torch.rand(batch, inputs, generator=gen).to(device)
    x_neg = torch.rand(batch, inputs, generator=gen).to(device)
    times = []
    for i in range(repeats + 3):
        start = time.perf_counter()
        ff_step(state, x_pos, x_neg, 1e-3).item()  # .item() waits for the device, like data() in tfjs
        if i >= 3:
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", required=True, help="comma-separated BATCHxINPUTSxUNITS")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32, like WebGPU's f32 matMul
    name = torch.cuda.get_device_name(0) if device == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    rows = []
    for shape in args.shapes.split(","):
        batch, inputs, units = (int(v) for v in shape.split("x"))
        rows.append({"shape": shape, "ms": measure(batch, inputs, units, args.repeats, device)})
    print(json.dumps({"device": f"torch {torch.__version__} on {name}", "rows": rows}))


if __name__ == "__main__":
    main()
