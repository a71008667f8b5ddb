package org.norm4j.kernels;

/**
 * The activations a normalization layer can fuse after itself ({@code y = act(norm(x))}), with
 * the backward written from the output: relu' = [y &gt; 0], sigmoid' = y(1 − y), tanh' = 1 − y².
 * The sigmoid is {@link ExpF#sigmoid} through {@link Loops} (vectorized, the same bits either twin).
 */
public enum Activation {
    IDENTITY, RELU, SIGMOID, TANH;

    /**
     * Elements per parallel task of a pass over n elements: {@link Normalization#elementwiseTask},
     * fixed by n, so the split never depends on the thread count (and each element is computed on
     * its own, so no split changes a bit); LeNet's [256, 120] activations are four tasks.
     */
    private static int grain(int n) {
        return (int) Normalization.elementwiseTask(n);
    }

    /** y[i] = act(y[i]) in place. */
    public void forwardInPlace(float[] y, int off, int n) {
        if (this == IDENTITY) return;
        Parallel.forRange(n, grain(n), (lo, hi) -> forwardRun(y, off + lo, hi - lo));
    }

    /**
     * y[i] = act(y[i]) in place over one run, on the calling thread: for kernels that apply it to
     * each run right after writing it, while the run is in cache.
     */
    public void forwardRun(float[] y, int off, int n) {
        switch (this) {
            case IDENTITY -> { }
            case RELU -> { for (int i = off; i < off + n; i++) if (y[i] < 0f) y[i] = 0f; }   // NaN stays NaN
            case SIGMOID -> Loops.get().sigmoid(y, off, y, off, n);
            case TANH -> { for (int i = off; i < off + n; i++) y[i] = (float) Math.tanh(y[i]); }
        }
    }

    /** y[i] = act(x[i]); y is a separate array of at least n floats. */
    public void forward(float[] y, float[] x, int n) {
        Parallel.forRange(n, grain(n), (lo, hi) -> {
            if (this == SIGMOID) {
                Loops.get().sigmoid(y, lo, x, lo, hi - lo);
            } else {
                System.arraycopy(x, lo, y, lo, hi - lo);
                forwardRun(y, lo, hi - lo);
            }
        });
    }

    /**
     * dPre[i] = dOut[i]·act'(from the output y[i]), overwriting dPre (which may hold anything): the
     * same values as {@link #backward} into a zeroed array, each range zeroed just before it is
     * accumulated into, while it is in cache, instead of in a pass of its own.
     */
    public void backwardAssign(float[] dPre, float[] dOut, float[] y, int n) {
        Parallel.forRange(n, grain(n), (lo, hi) -> backwardAssignRun(dPre, lo, dOut, lo, y, lo, hi - lo));
    }

    /**
     * {@link #backwardAssignRun} over one h × w plane whose dOut is the gradient of a 2×2, stride-2
     * average pooling of the activation (at pOff, h/2 × w/2): each pooled gradient times 0.25,
     * spread over its window into {@code plane} (a work array of at least h·w floats, any contents:
     * the entries no window reaches, an odd last row or column, are set to zero; the sigmoid needs
     * none: null), then the activation's
     * derivative: the same values as the pooling's backward followed by {@link #backwardAssign},
     * without the full-size gradient between them. On the calling thread.
     */
    public void backwardAssignPooledPlane(float[] dPre, int dOff, float[] dPool, int pOff, float[] y, int yOff, int h, int w, float[] plane) {
        if (this == SIGMOID) {   // the same values in one pass, the pooled gradient read where it is needed
            Loops.get().sigmoidBackwardPooled2x2(dPre, dOff, dPool, pOff, y, yOff, h, w);
            return;
        }
        int oh = h / 2, ow = w / 2;
        for (int r = 0; r < 2 * oh; r++) {
            int src = pOff + (r / 2) * ow, dst = r * w;
            for (int c = 0; c < ow; c++) {
                float g = dPool[src + c] * 0.25f;
                plane[dst + 2 * c] = g;
                plane[dst + 2 * c + 1] = g;
            }
            if (w % 2 != 0) plane[dst + w - 1] = 0f;
        }
        if (h % 2 != 0) java.util.Arrays.fill(plane, (h - 1) * w, h * w, 0f);
        backwardAssignRun(dPre, dOff, plane, 0, y, yOff, h * w);
    }

    /** dPre[dOff + i] = dOut[oOff + i]·act'(y[yOff + i]) for i &lt; n, on the calling thread: one range of {@link #backwardAssign}. */
    public void backwardAssignRun(float[] dPre, int dOff, float[] dOut, int oOff, float[] y, int yOff, int n) {
        java.util.Arrays.fill(dPre, dOff, dOff + n, 0f);
        backwardRun(dPre, dOff, dOut, oOff, y, yOff, n);
    }

    /** dPre[i] += dOut[i]·act'(from the output y[i]) (accumulates: pass a zeroed dPre to assign). */
    public void backward(float[] dPre, float[] dOut, float[] y, int n) {
        Parallel.forRange(n, grain(n), (lo, hi) -> backwardRun(dPre, lo, dOut, lo, y, lo, hi - lo));
    }

    /** dPre[dOff + i] += dOut[oOff + i]·act'(y[yOff + i]) for i &lt; n. */
    private void backwardRun(float[] dPre, int dOff, float[] dOut, int oOff, float[] y, int yOff, int n) {
        switch (this) {
            case IDENTITY -> { for (int i = 0; i < n; i++) dPre[dOff + i] += dOut[oOff + i]; }
            case RELU -> { for (int i = 0; i < n; i++) if (y[yOff + i] > 0) dPre[dOff + i] += dOut[oOff + i]; }
            case SIGMOID -> Loops.get().sigmoidBackward(dPre, dOff, dOut, oOff, y, yOff, n);
            case TANH -> { for (int i = 0; i < n; i++) dPre[dOff + i] += dOut[oOff + i] * (1 - y[yOff + i] * y[yOff + i]); }
        }
    }
}
