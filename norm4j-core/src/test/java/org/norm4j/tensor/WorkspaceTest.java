package org.norm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.norm4j.testing.LeNetSteps;

/** Array reuse: what is handed out when, zeros where promised, and training that does not notice. */
class WorkspaceTest {

    @Test
    void arraysComeBackOnlyWhenTheOutermostScopeCloses() {
        Workspace.clear();
        int n = Workspace.MIN_FLOATS;
        java.util.Set<float[]> lent = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        try (Workspace.Scope outer = Workspace.open()) {
            float[] first = Workspace.zeroed(n);
            java.util.Arrays.fill(first, 7f);
            lent.add(first);
            try (Workspace.Scope inner = Workspace.open()) {
                float[] second = Workspace.zeroed(n);
                assertTrue(lent.add(second), "a lent array is not handed out twice");
            }
            float[] third = Workspace.uninitialized(n);
            assertTrue(lent.add(third), "an inner scope's close recycles nothing");
        }
        try (Workspace.Scope next = Workspace.open()) {
            for (int i = 0; i < 3; i++) {
                float[] again = Workspace.zeroed(n);
                assertTrue(lent.contains(again), "the next step gets the arrays back");
                for (float v : again) assertEquals(0f, v, "zeroed means zero, also for a reused array");
            }
            assertFalse(lent.contains(Workspace.zeroed(n)), "a fourth is new");
        }
        assertFalse(lent.contains(Workspace.zeroed(n)), "outside a scope: fresh arrays");
        try (Workspace.Scope s = Workspace.open()) {
            Workspace.zeroed(n - 1)[0] = 1;
        }
        try (Workspace.Scope s = Workspace.open()) {
            assertEquals(0f, Workspace.zeroed(n - 1)[0], "small arrays are always fresh");
        }
        Workspace.clear();
    }

    @Test
    void doublesArePooledAndZeroed() {
        Workspace.clear();
        int n = Workspace.MIN_FLOATS / 2;
        double[] first, second;
        try (Workspace.Scope s = Workspace.open()) {
            first = Workspace.zeroedDoubles(n);
            second = Workspace.zeroedDoubles(n);
            java.util.Arrays.fill(first, 3.0);
            java.util.Arrays.fill(second, 3.0);
            assertFalse(first == second, "a lent array is not handed out twice");
            assertEquals(2L * n * 8, Workspace.heldBytes(), "both lent arrays are held");
        }
        try (Workspace.Scope s = Workspace.open()) {
            double[] again = Workspace.zeroedDoubles(n);
            assertTrue(again == first || again == second, "the next step gets one back");
            for (double v : again) assertEquals(0.0, v, "zeroed means zero, also for a reused array");
            double[] small = Workspace.zeroedDoubles(n - 1);
            small[0] = 1;
        }
        try (Workspace.Scope s = Workspace.open()) {
            assertEquals(0.0, Workspace.zeroedDoubles(n - 1)[0], "small arrays are always fresh");
        }
        assertFalse(first == Workspace.zeroedDoubles(n), "outside a scope: fresh arrays");
        Workspace.clear();
        assertEquals(0, Workspace.heldBytes(), "clear lets go of the pool");
    }

    @Test
    void trainingInScopesGivesTheSameBits() {
        assertArrayEquals(LeNetSteps.run(3, 4, false), LeNetSteps.run(3, 4, true));
        Workspace.clear();
    }
}
