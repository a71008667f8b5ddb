package org.norm4j.onnx;

import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.LongBinaryOperator;

/**
 * The arithmetic of {@link OnnxGraph}'s operators that norm4j has no layer for, written as
 * references: plain loops over row-major arrays, every sum accumulated in double and rounded to
 * float once, N-D where ONNX is N-D (Conv, ConvTranspose and the pools take 1 to 3 spatial axes
 * and more). Built for exactness and for checking, not speed: norm4j's layers (Conv2d through
 * im2col and the BLAS) are the fast path; {@link OnnxImport} maps chains onto them.
 *
 * <p>Inputs are never written. Shapes are validated by the caller ({@link OnnxNodes}), which
 * names the node; what is left here is an {@link IllegalArgumentException} with the shapes.
 */
final class OnnxOps {
    private OnnxOps() {}

    // ---- shapes ---------------------------------------------------------------------------------

    static int size(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^31 elements");
        return (int) n;
    }

    static int product(int[] shape, int from, int to) {
        long n = 1;
        for (int k = from; k < to; k++) n *= shape[k];
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^31 elements");
        return (int) n;
    }

    /** numpy's (multidirectional) broadcasting: right-aligned, each pair of dims equal or one of them 1. */
    static int[] broadcast(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int k = 0; k < r; k++) {
            int da = k - (r - a.length) >= 0 ? a[k - (r - a.length)] : 1;
            int db = k - (r - b.length) >= 0 ? b[k - (r - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b) + " do not broadcast");
            }
            out[k] = da == 1 ? db : da;
        }
        return out;
    }

    /** For each element of {@code out}, the index of the element of {@code in} that broadcasts to it. */
    static int[] broadcastIndex(int[] in, int[] out) {
        int r = out.length, n = size(out);
        int[] stride = new int[r];   // stride of `in` along each axis of `out`, 0 where `in` is broadcast
        int s = 1;
        for (int k = r - 1; k >= 0; k--) {
            int ki = k - (r - in.length);
            int d = ki >= 0 ? in[ki] : 1;
            stride[k] = d == 1 ? 0 : s;
            s *= d;
        }
        int[] idx = new int[n];
        int[] coord = new int[r];
        int at = 0;
        for (int i = 0; i < n; i++) {
            idx[i] = at;
            for (int k = r - 1; k >= 0; k--) {   // odometer
                coord[k]++;
                at += stride[k];
                if (coord[k] < out[k]) break;
                at -= stride[k] * coord[k];
                coord[k] = 0;
            }
        }
        return idx;
    }

    /** {@code in} broadcast (unidirectionally) to {@code shape}, as floats. */
    static float[] expand(OnnxTensor in, int[] shape) {
        int[] idx = broadcastIndex(in.shapeRef(), shape);
        float[] x = in.floats(), y = new float[idx.length];
        for (int i = 0; i < idx.length; i++) y[i] = x[idx[i]];
        return y;
    }

    // ---- elementwise ----------------------------------------------------------------------------

    /** An integer result wrapped to its type, as C's fixed-width arithmetic does (UINT8: 250 + 10 = 4). */
    static long wrap(int dataType, long v) {
        return switch (dataType) {
            case OnnxProto.UINT8 -> v & 0xFFL;
            case OnnxProto.INT8 -> (byte) v;
            case OnnxProto.UINT16 -> v & 0xFFFFL;
            case OnnxProto.INT16 -> (short) v;
            case OnnxProto.INT32 -> (int) v;
            case OnnxProto.UINT32 -> v & 0xFFFFFFFFL;
            case OnnxProto.BOOL -> v != 0 ? 1 : 0;
            default -> v;   // INT64, UINT64: two's complement in a long
        };
    }

    /**
     * y = op(a, b) with broadcasting; a and b of one type. Floats: computed in double and rounded
     * once (for + and × of two floats that is the float operation itself). Integers: wrapped.
     */
    static OnnxTensor binary(OnnxTensor a, OnnxTensor b, DoubleBinaryOperator fop, LongBinaryOperator iop) {
        int[] shape = broadcast(a.shapeRef(), b.shapeRef());
        int[] ia = broadcastIndex(a.shapeRef(), shape), ib = broadcastIndex(b.shapeRef(), shape);
        int n = ia.length;
        if (a.isFloat()) {
            float[] x = a.floats(), z = b.floats(), y = new float[n];
            for (int i = 0; i < n; i++) y[i] = (float) fop.applyAsDouble(x[ia[i]], z[ib[i]]);
            return OnnxTensor.ofFloats(y, shape);
        }
        long[] x = a.longs(), z = b.longs(), y = new long[n];
        for (int i = 0; i < n; i++) y[i] = wrap(a.dataType(), iop.applyAsLong(x[ia[i]], z[ib[i]]));
        return OnnxTensor.ofIntegers(a.dataType(), y, shape);
    }

    static OnnxTensor unary(OnnxTensor a, DoubleUnaryOperator op) {
        float[] x = a.floats(), y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (float) op.applyAsDouble(x[i]);
        return OnnxTensor.ofFloats(y, a.shapeRef());
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));   // no overflow on either side
    }

    /** y[o] = x[o − begin] where that lies inside x, else {@code value} (cast to the type); negative begins crop. */
    static OnnxTensor padConstant(OnnxTensor x, int[] out, int[] begin, double value) {
        int[] s = x.shapeRef();
        int n = size(out), r = s.length;
        int[] oc = new int[r];
        int[] from = new int[n];   // the input index each output element copies, −1 for the padding value
        for (int o = 0; o < n; o++) {
            unravel(o, out, oc);
            int flat = 0;
            for (int k = 0; k < r && flat >= 0; k++) {
                int pos = oc[k] - begin[k];
                flat = pos < 0 || pos >= s[k] ? -1 : flat * s[k] + pos;
            }
            from[o] = flat;
        }
        if (x.isFloat()) {
            float[] xv = x.floats(), y = new float[n];
            for (int o = 0; o < n; o++) y[o] = from[o] >= 0 ? xv[from[o]] : (float) value;
            return OnnxTensor.ofFloats(y, out);
        }
        long[] xv = x.longs(), y = new long[n];
        for (int o = 0; o < n; o++) y[o] = from[o] >= 0 ? xv[from[o]] : (long) value;
        return OnnxTensor.ofIntegers(x.dataType(), y, out);
    }

    // ---- matrix products ------------------------------------------------------------------------

    /**
     * numpy.matmul: 1-D operands are promoted to a row (a) or a column (b) and the added axis
     * removed afterwards; the leading (batch) axes broadcast.
     */
    static OnnxTensor matMul(OnnxTensor a, OnnxTensor b) {
        int[] sa = a.shapeRef(), sb = b.shapeRef();
        if (sa.length == 0 || sb.length == 0) throw new IllegalArgumentException("MatMul of a scalar " + Arrays.toString(sa) + " × " + Arrays.toString(sb));
        int[] pa = sa.length == 1 ? new int[] {1, sa[0]} : sa;
        int[] pb = sb.length == 1 ? new int[] {sb[0], 1} : sb;
        int m = pa[pa.length - 2], k = pa[pa.length - 1], k2 = pb[pb.length - 2], n = pb[pb.length - 1];
        if (k != k2) throw new IllegalArgumentException("MatMul of " + Arrays.toString(sa) + " × " + Arrays.toString(sb) + ": inner dimensions " + k + " and " + k2 + " differ");
        int[] batchA = Arrays.copyOf(pa, pa.length - 2), batchB = Arrays.copyOf(pb, pb.length - 2);
        int[] batch = broadcast(batchA, batchB);
        int[] ia = broadcastIndex(batchA, batch), ib = broadcastIndex(batchB, batch);
        float[] x = a.floats(), w = b.floats(), y = new float[ia.length * m * n];
        for (int t = 0; t < ia.length; t++) {
            int xo = ia[t] * m * k, wo = ib[t] * k * n, yo = t * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) acc += (double) x[xo + i * k + p] * w[wo + p * n + j];
                    y[yo + i * n + j] = (float) acc;
                }
            }
        }
        int[] shape = Arrays.copyOf(batch, batch.length + 2);
        shape[batch.length] = m;
        shape[batch.length + 1] = n;
        if (sb.length == 1) shape = dropAxis(shape, shape.length - 1);
        if (sa.length == 1) shape = dropAxis(shape, shape.length - (sb.length == 1 ? 1 : 2));
        return OnnxTensor.ofFloats(y, shape);
    }

    private static int[] dropAxis(int[] s, int axis) {
        int[] r = new int[s.length - 1];
        for (int k = 0, j = 0; k < s.length; k++) if (k != axis) r[j++] = s[k];
        return r;
    }

    /** Y = alpha·A'·B' + beta·C, A' = transA ? Aᵀ : A ([M, K]), B' likewise ([K, N]), C broadcast to [M, N]. */
    static OnnxTensor gemm(OnnxTensor a, OnnxTensor b, OnnxTensor c, double alpha, double beta, boolean transA, boolean transB) {
        int[] sa = a.shapeRef(), sb = b.shapeRef();
        if (sa.length != 2 || sb.length != 2) throw new IllegalArgumentException("Gemm takes matrices, got " + Arrays.toString(sa) + " and " + Arrays.toString(sb));
        int m = transA ? sa[1] : sa[0], k = transA ? sa[0] : sa[1];
        int k2 = transB ? sb[1] : sb[0], n = transB ? sb[0] : sb[1];
        if (k != k2) {
            throw new IllegalArgumentException("A " + Arrays.toString(sa) + (transA ? " (transposed)" : "") + " and B " + Arrays.toString(sb)
                    + (transB ? " (transposed)" : "") + " have inner dimensions " + k + " and " + k2);
        }
        int[] shape = {m, n};
        float[] cv = null;
        if (c != null) {
            int[] bs = broadcast(c.shapeRef(), shape);
            if (!Arrays.equals(bs, shape)) throw new IllegalArgumentException("C " + Arrays.toString(c.shapeRef()) + " does not broadcast to [" + m + ", " + n + "]");
            cv = expand(c, shape);
        }
        float[] x = a.floats(), w = b.floats(), y = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? x[p * m + i] : x[i * k + p];
                    double bv = transB ? w[j * k + p] : w[p * n + j];
                    acc += av * bv;
                }
                double v = alpha * acc;
                if (cv != null) v += beta * cv[i * n + j];
                y[i * n + j] = (float) v;
            }
        }
        return OnnxTensor.ofFloats(y, shape);
    }

    // ---- windows: convolution and pooling -----------------------------------------------------

    /**
     * The geometry of a sliding window over the spatial axes: input sizes, kernel, strides,
     * dilations, padding at the start and end of each axis, output sizes.
     */
    record Window(int[] in, int[] kernel, int[] strides, int[] dilations, int[] padBegin, int[] padEnd, int[] out) {
        int spatial() {
            return in.length;
        }

        /**
         * For output position o and kernel offset q: the flat input index they read, or −1 where
         * the window lies in the padding, −2 where it lies beyond the padded input (ceil_mode's
         * last window). Table [outSize][kernelSize].
         */
        int[] gather() {
            int d = in.length, outSize = size(out), kSize = size(kernel);
            int[] g = new int[tableSize(outSize, kSize)];
            int[] oc = new int[d], kc = new int[d];
            for (int o = 0; o < outSize; o++) {
                unravel(o, out, oc);
                for (int q = 0; q < kSize; q++) {
                    unravel(q, kernel, kc);
                    int flat = 0;
                    int where = 0;   // 0 inside, -1 padding, -2 beyond the padding
                    for (int k = 0; k < d; k++) {
                        int pos = oc[k] * strides[k] - padBegin[k] + kc[k] * dilations[k];
                        if (pos < -padBegin[k] || pos >= in[k] + padEnd[k]) where = -2;
                        else if ((pos < 0 || pos >= in[k]) && where == 0) where = -1;
                        flat = flat * in[k] + Math.min(Math.max(pos, 0), in[k] - 1);
                    }
                    g[o * kSize + q] = where == 0 ? flat : where;
                }
            }
            return g;
        }
    }

    /** positions × kernel offsets, the size of a gather table; refused beyond 2^28 entries (1 GiB). */
    private static int tableSize(int positions, int kernelSize) {
        long n = (long) positions * kernelSize;
        if (n > 1 << 28) {
            throw new IllegalArgumentException(positions + " window positions × a kernel of " + kernelSize + " elements is too large for the reference loops");
        }
        return (int) n;
    }

    static void unravel(int flat, int[] dims, int[] coord) {
        for (int k = dims.length - 1; k >= 0; k--) {
            coord[k] = flat % dims[k];
            flat /= dims[k];
        }
    }

    /**
     * Conv: x [N, C, in...], w [M, C/group, kernel...], bias [M] or null →
     * y[n, m, o] = bias[m] + Σ_{c in m's group, q} x[n, c, o·s − padBegin + q·d] · w[m, c', q].
     */
    static OnnxTensor conv(OnnxTensor x, OnnxTensor w, OnnxTensor bias, Window win, int group) {
        int[] xs = x.shapeRef(), ws = w.shapeRef();
        int n = xs[0], c = xs[1], m = ws[0], cg = c / group, mg = m / group;
        int inSize = size(win.in()), outSize = size(win.out()), kSize = size(win.kernel());
        int[] g = win.gather();
        float[] xv = x.floats(), wv = w.floats(), bv = bias == null ? null : bias.floats();
        float[] y = new float[n * m * outSize];
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < m; oc++) {
                int grp = oc / mg;
                for (int o = 0; o < outSize; o++) {
                    double acc = bv == null ? 0 : bv[oc];
                    for (int ci = 0; ci < cg; ci++) {
                        int xo = (b * c + grp * cg + ci) * inSize, wo = (oc * cg + ci) * kSize;
                        for (int q = 0; q < kSize; q++) {
                            int at = g[o * kSize + q];
                            if (at >= 0) acc += (double) xv[xo + at] * wv[wo + q];
                        }
                    }
                    y[(b * m + oc) * outSize + o] = (float) acc;
                }
            }
        }
        return OnnxTensor.ofFloats(y, withSpatial(n, m, win.out()));
    }

    /**
     * ConvTranspose: x [N, C, in...], w [C, M/group, kernel...] → y [N, M, out...], the adjoint of
     * Conv: each input element adds x·w[c, m', q] at position i·s − padBegin + q·d of the output
     * (positions outside [0, out) are cut off; positions no input reaches get only the bias).
     */
    static OnnxTensor convTranspose(OnnxTensor x, OnnxTensor w, OnnxTensor bias, Window win, int group) {
        int[] xs = x.shapeRef(), ws = w.shapeRef();
        int n = xs[0], c = xs[1], cg = c / group, mg = ws[1], m = mg * group;
        int d = win.spatial(), inSize = size(win.in()), outSize = size(win.out()), kSize = size(win.kernel());
        // where input position i and kernel offset q land in the output (−1: cut off)
        int[] land = new int[tableSize(inSize, kSize)];
        int[] ic = new int[d], kc = new int[d];
        for (int i = 0; i < inSize; i++) {
            unravel(i, win.in(), ic);
            for (int q = 0; q < kSize; q++) {
                unravel(q, win.kernel(), kc);
                int flat = 0;
                boolean inside = true;
                for (int k = 0; k < d; k++) {
                    int pos = ic[k] * win.strides()[k] - win.padBegin()[k] + kc[k] * win.dilations()[k];
                    if (pos < 0 || pos >= win.out()[k]) inside = false;
                    flat = flat * win.out()[k] + Math.max(0, Math.min(pos, win.out()[k] - 1));
                }
                land[i * kSize + q] = inside ? flat : -1;
            }
        }
        float[] xv = x.floats(), wv = w.floats(), bv = bias == null ? null : bias.floats();
        float[] y = new float[n * m * outSize];
        double[] acc = new double[outSize];
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < m; oc++) {
                int grp = oc / mg, ocg = oc % mg;
                Arrays.fill(acc, bv == null ? 0 : bv[oc]);
                for (int ci = 0; ci < cg; ci++) {
                    int cin = grp * cg + ci;
                    int xo = (b * c + cin) * inSize, wo = (cin * mg + ocg) * kSize;
                    for (int i = 0; i < inSize; i++) {
                        double xi = xv[xo + i];
                        for (int q = 0; q < kSize; q++) {
                            int at = land[i * kSize + q];
                            if (at >= 0) acc[at] += xi * wv[wo + q];
                        }
                    }
                }
                for (int o = 0; o < outSize; o++) y[(b * m + oc) * outSize + o] = (float) acc[o];
            }
        }
        return OnnxTensor.ofFloats(y, withSpatial(n, m, win.out()));
    }

    static int[] withSpatial(int n, int c, int[] spatial) {
        int[] s = new int[spatial.length + 2];
        s[0] = n;
        s[1] = c;
        System.arraycopy(spatial, 0, s, 2, spatial.length);
        return s;
    }

    /**
     * MaxPool: the largest input element of each window (padding never wins); with
     * {@code indices}, also the flat index of the first largest element in the whole input
     * ([N, C, in...] row-major, or with the spatial axes column-major when {@code columnMajor}).
     * Returns {y} or {y, indices}.
     */
    static OnnxTensor[] maxPool(OnnxTensor x, Window win, boolean indices, boolean columnMajor) {
        int[] xs = x.shapeRef();
        int planes = xs[0] * xs[1], inSize = size(win.in()), outSize = size(win.out()), kSize = size(win.kernel());
        int[] g = win.gather();
        int[] colMajor = columnMajor ? columnMajorIndex(win.in()) : null;
        long[] idx = indices ? new long[planes * outSize] : null;
        if (x.isFloat()) {
            float[] xv = x.floats(), y = new float[planes * outSize];
            for (int p = 0; p < planes; p++) {
                for (int o = 0; o < outSize; o++) {
                    float best = Float.NEGATIVE_INFINITY;
                    int arg = -1;
                    for (int q = 0; q < kSize; q++) {
                        int at = g[o * kSize + q];
                        if (at >= 0 && (arg < 0 || xv[p * inSize + at] > best || Float.isNaN(xv[p * inSize + at]) && !Float.isNaN(best))) {
                            best = xv[p * inSize + at];
                            arg = at;
                        }
                    }
                    y[p * outSize + o] = best;
                    if (idx != null) idx[p * outSize + o] = (long) p * inSize + (arg < 0 ? 0 : columnMajor ? colMajor[arg] : arg);
                }
            }
            OnnxTensor yt = OnnxTensor.ofFloats(y, withSpatial(xs[0], xs[1], win.out()));
            return idx == null ? new OnnxTensor[] {yt} : new OnnxTensor[] {yt, OnnxTensor.ofInt64(idx, yt.shapeRef())};
        }
        long[] xv = x.longs(), y = new long[planes * outSize];
        for (int p = 0; p < planes; p++) {
            for (int o = 0; o < outSize; o++) {
                long best = Long.MIN_VALUE;
                int arg = -1;
                for (int q = 0; q < kSize; q++) {
                    int at = g[o * kSize + q];
                    if (at >= 0 && (arg < 0 || xv[p * inSize + at] > best)) {
                        best = xv[p * inSize + at];
                        arg = at;
                    }
                }
                y[p * outSize + o] = arg < 0 ? 0 : best;
                if (idx != null) idx[p * outSize + o] = (long) p * inSize + (arg < 0 ? 0 : columnMajor ? colMajor[arg] : arg);
            }
        }
        OnnxTensor yt = OnnxTensor.ofIntegers(x.dataType(), y, withSpatial(xs[0], xs[1], win.out()));
        return idx == null ? new OnnxTensor[] {yt} : new OnnxTensor[] {yt, OnnxTensor.ofInt64(idx, yt.shapeRef())};
    }

    /** For each row-major flat index of {@code dims}, the column-major one. */
    private static int[] columnMajorIndex(int[] dims) {
        int n = size(dims);
        int[] r = new int[n], c = new int[dims.length];
        for (int i = 0; i < n; i++) {
            unravel(i, dims, c);
            int flat = 0;
            for (int k = dims.length - 1; k >= 0; k--) flat = flat * dims[k] + c[k];
            r[i] = flat;
        }
        return r;
    }

    /**
     * AveragePool: the mean of each window over the input elements it covers, or, with
     * {@code countIncludePad}, the sum over the window's positions within the padded input divided
     * by their number (the zeros of the padding counted).
     */
    static OnnxTensor averagePool(OnnxTensor x, Window win, boolean countIncludePad) {
        int[] xs = x.shapeRef();
        int planes = xs[0] * xs[1], inSize = size(win.in()), outSize = size(win.out()), kSize = size(win.kernel());
        int[] g = win.gather();
        float[] xv = x.floats(), y = new float[planes * outSize];
        for (int p = 0; p < planes; p++) {
            for (int o = 0; o < outSize; o++) {
                double sum = 0;
                int count = 0;
                for (int q = 0; q < kSize; q++) {
                    int at = g[o * kSize + q];
                    if (at >= 0) {
                        sum += xv[p * inSize + at];
                        count++;
                    } else if (at == -1 && countIncludePad) {
                        count++;
                    }
                }
                y[p * outSize + o] = count == 0 ? Float.NaN : (float) (sum / count);
            }
        }
        return OnnxTensor.ofFloats(y, withSpatial(xs[0], xs[1], win.out()));
    }

    /** GlobalAveragePool: y[n, c, 1, ...] = mean of x[n, c, ...]. */
    static OnnxTensor globalAveragePool(OnnxTensor x) {
        int[] xs = x.shapeRef();
        int planes = xs[0] * xs[1], inSize = product(xs, 2, xs.length);
        float[] xv = x.floats(), y = new float[planes];
        for (int p = 0; p < planes; p++) {
            double sum = 0;
            for (int i = 0; i < inSize; i++) sum += xv[p * inSize + i];
            y[p] = (float) (sum / inSize);
        }
        int[] s = xs.clone();
        for (int k = 2; k < s.length; k++) s[k] = 1;
        return OnnxTensor.ofFloats(y, s);
    }

    // ---- softmax and statistics -----------------------------------------------------------------

    /**
     * Softmax (or its log) over the middle axis of x viewed as [outer, len, inner]:
     * y = exp(x − max)/Σexp(x − max); log: (x − max) − log Σexp(x − max). Sums in double.
     */
    static OnnxTensor softmax(OnnxTensor x, int outer, int len, int inner, boolean log) {
        float[] xv = x.floats(), y = new float[xv.length];
        for (int a = 0; a < outer; a++) {
            for (int b = 0; b < inner; b++) {
                int base = a * len * inner + b;
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < len; i++) max = Math.max(max, xv[base + i * inner]);
                double sum = 0;
                for (int i = 0; i < len; i++) sum += Math.exp(xv[base + i * inner] - max);
                double logSum = Math.log(sum);
                for (int i = 0; i < len; i++) {
                    double z = xv[base + i * inner] - max;
                    y[base + i * inner] = (float) (log ? z - logSum : Math.exp(z) / sum);
                }
            }
        }
        return OnnxTensor.ofFloats(y, x.shapeRef());
    }

    /**
     * MeanVarianceNormalization: over the given axes, y = (x − mean)/(sqrt(varBiased) + 1e-9),
     * ONNX's function body (the 1e-9 added to the standard deviation, not the variance); mean
     * and variance two-pass in double.
     */
    static OnnxTensor meanVarianceNormalization(OnnxTensor x, boolean[] reduced) {
        int[] s = x.shapeRef();
        int n = size(s);
        int[] group = new int[n];   // each element's index among the kept (non-reduced) positions
        int[] c = new int[s.length];
        int groups = 1;
        for (int k = 0; k < s.length; k++) if (!reduced[k]) groups *= s[k];
        for (int i = 0; i < n; i++) {
            unravel(i, s, c);
            int gi = 0;
            for (int k = 0; k < s.length; k++) if (!reduced[k]) gi = gi * s[k] + c[k];
            group[i] = gi;
        }
        float[] xv = x.floats(), y = new float[n];
        double[] mean = new double[groups], m2 = new double[groups];
        int[] count = new int[groups];
        for (int i = 0; i < n; i++) {
            mean[group[i]] += xv[i];
            count[group[i]]++;
        }
        for (int gi = 0; gi < groups; gi++) mean[gi] /= Math.max(count[gi], 1);
        for (int i = 0; i < n; i++) {
            double dv = xv[i] - mean[group[i]];
            m2[group[i]] += dv * dv;
        }
        for (int i = 0; i < n; i++) {
            double std = Math.sqrt(m2[group[i]] / count[group[i]]);
            y[i] = (float) ((xv[i] - mean[group[i]]) / (std + 1e-9));
        }
        return OnnxTensor.ofFloats(y, s);
    }
}
