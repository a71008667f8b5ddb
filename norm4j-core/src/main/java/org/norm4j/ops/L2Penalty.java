package org.norm4j.ops;

import java.util.List;
import org.norm4j.autograd.Autograd;
import org.norm4j.tensor.Tensor;

/**
 * loss = Σ_i λ_i·Σ p_i², the L2 regularization of Keras's {@code *_regularizer=l2(λ)}.
 * Backward: dp_i += 2·λ_i·p_i·dLoss. Summed in double.
 */
public final class L2Penalty {
    private L2Penalty() {}

    public static Tensor forward(List<? extends Tensor> params, double[] lambdas) {
        double loss = 0;
        float[][] values = new float[params.size()][];
        for (int i = 0; i < values.length; i++) {
            values[i] = params.get(i).data().clone();
            double s = 0;
            for (float v : values[i]) s += (double) v * v;
            loss += lambdas[i] * s;
        }
        Tensor out = Tensor.of(new float[] {(float) loss}, 1);
        double[] lam = lambdas.clone();
        Autograd.record(out, "L2Penalty", (dOut, dIn) -> {
            for (int i = 0; i < values.length; i++) {
                if (dIn[i] == null) continue;
                double k = 2 * lam[i] * dOut[0];
                for (int j = 0; j < values[i].length; j++) dIn[i][j] += (float) (k * values[i][j]);
            }
        }, params.toArray(new Tensor[0]));
        return out;
    }
}
