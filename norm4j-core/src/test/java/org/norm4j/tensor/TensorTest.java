package org.norm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void ofCopiesAndKeepsShape() {
        float[] d = {1, 2, 3, 4, 5, 6};
        Tensor t = Tensor.of(d, 2, 3);
        d[0] = 9;
        assertEquals(1f, t.toArray()[0], "of() copies");
        assertArrayEquals(new int[] {2, 3}, t.shape());
        assertEquals(6, t.size());
        assertEquals(3, t.dim(-1));
        Tensor w = Tensor.wrap(d, 6);
        d[1] = 7;
        assertEquals(7f, w.toArray()[1], "wrap() shares");
    }

    @Test
    void rankAndSizeAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1, 1, 1, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("6") && e.getMessage().contains("5"), e.getMessage());
    }

    @Test
    void reshapeShares() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, 4);
        Tensor r = t.reshape(2, 2);
        assertArrayEquals(new int[] {2, 2}, r.shape());
        r.data()[3] = 8;
        assertEquals(8f, t.toArray()[3]);
        assertThrows(IllegalArgumentException.class, () -> t.reshape(3));
    }

    @Test
    void rngIsReproducibleAndNormal() {
        Rng a = new Rng(3), b = new Rng(3);
        double sum = 0, sq = 0;
        int n = 200000;
        for (int i = 0; i < n; i++) {
            double v = a.normal();
            assertEquals(v, b.normal());
            sum += v;
            sq += v * v;
        }
        assertEquals(0, sum / n, 0.01);
        assertEquals(1, sq / n, 0.01);
    }
}
