package org.norm4j.bench;

import java.util.concurrent.TimeUnit;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.nn.norm.RMSNorm;
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
 * LayerNorm and RMSNorm through the public API, normalized over every axis but the first (so
 * {@code 256x6x24x24} normalizes rows of 3456, {@code 4096x768} rows of 768), elementwise affine on,
 * default eps. Forward under {@code noGrad}; forward + backward into a leaf input and the affine
 * parameters. Byte model: forward 2·N·4, forward+backward 5·N·4.
 */
@SuppressWarnings("try")   // the noGrad() scope is used for its effect only
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class RowNormBench {
    @Param({"256x6x24x24", "256x16x8x8", "256x120", "256x84", "256x64x28x28", "4096x768"})
    public String shape;

    private LayerNorm ln;
    private RMSNorm rms;
    private Tensor x;
    private Tensor xGrad;
    private Tensor dy;

    @Setup(Level.Trial)
    public void setup() {
        int[] d = Inputs.dims(shape);
        ln = new LayerNorm(Inputs.trailing(d));
        rms = new RMSNorm(Inputs.trailing(d));
        float[] xs = Inputs.values(Inputs.size(d), 1, 0.5f);
        x = Tensor.wrap(xs, d);
        xGrad = Tensor.wrap(xs, d).requiresGrad(true);
        dy = Inputs.tensor(d, 2, 0f);
    }

    @Benchmark
    public void layerNormForward(Blackhole bh) {
        try (var g = Autograd.noGrad()) {
            bh.consume(ln.forward(x));
        }
    }

    @Benchmark
    public void layerNormForwardBackward(Blackhole bh) {
        Tensor y = ln.forward(xGrad);
        y.backward(dy);
        bh.consume(y);
    }

    @Benchmark
    public void rmsNormForward(Blackhole bh) {
        try (var g = Autograd.noGrad()) {
            bh.consume(rms.forward(x));
        }
    }

    @Benchmark
    public void rmsNormForwardBackward(Blackhole bh) {
        Tensor y = rms.forward(xGrad);
        y.backward(dy);
        bh.consume(y);
    }
}
