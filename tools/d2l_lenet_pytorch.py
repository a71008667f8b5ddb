#!/usr/bin/env python3
"""The d2l LeNet-BN recipe in PyTorch, for comparison with `norm4j train`.

LeNet with BatchNorm after each conv and hidden linear layer, sigmoid, AvgPool, SGD lr 1.0,
batch 256, 10 epochs, Xavier-uniform weights (d2l's train_ch6), on the real Fashion-MNIST read
from the gzip IDX files. Writes a CSV with norm4j's metrics.csv columns (test_acc with the plain
running averages, so test_acc_running equals it) and prints one line per epoch.

Run with Debian's PyTorch:  /usr/bin/python3 tools/d2l_lenet_pytorch.py --threads 1 --out pytorch.csv [--save model.safetensors]
"""
import argparse, time

import torch
from torch import nn

from d2l import DEFAULT_DATA, fashion_mnist, lenet_bn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--save", default=None, help="write the final state dict as safetensors (d2l keys), e.g. for norm4j recalibrate")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = fashion_mnist(a.data, True)
    xte, yte = fashion_mnist(a.data, False)
    net = lenet_bn()
    for m in net:
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
    opt = torch.optim.SGD(net.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    rows = []
    for epoch in range(1, a.epochs + 1):
        net.train()
        perm = torch.randperm(len(ytr))
        t0 = time.perf_counter()
        lsum, correct = 0.0, 0
        for i in range(0, len(ytr), a.batch_size):
            idx_ = perm[i:i + a.batch_size]
            x, y = xtr[idx_], ytr[idx_]
            opt.zero_grad()
            out = net(x)
            loss = loss_fn(out, y)
            loss.backward()
            opt.step()
            lsum += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
        secs = time.perf_counter() - t0
        net.eval()
        with torch.no_grad():
            acc = sum((net(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(yte), 1000)) / len(yte)
        rows.append((epoch, lsum / len(ytr), correct / len(ytr), acc, secs, acc))
        print(f"pytorch epoch {epoch:2d}: loss {lsum / len(ytr):.4f}, train acc {correct / len(ytr):.4f}, test acc {acc:.4f}, {secs:.1f} s", flush=True)
    if a.save:
        from make_safetensors_fixture import save_state_dict
        save_state_dict(net.state_dict(), a.save, {"format": "pt", "norm": "batch", "convention": "PYTORCH",
                                                   "epoch": str(a.epochs), "trained_by": "tools/d2l_lenet_pytorch.py (PyTorch %s)" % torch.__version__})
    if a.out:
        with open(a.out, "w") as f:
            f.write("epoch,train_loss,train_acc,test_acc,seconds,test_acc_running\n")
            for r in rows:
                f.write("%d,%.6f,%.6f,%.6f,%.3f,%.6f\n" % r)


if __name__ == "__main__":
    main()
