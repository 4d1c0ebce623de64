"""PyTorch CPU reference for `prn bench sparse`: masked training as the PaI tools do it (dense
compute on `weight * mask`, torch.nn.utils.prune's forward), same models, batch sizes, optimizers
and thread count. The masks keep a random fraction of each prunable weight: dense masked compute
costs the same whatever the pattern. Times the fastest step, as prn's benchmark does. Prints
lines `torch_masked model=… density=… threads=… samples_per_s=…`."""
import sys, time
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune


def lenet300():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))


def vgg16():
    layers, c = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1, bias=False), nn.BatchNorm2d(v), nn.ReLU()]
            c = v
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


def fastest_step(model, shape, batch, steps, optimizer):
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3) if optimizer == "adam" else \
        torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(batch, *shape, generator=g), torch.randint(0, 10, (batch,), generator=g)
    best = float("inf")
    for _ in range(steps + 1):
        start = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        best = min(best, time.perf_counter() - start)
    return batch / best


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    for name, make, shape, batch, steps, opt in [("lenet300", lenet300, (1, 28, 28), 64, 30, "adam"),
                                                 ("vgg16", vgg16, (3, 32, 32), 128, 2, "sgd")]:
        for density in [0.1, 0.02, 0.005]:
            torch.manual_seed(1)
            model = make()
            for m in model.modules():
                if isinstance(m, (nn.Linear, nn.Conv2d)):
                    prune.random_unstructured(m, "weight", amount=1 - density)
            rate = fastest_step(model, shape, batch, steps, opt)
            print(f"torch_masked model={name} density={density} threads={threads} samples_per_s={int(rate)}", flush=True)


if __name__ == "__main__":
    main()
