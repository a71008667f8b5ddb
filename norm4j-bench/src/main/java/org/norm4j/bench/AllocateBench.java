package org.norm4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What a fresh output array costs: {@code new float[N]} of the large tensors' size (and of the
 * LeNet layers'), dropped at once, as every forward and backward of the public API does today.
 * Byte model 1·N·4 (the zeroing); the difference from {@link MemoryBench#write} is the allocator's
 * and the garbage collector's share (fresh pages, humongous regions).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class AllocateBench {
    @Param({"256x6x24x24", "256x64x28x28"})
    public String shape;

    @Benchmark
    public void allocate(Blackhole bh) {
        bh.consume(new float[Inputs.size(Inputs.dims(shape))]);
    }
}
