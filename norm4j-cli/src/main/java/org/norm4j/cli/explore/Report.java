package org.norm4j.cli.explore;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.norm4j.io.AtomicFile;

/** The text files of an explore run: report.md (Markdown) and a CSV of the numbers behind the pictures, each written atomically. */
final class Report {
    private final StringBuilder md = new StringBuilder();

    Report(String title) {
        md.append("# ").append(title).append("\n\n");
    }

    /** A paragraph; {@code format} as String.format with Locale.ROOT. */
    Report para(String format, Object... args) {
        md.append(f(format, args)).append("\n\n");
        return this;
    }

    Report heading(String text) {
        md.append("## ").append(text).append("\n\n");
        return this;
    }

    Report image(String alt, String file) {
        md.append("![").append(alt).append("](").append(file).append(")\n\n");
        return this;
    }

    Report table(List<String> header, List<List<String>> rows) {
        md.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (int i = 0; i < header.size(); i++) md.append("---|");
        md.append('\n');
        for (List<String> r : rows) md.append("| ").append(String.join(" | ", r)).append(" |\n");
        md.append('\n');
        return this;
    }

    @Override
    public String toString() {
        return md.toString();
    }

    void write(Path file) throws IOException {
        AtomicFile.writeString(file, md.toString());
    }

    static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    /** 4 significant digits, in scientific notation below 1e-3. */
    static String g(double v) {
        if (Double.isNaN(v)) return "—";
        return v != 0 && Math.abs(v) < 1e-3 ? f("%.2e", v) : f("%.4g", v);
    }

    /** A CSV with a header line; cells as given. */
    static void writeCsv(Path file, String header, List<List<String>> rows) throws IOException {
        StringBuilder sb = new StringBuilder(header).append('\n');
        for (List<String> r : rows) sb.append(String.join(",", r)).append('\n');
        AtomicFile.writeString(file, sb.toString());
    }
}
