package org.norm4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.norm4j.io.SafeTensors;
import org.norm4j.io.StateDict;
import org.norm4j.nn.Module;
import org.norm4j.optim.Optimizer;

/**
 * train-state.safetensors: what an exact --resume needs beyond model.safetensors — the model's
 * state as training left it (model.safetensors holds precise-BN statistics instead of the raw
 * running averages) under "model.<key>", and the optimizer's buffers under "optimizer.<i>.<name>",
 * with the epoch and step count in the metadata. Written atomically before model.safetensors.
 */
final class TrainState {
    static final String FILE = "train-state.safetensors";

    private TrainState() {}

    static void save(Path file, int epoch, Module model, Optimizer opt) throws IOException {
        Map<String, SafeTensors.Entry> entries = new LinkedHashMap<>();
        StateDict.entries(model).forEach((k, v) -> entries.put("model." + k, v));
        opt.state().forEach((k, v) -> entries.put("optimizer." + k, SafeTensors.Entry.f32(v, v.length)));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("epoch", String.valueOf(epoch));
        meta.put("optimizer_steps", String.valueOf(opt.steps()));
        SafeTensors.write(file, entries, meta);
    }

    /**
     * Restores the raw model state and the optimizer from {@code file} if it belongs to epoch
     * {@code epoch}; otherwise (absent, or from another epoch) leaves the state loaded from the
     * model checkpoint, which continues training correctly but not bit for bit.
     */
    static boolean restore(Path file, int epoch, Module model, Optimizer opt) throws IOException {
        if (!Files.isRegularFile(file)) return false;
        SafeTensors.Contents c = SafeTensors.readContents(file);
        if (!String.valueOf(epoch).equals(c.metadata().get("epoch"))) return false;
        Map<String, SafeTensors.Entry> modelState = new LinkedHashMap<>();
        Map<String, float[]> optState = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith("model.")) modelState.put(k.substring("model.".length()), v);
            else if (k.startsWith("optimizer.")) optState.put(k.substring("optimizer.".length()), v.floats());
        });
        long steps = Long.parseLong(c.metadata().getOrDefault("optimizer_steps", "0"));
        StateDict.load(model, modelState);
        opt.loadState(optState, steps);
        return true;
    }
}
