package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Activation;
import org.norm4j.kernels.Loops;
import org.norm4j.kernels.Parallel;
import org.norm4j.kernels.Scratch;
import org.norm4j.kernels.Normalization;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/**
 * The differentiable normalization with per-channel affine over the [A, C, B] view: batch norm
 * (training and inference), instance norm and group norm.
 *
 * <pre>
 *   y[a,c,b] = act( gamma[c]·(x[a,c,b] − mean[s])·invStd[s] + beta[c] ),   s = a·statStride + c / channelsPerStat
 * </pre>
 * batch norm: statStride 0, channelsPerStat 1 (s = c); instance norm: statStride C, channelsPerStat 1;
 * group norm with G groups: statStride G, channelsPerStat C/G.
 *
 * <p>Apply subtracts the mean rounded to float before scaling, {@code y = (x − m_f)·scale + shift}
 * with {@code shift = beta + (m_f − mean)·scale} in double: exact for x near a large mean, where
 * {@code x·a + b} would cancel.
 *
 * <p>Backward, with n elements per statistic, xhat = (x − mean)·invStd, G1 = Σ gamma·dy and
 * G2 = Σ gamma·dy·xhat over a statistic's elements (docs/normalization.md derives it):
 * <pre>
 *   dBeta[c]  = Σ dy                  dGamma[c] = Σ dy·xhat
 *   dx (batch statistics)  = invStd·(gamma·dy − G1/n − xhat·G2/n)
 *   dx (fixed statistics)  = invStd·gamma·dy
 * </pre>
 */
public final class ChannelNorm {
    private ChannelNorm() {}

    /** The [A, C, B] view and how runs map to statistics. */
    public record Layout(int A, int C, int B, int statStride, int channelsPerStat) {
        int paramStride() {
            return statStride == 0 ? 0 : C;
        }

        int params() {
            return statStride == 0 ? C : A * C;
        }

        int stat(int a, int c) {
            return a * statStride + c / channelsPerStat;
        }

        /** Elements behind one statistic. */
        long countPerStat() {
            return statStride == 0 ? (long) A * B : (long) channelsPerStat * B;
        }
    }

    /** What backward needs, fixed at forward time. */
    private record Saved(Layout layout, float[] x, float[] y, double[] mean, double[] invStd, float[] center,
                         float[] gamma, boolean batchStats, Activation activation, int poolH, int poolW) {
        /** Whether the backward first derives dy from dOut (a fused activation's derivative, a fused pooling's spread). */
        boolean derives() {
            return poolW > 0 || activation != Activation.IDENTITY;
        }
    }

    /**
     * @param gamma      per-channel scale, or null (1)
     * @param beta       per-channel shift, or null (0)
     * @param mean       per-statistic mean
     * @param invStd     per-statistic 1/sqrt(var + eps) (or a stored inv_std)
     * @param batchStats whether mean and invStd were computed from x (their gradient flows to x)
     * @param inPlace    write y into x's storage; refused when the op would be recorded (and with {@code pool2x2})
     */
    public static Tensor forward(Tensor x, Tensor gamma, Tensor beta, Layout layout, double[] mean, double[] invStd,
                                 boolean batchStats, Activation activation, boolean inPlace) {
        return forward(x, gamma, beta, layout, mean, invStd, batchStats, activation, inPlace, false);
    }

    /**
     * The same, then (when {@code pool2x2}) a 2×2, stride-2 average pooling of the [N, C, H, W]
     * activation (B = H·W), returned in its place: the values of AvgPool2d(2) after the layer, and
     * in backward the pooled gradient is spread over the windows as the activation's derivative is
     * taken, without the full-size gradient AvgPool2d would write and this op read back.
     */
    public static Tensor forward(Tensor x, Tensor gamma, Tensor beta, Layout layout, double[] mean, double[] invStd,
                                 boolean batchStats, Activation activation, boolean inPlace, boolean pool2x2) {
        int[] xs = x.shape();
        int poolH = pool2x2 && xs.length == 4 ? xs[2] : 0, poolW = pool2x2 && xs.length == 4 ? xs[3] : 0;
        if (pool2x2 && inPlace) {   // y is the pooled tensor, not x's storage; and the fused pass reads x behind its writes
            throw new IllegalArgumentException("ChannelNorm: in-place output and fused 2×2 pooling exclude each other (input "
                    + org.norm4j.tensor.Shape.str(xs) + ")");
        }
        if (pool2x2 && (xs.length != 4 || layout.statStride() != 0 || layout.B() != poolH * poolW || poolH < 2 || poolW < 2)) {
            throw new IllegalArgumentException("ChannelNorm: pooling fuses only into a batch norm of [N, C, H, W] over C with H, W ≥ 2, got "
                    + org.norm4j.tensor.Shape.str(xs));
        }
        int P = layout.params(), pStride = layout.paramStride();
        float[] center = new float[P], scale = new float[P], shift = new float[P];
        float[] g = gamma == null ? null : gamma.data(), bt = beta == null ? null : beta.data();
        for (int p = 0; p < P; p++) {
            int a = pStride == 0 ? 0 : p / layout.C(), c = p % layout.C(), s = layout.stat(a, c);
            setParams(p, c, mean[s], invStd[s], g, bt, center, scale, shift);
        }
        float[] xd = x.data();
        float[] yd = inPlace ? xd : Workspace.uninitialized(xd.length);   // apply writes every element
        Tensor y;
        if (pool2x2) {
            int oh = poolH / 2, ow = poolW / 2;
            float[] pooled = Workspace.uninitialized(xs[0] * xs[1] * oh * ow);   // every window written
            Normalization.applyChannelsPool2x2(yd, xd, pooled, layout.A(), layout.C(), poolH, poolW, center, scale, shift, activation);
            y = Tensor.wrap(pooled, xs[0], xs[1], oh, ow);
        } else {
            Normalization.applyChannels(yd, 0, xd, 0, layout.A(), layout.C(), layout.B(), center, scale, shift, pStride, activation);
            y = inPlace ? x : Tensor.wrap(yd, x.shape());
        }
        if (!inPlace) record(y, x, gamma, beta, layout, yd, mean, invStd, center, batchStats, activation, poolH, poolW);
        return y;
    }

    /** apply's float parameters of p (channel c): y = (x − m_f)·scale + shift with m_f = mean in float, shift = beta + (m_f − mean)·scale in double. */
    private static void setParams(int p, int c, double mean, double invStd, float[] g, float[] bt, float[] center, float[] scale, float[] shift) {
        float mf = (float) mean;
        double sc = (g == null ? 1.0 : g[c]) * invStd;
        center[p] = mf;
        scale[p] = (float) sc;
        shift[p] = (float) ((bt == null ? 0.0 : bt[c]) + (mf - mean) * sc);
    }

    /** Records the op for autograd when x, gamma or beta needs a gradient. */
    private static void record(Tensor y, Tensor x, Tensor gamma, Tensor beta, Layout layout, float[] yd, double[] mean, double[] invStd,
                               float[] center, boolean batchStats, Activation activation, int poolH, int poolW) {
        if (!Autograd.needsGrad(x, gamma, beta)) return;
        Saved saved = new Saved(layout, x.data(), activation == Activation.IDENTITY ? null : yd, mean.clone(), invStd.clone(),
                center, gamma == null ? null : gamma.data().clone(), batchStats, activation, poolH, poolW);
        Autograd.recordInPlace(y, "ChannelNorm", (dOut, dIn, fresh) -> backward(saved, dOut, dIn[0], fresh[0], dIn[1], dIn[2]), x, gamma, beta);
    }

    /** Whether {@link #forwardRowStats} serves statistics over rows of {@code len} floats: small enough to stay in cache. */
    public static boolean rowStatsInCache(long len) {
        return Normalization.channelFitsCache(1, len);
    }

    /**
     * Instance or group norm's forward with statistics of the batch ({@link #forward} with
     * batchStats and layout statStride G = C or the groups), each statistic's row normalized right
     * after its moments, while it is in cache ({@link Normalization#statsThenApplyRows}): the same
     * values bit for bit, x read from memory once. Fills {@code m} (one group per row, count
     * channelsPerStat·B) and {@code invStd} = 1/sqrt(m2/count + eps).
     */
    public static Tensor forwardRowStats(Tensor x, Tensor gamma, Tensor beta, Layout layout, double eps,
                                         org.norm4j.kernels.Moments m, double[] invStd) {
        int A = layout.A(), C = layout.C(), B = layout.B(), G = layout.statStride(), P = layout.params();
        if (G == 0 || G * layout.channelsPerStat() != C) {
            throw new IllegalArgumentException("ChannelNorm: row statistics need a layout with one statistic per item and group, got " + layout);
        }
        float[] center = new float[P], scale = new float[P], shift = new float[P];
        float[] g = gamma == null ? null : gamma.data(), bt = beta == null ? null : beta.data();
        long count = layout.countPerStat();
        m.count = count;
        Normalization.ChannelParams params = p -> {
            int a = p / C, c = p % C, st = layout.stat(a, c);
            invStd[st] = 1 / Math.sqrt(m.m2[st] / count + eps);
            setParams(p, c, m.mean[st], invStd[st], g, bt, center, scale, shift);
        };
        float[] xd = x.data(), yd = Workspace.uninitialized(xd.length);   // every element written
        Normalization.statsThenApplyRows(m.mean, m.m2, yd, xd, A, C, B, G, params, center, scale, shift);
        Tensor y = Tensor.wrap(yd, x.shape());
        record(y, x, gamma, beta, layout, yd, m.mean, invStd, center, true, Activation.IDENTITY, 0, 0);
        return y;
    }

    /**
     * Whether {@link #forwardBatchStats} serves a batch norm of [A, C, B]: channels-first (B &gt; 1),
     * a channel within {@link Normalization#batchPerChannelBytes()} (0 by default: never).
     */
    public static boolean batchStatsPerChannel(int A, int B) {
        return B > 1 && Normalization.batchChannelPerChannel(A, B);
    }

    /**
     * Batch norm's training forward with batch statistics ({@link #forward} with batchStats), the
     * statistics computed channel by channel right before the channel is normalized, while it is in
     * cache ({@link Normalization#statsThenApplyChannels}): x is read from memory once instead of
     * twice, with the same values bit for bit. Fills {@code batch} (count A·B), {@code mean} and
     * {@code invStd} = 1/sqrt(m2/(A·B) + eps). x is [N, C, H, W] when {@code pool2x2}.
     */
    public static Tensor forwardBatchStats(Tensor x, Tensor gamma, Tensor beta, int A, int C, int B, double eps, Activation activation,
                                           boolean pool2x2, org.norm4j.kernels.Moments batch, double[] mean, double[] invStd) {
        int[] xs = x.shape();
        Layout layout = new Layout(A, C, B, 0, 1);
        int poolH = pool2x2 && xs.length == 4 ? xs[2] : 0, poolW = pool2x2 && xs.length == 4 ? xs[3] : 0;
        if (pool2x2 && (xs.length != 4 || B != poolH * poolW || poolH < 2 || poolW < 2)) {
            throw new IllegalArgumentException("ChannelNorm: pooling fuses only into a batch norm of [N, C, H, W] over C with H, W ≥ 2, got "
                    + org.norm4j.tensor.Shape.str(xs));
        }
        float[] center = new float[C], scale = new float[C], shift = new float[C];
        float[] g = gamma == null ? null : gamma.data(), bt = beta == null ? null : beta.data();
        double n = (double) A * B;
        batch.count = (long) A * B;
        Normalization.ChannelParams params = c -> {
            mean[c] = batch.mean[c];
            invStd[c] = 1 / Math.sqrt(batch.m2[c] / n + eps);
            setParams(c, c, mean[c], invStd[c], g, bt, center, scale, shift);
        };
        float[] xd = x.data(), yd = Workspace.uninitialized(xd.length);   // every element written
        float[] pooled = pool2x2 ? Workspace.uninitialized(xs[0] * xs[1] * (poolH / 2) * (poolW / 2)) : null;
        Normalization.statsThenApplyChannels(batch.mean, batch.m2, yd, xd, pooled, A, C, pool2x2 ? poolH : 1, pool2x2 ? poolW : B,
                params, center, scale, shift, activation);
        Tensor y = pool2x2 ? Tensor.wrap(pooled, xs[0], xs[1], poolH / 2, poolW / 2) : Tensor.wrap(yd, xs);
        record(y, x, gamma, beta, layout, yd, mean, invStd, center, true, activation, poolH, poolW);
        return y;
    }

    /** dx (assigned when {@code dxFresh}, else added to), dGamma, dBeta (added to); each may be null. */
    static void backward(Saved s, float[] dOut, float[] dx, boolean dxFresh, float[] dGamma, float[] dBeta) {
        Layout l = s.layout;
        // a fused pooling (B = H·W ≥ 4): two passes over the images in order, each run's dy derived
        // again where it is needed, never written whole
        if (l.statStride() == 0 && s.poolW > 0) {
            backwardByImages(s, dOut, dx, dxFresh, dGamma, dBeta);
            return;
        }
        // channel by channel where a derived dy would otherwise be written whole (a fused activation)
        // or where a channel's dy and x are within Normalization.batchPerChannelBytes() (0 by
        // default); else two streaming passes over the tensor (a channel-major walk reads runs a
        // channel's stride apart, at less than half the speed of reading in order on AMD's Zen 4)
        if (l.statStride() == 0 && l.B() > 1
                && (s.derives() || Normalization.batchChannelPerChannel(2L * l.A(), l.B()))) {
            backwardPerChannel(s, dOut, dx, dxFresh, dGamma, dBeta);
            return;
        }
        // instance and group norm: a statistic's row (its channels' runs, contiguous) at a time
        // while its dy and x fit in cache, read from memory once instead of twice
        if (l.statStride() != 0 && l.B() > 1 && s.poolW == 0
                && Normalization.channelFitsCache(2, (long) l.channelsPerStat() * l.B())) {
            backwardPerRow(s, dOut, dx, dxFresh, dGamma, dBeta);
            return;
        }
        float[] dy = dOut;
        if (s.activation != Activation.IDENTITY) {
            dy = Workspace.uninitialized(dOut.length);
            s.activation.backwardAssign(dy, dOut, s.y, dOut.length);
        }
        int P = l.params(), C = l.C(), pStride = l.paramStride();
        double[] sumDy = new double[P], sumDyXc = new double[P];
        Normalization.backwardSumsChannels(sumDy, sumDyXc, dy, 0, s.x, 0, l.A(), C, l.B(), s.center, pStride);
        double[] sumDyXhat = new double[P];
        for (int p = 0; p < P; p++) {
            int st = l.stat(pStride == 0 ? 0 : p / C, p % C);
            sumDyXhat[p] = sumDyXhat(s.invStd[st], sumDyXc[p], s.center[p] - s.mean[st], sumDy[p]);
        }
        addParamGrads(sumDy, sumDyXhat, C, dGamma, dBeta);
        if (dx == null) return;
        float[] coefDy = new float[P], coefX = new float[P], coefK = new float[P];
        double[] g1 = null, g2 = null;
        if (s.batchStats) {   // G1, G2 per statistic: Σ gamma·dy and Σ gamma·dy·xhat
            g1 = new double[s.mean.length];
            g2 = new double[s.mean.length];
            for (int p = 0; p < P; p++) {
                int c = p % C, st = l.stat(pStride == 0 ? 0 : p / C, c);
                double gc = s.gamma == null ? 1.0 : s.gamma[c];
                g1[st] += gc * sumDy[p];
                g2[st] += gc * sumDyXhat[p];
            }
        }
        double n = l.countPerStat();
        for (int p = 0; p < P; p++) {
            int c = p % C, st = l.stat(pStride == 0 ? 0 : p / C, c);
            double inv = s.invStd[st], gc = s.gamma == null ? 1.0 : s.gamma[c];
            coefDy[p] = (float) (gc * inv);
            if (s.batchStats) {
                double cx = coefX(inv, g2[st], n);
                coefX[p] = (float) cx;
                coefK[p] = (float) coefK(inv, g1[st], n, cx, s.center[p] - s.mean[st]);
            }
        }
        Normalization.backwardChannels(dx, 0, dy, 0, s.x, 0, l.A(), C, l.B(), coefDy, coefX, s.center, coefK, pStride, dxFresh);
    }

    /**
     * Instance and group norm's backward (statistics per (a, group)), a statistic's row at a time
     * while its dy and x are in cache (the images are the tasks): each run's dy (a fused
     * activation's derivative taken into a row buffer) and sums, the statistic's G1 and G2, the
     * coefficients, then each run's dx. {@link #backward}'s two passes over the tensor read dy and
     * x from memory twice (and write a derived dy whole); here once. The same operations in the
     * same order: the same bits (dGamma and dBeta still add the runs' terms in run order at the end).
     */
    private static void backwardPerRow(Saved s, float[] dOut, float[] dx, boolean dxFresh, float[] dGamma, float[] dBeta) {
        Layout l = s.layout;
        int A = l.A(), C = l.C(), B = l.B(), cps = l.channelsPerStat(), P = l.params();
        boolean derive = s.activation != Activation.IDENTITY;
        double n = l.countPerStat();
        double[] sumDy = new double[P], sumDyXhat = new double[P];
        Loops lp = Loops.get();
        Parallel.forRange(A, Parallel.grain((long) C * B, 1 << 16), (a0, a1) -> {
            float[] dyRow = derive ? Scratch.floats(0, cps * B) : null;
            double[] acc = new double[2];
            for (int a = a0; a < a1; a++) {
                for (int c0 = 0; c0 < C; c0 += cps) {
                    int st = l.stat(a, c0);
                    double g1 = 0, g2 = 0;   // added into zero in run order, as the whole-tensor path's arrays
                    for (int c = c0; c < c0 + cps; c++) {
                        int p = a * C + c, off = p * B;
                        if (derive) s.activation.backwardAssignRun(dyRow, (c - c0) * B, dOut, off, s.y, off, B);
                        acc[0] = 0;
                        acc[1] = 0;
                        lp.dotShifted(acc, derive ? dyRow : dOut, derive ? (c - c0) * B : off, s.x, off, B, s.center[p]);
                        sumDy[p] = acc[0];
                        sumDyXhat[p] = sumDyXhat(s.invStd[st], acc[1], s.center[p] - s.mean[st], acc[0]);
                        double gc = s.gamma == null ? 1.0 : s.gamma[c];
                        g1 += gc * sumDy[p];
                        g2 += gc * sumDyXhat[p];
                    }
                    if (dx == null) continue;
                    double inv = s.invStd[st];
                    for (int c = c0; c < c0 + cps; c++) {
                        int p = a * C + c, off = p * B;
                        double gc = s.gamma == null ? 1.0 : s.gamma[c];
                        float coefX = 0, coefK = 0;
                        if (s.batchStats) {
                            double cx = coefX(inv, g2, n);
                            coefX = (float) cx;
                            coefK = (float) coefK(inv, g1, n, cx, s.center[p] - s.mean[st]);
                        }
                        lp.affineBackward(dx, off, derive ? dyRow : dOut, derive ? (c - c0) * B : off, s.x, off, B, (float) (gc * inv),
                                coefX, s.center[p], coefK, dxFresh);
                    }
                }
            }
        });
        addParamGrads(sumDy, sumDyXhat, C, dGamma, dBeta);
    }

    /** dBeta[c] += Σ dy and dGamma[c] += Σ dy·xhat of each parameter p (channel p % C), in p's order; either may be null. */
    private static void addParamGrads(double[] sumDy, double[] sumDyXhat, int C, float[] dGamma, float[] dBeta) {
        for (int p = 0; p < sumDy.length; p++) {
            int c = p % C;
            if (dBeta != null) dBeta[c] += (float) sumDy[p];
            if (dGamma != null) dGamma[c] += (float) sumDyXhat[p];
        }
    }

    /** Σ dy·xhat = invStd·(Σ dy·(x − m_f) + (m_f − mean)·Σ dy), from the sums about the float center m_f. */
    private static double sumDyXhat(double invStd, double sumDyXc, double centerMinusMean, double sumDy) {
        return invStd * (sumDyXc + centerMinusMean * sumDy);
    }

    /** dx's coefficient of (x − m_f) with batch statistics: −invStd²·G2/n. */
    private static double coefX(double invStd, double g2, double n) {
        return -invStd * invStd * g2 / n;
    }

    /** dx's constant with batch statistics: −invStd·G1/n + coefX·(m_f − mean). */
    private static double coefK(double invStd, double g1, double n, double coefX, double centerMinusMean) {
        return -invStd * g1 / n + coefX * centerMinusMean;
    }

    /** Run (a, c)'s dy into run[ro, ro + B): the fused activation's derivative (and a fused pooling's gradient spread). */
    private static void deriveRun(Saved s, float[] run, int ro, float[] dOut, int a, int c, float[] plane) {
        int C = s.layout.C(), B = s.layout.B(), off = (a * C + c) * B;
        if (s.poolW > 0) {
            int pooledPlane = (s.poolH / 2) * (s.poolW / 2);
            s.activation.backwardAssignPooledPlane(run, ro, dOut, (a * C + c) * pooledPlane, s.y, off, s.poolH, s.poolW, plane);
        } else {
            s.activation.backwardAssignRun(run, ro, dOut, off, s.y, off, B);
        }
    }

    /** This thread's work array for {@link Activation#backwardAssignPooledPlane} (B floats), or null where it needs none. */
    private static float[] poolPlane(Saved s) {
        return s.poolW > 0 && s.activation != Activation.SIGMOID ? Scratch.floats(1, s.layout.B()) : null;
    }

    /**
     * Channel c's parameter gradients (dBeta[c] += Σ dy, dGamma[c] += Σ dy·xhat) from its sums,
     * then dx's coefficients into coef[3i], coef[3i + 1], coef[3i + 2]: of dy, of (x − m_f), and
     * the constant.
     */
    private static void finishChannel(Saved s, int c, double sumDy, double sumDyXc, float[] dGamma, float[] dBeta, float[] coef, int i) {
        double sumDyXhat = sumDyXhat(s.invStd[c], sumDyXc, s.center[c] - s.mean[c], sumDy);
        if (dBeta != null) dBeta[c] += (float) sumDy;
        if (dGamma != null) dGamma[c] += (float) sumDyXhat;
        double inv = s.invStd[c], gc = s.gamma == null ? 1.0 : s.gamma[c];
        coef[3 * i] = (float) (gc * inv);
        coef[3 * i + 1] = 0;
        coef[3 * i + 2] = 0;
        if (s.batchStats) {
            double g1 = 0, g2 = 0;   // added into zero as the whole-tensor path's arrays are
            g1 += gc * sumDy;
            g2 += gc * sumDyXhat;
            double cx = coefX(inv, g2, s.layout.countPerStat());
            coef[3 * i + 1] = (float) cx;
            coef[3 * i + 2] = (float) coefK(inv, g1, s.layout.countPerStat(), cx, s.center[c] - s.mean[c]);
        }
    }

    /**
     * Batch norm with a fused 2×2 pooling, over the images in order, in chunks of images (the
     * tasks: {@link Normalization#chunkedChannelSums}): each run's dy derived into a small buffer and
     * its sums taken into its chunk's partial for its channel; then, the partials added in chunk
     * order and the coefficients made, each run's dy derived again and its dx. Channel by channel
     * ({@link #backwardPerChannel}) each task read runs a channel's stride apart, from memory or
     * L3 in a training step: LeNet's first batch norm ([256, 6, 24, 24]) took 1.32 ms there and
     * 0.93 ms here, on one thread, in a step (docs/benchmarks.md). Deriving twice reads the
     * activation and the pooled gradient twice, but writes no dy. The same sums in the same order
     * (each chunk's runs in image order, the chunks in order) and the same elementwise operations:
     * the same bits.
     */
    private static void backwardByImages(Saved s, float[] dOut, float[] dx, boolean dxFresh, float[] dGamma, float[] dBeta) {
        Layout l = s.layout;
        int A = l.A(), C = l.C(), B = l.B();
        Loops lp = Loops.get();
        double[] sums = Normalization.chunkedChannelSums(A, C, B, (acc, off, c) -> {
            float[] run = Scratch.floats(0, B);
            deriveRun(s, run, 0, dOut, off / (C * B), c, poolPlane(s));
            lp.dotShifted(acc, run, 0, s.x, off, B, s.center[c]);
        });
        float[] coef = new float[3 * C];
        for (int c = 0; c < C; c++) finishChannel(s, c, sums[2 * c], sums[2 * c + 1], dGamma, dBeta, coef, c);
        if (dx == null) return;
        Parallel.forRange(A, Normalization.chunkImages(A, C, B), (a0, a1) -> {   // the sums' chunks of images
            float[] run = Scratch.floats(0, B), plane = poolPlane(s);
            for (int a = a0; a < a1; a++) {
                for (int c = 0; c < C; c++) {
                    deriveRun(s, run, 0, dOut, a, c, plane);
                    int off = (a * C + c) * B;
                    lp.affineBackward(dx, off, run, 0, s.x, off, B, coef[3 * c], coef[3 * c + 1], s.center[c], coef[3 * c + 2], dxFresh);
                }
            }
        });
    }

    /**
     * Batch norm of channels-first runs (B > 1), channel by channel while the channel is in cache
     * (the channels are the tasks): its dy (a fused activation's derivative taken; a fused pooling
     * goes {@link #backwardByImages}), its sums, its coefficients and its dx, one after the other. The passes over
     * the whole tensor in {@link #backward} read dy and x from memory twice and write the whole dy
     * between; here each is read from memory once. The same arithmetic in the same order: the same
     * bits.
     */
    private static void backwardPerChannel(Saved s, float[] dOut, float[] dx, boolean dxFresh, float[] dGamma, float[] dBeta) {
        Layout l = s.layout;
        int A = l.A(), C = l.C(), B = l.B();
        boolean derive = s.derives();
        Loops lp = Loops.get();
        int per = Normalization.chunkImages(A, C, B);   // the whole-tensor sums' chunks: the same bits
        Parallel.forRange(C, Parallel.grain((long) A * B, 1 << 16), (c0, c1) -> {
            float[] dyC = derive ? Scratch.floats(0, A * B) : null;   // the channel's dy, run after run
            float[] plane = poolPlane(s), coef = new float[3];
            double[] acc = new double[2];
            for (int c = c0; c < c1; c++) {
                float[] dy = derive ? dyC : dOut;
                double sumDy = 0, sumDyXc = 0, chunkDy = 0, chunkDyXc = 0;
                for (int a = 0; a < A; a++) {
                    int off = (a * C + c) * B;
                    if (derive) deriveRun(s, dyC, a * B, dOut, a, c, plane);   // the run's dy, then its sums while it is in cache
                    acc[0] = 0;
                    acc[1] = 0;
                    lp.dotShifted(acc, dy, derive ? a * B : off, s.x, off, B, s.center[c]);
                    chunkDy += acc[0];   // the runs into their chunk's partial, the partials in order
                    chunkDyXc += acc[1];
                    if ((a + 1) % per == 0 || a == A - 1) {
                        sumDy += chunkDy;
                        sumDyXc += chunkDyXc;
                        chunkDy = 0;
                        chunkDyXc = 0;
                    }
                }
                finishChannel(s, c, sumDy, sumDyXc, dGamma, dBeta, coef, 0);
                if (dx == null) continue;
                for (int a = 0; a < A; a++) {
                    int off = (a * C + c) * B;
                    lp.affineBackward(dx, off, dy, derive ? a * B : off, s.x, off, B, coef[0], coef[1], s.center[c], coef[2], dxFresh);
                }
            }
        });
    }
}
