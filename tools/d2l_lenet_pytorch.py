#!/usr/bin/env python3
"""The d2l LeNet-BN recipe in PyTorch, for comparison with `norm4j train`.

LeNet with BatchNorm after each conv and hidden linear layer, sigmoid, AvgPool, SGD lr 1.0,
batch 256, 10 epochs, Xavier-uniform weights (d2l's train_ch6), on the real Fashion-MNIST read
from the gzip IDX files. Writes a CSV with norm4j's metrics.csv columns and prints one line per epoch.

--precise-bn K (default 0: off) does what `norm4j train --precise-bn K` does: after each epoch's
training, every BN layer's statistics are recomputed on a copy as the cumulative average over the
first K batches of that epoch's order (train mode, no gradients, PyTorch's momentum=None), the test
accuracy is measured with them (test_acc), and the training statistics are put back, so training
continues exactly as without it. test_acc_running is the accuracy with the plain running averages
(PyTorch's eval()); without --precise-bn both columns hold it. --save writes the final state dict
with the training statistics (the plain running averages), whatever --precise-bn.

Run with Debian's PyTorch:  /usr/bin/python3 tools/d2l_lenet_pytorch.py --threads 1 --out pytorch.csv [--precise-bn 10] [--save model.safetensors]
"""
import argparse, copy, time

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
    ap.add_argument("--precise-bn", type=int, default=0, metavar="K",
                    help="after each epoch, evaluate with BN statistics recomputed over the epoch's first K batches (0: off)")
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
        acc_running = accuracy(net, xte, yte)
        acc = acc_running
        if a.precise_bn > 0:
            batches = [xtr[perm[i:i + a.batch_size]] for i in range(0, min(len(ytr), a.precise_bn * a.batch_size), a.batch_size)]
            acc = accuracy(precise_bn(net, batches), xte, yte)
        rows.append((epoch, lsum / len(ytr), correct / len(ytr), acc, secs, acc_running))
        extra = f" (running stats: {acc_running:.4f})" if a.precise_bn > 0 else ""
        print(f"pytorch epoch {epoch:2d}: loss {lsum / len(ytr):.4f}, train acc {correct / len(ytr):.4f}, test acc {acc:.4f}{extra}, {secs:.1f} s", flush=True)
    if a.save:
        from make_safetensors_fixture import save_state_dict
        save_state_dict(net.state_dict(), a.save, {"format": "pt", "norm": "batch", "convention": "PYTORCH",
                                                   "epoch": str(a.epochs), "trained_by": "tools/d2l_lenet_pytorch.py (PyTorch %s)" % torch.__version__})
    if a.out:
        with open(a.out, "w") as f:
            f.write("epoch,train_loss,train_acc,test_acc,seconds,test_acc_running\n")
            for r in rows:
                f.write("%d,%.6f,%.6f,%.6f,%.3f,%.6f\n" % r)


def accuracy(net, xte, yte):
    """Test accuracy in eval mode, batches of 1000; the module's mode is left in eval."""
    net.eval()
    with torch.no_grad():
        return sum((net(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(yte), 1000)) / len(yte)


def precise_bn(net, batches):
    """A copy of net whose BN statistics are the cumulative average over batches (weights frozen),
    as fvcore's update_bn_stats and norm4j's PreciseBn: momentum=None, statistics reset, train mode."""
    net = copy.deepcopy(net)
    bns = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    net.train()
    with torch.no_grad():
        for x in batches:
            net(x)
    return net


if __name__ == "__main__":
    main()
