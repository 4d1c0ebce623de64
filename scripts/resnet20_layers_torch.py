"""PyTorch's time per ResNet-20 convolution product, to set beside `BENCH_MODELS=resnet20 prn bench
conv`: forward, input gradient, weight gradient and both gradients in one call (as training runs
them) of each distinct 3×3 layer at batch 128, plus batch norm + ReLU (training mode, forward and
backward) at each stage's size.

Prints lines like prn's: `torch layer=resnet20.c16.s32 product=forward threads=2 ms=… min_ms=…`
(median of repeated calls, and the fastest). Single runs of one product swing up to 3× on a
shared 2-vCPU host (session 19: c16.s32's input gradient on 2 threads 6.7–25.8 ms), so compare
medians over several runs. Usage: python3 scripts/resnet20_layers_torch.py [threads, e.g. 1,2]"""
import sys, time
import torch
import torch.nn.functional as F

# name, in, out, side (of the input), stride: the same layers as Bench+Conv.swift's resnet20 rows
LAYERS = [("resnet20.c16.s32", 16, 16, 32, 1), ("resnet20.c32.s16", 32, 32, 16, 1), ("resnet20.c64.s8", 64, 64, 8, 1),
          ("resnet20.c16.s32.stride2", 16, 32, 32, 2), ("resnet20.c32.s16.stride2", 32, 64, 16, 2)]
BATCH = 128


def timed_ms(fn, rounds=25):
    """Median and fastest of `rounds` calls after two warm-up calls (oneDNN builds its primitives
    on the first), in ms."""
    fn()
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2] * 1e3, times[0] * 1e3


def conv_products(c, o, side, stride):
    g = torch.Generator().manual_seed(c * side)
    x = torch.randn(BATCH, c, side, side, generator=g)
    w = torch.randn(o, c, 3, 3, generator=g)
    out = (side - 1) // stride + 1
    gy = torch.randn(BATCH, o, out, out, generator=g)

    def backward(mask):
        return lambda: torch.ops.aten.convolution_backward(gy, x, w, None, [stride, stride], [1, 1], [1, 1],
                                                           False, [0, 0], 1, mask)
    return [("forward", lambda: F.conv2d(x, w, stride=stride, padding=1)),
            ("input_grad", backward([True, False, False])),
            ("weight_grad", backward([False, True, False])),
            # both gradients in one call, as autograd asks for them in training
            ("backward", backward([True, True, False]))]


def batch_norm_relu(c, side):
    """Forward (training batch statistics) then backward of relu(batch_norm(x)), as one product."""
    g = torch.Generator().manual_seed(c)
    x = torch.randn(BATCH, c, side, side, generator=g, requires_grad=True)
    gamma, beta = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)
    gy = torch.randn(BATCH, c, side, side, generator=g)

    def forward():
        return torch.relu(F.batch_norm(x, None, None, gamma, beta, training=True))

    def both():
        torch.autograd.backward(forward(), gy)
    return [("bn_relu_forward", lambda: forward()), ("bn_relu_fwd_bwd", both)]


def report(line, fn):
    median, fastest = timed_ms(fn)
    print(f"{line} ms={median:.3f} min_ms={fastest:.3f}", flush=True)


def main():
    threads = [int(t) for t in (sys.argv[1] if len(sys.argv) > 1 else "1,2").split(",")]
    for t in threads:
        torch.set_num_threads(t)
        for name, c, o, side, stride in LAYERS:
            for product, fn in conv_products(c, o, side, stride):
                report(f"torch layer={name} product={product} threads={t}", fn)
        for c, side in [(16, 32), (32, 16), (64, 8)]:
            for product, fn in batch_norm_relu(c, side):
                report(f"torch layer=resnet20.bn{c}.s{side} product={product} threads={t}", fn)


if __name__ == "__main__":
    main()
