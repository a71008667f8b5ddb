package org.norm4j.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.norm4j.io.AtomicFile;

/** The text files of a run directory: metrics.csv and run.json, each written atomically. */
final class RunFiles {
    static final String METRICS_HEADER = "epoch,train_loss,train_acc,test_acc,seconds,test_acc_running";

    private RunFiles() {}

    /** Creates the directories a file is to be written in (a bare file name needs none). */
    static void createParentDirectories(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
    }

    static void writeAtomically(Path file, String content) throws IOException {
        AtomicFile.writeString(file, content);
    }

    static void writeMetrics(Path file, List<double[]> rows) throws IOException {
        StringBuilder sb = new StringBuilder(METRICS_HEADER).append('\n');
        for (double[] r : rows) {
            sb.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.6f,%.3f,%.6f%n", (int) r[0], r[1], r[2], r[3], r[4], r[5]));
        }
        writeAtomically(file, sb.toString());
    }

    /** Rows of an existing metrics.csv (for a resumed run), or an empty list. */
    static List<double[]> readMetrics(Path file) throws IOException {
        List<double[]> rows = new ArrayList<>();
        if (!Files.exists(file)) return rows;
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty()) continue;
            String[] f = line.split(",");
            if (f.length != 6) throw new IOException(file + ": line " + (i + 1) + " has " + f.length + " fields, expected 6");
            double[] r = new double[6];
            for (int k = 0; k < 6; k++) r[k] = Double.parseDouble(f[k]);
            rows.add(r);
        }
        return rows;
    }

    /** A flat JSON object of strings and numbers (values already formatted as JSON where not strings). */
    static String json(Map<String, Object> fields) {
        StringBuilder sb = new StringBuilder("{\n");
        int i = 0;
        for (Map.Entry<String, Object> e : fields.entrySet()) {
            sb.append("  ").append(quote(e.getKey())).append(": ");
            Object v = e.getValue();
            sb.append(v instanceof Number || v instanceof Boolean ? v.toString() : quote(String.valueOf(v)));
            sb.append(++i < fields.size() ? ",\n" : "\n");
        }
        return sb.append("}\n").toString();
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
