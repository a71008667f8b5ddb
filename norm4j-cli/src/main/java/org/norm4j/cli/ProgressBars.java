package org.norm4j.cli;

import java.io.PrintStream;
import java.util.function.IntSupplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The commands' progress bars, on stderr, with the terminal's width asked once per process. Left
 * to itself the progress-bar library builds a jline terminal for every bar and asks it for the
 * width at every refresh: jline runs {@code tty} for each bar, and in a terminal {@code stty} at
 * each refresh (four a second), subprocesses of the training JVM on the cores the training uses.
 * With the bar, each epoch's first batches ran at two to three times the step's time
 * (docs/benchmarks.md, twenty-second session). A terminal resized during a run keeps the first
 * width (a narrower one wraps the bar's line).
 */
public final class ProgressBars {
    private ProgressBars() {}

    /** Where the width comes from: the terminal, through jline (tests replace it). */
    static IntSupplier terminalWidth = ProgressBars::askTerminal;
    private static int width = -1;

    /** A bar named {@code task} counting to {@code max} on stderr, refreshed every 250 ms. */
    public static ProgressBar onStderr(String task, long max) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250).continuousUpdate().setConsumer(consumer(System.err)).build();
    }

    /** A console consumer of the process's width: the terminal is asked the first time only. */
    static ConsoleProgressBarConsumer consumer(PrintStream out) {
        return new ConsoleProgressBarConsumer(out, width());
    }

    /** The line's width: the terminal's less one column (as the library leaves), 80 where there is no terminal or it says less than 10. */
    static synchronized int width() {
        if (width < 0) {
            int w = terminalWidth.getAsInt();
            width = (w >= 10 ? w : 80) - 1;
        }
        return width;
    }

    /** Forgets the width, so that the next bar asks again (tests). */
    static synchronized void forgetWidth() {
        width = -1;
    }

    private static int askTerminal() {
        try (org.jline.terminal.Terminal t = org.jline.terminal.TerminalBuilder.builder().dumb(true).build()) {
            return t.getWidth();
        } catch (java.io.IOException | RuntimeException e) {
            return 0;   // the default width
        }
    }
}
