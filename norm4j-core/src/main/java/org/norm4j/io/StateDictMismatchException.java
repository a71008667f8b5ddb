package org.norm4j.io;

import java.nio.file.Path;
import java.util.List;

/**
 * A state dict that does not fit a module, as PyTorch's strict {@code load_state_dict} reports it:
 * every missing key, every unexpected key and every tensor of the wrong shape or dtype, in one
 * message. Thrown before anything in the module is changed.
 */
public final class StateDictMismatchException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> mismatched;

    StateDictMismatchException(String module, Path file, List<String> missing, List<String> unexpected, List<String> mismatched) {
        super(message(module, file, missing, unexpected, mismatched));
        this.file = file;
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.mismatched = List.copyOf(mismatched);
    }

    private static String message(String module, Path file, List<String> missing, List<String> unexpected, List<String> mismatched) {
        StringBuilder sb = new StringBuilder("Error(s) in loading state_dict for ").append(module)
                .append(file == null ? "" : " from " + file).append(':');
        if (!missing.isEmpty()) sb.append("\n\tMissing key(s) in state_dict: ").append(quoted(missing)).append('.');
        if (!unexpected.isEmpty()) sb.append("\n\tUnexpected key(s) in state_dict: ").append(quoted(unexpected)).append('.');
        for (String m : mismatched) sb.append("\n\t").append(m);
        return sb.toString();
    }

    private static String quoted(List<String> keys) {
        StringBuilder sb = new StringBuilder();
        for (String k : keys) sb.append(sb.length() == 0 ? "" : ", ").append('"').append(k).append('"');
        return sb.toString();
    }

    /** The file that was loaded, or null when the state came from memory. */
    public Path file() {
        return file;
    }

    /** Keys the module has and the file lacks. */
    public List<String> missing() {
        return missing;
    }

    /** Keys the file has and the module lacks. */
    public List<String> unexpected() {
        return unexpected;
    }

    /** One line per key present in both but with the wrong shape, dtype or value. */
    public List<String> mismatched() {
        return mismatched;
    }
}
