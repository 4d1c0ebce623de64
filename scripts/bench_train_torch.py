"""PyTorch CPU reference for `prn bench train`: the same models, data shapes, optimizers and batch
sizes, on the same thread counts. Prints lines in prn's format: train model=… threads=… samples_per_s=…"""
import gzip, os, sys, time
import numpy as np
import torch
import torch.nn as nn

FASHION = "/usr/share/datasets/fashion-mnist"


def fashion_images():
    path = os.path.join(FASHION, "train-images-idx3-ubyte.gz")
    if os.path.exists(path):
        raw = np.frombuffer(gzip.open(path).read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
        x = (raw.astype(np.float32) / 255 - 0.2860) / 0.3530
        y = np.frombuffer(gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")).read(), dtype=np.uint8, offset=8)
        return torch.from_numpy(x.copy()), torch.from_numpy(y.astype(np.int64))
    g = torch.Generator().manual_seed(0)
    return torch.randn(60000, 1, 28, 28, generator=g), torch.randint(0, 10, (60000,), generator=g)


def lenet300():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))


def conv2():
    return nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 14 * 14, 256), nn.ReLU(),
                         nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


VGG_PLANS = {"vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512],
             "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]}


def vgg(name, width):
    layers, c = [], 3
    for v in VGG_PLANS[name]:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            v = round(v * width)
            layers += [nn.Conv2d(c, v, 3, padding=1, bias=False), nn.BatchNorm2d(v), nn.ReLU()]
            c = v
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


class ResidualBlock(nn.Module):
    """prn's ResidualBlock: conv-bn-relu-conv-bn plus a 1×1 conv-bn shortcut when the shape changes."""

    def __init__(self, inputs, outputs, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False), nn.BatchNorm2d(outputs),
                                  nn.ReLU(), nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False), nn.BatchNorm2d(outputs))
        self.shortcut = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, 0, bias=False), nn.BatchNorm2d(outputs)) \
            if stride != 1 or inputs != outputs else nn.Identity()

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


def resnet20():
    layers, c = [nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for stage, width in enumerate([16, 32, 64]):
        for b in range(3):
            layers.append(ResidualBlock(c, width, 2 if stage > 0 and b == 0 else 1))
            c = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


def kaiming(model):
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def run(name, model, x, y, batch, steps, optimizer):
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3) if optimizer == "adam" else \
        torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    n = steps * batch if steps else len(x)
    perm = torch.randperm(len(x))[:n]
    start = None
    for i in range(0, n - batch + 1, batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        if start is None:  # the first step warms up, as prn's bench excludes its first step
            start = time.perf_counter()
    return (n - n % batch - batch) / (time.perf_counter() - start)


def main():
    threads = [int(t) for t in sys.argv[1:]] or [1, 2]
    def cifar():
        g = torch.Generator().manual_seed(0)
        return torch.randn(128 * 20, 3, 32, 32, generator=g), torch.randint(0, 10, (128 * 20,), generator=g)
    cases = [("lenet300", lenet300, fashion_images, 64, None, "adam"),
             ("conv2", conv2, fashion_images, 64, 50, "adam"),
             ("vgg11", lambda: vgg("vgg11", 0.25), cifar, 128, 20, "sgd"),
             ("vgg16", lambda: vgg("vgg16", 1), cifar, 128, 5, "sgd"),
             ("resnet20", resnet20, cifar, 128, 10, "sgd")]
    only = os.environ.get("BENCH_MODELS")
    loaded = {}  # data loaded only for the chosen cases, so peak memory is theirs
    for name, make, data, batch, steps, opt in cases:
        if only and name not in only.split(","):
            continue
        if data not in loaded:
            loaded[data] = data()
        x, y = loaded[data]
        for t in threads:
            torch.set_num_threads(t)
            torch.manual_seed(1)
            rate = run(name, kaiming(make()), x, y, batch, steps, opt)
            print(f"train model={name} threads={t} samples_per_s={int(rate)}", flush=True)


if __name__ == "__main__":
    main()
