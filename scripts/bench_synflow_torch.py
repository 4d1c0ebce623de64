"""PyTorch CPU reference for `prn bench synflow`: SynFlow, 100 rounds (exponential schedule) on
VGG-16 with batch norm (CIFAR shape, prn's layer plan), global scope, to 1% density. Prints a line
in prn's format: synflow model=vgg16 rounds=… threads=… seconds=…"""
import sys, time
import torch
import torch.nn as nn

PLAN = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]


def vgg16():
    layers, c = [], 3
    for v in PLAN:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1, bias=False), nn.BatchNorm2d(v), nn.ReLU()]
            c = v
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight)
    return model


def synflow(model, rounds, density):
    model.eval()
    prunable = [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    masks = [torch.ones_like(w) for w in prunable]
    with torch.no_grad():
        signs = [p.sign() for p in model.state_dict().values() if p.is_floating_point()]
        for p in model.state_dict().values():
            if p.is_floating_point():
                p.abs_()
    total = sum(w.numel() for w in prunable)
    x = torch.ones(1, 3, 32, 32)
    for e in range(1, rounds + 1):
        with torch.no_grad():
            for w, m in zip(prunable, masks):
                w.mul_(m)
        model.zero_grad()
        model(x).sum().backward()
        scores = torch.cat([(w.grad * w).abs().flatten() for w in prunable])
        keep = round(density ** (e / rounds) * total)
        threshold = torch.kthvalue(scores, total - keep).values if keep < total else scores.min() - 1
        offset = 0
        for m, w in zip(masks, prunable):
            n = w.numel()
            m.copy_((scores[offset:offset + n] > threshold).view_as(w).float())
            offset += n
    return masks


def main():
    threads = [int(t) for t in sys.argv[1:]] or [torch.get_num_threads()]
    for t in threads:
        torch.set_num_threads(t)
        torch.manual_seed(0)
        model = vgg16()
        start = time.perf_counter()
        masks = synflow(model, 100, 0.01)
        seconds = time.perf_counter() - start
        kept = sum(int(m.sum()) for m in masks) / sum(m.numel() for m in masks)
        print(f"synflow model=vgg16 rounds=100 threads={t} seconds={seconds:.2f} density={kept:.4f}", flush=True)


if __name__ == "__main__":
    main()
