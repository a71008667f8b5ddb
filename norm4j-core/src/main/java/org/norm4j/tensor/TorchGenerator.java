package org.norm4j.tensor;

/**
 * PyTorch's CPU random generator, draw for draw: {@code torch.manual_seed(seed)} seeds an MT19937
 * ({@code at::mt19937}, the standard 32-bit Mersenne Twister with {@code init_genrand}), and
 * <ul>
 *   <li>{@code tensor.uniform_(from, to)} on a float tensor takes one 32-bit draw per element, in
 *       memory order: {@code x = (draw & 0xFFFFFF)·2⁻²⁴}, {@code x·(to − from) + from} in float with
 *       from and to rounded to float first, one fused multiply-add (the AVX2 and AVX-512 builds of
 *       ATen's CPU kernels contract it; a build for plain x86-64 rounds twice);</li>
 *   <li>{@code torch.randperm(n)} takes n − 1 draws: for i = 0..n−2 it swaps element i with element
 *       i + (draw mod (n − i)).</li>
 * </ul>
 * So a network initialized in PyTorch's order with this generator starts from PyTorch's weights for
 * the same seed, and an epoch shuffled with {@link #randperm} sees PyTorch's batches
 * ({@code TorchGeneratorTest} checks both against PyTorch 1.13). Not thread-safe.
 */
public final class TorchGenerator {
    private static final int N = 624, M = 397;
    private final int[] mt = new int[N];
    private int index;
    private long draws;

    public TorchGenerator(long seed) {
        mt[0] = (int) seed;   // at::mt19937 keeps the low 32 bits of the seed
        for (int i = 1; i < N; i++) mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        index = N;
    }

    /** Draws taken so far. */
    public long draws() {
        return draws;
    }

    /** The next 32-bit draw, as an unsigned value. */
    public long random() {
        if (index >= N) twist();
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        draws++;
        return y & 0xffffffffL;
    }

    private void twist() {
        for (int k = 0; k < N; k++) {
            int y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
            mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
        }
        index = 0;
    }

    /** Skips n draws. */
    public void skip(long n) {
        for (long i = 0; i < n; i++) random();
    }

    /** One element of {@code uniform_(from, to)} on a float tensor. */
    public float uniform(double from, double to) {
        float f = (float) from, t = (float) to;
        float x = (random() & 0xFFFFFF) * 0x1p-24f;
        return Math.fma(x, t - f, f);
    }

    /** {@code uniform_(from, to)} over a whole float array, in order. */
    public void uniform(float[] v, double from, double to) {
        for (int i = 0; i < v.length; i++) v[i] = uniform(from, to);
    }

    /** {@code torch.randperm(n)}. */
    public int[] randperm(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        for (int i = 0; i < n - 1; i++) {
            int z = (int) (random() % (n - i));
            int t = r[i];
            r[i] = r[z + i];
            r[z + i] = t;
        }
        return r;
    }
}
