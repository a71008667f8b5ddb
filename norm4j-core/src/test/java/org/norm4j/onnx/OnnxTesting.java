package org.norm4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.norm4j.autograd.Autograd;
import org.norm4j.nn.Module;
import org.norm4j.nn.Parameter;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.ops.CrossEntropy;
import org.norm4j.optim.SGD;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Tensor;
import org.norm4j.train.LeNet;

/** What the ONNX tests share: a briefly trained LeNet-BN, ONNX Runtime, and a row-relative comparison. */
final class OnnxTesting {
    private OnnxTesting() {}

    static float[] uniform(int n, long seed) {
        Rng rng = new Rng(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rng.uniform();
        return v;
    }

    /**
     * LeNet-BN in {@code conv}, three SGD steps on random batches of 16 (the running statistics
     * move off their initial values; DL4J's only in backward), gamma and beta then set to random
     * values so that scale and B are not ones and zeros, and eval().
     */
    static Sequential trainedLeNet(Convention conv, long seed) {
        Sequential net = LeNet.build(LeNet.Norm.BATCH, conv, seed);
        train(net, new int[] {1, 28, 28}, 10, seed);
        return net;
    }

    /** A few training steps on random data, random affine parameters for every BN, then eval(). */
    static void train(Sequential net, int[] item, int classes, long seed) {
        net.train();
        SGD opt = new SGD(net.parameters(), 0.5);
        Rng rng = new Rng(seed + 100);
        int per = 1;
        for (int d : item) per *= d;
        for (int step = 0; step < 3; step++) {
            int n = 16;
            float[] x = uniform(n * per, seed * 31 + step);
            int[] y = new int[n];
            for (int i = 0; i < n; i++) y[i] = rng.nextInt(classes);
            int[] shape = new int[item.length + 1];
            shape[0] = n;
            System.arraycopy(item, 0, shape, 1, item.length);
            opt.zeroGrad();
            CrossEntropy.forward(net.forward(Tensor.of(x, shape)), y).backward();
            opt.step();
        }
        for (Module m : net.modules()) {
            if (m instanceof BatchNorm bn) {
                randomize(bn.weight(), 1.0, 0.3, rng);
                randomize(bn.bias(), 0.0, 0.3, rng);
            }
        }
        net.eval();
    }

    private static void randomize(Parameter p, double mean, double std, Rng rng) {
        if (p == null) return;
        for (int i = 0; i < p.data().length; i++) p.data()[i] = (float) rng.normal(mean, std);
    }

    static float[] norm4j(Sequential net, float[] x, int... shape) {
        try (var g = Autograd.noGrad()) {
            return net.forward(Tensor.of(x, shape)).toArray();
        }
    }

    /** ONNX Runtime (CPU, one intra-op thread) on {@code file}, input "input"; returns the first output, flattened. */
    static float[] ort(Path file, float[] x, int... shape) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) dims[i] = shape[i];
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            try (OrtSession s = env.createSession(file.toString(), opts);
                 OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), dims);
                 OrtSession.Result r = s.run(Map.of("input", t))) {
                OnnxTensor out = (OnnxTensor) r.get(0);
                FloatBuffer fb = out.getFloatBuffer();
                float[] v = new float[fb.remaining()];
                fb.get(v);
                return v;
            }
        }
    }

    /**
     * Each row of {@code got} equals {@code want} to {@code rel} relative to the row's largest
     * |want|: |got − want| ≤ rel·max_k |want[r, k]| (what "1e-5 relative" means for logits, whose
     * small entries carry the large ones' rounding). Fails with the first rows that differ.
     */
    static double assertRowsClose(String label, float[] got, float[] want, int rowLength, double rel) {
        assertArrayEquals(new int[] {want.length}, new int[] {got.length}, label + ": output length");
        double worst = 0;
        StringBuilder bad = new StringBuilder();
        for (int r = 0; r < want.length / rowLength; r++) {
            double scale = 0;
            for (int k = 0; k < rowLength; k++) scale = Math.max(scale, Math.abs(want[r * rowLength + k]));
            for (int k = 0; k < rowLength; k++) {
                int i = r * rowLength + k;
                double d = Math.abs((double) got[i] - want[i]) / Math.max(scale, 1e-30);
                if (!(d <= worst)) worst = Double.isNaN(d) ? Double.NaN : d;
                if (!(d <= rel) && bad.length() < 400) bad.append(String.format(" [%d,%d] got %.9g want %.9g;", r, k, got[i], want[i]));
            }
        }
        if (bad.length() > 0) fail(label + ": max relative difference " + worst + " > " + rel + "; first:" + bad);
        System.out.printf("%s: max relative difference %.3g%n", label, worst);
        return worst;
    }
}
