package org.norm4j.optim;

/** The learning rate of each epoch (0-based), as torch.optim.lr_scheduler's epoch-wise schedules. */
@FunctionalInterface
public interface LrSchedule {
    double lr(int epoch);

    static LrSchedule constant(double lr) {
        return e -> lr;
    }

    /** StepLR: lr·gamma^floor(epoch/stepSize). */
    static LrSchedule step(double lr, int stepSize, double gamma) {
        if (stepSize < 1) throw new IllegalArgumentException("step schedule: stepSize must be ≥ 1, got " + stepSize);
        return e -> lr * Math.pow(gamma, e / stepSize);
    }

    /** CosineAnnealingLR: etaMin + (lr − etaMin)·(1 + cos(π·epoch/tMax))/2. */
    static LrSchedule cosine(double lr, int tMax, double etaMin) {
        if (tMax < 1) throw new IllegalArgumentException("cosine schedule: tMax must be ≥ 1, got " + tMax);
        return e -> etaMin + (lr - etaMin) * (1 + Math.cos(Math.PI * e / tMax)) / 2;
    }
}
