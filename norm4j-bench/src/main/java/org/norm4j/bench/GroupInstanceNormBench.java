package org.norm4j.bench;

import java.util.concurrent.TimeUnit;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.norm.GroupNorm;
import org.norm4j.nn.norm.InstanceNorm;
import org.norm4j.tensor.Tensor;
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
 * GroupNorm (C/2 groups of 2 channels, affine) and InstanceNorm (PyTorch's defaults: no affine, no
 * running statistics) through the public API on channels-first images. Forward under
 * {@code noGrad}; forward + backward into a leaf input. Byte model: forward 2·N·4,
 * forward+backward 5·N·4.
 */
@SuppressWarnings("try")   // the noGrad() scope is used for its effect only
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class GroupInstanceNormBench {
    @Param({"256x6x24x24", "256x16x8x8", "256x64x28x28"})
    public String shape;

    private GroupNorm gn;
    private InstanceNorm in;
    private Tensor x;
    private Tensor xGrad;
    private Tensor dy;

    @Setup(Level.Trial)
    public void setup() {
        int[] d = Inputs.dims(shape);
        gn = new GroupNorm(d[1] / 2, d[1]);
        in = new InstanceNorm(d[1]);
        float[] xs = Inputs.values(Inputs.size(d), 1, 0.5f);
        x = Tensor.wrap(xs, d);
        xGrad = Tensor.wrap(xs, d).requiresGrad(true);
        dy = Inputs.tensor(d, 2, 0f);
    }

    @Benchmark
    public void groupNormForward(Blackhole bh) {
        try (var g = Autograd.noGrad()) {
            bh.consume(gn.forward(x));
        }
    }

    @Benchmark
    public void groupNormForwardBackward(Blackhole bh) {
        Tensor y = gn.forward(xGrad);
        y.backward(dy);
        bh.consume(y);
    }

    @Benchmark
    public void instanceNormForward(Blackhole bh) {
        try (var g = Autograd.noGrad()) {
            bh.consume(in.forward(x));
        }
    }

    @Benchmark
    public void instanceNormForwardBackward(Blackhole bh) {
        Tensor y = in.forward(xGrad);
        y.backward(dy);
        bh.consume(y);
    }
}
