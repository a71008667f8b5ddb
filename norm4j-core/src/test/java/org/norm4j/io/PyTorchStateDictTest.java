package org.norm4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.norm4j.io.SafeTensors.Entry;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.tensor.Tensor;
import org.norm4j.testing.Check;

/**
 * A state dict written by PyTorch 1.13 (tools/make_safetensors_fixture.py: the state_dict() of
 * nn.Sequential(nn.BatchNorm2d(3), nn.BatchNorm1d(2)) after two training steps) loads strictly
 * into the equivalent norm4j Sequential, and the loaded model reproduces PyTorch's eval outputs.
 *
 * <p>Tolerance for the outputs: PyTorch computes x·a + b in float, norm4j (x − mean)·a + b; both
 * are float32 rounding of O(1) values apart: atol 2e-6, rtol 2e-6.
 */
class PyTorchStateDictTest {
    static final double ATOL = 2e-6, RTOL = 2e-6;

    static Path resource(String name) throws URISyntaxException {
        return Path.of(PyTorchStateDictTest.class.getResource("/io/" + name).toURI());
    }

    @Test
    void loadsPyTorchsStateDictAndReproducesItsOutputs() throws IOException, URISyntaxException {
        Path file = resource("torch_state.safetensors");
        Sequential net = new Sequential(BatchNorm.of(Convention.PYTORCH, 3), BatchNorm.of(Convention.PYTORCH, 2));
        StateDict.load(net, file);

        Map<String, Entry> torch = SafeTensors.read(file);
        assertEquals(List.copyOf(torch.keySet()), StateDict.keys(net), "PyTorch's state_dict order is ours");
        assertEquals(torch, StateDict.entries(net), "every value copied bit for bit; saving it again gives PyTorch's tensors");
        assertEquals("pt", SafeTensors.metadata(file).get("format"));

        BatchNorm bn0 = (BatchNorm) net.get(0), bn1 = (BatchNorm) net.get(1);
        assertEquals(2, bn0.numBatchesTracked());
        assertEquals(2, bn1.numBatchesTracked());
        for (float v : bn0.runningVar().toArray()) assertTrue(v != 1f, "running_var moved away from its initial 1: " + v);

        Map<String, Entry> io = SafeTensors.read(resource("torch_eval.safetensors"));
        net.eval();
        double d0 = Check.close("net[0] eval output", net.get(0).forward(tensor(io.get("x0"))).toArray(), io.get("y0").floats(), ATOL, RTOL);
        double d1 = Check.close("net[1] eval output", net.get(1).forward(tensor(io.get("x1"))).toArray(), io.get("y1").floats(), ATOL, RTOL);
        System.out.printf("PyTorchStateDictTest: max |diff| vs PyTorch eval output: %.3g (BatchNorm2d), %.3g (BatchNorm1d)%n", d0, d1);
    }

    static Tensor tensor(Entry e) {
        long[] s = e.shape();
        int[] shape = new int[s.length];
        for (int i = 0; i < s.length; i++) shape[i] = (int) s[i];
        return Tensor.of(e.floats(), shape);
    }
}
