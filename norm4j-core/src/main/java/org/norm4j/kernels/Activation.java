package org.norm4j.kernels;

/**
 * The activations a normalization layer can fuse after itself ({@code y = act(norm(x))}), with
 * the backward written from the output: relu' = [y &gt; 0], sigmoid' = y(1 − y), tanh' = 1 − y².
 * The sigmoid is {@link ExpF#sigmoid} through {@link Loops} (vectorized, the same bits either twin).
 */
public enum Activation {
    IDENTITY, RELU, SIGMOID, TANH;

    /** y[i] = act(y[i]) in place. */
    public void forwardInPlace(float[] y, int off, int n) {
        switch (this) {
            case IDENTITY -> { }
            case RELU -> { for (int i = off; i < off + n; i++) if (y[i] < 0f) y[i] = 0f; }   // NaN stays NaN
            case SIGMOID -> Loops.get().sigmoid(y, off, y, off, n);
            case TANH -> { for (int i = off; i < off + n; i++) y[i] = (float) Math.tanh(y[i]); }
        }
    }

    /** y[i] = act(x[i]); y is a separate array of at least n floats. */
    public void forward(float[] y, float[] x, int n) {
        if (this == SIGMOID) {
            Loops.get().sigmoid(y, 0, x, 0, n);
            return;
        }
        System.arraycopy(x, 0, y, 0, n);
        forwardInPlace(y, 0, n);
    }

    /** dPre[i] += dOut[i]·act'(from the output y[i]) (accumulates: pass a zeroed dPre to assign). */
    public void backward(float[] dPre, float[] dOut, float[] y, int n) {
        switch (this) {
            case IDENTITY -> { for (int i = 0; i < n; i++) dPre[i] += dOut[i]; }
            case RELU -> { for (int i = 0; i < n; i++) if (y[i] > 0) dPre[i] += dOut[i]; }
            case SIGMOID -> Loops.get().sigmoidBackward(dPre, 0, dOut, 0, y, 0, n);
            case TANH -> { for (int i = 0; i < n; i++) dPre[i] += dOut[i] * (1 - y[i] * y[i]); }
        }
    }
}
