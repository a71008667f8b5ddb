package org.norm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/** The bars' width: asked of the terminal once per process, whatever the number of bars; 80 columns where there is no terminal. */
class ProgressBarsTest {

    @Test
    void theTerminalIsAskedOnce() {
        IntSupplier before = ProgressBars.terminalWidth;
        AtomicInteger asked = new AtomicInteger();
        try {
            ProgressBars.terminalWidth = () -> {
                asked.incrementAndGet();
                return 120;
            };
            ProgressBars.forgetWidth();
            PrintStream out = new PrintStream(new ByteArrayOutputStream());
            for (int epoch = 0; epoch < 5; epoch++) {
                assertEquals(119, ProgressBars.consumer(out).getMaxRenderedLength(), "the terminal's width less one column");
            }
            assertEquals(1, asked.get(), "one question for five bars");

            ProgressBars.terminalWidth = () -> 0;   // a dumb terminal (stderr to a file)
            ProgressBars.forgetWidth();
            assertEquals(79, ProgressBars.consumer(out).getMaxRenderedLength());
        } finally {
            ProgressBars.terminalWidth = before;
            ProgressBars.forgetWidth();
        }
    }
}
