package org.norm4j.ops;

import org.norm4j.autograd.Autograd;
import org.norm4j.kernels.Conv;
import org.norm4j.kernels.DirectConv;
import org.norm4j.kernels.Gemm;
import org.norm4j.kernels.LaneConv;
import org.norm4j.kernels.Loops;
import org.norm4j.kernels.Parallel;
import org.norm4j.kernels.Scratch;
import org.norm4j.tensor.Tensor;
import org.norm4j.tensor.Workspace;

/**
 * 2-D convolution (cross-correlation, as PyTorch) by im2col + GEMM over chunks of images: the
 * column matrices of a chunk's images stand side by side, so each group of a chunk is one GEMM
 * <pre>
 *   out_g[co, (j, p)] = Σ_k W[g·Cog + co, k] · col_g[k, (j, p)]      (image j of the chunk, pixel p)
 * </pre>
 * then scattered to y[n, g·Cog + co, p] with the bias added. x [N, Cin, H, W],
 * W [Cout, Cin/groups, kH, kW], b [Cout] or null. Backward per chunk and group, with dyT the
 * chunk's dy gathered to [Cog, (j, p)]: dW_chunk = dyT·colᵀ, dcol = Wᵀ·dyT then col2im into dx,
 * db_chunk = Σ dy; the chunks' dW and db are added in chunk order.
 *
 * <p>Small stride-1 layers (LeNet's) take a vector kernel instead, chunk by chunk, when the Vector
 * API is present: those with many taps (LeNet's conv2) {@link LaneConv}, the batch in the lanes,
 * forward and every gradient; the others {@link DirectConv}, shifted rows: forward always, dW and
 * db when the layer has few taps (LeNet's conv1), dx with GEMM + col2im.
 *
 * <p>Chunks hold about {@value #COLUMN_FLOATS} column floats (a few images of LeNet; one for a
 * large image), fixed by the shape alone: the chunks run on {@link Parallel}'s threads and the
 * result does not depend on how many there are. The column buffer is recomputed in backward
 * rather than kept for the whole batch, and lives in {@link Scratch}.
 */
public final class Convolution {
    /** Column-matrix floats per chunk: 256 KiB, so a chunk's columns stay in L2 (1 MiB measured no faster). */
    static final int COLUMN_FLOATS = 1 << 16;
    /** {@code -Dnorm4j.conv.direct=false} keeps every layer on im2col + GEMM (for comparisons). */
    static final boolean DIRECT_ENABLED = !"false".equals(System.getProperty("norm4j.conv.direct"));
    /**
     * Backward uses the direct kernel for dW only up to this many taps (Cin·kH·kW): LeNet's first
     * layer (25) gains 1.5×, its second (150) is faster with im2col + GEMM (measured, docs/benchmarks.md).
     */
    static final int DIRECT_BACKWARD_MAX_TAPS = 32;
    /** Lane groups per chunk on the {@link LaneConv} path: 32 images with 16 lanes, 8 tasks for a batch of 256. */
    static final int LANE_GROUPS = 2;

    private Convolution() {}

    /** Stride, padding and dilation per axis, and the number of groups. */
    public record Geometry(int strideH, int strideW, int padH, int padW, int dilH, int dilW, int groups) {}

    /** The shapes behind one call, and how the batch is chunked. */
    private record Plan(int n, int cin, int h, int w, int cout, int kH, int kW, int outH, int outW, int groups,
                        int cig, int cog, int k, int p, int perChunk, int chunks, Geometry g, DirectConv.Shape direct,
                        DirectConv.Shape lanes) {
        static Plan of(int[] xs, int[] ws, Geometry g) {
            int n = xs[0], cin = xs[1], h = xs[2], w = xs[3], cout = ws[0], kH = ws[2], kW = ws[3];
            int outH = Conv.outSize(h, kH, g.strideH(), g.padH(), g.dilH()), outW = Conv.outSize(w, kW, g.strideW(), g.padW(), g.dilW());
            int cig = cin / g.groups(), cog = cout / g.groups(), k = cig * kH * kW, p = outH * outW;
            DirectConv.Shape shape = new DirectConv.Shape(cin, h, w, cout, kH, kW, g.padH(), g.padW());
            boolean lanes = DIRECT_ENABLED && LaneConv.suits(g.strideH(), g.strideW(), g.dilH(), g.dilW(), g.groups(), shape);
            boolean direct = DIRECT_ENABLED && !lanes && DirectConv.suits(g.strideH(), g.strideW(), g.dilH(), g.dilW(), g.groups(), shape);
            int perChunk = lanes ? LANE_GROUPS * LaneConv.get().lanes()
                    : (int) Math.max(1, Math.min(n, COLUMN_FLOATS / Math.max(1L, (long) k * p)));
            int chunks = n == 0 ? 0 : (n + perChunk - 1) / perChunk;
            return new Plan(n, cin, h, w, cout, kH, kW, outH, outW, g.groups(), cig, cog, k, p, perChunk, chunks, g,
                    direct ? shape : null, lanes ? shape : null);
        }

        int first(int chunk) {
            return chunk * perChunk;
        }

        int images(int chunk) {
            return Math.min(n, first(chunk) + perChunk) - first(chunk);
        }

        /** The columns of group gr of the chunk's images, side by side: col[k, j·p + q]. */
        void im2col(float[] col, float[] x, int chunk, int gr) {
            int m = images(chunk), ld = m * p;
            for (int j = 0; j < m; j++) {
                Conv.im2col(col, j * p, ld, x, ((first(chunk) + j) * cin + gr * cig) * h * w, cig, h, w, kH, kW,
                        g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilH(), g.dilW(), outH, outW);
            }
        }

        void col2im(float[] dx, float[] col, int chunk, int gr) {
            int m = images(chunk), ld = m * p;
            for (int j = 0; j < m; j++) {
                Conv.col2im(dx, ((first(chunk) + j) * cin + gr * cig) * h * w, col, j * p, ld, cig, h, w, kH, kW,
                        g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilH(), g.dilW(), outH, outW);
            }
        }
    }

    public static Tensor forward(Tensor x, Tensor weight, Tensor bias, Geometry g) {
        Plan pl = Plan.of(x.shape(), weight.shape(), g);
        float[] xd = x.data(), wd = weight.data(), y = Workspace.uninitialized(pl.n * pl.cout * pl.p);   // every element written
        float[] b = bias == null ? null : bias.data();
        Parallel.forEach(pl.chunks, chunk -> forwardChunk(pl, chunk, xd, wd, b, y));
        Tensor yt = Tensor.wrap(y, pl.n, pl.cout, pl.outH, pl.outW);
        Autograd.record(yt, "Conv2d", (dy, d, fresh) -> backward(pl, xd, wd, dy, d[0], fresh[0], d[1], d[2]), x, weight, bias);
        return yt;
    }

    private static void forwardChunk(Plan pl, int chunk, float[] x, float[] wd, float[] b, float[] y) {
        if (pl.lanes != null) {
            LaneConv.get().forward(y, x, wd, b, pl.first(chunk), pl.images(chunk), pl.lanes);
            return;
        }
        if (pl.direct != null) {
            DirectConv.get().forward(y, x, wd, b, pl.first(chunk), pl.images(chunk), pl.direct);
            return;
        }
        int m = pl.images(chunk), ld = m * pl.p, p = pl.p;
        float[] col = Scratch.floats(0, pl.k * ld), out = Scratch.floats(1, pl.cog * ld);
        for (int gr = 0; gr < pl.groups; gr++) {
            pl.im2col(col, x, chunk, gr);
            Gemm.gemm(false, false, pl.cog, ld, pl.k, 1f, wd, gr * pl.cog * pl.k, pl.k, col, 0, ld, 0f, out, 0, ld);
            for (int j = 0; j < m; j++) {
                for (int co = 0; co < pl.cog; co++) {
                    int src = co * ld + j * p, dst = ((pl.first(chunk) + j) * pl.cout + gr * pl.cog + co) * p;
                    if (b == null) {
                        System.arraycopy(out, src, y, dst, p);
                    } else {
                        float bc = b[gr * pl.cog + co];
                        for (int q = 0; q < p; q++) y[dst + q] = out[src + q] + bc;
                    }
                }
            }
        }
    }

    /** dx is assigned when {@code dxFresh} (garbage on entry), else added to, as dW and dB are. */
    private static void backward(Plan pl, float[] xd, float[] wd, float[] dy, float[] dx, boolean dxFresh, float[] dW, float[] dB) {
        int wSize = pl.cout * pl.k;
        boolean directDw = pl.lanes != null || pl.direct != null && pl.k <= DIRECT_BACKWARD_MAX_TAPS;
        float[][] dWParts = dW == null || directDw ? null : new float[pl.chunks][];
        double[][] dWSums = dW == null || !directDw ? null : new double[pl.chunks][];
        double[][] dBParts = dB == null ? null : new double[pl.chunks][];
        Parallel.forEach(pl.chunks, chunk -> {
            if (dx != null && dxFresh && pl.lanes == null) {   // col2im adds: zero this chunk's images first
                int img = pl.cin * pl.h * pl.w;
                java.util.Arrays.fill(dx, pl.first(chunk) * img, (pl.first(chunk) + pl.images(chunk)) * img, 0f);
            }
            if (dBParts != null) dBParts[chunk] = new double[pl.cout];
            double[] dBPart = dBParts == null ? null : dBParts[chunk];
            if (pl.lanes != null) {
                if (dWSums != null) dWSums[chunk] = new double[wSize];
                LaneConv.get().backward(dWSums == null ? null : dWSums[chunk], dBPart, dx, dxFresh, dy, xd, wd, pl.first(chunk), pl.images(chunk), pl.lanes);
                return;
            }
            if (directDw) {
                if (dWSums != null) dWSums[chunk] = new double[wSize];
                if (dWSums != null || dBPart != null) {
                    DirectConv.get().backward(dWSums == null ? null : dWSums[chunk], dBPart, dy, xd, pl.first(chunk), pl.images(chunk), pl.direct);
                }
                if (dx != null) backwardChunk(pl, chunk, xd, wd, dy, dx, null, null);
                return;
            }
            if (dWParts != null) dWParts[chunk] = new float[wSize];
            backwardChunk(pl, chunk, xd, wd, dy, dx, dWParts == null ? null : dWParts[chunk], dBPart);
        });
        for (int c = 0; c < pl.chunks; c++) {   // in chunk order: the same sums on any number of threads
            if (dWParts != null) {
                float[] part = dWParts[c];
                for (int i = 0; i < wSize; i++) dW[i] += part[i];
            }
            if (dWSums != null) {
                double[] part = dWSums[c];
                for (int i = 0; i < wSize; i++) dW[i] += (float) part[i];
            }
            if (dB != null) {
                double[] part = dBParts[c];
                for (int i = 0; i < pl.cout; i++) dB[i] += (float) part[i];
            }
        }
    }

    /** One chunk's gradient: dx of its images (disjoint from other chunks'), its own dW and db partials. */
    private static void backwardChunk(Plan pl, int chunk, float[] xd, float[] wd, float[] dy, float[] dx, float[] dW, double[] dB) {
        int m = pl.images(chunk), ld = m * pl.p, p = pl.p;
        float[] col = Scratch.floats(0, pl.k * ld), dyT = Scratch.floats(1, pl.cog * ld);
        for (int gr = 0; gr < pl.groups; gr++) {
            for (int j = 0; j < m; j++) {
                for (int co = 0; co < pl.cog; co++) {
                    int src = ((pl.first(chunk) + j) * pl.cout + gr * pl.cog + co) * p;
                    System.arraycopy(dy, src, dyT, co * ld + j * p, p);
                    if (dB != null) dB[gr * pl.cog + co] += Loops.get().sum(dy, src, p);
                }
            }
            if (dW != null) {
                pl.im2col(col, xd, chunk, gr);
                Gemm.gemm(false, true, pl.cog, pl.k, ld, 1f, dyT, 0, ld, col, 0, ld, 0f, dW, gr * pl.cog * pl.k, pl.k);
            }
            if (dx != null) {
                Gemm.gemm(true, false, pl.k, ld, pl.cog, 1f, wd, gr * pl.cog * pl.k, pl.k, dyT, 0, ld, 0f, col, 0, ld);
                pl.col2im(dx, col, chunk, gr);
            }
        }
    }
}
