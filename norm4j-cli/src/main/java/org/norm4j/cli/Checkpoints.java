package org.norm4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.norm4j.io.SafeTensors;
import org.norm4j.io.StateDict;
import org.norm4j.io.StateDictMismatchException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Locale;
import org.norm4j.nn.Module;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.norm.Convention;
import org.norm4j.train.LeNet;
import picocli.CommandLine;

/**
 * The LeNet a checkpoint holds, rebuilt from its metadata ("norm", "convention", "placement", as
 * norm4j train writes them; absent: d2l's LeNet-BN, PyTorch convention, BN before the activation),
 * and loading with a one-line error on a mismatch.
 */
final class Checkpoints {
    private Checkpoints() {}

    /** A checkpoint opened for a command: a writable copy of its metadata and its network, loaded. */
    record Opened(Map<String, String> meta, Sequential model, String norm) {}

    /**
     * Opens {@code file} for a command: it must exist (else a bad-option error), its network is
     * rebuilt from its metadata ({@code norm}/{@code convention} override when not null) and loaded
     * strictly. With {@code requiredNorm}, a checkpoint of another normalization is refused with
     * "has no batch norm to {@code purpose}".
     */
    static Opened open(CommandLine cl, Path file, String norm, Convention convention, String requiredNorm, String purpose)
            throws IOException {
        if (!Files.isRegularFile(file)) throw new CommandLine.ParameterException(cl, "--checkpoint: no file " + file);
        Map<String, String> meta = new LinkedHashMap<>(SafeTensors.readHeader(file).metadata());
        String n = norm != null ? norm : meta.getOrDefault("norm", "batch");
        if (requiredNorm != null && !requiredNorm.equals(n)) {
            throw new CommandLine.ParameterException(cl, file + " has no " + requiredNorm + " norm to " + purpose + " (norm: " + n + ")");
        }
        Sequential model = lenet(file, meta, norm, convention);
        load(model, file, "LeNet with " + n + " norm");
        return new Opened(meta, model, n);
    }

    /** A checkpoint's network, empty, built as its metadata says; {@code norm}/{@code convention} override when not null. */
    static Sequential lenet(Path file, Map<String, String> meta, String norm, Convention convention) {
        String n = norm != null ? norm : meta.getOrDefault("norm", "batch");
        LeNet.Norm kind;
        try {
            kind = LeNet.Norm.valueOf(n.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": unknown norm \"" + n + "\" (batch, layer, group, none)");
        }
        Convention c = convention != null ? convention : Convention.valueOf(meta.getOrDefault("convention", "PYTORCH"));
        return LeNet.build(kind, c, placement(meta.get("placement")), 0);
    }

    /** "bn-act" / "act-bn" (or the enum's names); absent: the d2l order, BN before the activation. */
    static LeNet.Placement placement(String value) {
        if (value == null || value.isBlank()) return LeNet.Placement.NORM_ACT;
        String v = value.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        return switch (v) {
            case "BN_ACT", "NORM_ACT" -> LeNet.Placement.NORM_ACT;
            case "ACT_BN", "ACT_NORM" -> LeNet.Placement.ACT_NORM;
            default -> throw new IllegalArgumentException("unknown placement \"" + value + "\" (bn-act or act-bn)");
        };
    }

    /** The metadata value of a placement, as --placement spells it. */
    static String placementName(LeNet.Placement p) {
        return p == LeNet.Placement.NORM_ACT ? "bn-act" : "act-bn";
    }

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
