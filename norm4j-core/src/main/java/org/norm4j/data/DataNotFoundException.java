package org.norm4j.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A data set that is not where it was looked for. The message is one line that says where norm4j
 * looked and exactly how to get the data, so a command line can print it as it is.
 */
public class DataNotFoundException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path dir;

    public DataNotFoundException(Path dir, String message) {
        super(message);
        this.dir = dir;
    }

    /** The directory that was searched. */
    public Path dir() {
        return dir;
    }
}
