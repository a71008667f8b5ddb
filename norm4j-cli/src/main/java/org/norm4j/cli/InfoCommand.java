package org.norm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import org.norm4j.io.SafeTensors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code norm4j info}: the tensors (name, dtype, shape) and metadata of a safetensors checkpoint. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "List the tensors in a safetensors checkpoint.")
final class InfoCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "The checkpoint (.safetensors).")
    Path file;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(file)) throw new CommandLine.ParameterException(spec.commandLine(), "no file " + file);
        SafeTensors.Header h = SafeTensors.readHeader(file);
        PrintWriter w = spec.commandLine().getOut();
        long params = 0;
        w.printf("%s: %d tensors, %d bytes of data%n", file, h.tensors().size(), h.dataSize());
        for (Map.Entry<String, SafeTensors.TensorInfo> e : h.tensors().entrySet()) {
            SafeTensors.TensorInfo t = e.getValue();
            w.printf("  %-24s %-4s %s%n", e.getKey(), t.dtype(), Arrays.toString(t.shape()));
            params += t.numel();
        }
        w.printf("  %d values in all%n", params);
        for (Map.Entry<String, String> e : h.metadata().entrySet()) w.printf("  metadata %s = %s%n", e.getKey(), e.getValue());
        w.flush();
        return 0;
    }
}
