package org.norm4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.norm4j.data.DataLoader;
import org.norm4j.data.Dataset;
import org.norm4j.data.FashionMnist;
import org.norm4j.nn.Parameter;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.testing.Fixture;
import org.norm4j.train.LeNet;

/**
 * PyTorch 1.13's seeded start of the d2l LeNet-BN run, reproduced bit for bit: after
 * {@code torch.manual_seed(S)} the network's weights and biases (the first and last six values of
 * each: every draw between them is in sequence, so an offset anywhere shows) and the first two
 * epochs' {@code randperm(60000)}, against tools/make_torch_seed_fixture.py's fixture.
 */
class TorchGeneratorTest {
    @Test
    void leNetWeightsAndEpochOrdersAreTorchsForTheSameSeed() {
        Fixture f = Fixture.load("torch_seed");
        for (long seed : new long[] {0, 2}) {
            TorchGenerator gen = new TorchGenerator(seed);
            Sequential net = LeNet.buildTorchSeeded(LeNet.Norm.BATCH, Convention.PYTORCH, LeNet.Placement.NORM_ACT, gen);
            Map<String, Parameter> params = net.namedParameters();
            int checked = 0;
            for (String key : new String[] {"0.weight", "0.bias", "4.weight", "4.bias", "9.weight", "9.bias", "12.weight",
                                            "12.bias", "15.weight", "15.bias"}) {
                float[] v = params.get(key).data();
                assertBits(f.get("s" + seed + "." + key + ".head"), Arrays.copyOfRange(v, 0, Math.min(6, v.length)), seed + " " + key + " head");
                assertBits(f.get("s" + seed + "." + key + ".tail"), Arrays.copyOfRange(v, Math.max(0, v.length - 6), v.length), seed + " " + key + " tail");
                checked++;
            }
            assertEquals(10, checked);
            DataLoader loader = DataLoader.torchShuffled(indexed(60_000), 256, seed, gen.draws());
            for (int epoch = 0; epoch < 2; epoch++) {
                float[] want = f.get("s" + seed + ".perm" + (epoch + 1));
                int[] order = loader.order(epoch);
                float[] head = new float[want.length];
                for (int i = 0; i < head.length; i++) head[i] = order[i];
                assertArrayEquals(want, head, "seed " + seed + ", epoch " + (epoch + 1) + ": torch.randperm's first indices");
                assertTrue(Arrays.equals(loader.order(epoch), order), "an epoch's order is the same when asked again");
            }
        }
    }

    @Test
    void mersenneTwisterKnownValues() {
        // MT19937 with init_genrand(5489), the reference implementation's default: 10000th output 4123659995
        TorchGenerator g = new TorchGenerator(5489);
        g.skip(9999);
        assertEquals(4123659995L, g.random());
        assertEquals(10000, g.draws());
    }

    private static void assertBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]),
                    what + "[" + i + "]: want " + want[i] + " (PyTorch), got " + got[i]);
        }
    }

    private static Dataset indexed(int n) {
        return new Dataset("indexed", new float[n], new int[n], 1, 1, FashionMnist.CLASSES);
    }
}
