package org.norm4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.norm4j.kernels.Parallel;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.GroupNorm;
import org.norm4j.nn.norm.InstanceNorm;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.nn.norm.RMSNorm;

/**
 * The normalization family's large-tensor kernels and modules (batch norm's by default, the rest
 * with {@code family}) held against a copy measured beside them: in each round the
 * machine's copy (51 MB into another, over {@link Parallel}'s tasks, as {@link CopyBench}'s
 * [256, 64, 28, 28]), then the kernel, then the copy again, in one JVM, and the kernel's GB/s (its
 * byte model, docs/benchmarks.md) over the copy's GB/s at the mean of the two copies' times is
 * that round's ratio. The figure is the median of the rounds' ratios (the first two dropped),
 * with their range. A kernel whose tensor partly stays in the L3 ([4096, 768]: 12.6 MB) can pass
 * 100%: the copy's 51 MB do not. The machine's memory bandwidth moves by up to 2x from minute to
 * minute (docs/benchmarks.md); JMH times a kernel and its copy in separate forks, minutes apart,
 * so a report's "% of copy" can hold a kernel timed in a slow phase against a copy timed in a
 * fast one.
 * Here both see the same phase. Not JMH for that reason; the JMH tables stay the record.
 * Run as {@code java --add-modules jdk.incubator.vector -Xmx6g -XX:+UseTransparentHugePages
 * -cp norm4j-bench/target/benchmarks.jar org.norm4j.bench.KernelCopyRatio THREADS [family]}:
 * batch norm's kernels and modules by default; with {@code family}, the rest of the family's
 * modules (layer, RMS, group and instance norm, as {@link RowNormBench} and
 * {@link GroupInstanceNormBench} build them) on the same tensors.
 */
public final class KernelCopyRatio {
    private KernelCopyRatio() {}

    /** A timed call and its byte model (floats moved an element, docs/benchmarks.md). */
    record Op(String name, double bytesPerElement, Supplier<Object> body) {}

    public static void main(String[] args) {
        Parallel.setThreads(args.length > 0 ? Integer.parseInt(args[0]) : 1);
        if (args.length > 1 && !args[1].equals("family")) {
            throw new IllegalArgumentException("KernelCopyRatio THREADS [family]: unknown second argument '" + args[1] + "'");
        }
        boolean family = args.length > 1;
        int rounds = 12;
        // the machine's copy: 51 MB into another 51 MB, past the L3, whatever the kernel's size
        float[] src = Inputs.values(Inputs.size(Inputs.dims("256x64x28x28")), 1, 0.5f), dst = new float[src.length];
        Op copy = new Op("copy", 2, () -> CopyBench.copy(src, dst));
        System.out.printf("%-16s %-22s %9s %8s %10s %s%n", "shape", "op", "ms", "GB/s", "% of copy", "(rounds' range)");
        String[] shapes = family ? new String[] {"256x64x28x28", "4096x768"}
                : new String[] {"256x64x28x28", "256x28x28x64/cl", "4096x768"};
        for (String shape : shapes) {
            Op[] ops = family ? familyOps(shape) : batchNormOps(shape, new BatchNormKernels(shape));
            int n = Inputs.size(Inputs.dims(shape)), calls = Math.max(10, (int) (2e8 / n / 4));
            double[][] ms = new double[ops.length][rounds], ratio = new double[ops.length][rounds];
            for (int round = 0; round < rounds; round++) {
                for (int o = 0; o < ops.length; o++) {
                    double before = medianMs(copy, 10), t = medianMs(ops[o], calls), after = medianMs(copy, 10);
                    ms[o][round] = t;
                    ratio[o][round] = (ops[o].bytesPerElement * n / t) / (copy.bytesPerElement * src.length / ((before + after) / 2));
                }
            }
            for (int o = 0; o < ops.length; o++) {
                double[] r = Arrays.copyOfRange(ratio[o], 2, rounds), m = Arrays.copyOfRange(ms[o], 2, rounds);
                Arrays.sort(r);
                Arrays.sort(m);
                double t = m[m.length / 2];
                System.out.printf("%-16s %-22s %9.3f %8.1f %9.0f%% (%.0f–%.0f%%)%n", shape, ops[o].name, t,
                        ops[o].bytesPerElement * n * 4 / t / 1e6, 100 * r[r.length / 2], 100 * r[0], 100 * r[r.length - 1]);
            }
        }
    }

    /**
     * Batch norm's kernels ({@code k}, over {@code shape}) and its module over {@code shape} (the
     * feature axis as {@link Inputs#batchNorm}); also {@link AllocationPerCall}'s.
     */
    static Op[] batchNormOps(String shape, BatchNormKernels k) {
        BatchNorm module = Inputs.batchNorm(shape);
        Inputs.Operands io = new Inputs.Operands(Inputs.dims(shape));
        return new Op[] {
            new Op("kernel.bn_train_fwd", 2, k::trainForward),
            new Op("kernel.bn_bwd", 3, k::backward),
            new Op("bn.train_fwd", 2, () -> io.forward(module)),
            new Op("bn.train_fwd_bwd", 5, () -> io.forwardBackward(module)),
        };
    }

    /**
     * Layer and RMS norm over the trailing dimensions, and for [N, C, H, W] group norm (C/2 groups)
     * and instance norm, as the JMH benchmarks build them: forward (2 floats moved an element) and
     * forward + backward (5); also {@link AllocationPerCall}'s.
     */
    static Op[] familyOps(String shape) {
        int[] d = Inputs.dims(shape);
        Inputs.Operands io = new Inputs.Operands(d);
        LayerNorm ln = new LayerNorm(Inputs.trailing(d));
        RMSNorm rms = new RMSNorm(Inputs.trailing(d));
        List<Op> ops = new ArrayList<>(List.of(
            new Op("ln.fwd", 2, () -> io.forward(ln)),
            new Op("ln.fwd_bwd", 5, () -> io.forwardBackward(ln)),
            new Op("rms.fwd", 2, () -> io.forward(rms)),
            new Op("rms.fwd_bwd", 5, () -> io.forwardBackward(rms))));
        if (d.length == 4) {
            GroupNorm gn = new GroupNorm(d[1] / 2, d[1]);
            InstanceNorm in = new InstanceNorm(d[1]);
            ops.addAll(List.of(
                new Op("gn.fwd", 2, () -> io.forward(gn)),
                new Op("gn.fwd_bwd", 5, () -> io.forwardBackward(gn)),
                new Op("in.fwd", 2, () -> io.forward(in)),
                new Op("in.fwd_bwd", 5, () -> io.forwardBackward(in))));
        }
        return ops.toArray(new Op[0]);
    }

    /** The median of {@code calls} timed calls, in ms. */
    private static double medianMs(Op op, int calls) {
        long[] t = new long[calls];
        Object sink = null;
        for (int i = 0; i < calls; i++) {
            long t0 = System.nanoTime();
            sink = op.body.get();
            t[i] = System.nanoTime() - t0;
        }
        if (sink == null) throw new IllegalStateException(op.name + " returned nothing");
        Arrays.sort(t);
        return t[calls / 2] / 1e6;
    }
}
