package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoCommandTest {
    @Test
    void demoPrintsEveryConventionAndTheLargeMeanComparison() {
        CommandLine cl = Main.commandLine();
        StringWriter sw = new StringWriter();
        cl.setOut(new PrintWriter(sw));
        assertEquals(0, cl.execute("demo", "--steps", "3"));
        String out = sw.toString();
        for (String conv : new String[] {"PYTORCH", "KERAS", "TF_CONTRIB", "LASAGNE", "PUZZLELIB", "D2L", "DL4J"}) {
            assertTrue(out.contains(conv), "mentions " + conv + ":\n" + out);
        }
        // The normalized channels have std close to 1 (eps aside) and mean 0.
        assertTrue(out.contains("std 0.99") || out.contains("std 1.00"), out);
        assertTrue(out.contains("max |error| norm4j"), out);
    }

    @Test
    void badOptionIsAOneLineError() {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("demo", "--steps", "0"));
        assertTrue(err.toString().contains("--steps must be at least 1"), err.toString());
        assertEquals(2, cl.execute("demo", "--nope"));
        assertTrue(err.toString().contains("Unknown option"), err.toString());
    }
}
