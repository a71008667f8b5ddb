package org.norm4j.kernels;

/**
 * 2-D max and average pooling over planes of [planes, H, W]. Max pooling records the argmax of
 * each window (the first maximum, as PyTorch) for its backward; padding counts as −∞. Average
 * pooling divides by kH·kW including padding (PyTorch's count_include_pad=True).
 */
public final class Pooling {
    private Pooling() {}

    public static void maxForward(float[] y, int[] argmax, float[] x, int planes, int h, int w, int kH, int kW,
                                  int sH, int sW, int pH, int pW, int outH, int outW) {
        for (int pl = 0; pl < planes; pl++) {
            int xb = pl * h * w, yb = pl * outH * outW;
            for (int oh = 0; oh < outH; oh++) {
                for (int ow = 0; ow < outW; ow++) {
                    float best = Float.NEGATIVE_INFINITY;
                    int at = -1;
                    for (int ki = 0; ki < kH; ki++) {
                        int ih = oh * sH - pH + ki;
                        if (ih < 0 || ih >= h) continue;
                        for (int kj = 0; kj < kW; kj++) {
                            int iw = ow * sW - pW + kj;
                            if (iw < 0 || iw >= w) continue;
                            float v = x[xb + ih * w + iw];
                            if (v > best || at < 0 || (v != v && best == best)) {   // a NaN wins and stays, as in PyTorch
                                best = v;
                                at = xb + ih * w + iw;
                            }
                        }
                    }
                    y[yb + oh * outW + ow] = best;
                    argmax[yb + oh * outW + ow] = at;
                }
            }
        }
    }

    public static void maxBackward(float[] dx, float[] dy, int[] argmax, int n) {
        for (int i = 0; i < n; i++) if (argmax[i] >= 0) dx[argmax[i]] += dy[i];
    }

    public static void avgForward(float[] y, float[] x, int planes, int h, int w, int kH, int kW,
                                  int sH, int sW, int pH, int pW, int outH, int outW) {
        if (isTwoByTwo(kH, kW, sH, sW, pH, pW)) {
            Parallel.forRange(planes, Parallel.grain((long) h * w, 1 << 16), (p0, p1) -> avgForward2x2(y, x, p0, p1, h, w, outH, outW));
            return;
        }
        float inv = 1f / (kH * kW);
        for (int pl = 0; pl < planes; pl++) {
            int xb = pl * h * w, yb = pl * outH * outW;
            for (int oh = 0; oh < outH; oh++) {
                for (int ow = 0; ow < outW; ow++) {
                    float s = 0;
                    for (int ki = 0; ki < kH; ki++) {
                        int ih = oh * sH - pH + ki;
                        if (ih < 0 || ih >= h) continue;
                        for (int kj = 0; kj < kW; kj++) {
                            int iw = ow * sW - pW + kj;
                            if (iw >= 0 && iw < w) s += x[xb + ih * w + iw];
                        }
                    }
                    y[yb + oh * outW + ow] = s * inv;
                }
            }
        }
    }

    public static void avgBackward(float[] dx, float[] dy, int planes, int h, int w, int kH, int kW,
                                   int sH, int sW, int pH, int pW, int outH, int outW) {
        avgBackward(dx, false, dy, planes, h, w, kH, kW, sH, sW, pH, pW, outH, outW);
    }

    /** The same; with {@code assign} dx is a fresh buffer (garbage on entry) that this fills. */
    public static void avgBackward(float[] dx, boolean assign, float[] dy, int planes, int h, int w, int kH, int kW,
                                   int sH, int sW, int pH, int pW, int outH, int outW) {
        if (isTwoByTwo(kH, kW, sH, sW, pH, pW)) {
            Parallel.forRange(planes, Parallel.grain((long) h * w, 1 << 16), (p0, p1) -> avgBackward2x2(dx, assign, dy, p0, p1, h, w, outH, outW));
            return;
        }
        if (assign) java.util.Arrays.fill(dx, 0, planes * h * w, 0f);
        float inv = 1f / (kH * kW);
        for (int pl = 0; pl < planes; pl++) {
            int xb = pl * h * w, yb = pl * outH * outW;
            for (int oh = 0; oh < outH; oh++) {
                for (int ow = 0; ow < outW; ow++) {
                    float g = dy[yb + oh * outW + ow] * inv;
                    for (int ki = 0; ki < kH; ki++) {
                        int ih = oh * sH - pH + ki;
                        if (ih < 0 || ih >= h) continue;
                        for (int kj = 0; kj < kW; kj++) {
                            int iw = ow * sW - pW + kj;
                            if (iw >= 0 && iw < w) dx[xb + ih * w + iw] += g;
                        }
                    }
                }
            }
        }
    }

    /** The 2×2 window with stride 2 and no padding (LeNet's): every window lies inside the image. */
    private static boolean isTwoByTwo(int kH, int kW, int sH, int sW, int pH, int pW) {
        return kH == 2 && kW == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0;
    }

    /** The general loop's sums in its order (row 0 left, right, row 1 left, right), plane by plane: {@link Loops#avgPool2x2}. */
    private static void avgForward2x2(float[] y, float[] x, int p0, int p1, int h, int w, int outH, int outW) {
        Loops l = Loops.get();
        for (int pl = p0; pl < p1; pl++) l.avgPool2x2(y, pl * outH * outW, x, pl * h * w, h, w);
    }

    private static void avgBackward2x2(float[] dx, boolean assign, float[] dy, int p0, int p1, int h, int w, int outH, int outW) {
        if (assign && (h != 2 * outH || w != 2 * outW)) {   // an odd last row or column no window covers
            java.util.Arrays.fill(dx, p0 * h * w, p1 * h * w, 0f);
            assign = false;
        }
        for (int pl = p0; pl < p1; pl++) {
            int xb = pl * h * w, yb = pl * outH * outW;
            for (int oh = 0; oh < outH; oh++) {
                int r0 = xb + 2 * oh * w, r1 = r0 + w, o = yb + oh * outW;
                for (int ow = 0; ow < outW; ow++) {
                    float g = dy[o + ow] * 0.25f;
                    int c = 2 * ow;
                    dx[r0 + c] = assign ? g : dx[r0 + c] + g;   // assign: dx's garbage unread
                    dx[r0 + c + 1] = assign ? g : dx[r0 + c + 1] + g;
                    dx[r1 + c] = assign ? g : dx[r1 + c] + g;
                    dx[r1 + c + 1] = assign ? g : dx[r1 + c + 1] + g;
                }
            }
        }
    }
}
