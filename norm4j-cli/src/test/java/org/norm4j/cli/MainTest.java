package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The top-level error handler: one line that names the whole command path, then what was wrong. */
class MainTest {

    @Test
    void errorsNameTheWholeCommandPath(@TempDir Path dir) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        String missing = dir.resolve("no-such-dir").toString();
        int code = cl.execute("explore", "activations", "--data", missing, "--out", dir.toString(), "--no-progress");
        assertEquals(1, code, err.toString());
        String e = err.toString();
        assertTrue(e.startsWith("norm4j explore activations: ") && e.contains("no-such-dir") && e.strip().lines().count() == 1, e);
    }
}
