package org.norm4j.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.Module;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.CrossEntropy;
import org.norm4j.optim.SGD;
import org.norm4j.tensor.Tensor;
import org.norm4j.train.LeNet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Where a LeNet-BN training step spends its time, layer by layer: forward + backward of layer
 * {@code layer} of {@link LeNet#build} (the d2l recipe, PyTorch convention, training mode) on the
 * activation a batch of 256 random images produces there, the input a leaf that requires grad
 * (except layer 0's images, as in training), its gradient and the layer's cleared before each call.
 * tools/bench_pytorch.py times the same layers of d2l's {@code lenet_bn()}, so the report shows
 * per-layer ratios. No byte model: these are not all memory-bound.
 */
@SuppressWarnings("try")   // the noGrad() scope is used for its effect only
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class LeNetBench {
    static final int BATCH = 256;

    /** Index in the d2l Sequential: 0 conv1, 1 bn1, 2 sigmoid, 3 pool, 4 conv2, …, 15 linear3. */
    @Param({"0", "1", "2", "3", "4", "5", "6", "7", "9", "10", "11", "12", "13", "14", "15"})
    public int layer;

    private Module module;
    private Tensor x;
    private Tensor dy;

    @Setup(Level.Trial)
    public void setup() {
        Sequential net = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
        net.train();
        Tensor a = images(BATCH, 1);
        try (var g = Autograd.noGrad()) {
            for (int i = 0; i < layer; i++) a = net.get(i).forward(a);
        }
        module = net.get(layer);
        x = Tensor.wrap(a.toArray(), a.shape()).requiresGrad(layer > 0);   // as in training: images need no gradient
        Tensor y;
        try (var g = Autograd.noGrad()) {
            y = module.forward(x);
        }
        dy = Tensor.wrap(Inputs.values(y.size(), 2, 0f), y.shape());
    }

    static Tensor images(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n * 28 * 28];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextDouble();
        return Tensor.wrap(v, n, 1, 28, 28);
    }

    @Benchmark
    public void forwardBackward(Blackhole bh) {
        Inputs.clearGrads(x, module);
        Tensor y = module.forward(x);
        y.backward(dy);
        bh.consume(y);
    }

    /**
     * One whole training step of the recipe (zero grad, forward, cross-entropy, backward, SGD lr 1.0,
     * in a {@link org.norm4j.tensor.Workspace} scope as {@link org.norm4j.train.Trainer} runs it)
     * on a fixed batch of 256 random images: the epoch's unit of work without data loading, on 1
     * and 2 of norm4j's threads (the per-layer benchmarks run on 1).
     */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
    public static class Step {
        /** norm4j's kernel threads ({@link org.norm4j.kernels.Parallel}); OpenBLAS stays at 1 (bin/bench). */
        @Param({"1", "2"})
        public int threads;

        private Sequential net;
        private SGD sgd;
        private Tensor images;
        private int[] labels;

        @Setup(Level.Trial)
        public void setup() {
            org.norm4j.kernels.Parallel.setThreads(threads);
            net = LeNet.build(LeNet.Norm.BATCH, Convention.PYTORCH, 0);
            net.train();
            sgd = new SGD(net.parameters(), 1.0);
            images = images(BATCH, 1);
            labels = new SplittableRandom(3).ints(BATCH, 0, 10).toArray();
        }

        @Benchmark
        public void trainStep(Blackhole bh) {
            try (org.norm4j.tensor.Workspace.Scope scope = org.norm4j.tensor.Workspace.open()) {   // as Trainer runs a step
                sgd.zeroGrad();
                Tensor loss = CrossEntropy.forward(net.forward(images), labels);
                loss.backward();
                sgd.step();
                bh.consume(loss.item());
            }
        }
    }
}
