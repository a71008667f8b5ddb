package org.norm4j.onnx;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A well-formed ONNX model that norm4j cannot import ({@link OnnxImport}: into a {@code Sequential})
 * or run ({@link OnnxGraph}) without changing what it computes: an operator it does not know (LSTM,
 * Gather, ...), an attribute value it does not implement (for the import, Conv's auto_pad
 * SAME_UPPER or asymmetric pads; for both, LayerNormalization's stash_type = DOUBLE), a data type
 * it does not compute with, or, for the import, a graph that is not a chain. The message names the
 * operator, the attribute when that is the unsupported part, the node and the file. Nothing is
 * returned half-built.
 */
public final class UnsupportedOnnxException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String opType;
    private final String nodeName;
    private final String attribute;

    public UnsupportedOnnxException(Path file, String opType, String nodeName, String attribute, String problem) {
        super(file + ": " + problem);
        this.file = file;
        this.opType = opType;
        this.nodeName = nodeName;
        this.attribute = attribute;
    }

    public Path file() {
        return file;
    }

    /** The operator concerned (e.g. "LSTM"), or null when the problem is the graph as a whole. */
    public String opType() {
        return opType;
    }

    /** The node's name as the file gives it ("" when it has none), or null. */
    public String nodeName() {
        return nodeName;
    }

    /** The attribute that is the unsupported part, or null. */
    public String attribute() {
        return attribute;
    }
}
