package org.norm4j.kernels;

/**
 * A float exponential for arguments t &le; 0 in float fused multiply-adds ({@link Math#fma}, no
 * double), so the Vector API twin can repeat it lane for lane ({@code FloatVector.fma}) and get the
 * same bits. Cephes' {@code expf}: t = n·ln2 + r with n = round(t/ln2) (by the 1.5·2²³ rounding
 * trick) and ln2 split in two so r is exact, |r| &le; ln2/2, then e^r by a degree-7 polynomial in
 * Horner form and 2^n by the exponent bits. Maximum error about 2 ulp over [−87, 0] (tested against
 * {@link Math#exp}); below −87 the result would be subnormal and is flushed to 0 (e^−87 = 1.6e−38).
 * The fused form is 13 vector operations fewer per sigmoid than separate multiplies and adds
 * (measured 0.57 → 0.36 ms for LeNet's first batch-norm output). {@code Math.fma} is one
 * instruction on every x86-64 CPU since 2013 (FMA3) and on ARMv8; on a CPU without FMA the JDK
 * computes it exactly in software, correct but slow.
 *
 * <p>{@link #sigmoid} is 1/(1 + e^−x) for x &ge; 0 and e^x/(1 + e^x) below, so the exponential's
 * argument is always −|x| and never overflows; NaN stays NaN, ±∞ give 1 and 0.
 */
public final class ExpF {
    /** Below this the exponential is flushed to 0. */
    public static final float LO = -87f;
    public static final float LOG2E = 1.44269504088896341f;
    /** 1.5·2²³: adding and subtracting it rounds a float of magnitude &lt; 2²² to the nearest integer. */
    public static final float ROUND = 12582912f;
    /** ln 2 = LN2_HI + LN2_LO with LN2_HI short enough that n·LN2_HI is exact. */
    public static final float LN2_HI = 0.693359375f;
    public static final float LN2_LO = -2.12194440e-4f;
    public static final float P0 = 1.9875691500e-4f;
    public static final float P1 = 1.3981999507e-3f;
    public static final float P2 = 8.3334519073e-3f;
    public static final float P3 = 4.1665795894e-2f;
    public static final float P4 = 1.6666665459e-1f;
    public static final float P5 = 5.0000001201e-1f;

    private ExpF() {}

    /** e^t for t &le; 0 (t &lt; {@link #LO} gives 0; NaN gives NaN). */
    public static float expNonPositive(float t) {
        boolean under = t < LO;
        if (under) t = LO;
        float v = Math.fma(t, LOG2E, ROUND);   // n + 1.5·2²³: its low mantissa bits hold n
        float n = v - ROUND;
        float r = Math.fma(n, -LN2_HI, t);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(P0, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        // (bits(v) + 127) << 23 = (n + 127) << 23: the shift drops 1.5·2²³'s bits (no float-to-int conversion,
        // which the Vector API does not compile to one instruction on JDK 17)
        float e = y * Float.intBitsToFloat((Float.floatToRawIntBits(v) + 127) << 23);
        return under ? 0f : e;
    }

    /** The logistic function 1/(1 + e^−x), without overflow for any x. */
    public static float sigmoid(float x) {
        float e = expNonPositive(-Math.abs(x));
        float d = 1f + e;
        return (x < 0f ? e : 1f) / d;
    }
}
