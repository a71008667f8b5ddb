package org.norm4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.norm4j.io.StateDict;
import org.norm4j.io.StateDictMismatchException;
import org.norm4j.nn.Module;

/** Loads a checkpoint into the command's network, turning a mismatch into one line with what to do. */
final class Checkpoints {
    private Checkpoints() {}

    static Map<String, String> load(Module model, Path file, String network) throws IOException {
        try {
            return StateDict.load(model, file);
        } catch (StateDictMismatchException e) {
            String first = !e.missing().isEmpty() ? "missing " + e.missing().get(0)
                    : !e.unexpected().isEmpty() ? "unexpected " + e.unexpected().get(0) : e.mismatched().get(0);
            throw new IllegalArgumentException(file + " is not a checkpoint of " + network + ": " + e.missing().size() + " missing, "
                    + e.unexpected().size() + " unexpected, " + e.mismatched().size() + " mis-shaped keys (first: " + first
                    + "); was it trained with another --norm? (--verbose shows them all)", e);
        }
    }
}
