package org.norm4j.train;

import java.util.ArrayList;
import java.util.List;
import org.norm4j.nn.AvgPool2d;
import org.norm4j.nn.Conv2d;
import org.norm4j.nn.Flatten;
import org.norm4j.nn.Init;
import org.norm4j.nn.Linear;
import org.norm4j.nn.Module;
import org.norm4j.nn.Parameter;
import org.norm4j.nn.Sequential;
import org.norm4j.nn.Sigmoid;
import org.norm4j.nn.norm.BatchNorm;
import org.norm4j.nn.norm.Convention;
import org.norm4j.nn.norm.GroupNorm;
import org.norm4j.nn.norm.LayerNorm;
import org.norm4j.tensor.Rng;
import org.norm4j.tensor.TorchGenerator;

/**
 * The d2l book's LeNet with batch normalization (chapter "Batch Normalization", 2020 edition),
 * for [N, 1, 28, 28] input, as the same {@code nn.Sequential}:
 * <pre>
 *  0 Conv2d(1, 6, 5)    1 BatchNorm2d(6)    2 Sigmoid   3 AvgPool2d(2, 2)
 *  4 Conv2d(6, 16, 5)   5 BatchNorm2d(16)   6 Sigmoid   7 AvgPool2d(2, 2)   8 Flatten
 *  9 Linear(256, 120)  10 BatchNorm1d(120) 11 Sigmoid
 * 12 Linear(120, 84)   13 BatchNorm1d(84)  14 Sigmoid
 * 15 Linear(84, 10)
 * </pre>
 * so its state has the d2l model's keys ("1.running_mean", …, "15.bias"). Conv and Linear weights
 * are Xavier-uniform as d2l's {@code train_ch6} sets them; biases keep PyTorch's default.
 * Other normalizations take BN's place: {@code LAYER} (GroupNorm(1, C) after convolutions, i.e.
 * LayerNorm over (C, H, W) with per-channel affine; LayerNorm after linear layers), {@code GROUP}
 * (GroupNorm with 2 groups for 6 channels, 4 for 16, 120 and 84), {@code NONE} (no layer, so the
 * indices shift).
 */
public final class LeNet {
    public enum Norm { BATCH, LAYER, GROUP, NONE }

    /** Where the normalization sits in each block: before the sigmoid (d2l, folds) or after it (does not fold). */
    public enum Placement { NORM_ACT, ACT_NORM }

    private LeNet() {}

    public static Sequential build(Norm norm, Convention convention, long seed) {
        return build(norm, convention, Placement.NORM_ACT, seed);
    }

    /**
     * With {@code ACT_NORM} every block is conv/linear → sigmoid → norm instead of conv/linear →
     * norm → sigmoid; the layer indices (and so the checkpoint keys) shift accordingly.
     */
    public static Sequential build(Norm norm, Convention convention, Placement placement, long seed) {
        Rng rng = new Rng(seed);
        Conv2d c1 = new Conv2d(1, 6, 5), c2 = new Conv2d(6, 16, 5);
        Linear l1 = new Linear(16 * 4 * 4, 120, true, rng), l2 = new Linear(120, 84, true, rng), l3 = new Linear(84, 10, true, rng);
        for (Conv2d c : List.of(c1, c2)) Init.torchDefault(c.bias(), Init.fans(c.weight().shape())[0], rng);
        for (Module m : List.of(c1, c2, l1, l2, l3)) {
            Parameter w = m.namedParameters().get("weight");
            int[] fans = Init.fans(w.shape());
            Init.xavierUniform(w, fans[0], fans[1], rng);
        }
        return assemble(norm, convention, placement, c1, c2, l1, l2, l3);
    }

    /**
     * The network PyTorch builds after {@code torch.manual_seed(seed)}: {@code tools/d2l.py}'s
     * {@code lenet_bn()} (each Conv2d and Linear draws its default weight, Kaiming-uniform, then its
     * bias, U(±1/sqrt(fanIn)), in layer order; the norms draw nothing), then d2l's Xavier-uniform
     * on every weight in layer order: the same weights, bit for bit, from {@code gen} (a
     * {@code TorchGenerator} of that seed), which is left where PyTorch's generator would be, so
     * that the epochs' {@code randperm} follow ({@link org.norm4j.data.DataLoader#torchShuffled}).
     */
    public static Sequential buildTorchSeeded(Norm norm, Convention convention, Placement placement, TorchGenerator gen) {
        Rng unused = new Rng(0);   // every value it gives is overwritten below
        Conv2d c1 = new Conv2d(1, 6, 5), c2 = new Conv2d(6, 16, 5);
        Linear l1 = new Linear(16 * 4 * 4, 120, true, unused), l2 = new Linear(120, 84, true, unused), l3 = new Linear(84, 10, true, unused);
        List<Module> drawn = List.of(c1, c2, l1, l2, l3);
        for (Module m : drawn) {   // construction: reset_parameters()
            Parameter w = m.namedParameters().get("weight");
            gen.skip(w.size());    // kaiming_uniform_(a=sqrt(5)), overwritten by Xavier below
            double bound = 1 / Math.sqrt(Init.fans(w.shape())[0]);
            gen.uniform(m.namedParameters().get("bias").data(), -bound, bound);
        }
        for (Module m : drawn) {   // d2l: nn.init.xavier_uniform_(m.weight), gain 1
            Parameter w = m.namedParameters().get("weight");
            int[] fans = Init.fans(w.shape());
            double a = Math.sqrt(3.0) * Math.sqrt(2.0 / (double) (fans[0] + fans[1]));
            gen.uniform(w.data(), -a, a);
        }
        return assemble(norm, convention, placement, c1, c2, l1, l2, l3);
    }

    private static Sequential assemble(Norm norm, Convention convention, Placement placement, Conv2d c1, Conv2d c2,
                                       Linear l1, Linear l2, Linear l3) {
        List<Module> layers = new ArrayList<>();
        layers.add(c1);
        block(layers, norm, convention, placement, 6, true);
        layers.add(new AvgPool2d(2, 2, 0));
        layers.add(c2);
        block(layers, norm, convention, placement, 16, true);
        layers.add(new AvgPool2d(2, 2, 0));
        layers.add(new Flatten());
        layers.add(l1);
        block(layers, norm, convention, placement, 120, false);
        layers.add(l2);
        block(layers, norm, convention, placement, 84, false);
        layers.add(l3);
        return new Sequential(layers);
    }

    /** The normalization and the sigmoid after a conv/linear layer, in the placement's order. */
    private static void block(List<Module> layers, Norm norm, Convention convention, Placement placement, int features, boolean conv) {
        if (placement == Placement.ACT_NORM) layers.add(new Sigmoid());
        addNorm(layers, norm, convention, features, conv);
        if (placement == Placement.NORM_ACT) layers.add(new Sigmoid());
    }

    private static void addNorm(List<Module> layers, Norm norm, Convention convention, int features, boolean conv) {
        switch (norm) {
            case BATCH -> layers.add(BatchNorm.builder(convention, features).axis(1).build());
            case LAYER -> layers.add(conv ? new GroupNorm(1, features) : new LayerNorm(features));
            case GROUP -> layers.add(new GroupNorm(features == 6 ? 2 : 4, features));
            case NONE -> { }
        }
    }
}
