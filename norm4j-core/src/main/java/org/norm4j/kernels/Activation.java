package org.norm4j.kernels;

/**
 * The activations a normalization layer can fuse after itself ({@code y = act(norm(x))}), with
 * the backward written from the output: relu' = [y &gt; 0], sigmoid' = y(1 − y), tanh' = 1 − y².
 */
public enum Activation {
    IDENTITY, RELU, SIGMOID, TANH;

    /** y[i] = act(y[i]) in place. */
    public void forwardInPlace(float[] y, int off, int n) {
        switch (this) {
            case IDENTITY -> { }
            case RELU -> { for (int i = off; i < off + n; i++) if (y[i] < 0f) y[i] = 0f; }   // NaN stays NaN
            case SIGMOID -> { for (int i = off; i < off + n; i++) y[i] = (float) (1 / (1 + Math.exp(-y[i]))); }
            case TANH -> { for (int i = off; i < off + n; i++) y[i] = (float) Math.tanh(y[i]); }
        }
    }

    /** dPre[i] = dOut[i]·act'(from the output y[i]). */
    public void backward(float[] dPre, float[] dOut, float[] y, int n) {
        switch (this) {
            case IDENTITY -> System.arraycopy(dOut, 0, dPre, 0, n);
            case RELU -> { for (int i = 0; i < n; i++) dPre[i] = y[i] > 0 ? dOut[i] : 0f; }
            case SIGMOID -> { for (int i = 0; i < n; i++) dPre[i] = dOut[i] * y[i] * (1 - y[i]); }
            case TANH -> { for (int i = 0; i < n; i++) dPre[i] = dOut[i] * (1 - y[i] * y[i]); }
        }
    }
}
