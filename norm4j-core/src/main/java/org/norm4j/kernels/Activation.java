package org.norm4j.kernels;

/**
 * The activations a normalization layer can fuse after itself ({@code y = act(norm(x))}), with
 * the backward written from the output: relu' = [y &gt; 0], sigmoid' = y(1 − y), tanh' = 1 − y².
 * The sigmoid is {@link ExpF#sigmoid} through {@link Loops} (vectorized, the same bits either twin).
 */
public enum Activation {
    IDENTITY, RELU, SIGMOID, TANH;

    /** Elements per parallel task: fixed, so the split never depends on the thread count. */
    private static final int GRAIN = 1 << 16;

    /** y[i] = act(y[i]) in place. */
    public void forwardInPlace(float[] y, int off, int n) {
        if (this == IDENTITY) return;
        Parallel.forRange(n, GRAIN, (lo, hi) -> forwardRun(y, off + lo, hi - lo));
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
        Parallel.forRange(n, GRAIN, (lo, hi) -> {
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
        Parallel.forRange(n, GRAIN, (lo, hi) -> {
            java.util.Arrays.fill(dPre, lo, hi, 0f);
            backwardRange(dPre, dOut, y, lo, hi);
        });
    }

    /** dPre[i] += dOut[i]·act'(from the output y[i]) (accumulates: pass a zeroed dPre to assign). */
    public void backward(float[] dPre, float[] dOut, float[] y, int n) {
        Parallel.forRange(n, GRAIN, (lo, hi) -> backwardRange(dPre, dOut, y, lo, hi));
    }

    private void backwardRange(float[] dPre, float[] dOut, float[] y, int lo, int hi) {
        switch (this) {
            case IDENTITY -> { for (int i = lo; i < hi; i++) dPre[i] += dOut[i]; }
            case RELU -> { for (int i = lo; i < hi; i++) if (y[i] > 0) dPre[i] += dOut[i]; }
            case SIGMOID -> Loops.get().sigmoidBackward(dPre, lo, dOut, lo, y, lo, hi - lo);
            case TANH -> { for (int i = lo; i < hi; i++) dPre[i] += dOut[i] * (1 - y[i] * y[i]); }
        }
    }
}
