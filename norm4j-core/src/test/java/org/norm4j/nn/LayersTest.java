package org.norm4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.norm4j.kernels.Activation;
import org.norm4j.ops.Convolution;
import org.norm4j.ops.CrossEntropy;
import org.norm4j.ops.Pointwise;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;
import org.norm4j.testing.GradCheck;

/** The training layers: finite-difference gradients, and forwards against plain double references. */
class LayersTest {
    final Random rnd = new Random(3);

    private void gradCheck(String label, Module m, int... shape) {
        Tensor[] ps = m.parameters().toArray(new Tensor[0]);
        GradCheck.check(label, m::forward, GradCheck.random(rnd, shape), ps);
    }

    @Test
    void linear() {
        gradCheck("Linear(5,3)", new Linear(5, 3, true, new Rng(1)), 4, 5);
        gradCheck("Linear(5,3) no bias", new Linear(5, 3, false, new Rng(1)), 2, 5);
        Linear l = new Linear(2, 1, true, new Rng(1));
        l.weight().copyFrom(new float[] {2, -1});
        l.bias().copyFrom(new float[] {0.5f});
        Check.close("y = x·Wᵀ + b", l.forward(Tensor.of(new float[] {1, 3, 4, 1}, 2, 2)).toArray(), new double[] {-0.5, 7.5}, 1e-6, 0);
    }

    @Test
    void conv2dGradients() {
        gradCheck("Conv2d 3x3", new Conv2d(2, 3, 3), 2, 2, 5, 4);
        gradCheck("Conv2d stride 2 pad 1", new Conv2d(2, 2, 3, 2, 1), 1, 2, 5, 6);
        gradCheck("Conv2d 4->3 3x3, pad 1 (36 taps: direct forward, im2col backward)", new Conv2d(4, 3, 3, 1, 1), 2, 4, 5, 5);
        gradCheck("Conv2d dilation 2, groups 2, no bias, 2x3",
                new Conv2d(4, 2, 2, 3, new Convolution.Geometry(1, 2, 1, 0, 2, 1, 2), false, new Rng(2)), 2, 4, 5, 6);
    }

    @Test
    void conv2dForwardAgainstDirectSum() {
        int n = 2, cin = 4, h = 7, w = 6, cout = 6, kh = 3, kw = 2, groups = 2;
        Convolution.Geometry g = new Convolution.Geometry(2, 1, 1, 1, 1, 2, groups);
        Conv2d conv = new Conv2d(cin, cout, kh, kw, g, true, new Rng(4));
        Tensor x = GradCheck.random(rnd, n, cin, h, w);
        Tensor y = conv.forward(x);
        int[] ys = y.shape();
        int oh = ys[2], ow = ys[3], cig = cin / groups, cog = cout / groups;
        assertEquals(org.norm4j.kernels.Conv.outSize(h, kh, 2, 1, 1), oh);
        double[] want = new double[y.size()];
        float[] xd = x.data(), wd = conv.weight().data(), b = conv.bias().data();
        for (int i = 0; i < n; i++) for (int co = 0; co < cout; co++) for (int r = 0; r < oh; r++) for (int c = 0; c < ow; c++) {
            double s = b[co];
            int gr = co / cog;
            for (int ci = 0; ci < cig; ci++) for (int a = 0; a < kh; a++) for (int bb = 0; bb < kw; bb++) {
                int ih = r * 2 - 1 + a, iw = c - 1 + bb * 2;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                s += wd[((co * cig + ci) * kh + a) * kw + bb] * xd[((i * cin + gr * cig + ci) * h + ih) * w + iw];
            }
            want[((i * cout + co) * oh + r) * ow + c] = s;
        }
        Check.close("conv forward", y.toArray(), want, 1e-5, 1e-5);
    }

    /**
     * A batch large enough to be split into several chunks (2 images each, the last one alone):
     * forward and every gradient against direct double sums, and the same bits on 1 and 2 threads.
     * Stride 1 goes through the direct kernel where the Vector API is present, dilation 2 through
     * im2col + GEMM.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void conv2dChunkedBatchAgainstDirectSumsOnOneAndTwoThreads(int dil) {
        checkConvAgainstDirectSums(5, 2, 70, 70, 3, 3, 3, 1, dil);
    }

    /**
     * Layers with many taps go through the batch-in-lanes kernel where the Vector API is present
     * ({@link org.norm4j.kernels.LaneConv}): batches that end in a partial lane group (37 = 2·16 + 5)
     * and a one-image batch, rows whose output width is not a multiple of four, padding of 0 to 2,
     * channel counts that are not multiples of four, input channels in blocks of six (6, 12), LeNet-BN's conv2
     * (12×12 in, 8×8 out) and the padded LeNet's (14×14 in, 10×10 out: blocks of five positions).
     * Full lane groups go 16 positions at a time through a register transpose, the rest by gathers:
     * planes of 49 and 25 positions (leftovers), an output of one position (gathers only); and the
     * weight gradient's blocks of six taps with 325 and 275 taps (one and five past a multiple of six).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
            "37, 4, 9, 11, 5, 5, 5, 0", "37, 3, 7, 6, 6, 5, 5, 2", "1, 8, 6, 5, 3, 3, 3, 1", "33, 6, 12, 12, 16, 5, 5, 0",
            "20, 12, 6, 7, 4, 3, 3, 1", "20, 6, 14, 14, 16, 5, 5, 0", "20, 13, 7, 7, 4, 5, 5, 2", "17, 11, 5, 5, 3, 5, 5, 0"})
    void conv2dManyTapsAgainstDirectSumsOnOneAndTwoThreads(int n, int cin, int h, int w, int cout, int kh, int kw, int pad) {
        org.norm4j.kernels.DirectConv.Shape shape = new org.norm4j.kernels.DirectConv.Shape(cin, h, w, cout, kh, kw, pad, pad);
        if (org.norm4j.kernels.LaneConv.get() != null) {
            assertTrue(org.norm4j.kernels.LaneConv.suits(1, 1, 1, 1, 1, shape), "the lane kernel serves " + shape);
        }
        checkConvAgainstDirectSums(n, cin, h, w, cout, kh, kw, pad, 1);
    }

    /**
     * Layers with few taps go through the shifted-rows kernel where the Vector API is present
     * ({@link org.norm4j.kernels.DirectConv}): output channels six at a time (LeNet's conv1, and 12)
     * and four at a time (5: padded to 8). LeNet's conv1 itself (pad 2: a padded pitch of 32, two
     * vectors of 16 lanes, so each block is one output row stored straight into y) with six and
     * with four channels, and 5×5 kernels over 3 or 6 channels (dW three channels by five taps).
     * Output rows of 17 to 32 (LeNet-BN's conv1: 24, unpadded) go row by row straight into y, and
     * dy's rows are copied as two vectors: 17, 19 and 23 wide, one and two input channels. Output
     * planes of whole vectors in threes with channels in sixes take the flat layout (shifted copies
     * of the input, no junk columns): LeNet-BN's conv1 (576 positions), 12 channels padded, and two
     * input channels with rows shorter than a vector (12 × 12).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"5, 1, 28, 28, 6, 5, 5, 0", "3, 2, 9, 7, 12, 3, 3, 1", "4, 3, 8, 6, 5, 3, 3, 0",
            "7, 1, 28, 28, 6, 5, 5, 2", "5, 1, 28, 28, 4, 5, 5, 2", "5, 1, 30, 30, 3, 5, 5, 1", "3, 1, 20, 20, 9, 5, 5, 2",
            "4, 1, 21, 21, 6, 5, 5, 0", "4, 1, 21, 21, 6, 3, 3, 0", "3, 2, 25, 25, 4, 5, 5, 1",
            "3, 1, 24, 24, 12, 5, 5, 2", "3, 2, 12, 12, 6, 5, 5, 2"})
    void conv2dFewTapsAgainstDirectSumsOnOneAndTwoThreads(int n, int cin, int h, int w, int cout, int kh, int kw, int pad) {
        org.norm4j.kernels.DirectConv.Shape shape = new org.norm4j.kernels.DirectConv.Shape(cin, h, w, cout, kh, kw, pad, pad);
        if (org.norm4j.kernels.DirectConv.get() != null) {
            assertTrue(org.norm4j.kernels.DirectConv.suits(1, 1, 1, 1, 1, shape) && !org.norm4j.kernels.LaneConv.suits(1, 1, 1, 1, 1, shape),
                    "the shifted-rows kernel serves " + shape);
        }
        checkConvAgainstDirectSums(n, cin, h, w, cout, kh, kw, pad, 1);
    }

    private void checkConvAgainstDirectSums(int n, int cin, int h, int w, int cout, int kh, int kw, int pad, int dil) {
        Convolution.Geometry g = new Convolution.Geometry(1, 1, pad, pad, dil, dil, 1);
        Conv2d conv = new Conv2d(cin, cout, kh, kw, g, true, new Rng(5));
        Tensor x = GradCheck.random(rnd, n, cin, h, w).requiresGrad(true);
        int oh = org.norm4j.kernels.Conv.outSize(h, kh, 1, pad, dil), ow = org.norm4j.kernels.Conv.outSize(w, kw, 1, pad, dil);
        float[] dyv = GradCheck.random(rnd, n, cout, oh, ow).data();
        double[] wantY = new double[n * cout * oh * ow], wantDx = new double[x.size()], wantDw = new double[conv.weight().size()], wantDb = new double[cout];
        float[] xd = x.data(), wd = conv.weight().data(), b = conv.bias().data();
        for (int i = 0; i < n; i++) for (int co = 0; co < cout; co++) for (int r = 0; r < oh; r++) for (int c = 0; c < ow; c++) {
            int o = ((i * cout + co) * oh + r) * ow + c;
            double s = b[co];
            wantDb[co] += dyv[o];
            for (int ci = 0; ci < cin; ci++) for (int a = 0; a < kh; a++) for (int bb = 0; bb < kw; bb++) {
                int ih = r - pad + a * dil, iw = c - pad + bb * dil;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                int wi = ((co * cin + ci) * kh + a) * kw + bb, xi = ((i * cin + ci) * h + ih) * w + iw;
                s += (double) wd[wi] * xd[xi];
                wantDx[xi] += (double) wd[wi] * dyv[o];
                wantDw[wi] += (double) xd[xi] * dyv[o];
            }
            wantY[o] = s;
        }
        sameBitsOnOneAndTwoThreads(threads -> {
            x.zeroGrad();
            conv.zeroGrad();
            Tensor y = conv.forward(x);
            y.backward(Tensor.wrap(dyv, y.shape()));
            assertEquals(java.util.List.of(n, cout, oh, ow), java.util.Arrays.stream(y.shape()).boxed().toList());
            Check.close("chunked conv forward, " + threads + " threads", y.toArray(), wantY, 1e-5, 1e-5);
            Check.close("chunked conv dx", x.grad().toArray(), wantDx, 1e-4, 1e-5);
            Check.close("chunked conv dW", conv.weight().grad().toArray(), wantDw, 1e-4, 1e-4);
            Check.close("chunked conv db", conv.bias().grad().toArray(), wantDb, 1e-4, 1e-4);
            return concat(y.data(), x.grad().data(), conv.weight().grad().data(), conv.bias().grad().data());
        });
    }

    /** Sequential runs BN + Sigmoid/ReLU/Tanh as one pass: the same bits as the layers one by one, forward and backward, train and eval. */
    @Test
    void sequentialFusesBatchNormAndActivationBitForBit() {
        for (boolean training : new boolean[] {true, false}) {
            float[][] got = new float[2][];
            for (int way = 0; way < 2; way++) {
                Rng rng = new Rng(9);
                Sequential net = new Sequential(new Linear(6, 5, true, rng), org.norm4j.nn.norm.BatchNorm.builder(org.norm4j.nn.norm.Convention.PYTORCH, 5).build(),
                        new Sigmoid(), new Linear(5, 4, true, rng), org.norm4j.nn.norm.BatchNorm.builder(org.norm4j.nn.norm.Convention.KERAS, 4).build(),
                        new ReLU(), new Linear(4, 4, true, rng), org.norm4j.nn.norm.BatchNorm.builder(org.norm4j.nn.norm.Convention.PYTORCH, 4).build(), new Tanh());
                net.train();
                Tensor warm = GradCheck.random(new Random(1), 8, 6);
                net.forward(warm);   // running statistics move away from their initial values
                if (!training) net.eval();
                Tensor x = GradCheck.random(new Random(2), 8, 6).requiresGrad(true);
                got[way] = stepNumbers(net, x, way == 0, GradCheck.random(new Random(3), 8, 4));
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(got[1], got[0], (training ? "train" : "eval") + ": fused vs layer by layer");
        }
        org.norm4j.nn.norm.BatchNorm withAct = org.norm4j.nn.norm.BatchNorm.builder(org.norm4j.nn.norm.Convention.PYTORCH, 3)
                .activation(Activation.RELU).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> withAct.forwardThen(GradCheck.random(rnd, 4, 3), Activation.SIGMOID));
        assertTrue(e.getMessage().contains("already applies RELU"), e.getMessage());
    }

    /**
     * The fused op's backward goes over chunks of images (ChannelNorm.backwardByImages): with
     * several chunks (64 images of 6 × 24 × 24, LeNet's first batch norm, are 4 chunks; 160 of 6 × 12 × 13,
     * an odd last column, 3), on 1 and 2 threads, the same bits as BatchNorm2d, the activation and
     * AvgPool2d(2) one by one (whose batch-norm backward goes channel by channel).
     */
    @Test
    void fusedPoolingBackwardOverSeveralChunksBitForBit() {
        int[][] shapes = {{64, 6, 24, 24}, {160, 6, 12, 13}};
        int before = org.norm4j.kernels.Parallel.threads();
        try {
            for (int threads = 1; threads <= 2; threads++) {
                org.norm4j.kernels.Parallel.setThreads(threads);
                for (int[] s : shapes) {
                    assertTrue(org.norm4j.kernels.Normalization.chunkImages(s[0], s[1], s[2] * s[3]) < s[0], "several chunks");
                    for (Module act : new Module[] {new Sigmoid(), new ReLU(), new Tanh()}) {
                        float[][] got = new float[2][];
                        for (int way = 0; way < 2; way++) {
                            Sequential net = new Sequential(org.norm4j.nn.norm.BatchNorm.of(org.norm4j.nn.norm.Convention.PYTORCH, s[1]), act,
                                    new AvgPool2d(2));
                            Random pr = new Random(7);   // a gamma and beta other than 1 and 0
                            for (Parameter p : net.parameters()) for (int i = 0; i < p.data().length; i++) p.data()[i] = 1 + 0.5f * (float) pr.nextGaussian();
                            net.train();
                            try (var ws = org.norm4j.tensor.Workspace.open()) {
                                Tensor x = GradCheck.random(new Random(5), s).requiresGrad(true);
                                got[way] = stepNumbers(net, x, way == 0, GradCheck.random(new Random(6), s[0], s[1], s[2] / 2, s[3] / 2));
                            }
                        }
                        org.junit.jupiter.api.Assertions.assertArrayEquals(got[1], got[0],
                                act.describe() + " " + java.util.Arrays.toString(s) + " on " + threads + " threads: fused vs layer by layer");
                    }
                }
            }
        } finally {
            org.norm4j.kernels.Parallel.setThreads(before);
        }
    }

    /**
     * BatchNorm2d → activation → AvgPool2d(2) runs as one op: the same bits as the layers one by one,
     * forward, every gradient and the running statistics, train and eval, even and odd planes (an
     * odd last row and column no window covers), each of the three activations; twice in a
     * Workspace scope, so the second run's gradient buffers hold the first's values.
     */
    @Test
    void sequentialFusesBatchNormActivationAndPoolingBitForBit() {
        Module[][] acts = {{new Sigmoid(), new Sigmoid()}, {new ReLU(), new ReLU()}, {new Tanh(), new Tanh()}};
        for (int h : new int[] {6, 7}) {
            for (Module[] act : acts) {
                for (boolean training : new boolean[] {true, false}) {
                    float[][] got = new float[2][];
                    for (int way = 0; way < 2; way++) {
                        Rng rng = new Rng(9);
                        Sequential net = new Sequential(new Conv2d(2, 3, 3, 1, 1), org.norm4j.nn.norm.BatchNorm.of(org.norm4j.nn.norm.Convention.PYTORCH, 3),
                                act[way], new AvgPool2d(2), new Flatten(), new Linear(3 * (h / 2) * 2, 4, true, rng));
                        net.train();
                        net.forward(GradCheck.random(new Random(1), 5, 2, h, 5));
                        if (!training) net.eval();
                        for (int rep = 0; rep < 2; rep++) {
                            try (var ws = org.norm4j.tensor.Workspace.open()) {
                                net.zeroGrad();
                                Tensor x = GradCheck.random(new Random(2 + rep), 5, 2, h, 5).requiresGrad(true);
                                got[way] = stepNumbers(net, x, way == 0, GradCheck.random(new Random(3), 5, 4));
                            }
                        }
                    }
                    org.junit.jupiter.api.Assertions.assertArrayEquals(got[1], got[0],
                            act[0].describe() + ", h " + h + (training ? ", train" : ", eval") + ": fused vs layer by layer");
                }
            }
        }
        org.norm4j.nn.norm.BatchNorm bn = org.norm4j.nn.norm.BatchNorm.of(org.norm4j.nn.norm.Convention.PYTORCH, 3);
        assertTrue(bn.fusesPool(Tensor.zeros(2, 3, 2, 2)));
        assertTrue(!bn.fusesPool(Tensor.zeros(2, 3, 1, 4)) && !bn.fusesPool(Tensor.zeros(2, 3, 4)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bn.forwardThenPool(Tensor.zeros(2, 3, 1, 4), Activation.SIGMOID));
        assertTrue(e.getMessage().contains("[2, 3, 1, 4]") || e.getMessage().contains("2x3x1x4") || e.getMessage().contains("1"), e.getMessage());
    }

    /**
     * Linear over 150 rows: y, dx (a fresh buffer, through a reshape: BLAS with beta 0) and dW, db
     * against double sums, the same bits on 1 and 2 threads.
     */
    @Test
    void linearAgainstDoubleSumsOnOneAndTwoThreads() {
        int n = 150, in = 70, out = 50;
        Linear lin = new Linear(in, out, true, new Rng(6));
        float[] xv = GradCheck.random(rnd, n, in).data(), dyv = GradCheck.random(rnd, n, out).data();
        float[] w = lin.weight().data(), b = lin.bias().data();
        double[] wantY = new double[n * out], wantDx = new double[n * in], wantDw = new double[out * in], wantDb = new double[out];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int i = 0; i < in; i++) {
                    s += (double) xv[r * in + i] * w[o * in + i];
                    wantDx[r * in + i] += (double) dyv[r * out + o] * w[o * in + i];
                    wantDw[o * in + i] += (double) dyv[r * out + o] * xv[r * in + i];
                }
                wantY[r * out + o] = s;
                wantDb[o] += dyv[r * out + o];
            }
        }
        sameBitsOnOneAndTwoThreads(threads -> {
            lin.zeroGrad();
            Tensor x = Tensor.wrap(xv.clone(), n, in).requiresGrad(true);
            Tensor y = lin.forward(org.norm4j.ops.Pointwise.reshape(x, n, in));
            y.backward(Tensor.wrap(dyv, n, out));
            Check.close("linear y", y.toArray(), wantY, 1e-5, 1e-5);
            Check.close("linear dx", x.grad().toArray(), wantDx, 1e-5, 1e-5);
            Check.close("linear dW", lin.weight().grad().toArray(), wantDw, 1e-4, 1e-5);
            Check.close("linear db", lin.bias().grad().toArray(), wantDb, 1e-4, 1e-5);
            return concat(y.data(), x.grad().data(), lin.weight().grad().data());
        });
    }

    /** Runs {@code step} on 1 and then 2 of Parallel's threads (restoring the count) and asserts the two results are the same bits. */
    private static void sameBitsOnOneAndTwoThreads(java.util.function.IntFunction<float[]> step) {
        float[][] results = new float[2][];
        int before = org.norm4j.kernels.Parallel.threads();
        try {
            for (int threads = 1; threads <= 2; threads++) {
                org.norm4j.kernels.Parallel.setThreads(threads);
                results[threads - 1] = step.apply(threads);
            }
        } finally {
            org.norm4j.kernels.Parallel.setThreads(before);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(results[0], results[1], "1 and 2 threads must give the same bits");
    }

    private static float[] concat(float[]... parts) {
        float[] all = new float[java.util.Arrays.stream(parts).mapToInt(a -> a.length).sum()];
        int at = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, all, at, a.length);
            at += a.length;
        }
        return all;
    }

    /** Forward (through Sequential, fused, or layer by layer), backward of dy, then every number left: y, dx, each gradient, each buffer. */
    private static float[] stepNumbers(Sequential net, Tensor x, boolean fused, Tensor dy) {
        Tensor y = x;
        if (fused) {
            y = net.forward(x);
        } else {
            for (Module m : net.layers()) y = m.forward(y);
        }
        y.backward(dy);
        java.util.List<Float> all = new java.util.ArrayList<>();
        for (float f : y.data()) all.add(f);
        for (float f : x.grad().data()) all.add(f);
        for (Parameter p : net.parameters()) for (float f : p.grad().data()) all.add(f);
        for (Tensor b : net.namedBuffers().values()) for (float f : b.data()) all.add(f);
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) out[i] = all.get(i);
        return out;
    }

    @Test
    void pooling() {
        gradCheck("AvgPool2d(2)", new AvgPool2d(2), 2, 3, 4, 6);
        gradCheck("AvgPool2d(2), odd sizes", new AvgPool2d(2), 1, 2, 5, 7);
        gradCheck("AvgPool2d(3, 2, 1)", new AvgPool2d(3, 2, 1), 1, 2, 5, 5);
        gradCheck("MaxPool2d(2)", new MaxPool2d(2), 2, 2, 4, 4);
        gradCheck("MaxPool2d(3, 2, 1)", new MaxPool2d(3, 2, 1), 1, 2, 5, 5);
        Tensor x = Tensor.of(new float[] {1, 5, 2, 0, 3, 4, 8, 7, 0, 0, 1, 1, 9, 2, 3, 6}, 1, 1, 4, 4);
        Check.close("max 2x2", new MaxPool2d(2).forward(x).toArray(), new double[] {5, 8, 9, 6}, 0, 0);
        Check.close("avg 2x2", new AvgPool2d(2).forward(x).toArray(), new double[] {13 / 4.0, 17 / 4.0, 11 / 4.0, 11 / 4.0}, 1e-6, 0);
    }

    @Test
    void activationsFlattenDropout() {
        gradCheck("Sigmoid", new Sigmoid(), 3, 4);
        gradCheck("Tanh", new Tanh(), 3, 4);
        gradCheck("ReLU", new ReLU(), 3, 4);   // random inputs are not within h of 0 except with tiny probability
        gradCheck("Flatten", new Flatten(), 2, 3, 2, 2);
        GradCheck.check("dropout (fixed mask)", x -> Pointwise.dropout(x, 0.3, new Rng(5)), GradCheck.random(rnd, 4, 50));
        Tensor y = new Dropout(0.5, new Rng(1)).forward(Tensor.full(1f, 10000));
        int zeros = 0;
        for (float v : y.toArray()) {
            assertTrue(v == 0f || v == 2f, "kept values are scaled by 1/(1-p)");
            if (v == 0f) zeros++;
        }
        assertEquals(5000, zeros, 200);
        Dropout d = new Dropout(0.5);
        d.eval();
        Tensor x = Tensor.full(1f, 4);
        assertTrue(d.forward(x) == x, "identity in eval");
        Check.close("sigmoid(0)", Pointwise.activation(Tensor.zeros(1), Activation.SIGMOID).toArray(), new double[] {0.5}, 0, 0);
    }

    @Test
    void crossEntropy() {
        int[] labels = {2, 0, 1};
        GradCheck.check("cross-entropy", z -> CrossEntropy.forward(z, labels), GradCheck.random(rnd, 3, 4));
        // log(3) for equal logits; a huge logit does not overflow.
        assertEquals(Math.log(3), CrossEntropy.forward(Tensor.zeros(1, 3), new int[] {1}).item(), 1e-6);
        assertEquals(0, CrossEntropy.forward(Tensor.of(new float[] {1000, 0, 0}, 1, 3), new int[] {0}).item(), 1e-6);
        assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forward(Tensor.zeros(1, 3), new int[] {3}));
    }

    /**
     * A batch of many row tasks against a plain double-precision cross-entropy written here, and a
     * bad label named by its first row even when a later task holds another one.
     */
    @Test
    void crossEntropyOfAManyTaskBatch() {
        int n = 1000, k = 10;
        float[] z = new float[n * k];
        int[] labels = new int[n];
        for (int i = 0; i < z.length; i++) z[i] = (float) (3 * rnd.nextGaussian());
        for (int r = 0; r < n; r++) labels[r] = rnd.nextInt(k);
        Tensor logits = Tensor.wrap(z.clone(), n, k).requiresGrad(true);
        Tensor loss = CrossEntropy.forward(logits, labels);
        loss.backward();
        double want = 0;
        double[] grad = new double[n * k];
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int c = 0; c < k; c++) max = Math.max(max, z[r * k + c]);
            for (int c = 0; c < k; c++) sum += Math.exp(z[r * k + c] - max);
            want += Math.log(sum) + max - z[r * k + labels[r]];
            for (int c = 0; c < k; c++) grad[r * k + c] = (Math.exp(z[r * k + c] - max) / sum - (c == labels[r] ? 1 : 0)) / n;
        }
        assertEquals(want / n, loss.item(), 1e-6 * want / n);
        Check.close("cross-entropy gradient", logits.grad().toArray(), grad, 1e-9, 1e-5);
        int[] bad = labels.clone();
        bad[5] = k;
        bad[900] = -1;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CrossEntropy.forward(Tensor.wrap(z, n, k), bad));
        assertTrue(e.getMessage().contains("label " + k + " at row 5"), e.getMessage());
    }

    @Test
    void shapeErrorsNameTheLayer() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Linear(4, 2).forward(Tensor.zeros(3, 5)));
        assertTrue(e.getMessage().contains("Linear(4, 2)") && e.getMessage().contains("[3, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Conv2d(3, 2, 5).forward(Tensor.zeros(1, 3, 4, 4)));
        assertTrue(e.getMessage().contains("smaller than the kernel"), e.getMessage());
    }

    @Test
    void sequentialNamesStateLikePyTorch() {
        Sequential s = new Sequential(new Linear(3, 2), new Sigmoid(), org.norm4j.nn.norm.BatchNorm.of(org.norm4j.nn.norm.Convention.PYTORCH, 2));
        assertEquals(java.util.List.of("0.weight", "0.bias", "2.weight", "2.bias"), java.util.List.copyOf(s.namedParameters().keySet()));
        assertEquals(java.util.List.of("2.runningMean", "2.runningVar"), java.util.List.copyOf(s.namedBuffers().keySet()));
        assertEquals(java.util.List.of("2.numBatchesTracked"), java.util.List.copyOf(s.namedCounters().keySet()));
        s.eval();
        assertTrue(!s.get(2).isTraining(), "eval reaches the children");
    }
}
